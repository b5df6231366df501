//! Proto `Task` and `ListTasksResponse` in proto3 JSON form: lowerCamelCase keys, every field present, dates as
//! RFC 3339 with milliseconds and `Z` (as the auth routes write them).

use serde::Serialize;
use warden_proto::task::v1 as pb;

use crate::json::iso_date;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    pub owner_id: String,
    pub title: String,
    pub description: String,
    pub completed: bool,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub etag: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskList {
    pub tasks: Vec<Task>,
    /// Empty on the last page.
    pub next_page_token: String,
}

impl From<pb::Task> for Task {
    fn from(task: pb::Task) -> Self {
        Self {
            created_at: iso_date(task.created_at.as_ref()),
            updated_at: iso_date(task.updated_at.as_ref()),
            id: task.id,
            owner_id: task.owner_id,
            title: task.title,
            description: task.description,
            completed: task.completed,
            etag: task.etag,
        }
    }
}

impl From<pb::ListTasksResponse> for TaskList {
    fn from(response: pb::ListTasksResponse) -> Self {
        Self {
            tasks: response.tasks.into_iter().map(Task::from).collect(),
            next_page_token: response.next_page_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use prost_types::Timestamp;
    use serde_json::json;

    use super::*;

    fn task() -> pb::Task {
        pb::Task {
            id: "0190b7c2-3c1e-7a8b-9c0d-1e2f3a4b5c6d".into(),
            owner_id: "u1".into(),
            title: "Write tests".into(),
            description: String::new(),
            completed: false,
            created_at: Some(Timestamp {
                seconds: 1_795_432_101,
                nanos: 797_654_321,
            }),
            updated_at: Some(Timestamp {
                seconds: 1_795_432_102,
                nanos: 0,
            }),
            etag: "e1".into(),
        }
    }

    #[test]
    fn a_task_has_every_field_in_lower_camel_case_even_defaults() {
        assert_eq!(
            serde_json::to_value(Task::from(task())).unwrap(),
            json!({
                "id": "0190b7c2-3c1e-7a8b-9c0d-1e2f3a4b5c6d", "ownerId": "u1", "title": "Write tests",
                "description": "", "completed": false,
                "createdAt": "2026-11-23T11:08:21.797Z", "updatedAt": "2026-11-23T11:08:22.000Z",
                "etag": "e1"
            })
        );
    }

    #[test]
    fn a_list_always_has_a_next_page_token() {
        let last = pb::ListTasksResponse {
            tasks: vec![task()],
            next_page_token: String::new(),
        };
        let value = serde_json::to_value(TaskList::from(last)).unwrap();
        assert_eq!(value["nextPageToken"], "");
        assert_eq!(value["tasks"][0]["ownerId"], "u1");
        let empty = serde_json::to_value(TaskList::from(pb::ListTasksResponse::default())).unwrap();
        assert_eq!(empty, json!({"tasks": [], "nextPageToken": ""}));
    }
}
