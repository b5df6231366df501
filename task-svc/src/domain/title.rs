//! A task's title: trimmed, then 1 to 200 characters (Unicode scalar values), and no NUL, which PostgreSQL's `text`
//! cannot store.

use crate::error::TaskError;

pub const MAX_TITLE_CHARS: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    pub fn parse(raw: &str) -> Result<Self, TaskError> {
        let trimmed = raw.trim();
        if trimmed.contains('\0') {
            return Err(TaskError::Validation(
                "title cannot contain a NUL character".to_owned(),
            ));
        }
        let chars = trimmed.chars().count();
        if chars == 0 || chars > MAX_TITLE_CHARS {
            return Err(TaskError::Validation(format!(
                "title must be 1 to {MAX_TITLE_CHARS} characters"
            )));
        }
        Ok(Self(trimmed.to_owned()))
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
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_title_is_trimmed() {
        assert_eq!(
            TaskTitle::parse("  Buy milk \n").unwrap().as_str(),
            "Buy milk"
        );
    }

    #[test]
    fn an_empty_or_blank_title_is_rejected() {
        for blank in ["", " ", "\t\n ", "\u{3000}"] {
            let error = TaskTitle::parse(blank).unwrap_err();
            assert_eq!(error.to_string(), "title must be 1 to 200 characters");
        }
    }

    #[test]
    fn two_hundred_characters_are_accepted_and_two_hundred_and_one_are_not() {
        assert!(TaskTitle::parse(&"é".repeat(200)).is_ok());
        assert!(TaskTitle::parse(&"é".repeat(201)).is_err());
        // Surrounding spaces do not count.
        assert!(TaskTitle::parse(&format!("  {}  ", "a".repeat(200))).is_ok());
    }

    #[test]
    fn a_nul_is_refused_before_the_database_sees_it() {
        let error = TaskTitle::parse("Buy\0milk").unwrap_err();
        assert_eq!(error.to_string(), "title cannot contain a NUL character");
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 200 four-byte characters are 800 bytes.
        assert!(TaskTitle::parse(&"🦀".repeat(200)).is_ok());
    }

    proptest! {
        #[test]
        fn a_title_is_accepted_exactly_when_its_trimmed_length_is_1_to_200(raw in "\\PC{0,230}|\\s{0,5}\\PC{0,210}\\s{0,5}") {
            let trimmed = raw.trim();
            let expected = (1..=MAX_TITLE_CHARS).contains(&trimmed.chars().count());
            match TaskTitle::parse(&raw) {
                Ok(title) => {
                    prop_assert!(expected);
                    prop_assert_eq!(title.as_str(), trimmed);
                }
                Err(_) => prop_assert!(!expected),
            }
        }
    }
}
