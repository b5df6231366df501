//! Users' ids as requests name them.

/// A user id from a request. Ids are opaque text (Better Auth's are 32 alphanumerics, a migrated database may hold
/// others), so any text is one; an empty id names no user, and the routes whose schema refuses it build theirs with
/// [`UserId::non_empty`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserId(String);

impl UserId {
    /// `None` for an empty id.
    pub fn non_empty(raw: String) -> Option<Self> {
        (!raw.is_empty()).then_some(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for UserId {
    fn from(raw: String) -> Self {
        Self(raw)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn an_empty_id_is_refused_only_where_asked() {
        assert_eq!(UserId::non_empty(String::new()), None);
        assert_eq!(UserId::from(String::new()).as_str(), "");
    }

    proptest! {
        #[test]
        fn any_text_is_kept_as_given(raw in any::<String>()) {
            let id = UserId::from(raw.clone());
            prop_assert_eq!(id.as_str(), raw.as_str());
            let non_empty = UserId::non_empty(raw.clone());
            prop_assert_eq!(non_empty.is_some(), !raw.is_empty());
            if let Some(id) = non_empty {
                prop_assert_eq!(id, UserId::from(raw));
            }
        }
    }
}
