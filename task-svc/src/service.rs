//! What TaskService does, as plain async functions over domain values: no tonic here. Every function takes the
//! caller's verified identity and acts on that user's tasks only; another user's task is indistinguishable from a
//! missing one.

use crate::{
    auth::AuthenticatedUser,
    domain::{
        Cursor, PageSize, PageToken, Proposed, TaskDescription, TaskId, TaskPatch, TaskTitle,
    },
    error::TaskError,
    store::{NewTask, Store, TaskRecord},
};

/// A new task as the caller describes it.
pub struct CreateTask {
    pub title: String,
    pub description: String,
    pub completed: bool,
}

pub struct ListTasks {
    pub page_size: i32,
    pub page_token: String,
    pub completed: Option<bool>,
}

pub struct Page {
    pub tasks: Vec<TaskRecord>,
    /// Empty on the last page.
    pub next_page_token: String,
}

pub struct UpdateTask {
    pub id: String,
    /// Empty: write whatever the stored version.
    pub etag: String,
    pub title: String,
    pub description: String,
    pub completed: bool,
    pub mask: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct TaskCore {
    store: Store,
}

impl TaskCore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    pub async fn create(
        &self,
        user: &AuthenticatedUser,
        input: CreateTask,
    ) -> Result<TaskRecord, TaskError> {
        let new = NewTask {
            owner_id: user.id.clone(),
            title: TaskTitle::parse(&input.title)?,
            description: TaskDescription::parse(&input.description)?,
            completed: input.completed,
        };
        Ok(self.store.insert(new).await?)
    }

    pub async fn get(&self, user: &AuthenticatedUser, id: &str) -> Result<TaskRecord, TaskError> {
        let id = task_id(id)?;
        self.store
            .get(&user.id, &id)
            .await?
            .ok_or(TaskError::NotFound)
    }

    pub async fn list(
        &self,
        user: &AuthenticatedUser,
        input: ListTasks,
    ) -> Result<Page, TaskError> {
        let size = PageSize::parse(input.page_size)?;
        let after = match input.page_token.as_str() {
            "" => None,
            raw => {
                let token = PageToken::parse(raw, &user.id)?;
                if token.completed != input.completed {
                    return Err(TaskError::InvalidPageToken);
                }
                Some(token.after)
            }
        };
        // One more than the page holds tells whether another page follows.
        let mut tasks = self
            .store
            .list(
                &user.id,
                input.completed,
                after.as_ref(),
                u64::from(size.get()) + 1,
            )
            .await?;
        let more = tasks.len() > size.get() as usize;
        tasks.truncate(size.get() as usize);
        let next_page_token = match tasks.last() {
            Some(last) if more => PageToken {
                after: Cursor {
                    created_at: last.created_at,
                    id: task_id(&last.id).map_err(|_| {
                        TaskError::Internal(anyhow::anyhow!("a stored task id is malformed"))
                    })?,
                },
                completed: input.completed,
            }
            .encode(&user.id),
            _ => String::new(),
        };
        Ok(Page {
            tasks,
            next_page_token,
        })
    }

    /// Writes the masked fields in one conditional statement; an empty mask writes nothing and returns the task.
    pub async fn update(
        &self,
        user: &AuthenticatedUser,
        input: UpdateTask,
    ) -> Result<TaskRecord, TaskError> {
        let id = task_id(&input.id)?;
        let patch = TaskPatch::from_mask(
            &input.mask,
            Proposed {
                title: &input.title,
                description: &input.description,
                completed: input.completed,
            },
        )?;
        let expected = Some(input.etag.as_str()).filter(|etag| !etag.is_empty());
        if patch.is_empty() {
            let current = self.get(user, id.as_str()).await?;
            return match expected {
                Some(etag) if etag != current.etag => Err(TaskError::EtagMismatch),
                _ => Ok(current),
            };
        }
        match self.store.update(&user.id, &id, patch, expected).await? {
            Some(updated) => Ok(updated),
            None => Err(self.why_not_written(user, &id, expected).await),
        }
    }

    pub async fn delete(
        &self,
        user: &AuthenticatedUser,
        id: &str,
        etag: &str,
    ) -> Result<(), TaskError> {
        let id = task_id(id)?;
        let expected = Some(etag).filter(|etag| !etag.is_empty());
        if self.store.delete(&user.id, &id, expected).await? {
            Ok(())
        } else {
            Err(self.why_not_written(user, &id, expected).await)
        }
    }

    /// A conditional write matched no row: the task is gone (or never was the caller's), or its etag moved on.
    async fn why_not_written(
        &self,
        user: &AuthenticatedUser,
        id: &TaskId,
        expected: Option<&str>,
    ) -> TaskError {
        match self.store.get(&user.id, id).await {
            Ok(Some(_)) if expected.is_some() => TaskError::EtagMismatch,
            Ok(_) => TaskError::NotFound,
            Err(error) => error.into(),
        }
    }
}

/// An empty id is a malformed request; any other string that is no id names no task.
fn task_id(raw: &str) -> Result<TaskId, TaskError> {
    if raw.is_empty() {
        return Err(TaskError::Validation("id is required".to_owned()));
    }
    TaskId::parse(raw).ok_or(TaskError::NotFound)
}
