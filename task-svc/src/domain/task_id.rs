//! A task's id: a UUIDv7 for tasks Warden creates; tasks taken over from an older database keep theirs (`42`).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TaskId(String);

/// Longer than any id Warden or an imported table writes.
const MAX_ID_LEN: usize = 128;

impl TaskId {
    /// A new, time-ordered id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// `None` when `raw` cannot be the id of any task (empty, too long, or with characters ids never have).
    pub fn parse(raw: &str) -> Option<Self> {
        let plausible = !raw.is_empty()
            && raw.len() <= MAX_ID_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_uuid_v7_and_parse_back() {
        let id = TaskId::generate();
        let uuid = uuid::Uuid::parse_str(id.as_str()).unwrap();
        assert_eq!(uuid.get_version_num(), 7);
        assert_eq!(TaskId::parse(id.as_str()), Some(id));
    }

    #[test]
    fn ids_taken_over_from_an_older_table_parse() {
        assert!(TaskId::parse("42").is_some());
    }

    #[test]
    fn strings_that_are_no_id_are_rejected() {
        for bad in ["", "a b", "../etc", "x'; DROP TABLE task", &"a".repeat(129)] {
            assert!(TaskId::parse(bad).is_none(), "{bad:?}");
        }
    }
}
