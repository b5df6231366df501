//! What TaskService does, as plain async functions over domain values: no tonic here. Every function takes the
//! caller's verified identity and acts on that user's tasks only; another user's task is indistinguishable from a
//! missing one.

use crate::{
    auth::AuthenticatedUser,
    domain::{Cursor, PageSize, PageToken, TaskDescription, TaskId, TaskPatch, TaskTitle},
    error::TaskError,
    store::{NewTask, Store, TaskRecord},
};

/// A new task as the caller describes it.
pub struct CreateTask {
    pub title: TaskTitle,
    pub description: TaskDescription,
    pub completed: bool,
}

/// One page of the caller's tasks, after `after` (from the first when `None`), of the given completion.
pub struct ListTasks {
    pub size: PageSize,
    pub after: Option<Cursor>,
    pub completed: Option<bool>,
}

pub struct Page {
    pub tasks: Vec<TaskRecord>,
    /// Empty on the last page.
    pub next_page_token: String,
}

pub struct UpdateTask {
    pub id: TaskId,
    /// `None`: write whatever the stored version.
    pub etag: Option<String>,
    pub patch: TaskPatch,
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
            title: input.title,
            description: input.description,
            completed: input.completed,
        };
        Ok(self.store.insert(new).await?)
    }

    pub async fn get(
        &self,
        user: &AuthenticatedUser,
        id: &TaskId,
    ) -> Result<TaskRecord, TaskError> {
        self.store
            .get(&user.id, id)
            .await?
            .ok_or(TaskError::NotFound)
    }

    pub async fn list(
        &self,
        user: &AuthenticatedUser,
        input: ListTasks,
    ) -> Result<Page, TaskError> {
        let ListTasks {
            size,
            after,
            completed,
        } = input;
        // One more than the page holds tells whether another page follows.
        let mut tasks = self
            .store
            .list(
                &user.id,
                completed,
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
                    id: TaskId::parse(&last.id).ok_or_else(|| {
                        TaskError::Internal(anyhow::anyhow!("a stored task id is malformed"))
                    })?,
                },
                completed,
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
        let UpdateTask { id, etag, patch } = input;
        let expected = etag.as_deref();
        if patch.is_empty() {
            let current = self.get(user, &id).await?;
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
        id: &TaskId,
        etag: Option<&str>,
    ) -> Result<(), TaskError> {
        if self.store.delete(&user.id, id, etag).await? {
            Ok(())
        } else {
            Err(self.why_not_written(user, id, etag).await)
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
