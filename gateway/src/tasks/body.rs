//! The task request bodies. Both are strict: a key that is not a task field is a 400, so a typo is never silently
//! ignored. Output-only fields (`id`, `ownerId`, dates) are accepted and ignored, so a task read with GET can be sent
//! back as it is. A PATCH updates exactly the fields whose keys are present: `{"completed": false}` sets `false`.

use prost_types::FieldMask;
use warden_proto::task::v1 as pb;

use crate::extract::{Fields, Schema};

/// The fields a client may write, as proto field names (which are also their JSON names).
const MUTABLE: [&str; 3] = ["title", "description", "completed"];

/// Fields the server sets; proto3 JSON accepts both the JSON and the proto name.
const OUTPUT_ONLY: [&str; 7] = [
    "id",
    "ownerId",
    "owner_id",
    "createdAt",
    "created_at",
    "updatedAt",
    "updated_at",
];

fn known_keys() -> impl Iterator<Item = &'static str> {
    MUTABLE
        .into_iter()
        .chain(OUTPUT_ONLY)
        .chain(std::iter::once("etag"))
}

/// POST `/api/v1/tasks`: `{"title", "description"?, "completed"?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    title: String,
    description: Option<String>,
    completed: Option<bool>,
}

impl Schema for NewTask {
    fn read(fields: &mut Fields<'_>) -> Self {
        let task = Self {
            title: fields.string("title"),
            description: fields.nullable_string("description"),
            completed: fields.nullable_bool("completed"),
        };
        fields.reject_unknown(&known_keys().collect::<Vec<_>>());
        task
    }
}

impl NewTask {
    pub fn into_request(self) -> pb::CreateTaskRequest {
        pb::CreateTaskRequest {
            task: Some(pb::Task {
                title: self.title,
                description: self.description.unwrap_or_default(),
                completed: self.completed.unwrap_or_default(),
                ..pb::Task::default()
            }),
        }
    }
}

/// PATCH `/api/v1/tasks/{id}`: any of `title`, `description`, `completed`, and optionally the `etag` read.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskPatch {
    title: Option<String>,
    description: Option<String>,
    completed: Option<bool>,
    /// The version the client read, a precondition like `If-Match`.
    pub etag: Option<String>,
    mask: Vec<String>,
}

impl Schema for TaskPatch {
    fn read(fields: &mut Fields<'_>) -> Self {
        let patch = Self {
            title: fields.optional_string("title"),
            description: fields.nullable_string("description"),
            completed: fields.nullable_bool("completed"),
            etag: fields.nullable_string("etag"),
            mask: MUTABLE
                .into_iter()
                .filter(|key| fields.contains(key))
                .map(str::to_owned)
                .collect(),
        };
        fields.reject_unknown(&known_keys().collect::<Vec<_>>());
        patch
    }
}

impl TaskPatch {
    /// The update for task `id`: the present fields, named in the mask, and the etag to match (empty for none).
    pub fn into_request(self, id: String, etag: String) -> pb::UpdateTaskRequest {
        pb::UpdateTaskRequest {
            task: Some(pb::Task {
                id,
                title: self.title.unwrap_or_default(),
                description: self.description.unwrap_or_default(),
                completed: self.completed.unwrap_or_default(),
                etag,
                ..pb::Task::default()
            }),
            update_mask: Some(FieldMask { paths: self.mask }),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::error::ApiError;
    use crate::extract::validate;

    fn read<T: Schema>(body: Value) -> Result<T, ApiError> {
        let Value::Object(object) = body else {
            unreachable!()
        };
        validate(&object)
    }

    fn update(body: Value) -> pb::UpdateTaskRequest {
        read::<TaskPatch>(body)
            .unwrap()
            .into_request("t1".into(), String::new())
    }

    fn mask(body: Value) -> Vec<String> {
        update(body).update_mask.unwrap().paths
    }

    fn message(error: ApiError) -> String {
        match error {
            ApiError::Local {
                reason, message, ..
            } => {
                assert_eq!(reason.as_str(), "VALIDATION_ERROR");
                message
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_mask_names_exactly_the_keys_present() {
        assert_eq!(mask(json!({"title": "x"})), ["title"]);
        assert_eq!(
            mask(json!({"completed": true, "description": "d"})),
            ["description", "completed"]
        );
        assert_eq!(
            mask(json!({"title": "x", "description": "", "completed": false})),
            ["title", "description", "completed"]
        );
        assert!(mask(json!({})).is_empty());
    }

    #[test]
    fn completed_false_is_an_update_not_a_no_op() {
        let request = update(json!({"completed": false}));
        assert_eq!(request.update_mask.unwrap().paths, ["completed"]);
        assert!(!request.task.unwrap().completed);
    }

    #[test]
    fn null_clears_a_field_as_in_proto3_json() {
        let request = update(json!({"description": null}));
        assert_eq!(request.update_mask.unwrap().paths, ["description"]);
        assert_eq!(request.task.unwrap().description, "");
    }

    #[test]
    fn output_only_fields_and_the_etag_are_not_in_the_mask() {
        let body = json!({
            "id": "other", "ownerId": "someone", "createdAt": "2026-01-01T00:00:00.000Z",
            "updated_at": "x", "etag": "e1", "title": "kept"
        });
        let patch = read::<TaskPatch>(body).unwrap();
        assert_eq!(patch.etag.as_deref(), Some("e1"));
        let request = patch.into_request("t1".into(), "e1".into());
        assert_eq!(request.update_mask.unwrap().paths, ["title"]);
        let task = request.task.unwrap();
        assert_eq!(
            (task.id.as_str(), task.owner_id.as_str(), task.etag.as_str()),
            ("t1", "", "e1")
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = read::<TaskPatch>(json!({"completed": true, "done": true})).unwrap_err();
        assert_eq!(message(error), r#"[body] Unrecognized key: "done""#);
        let error = read::<NewTask>(json!({"title": "x", "userId": "u1"})).unwrap_err();
        assert_eq!(message(error), r#"[body] Unrecognized key: "userId""#);
    }

    #[test]
    fn wrong_types_are_refused() {
        let error = read::<TaskPatch>(json!({"completed": "false", "title": null})).unwrap_err();
        assert_eq!(
            message(error),
            "[body.title] Invalid input: expected string, received null; \
             [body.completed] Invalid input: expected boolean, received string"
        );
    }

    #[test]
    fn a_new_task_needs_a_title_and_defaults_the_rest() {
        let error = read::<NewTask>(json!({"description": "d"})).unwrap_err();
        assert_eq!(
            message(error),
            "[body.title] Invalid input: expected string, received undefined"
        );
        let task = read::<NewTask>(json!({"title": "t"}))
            .unwrap()
            .into_request()
            .task
            .unwrap();
        assert_eq!(
            (
                task.title.as_str(),
                task.description.as_str(),
                task.completed
            ),
            ("t", "", false)
        );
        let task = read::<NewTask>(json!({"title": "t", "description": "d", "completed": true}))
            .unwrap()
            .into_request()
            .task
            .unwrap();
        assert_eq!((task.description.as_str(), task.completed), ("d", true));
    }
}
