//! The generated `TaskService` trait, kept thin: take the verified caller from the request's extensions, convert
//! the message, call [`TaskCore`], convert back.

use tonic::{Request, Response, Status};
use warden_proto::{task::v1 as pb, time::timestamp};

mod convert;

use crate::{auth::AuthenticatedUser, error::TaskError, service::TaskCore, store::TaskRecord};

pub use pb::task_service_server::TaskServiceServer;

#[derive(Clone, Debug)]
pub struct GrpcTasks {
    core: TaskCore,
}

impl GrpcTasks {
    pub fn new(core: TaskCore) -> Self {
        Self { core }
    }
}

/// The identity [`crate::auth::RequireAuth`] put there; without it the call was never authenticated.
fn caller<T>(request: &Request<T>) -> Result<AuthenticatedUser, Status> {
    request
        .extensions()
        .get::<AuthenticatedUser>()
        .cloned()
        .ok_or_else(|| TaskError::Unauthorized.into())
}

#[tonic::async_trait]
impl pb::task_service_server::TaskService for GrpcTasks {
    async fn create_task(
        &self,
        request: Request<pb::CreateTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = caller(&request)?;
        user.require("create")?;
        let input = convert::create_task(request.into_inner().task.unwrap_or_default())?;
        let created = self.core.create(&user, input).await?;
        Ok(Response::new(task_pb(created)))
    }

    async fn get_task(
        &self,
        request: Request<pb::GetTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = caller(&request)?;
        user.require("read")?;
        let id = convert::task_id(&request.get_ref().id)?;
        let task = self.core.get(&user, &id).await?;
        Ok(Response::new(task_pb(task)))
    }

    async fn list_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let user = caller(&request)?;
        user.require("read")?;
        let input = convert::list_tasks(request.into_inner(), &user)?;
        let page = self.core.list(&user, input).await?;
        Ok(Response::new(pb::ListTasksResponse {
            tasks: page.tasks.into_iter().map(task_pb).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_task(
        &self,
        request: Request<pb::UpdateTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = caller(&request)?;
        user.require("update")?;
        let input = convert::update_task(request.into_inner())?;
        let updated = self.core.update(&user, input).await?;
        Ok(Response::new(task_pb(updated)))
    }

    async fn delete_task(
        &self,
        request: Request<pb::DeleteTaskRequest>,
    ) -> Result<Response<()>, Status> {
        let user = caller(&request)?;
        user.require("delete")?;
        let body = request.into_inner();
        let id = convert::task_id(&body.id)?;
        let etag = convert::etag(body.etag)?;
        self.core.delete(&user, &id, etag.as_deref()).await?;
        Ok(Response::new(()))
    }
}

fn task_pb(task: TaskRecord) -> pb::Task {
    pb::Task {
        id: task.id,
        owner_id: task.owner_id,
        title: task.title,
        description: task.description,
        completed: task.completed,
        created_at: Some(timestamp(task.created_at)),
        updated_at: Some(timestamp(task.updated_at)),
        etag: task.etag,
    }
}
