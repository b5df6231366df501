//! A task's description: free text of at most 10,000 characters (Unicode scalar values), kept as written, without a
//! NUL, which PostgreSQL's `text` cannot store.

use crate::error::TaskError;

pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskDescription(String);

impl TaskDescription {
    pub fn parse(raw: &str) -> Result<Self, TaskError> {
        if raw.contains('\0') {
            return Err(TaskError::Validation(
                "description cannot contain a NUL character".to_owned(),
            ));
        }
        if raw.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(TaskError::Validation(
                "description must be at most 10,000 characters".to_owned(),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_description_is_fine() {
        assert_eq!(TaskDescription::parse("").unwrap().as_str(), "");
    }

    #[test]
    fn a_nul_is_refused_before_the_database_sees_it() {
        let error = TaskDescription::parse("line\0two").unwrap_err();
        assert_eq!(
            error.to_string(),
            "description cannot contain a NUL character"
        );
    }

    #[test]
    fn ten_thousand_characters_are_accepted_and_one_more_is_not() {
        assert!(TaskDescription::parse(&"ß".repeat(10_000)).is_ok());
        let error = TaskDescription::parse(&"ß".repeat(10_001)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "description must be at most 10,000 characters"
        );
    }

    #[test]
    fn a_description_keeps_its_spaces_and_lines() {
        let text = "  first line\nsecond line  ";
        assert_eq!(TaskDescription::parse(text).unwrap().as_str(), text);
    }
}
