//! Messages into the core's inputs: every field through its rule in [`crate::domain`], refused here with the
//! [`TaskError`] that rule gives, so [`crate::service::TaskCore`] takes only checked values.

use warden_proto::task::v1 as pb;

use crate::{
    auth::AuthenticatedUser,
    domain::{PageSize, PageToken, Proposed, TaskDescription, TaskId, TaskPatch, TaskTitle},
    error::TaskError,
    service::{CreateTask, ListTasks, UpdateTask},
};

/// An empty id is a malformed request; any other string that is no id names no task.
pub fn task_id(raw: &str) -> Result<TaskId, TaskError> {
    if raw.is_empty() {
        return Err(TaskError::Validation("id is required".to_owned()));
    }
    TaskId::parse(raw).ok_or(TaskError::NotFound)
}

/// An etag to match; empty writes whatever the stored version. It is compared in the database, which cannot take a
/// NUL, so one holding a NUL is refused.
pub fn etag(raw: String) -> Result<Option<String>, TaskError> {
    if raw.contains('\0') {
        return Err(TaskError::Validation(
            "etag cannot contain a NUL character".to_owned(),
        ));
    }
    Ok(Some(raw).filter(|etag| !etag.is_empty()))
}

pub fn create_task(task: pb::Task) -> Result<CreateTask, TaskError> {
    Ok(CreateTask {
        title: TaskTitle::parse(&task.title)?,
        description: TaskDescription::parse(&task.description)?,
        completed: task.completed,
    })
}

/// A page token is the caller's own and belongs to the same filter, or the listing is refused.
pub fn list_tasks(
    body: pb::ListTasksRequest,
    user: &AuthenticatedUser,
) -> Result<ListTasks, TaskError> {
    let size = PageSize::parse(body.page_size)?;
    let after = match body.page_token.as_str() {
        "" => None,
        raw => {
            let token = PageToken::parse(raw, &user.id)?;
            if token.completed != body.completed {
                return Err(TaskError::InvalidPageToken);
            }
            Some(token.after)
        }
    };
    Ok(ListTasks {
        size,
        after,
        completed: body.completed,
    })
}

pub fn update_task(body: pb::UpdateTaskRequest) -> Result<UpdateTask, TaskError> {
    let task = body.task.unwrap_or_default();
    let id = task_id(&task.id)?;
    let mask = body.update_mask.map(|mask| mask.paths).unwrap_or_default();
    let patch = TaskPatch::from_mask(
        &mask,
        Proposed {
            title: &task.title,
            description: &task.description,
            completed: task.completed,
        },
    )?;
    Ok(UpdateTask {
        id,
        etag: etag(task.etag)?,
        patch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_id_is_malformed_and_a_foreign_one_names_no_task() {
        assert!(matches!(task_id(""), Err(TaskError::Validation(_))));
        assert!(matches!(task_id("no such id!"), Err(TaskError::NotFound)));
    }

    #[test]
    fn an_empty_etag_matches_any_version() {
        assert_eq!(etag(String::new()).unwrap(), None);
        assert_eq!(etag("\"v1\"".into()).unwrap(), Some("\"v1\"".into()));
    }

    #[test]
    fn an_etag_with_a_nul_is_refused_before_the_database_compares_it() {
        assert!(matches!(etag("v\0".into()), Err(TaskError::Validation(_))));
    }

    #[test]
    fn an_update_without_a_task_is_refused_for_its_missing_id() {
        let update = update_task(pb::UpdateTaskRequest::default());
        assert!(matches!(update, Err(TaskError::Validation(_))));
    }
}
