//! An update (AIP-134): the fields its `update_mask` names, each already checked against its rule.

use crate::{
    domain::{TaskDescription, TaskTitle},
    error::TaskError,
};

/// The fields to change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskPatch {
    pub title: Option<TaskTitle>,
    pub description: Option<TaskDescription>,
    pub completed: Option<bool>,
}

/// The values a request carries, read only where the mask names them.
pub struct Proposed<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub completed: bool,
}

impl TaskPatch {
    /// `*` names every field; an empty mask changes nothing; any other path is an error.
    pub fn from_mask(paths: &[String], proposed: Proposed<'_>) -> Result<Self, TaskError> {
        let mut patch = Self::default();
        for path in paths {
            match path.as_str() {
                "title" => patch.title = Some(TaskTitle::parse(proposed.title)?),
                "description" => {
                    patch.description = Some(TaskDescription::parse(proposed.description)?);
                }
                "completed" => patch.completed = Some(proposed.completed),
                "*" => {
                    patch.title = Some(TaskTitle::parse(proposed.title)?);
                    patch.description = Some(TaskDescription::parse(proposed.description)?);
                    patch.completed = Some(proposed.completed);
                }
                other => {
                    return Err(TaskError::Validation(format!(
                        "update_mask path `{}` is not one of title, description, completed",
                        other.escape_debug()
                    )));
                }
            }
        }
        Ok(patch)
    }

    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.completed.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposed() -> Proposed<'static> {
        Proposed {
            title: " New title ",
            description: "New text",
            completed: false,
        }
    }

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn only_the_named_fields_are_set() {
        let patch = TaskPatch::from_mask(&paths(&["completed"]), proposed()).unwrap();
        assert_eq!(
            patch,
            TaskPatch {
                completed: Some(false),
                ..TaskPatch::default()
            }
        );
        let patch = TaskPatch::from_mask(&paths(&["title", "description"]), proposed()).unwrap();
        assert_eq!(patch.title.unwrap().as_str(), "New title");
        assert_eq!(patch.description.unwrap().as_str(), "New text");
        assert_eq!(patch.completed, None);
    }

    #[test]
    fn an_empty_mask_changes_nothing() {
        assert!(TaskPatch::from_mask(&[], proposed()).unwrap().is_empty());
    }

    #[test]
    fn a_star_names_every_field() {
        let patch = TaskPatch::from_mask(&paths(&["*"]), proposed()).unwrap();
        assert!(patch.title.is_some() && patch.description.is_some());
        assert_eq!(patch.completed, Some(false));
    }

    #[test]
    fn an_unknown_path_is_a_validation_error() {
        for bad in ["owner_id", "etag", "Title", ""] {
            let error = TaskPatch::from_mask(&paths(&[bad]), proposed()).unwrap_err();
            assert_eq!(
                error.reason(),
                Some(warden_proto::Reason::ValidationError),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_named_field_must_pass_its_rule() {
        let blank = Proposed {
            title: "   ",
            ..proposed()
        };
        assert!(TaskPatch::from_mask(&paths(&["title"]), blank).is_err());
        // An unnamed field is not checked: it is not written.
        let blank = Proposed {
            title: "   ",
            ..proposed()
        };
        assert!(TaskPatch::from_mask(&paths(&["completed"]), blank).is_ok());
    }
}
