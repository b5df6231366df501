//! The service's one error type and its single mapping to `tonic::Status`.

use tonic::{Code, Status};
use warden_proto::Reason;

pub const ERROR_DOMAIN: &str = "warden.task.v1";

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A request field broke a rule; the message says which and how.
    #[error("{0}")]
    Validation(String),
    #[error("Invalid page token")]
    InvalidPageToken,
    /// No such task, or another user's: the two are never told apart.
    #[error("Task not found")]
    NotFound,
    #[error("The task has changed since it was read")]
    EtagMismatch,
    #[error("Unauthorized")]
    Unauthorized,
    /// An API key whose permissions do not cover the call.
    #[error("The API key's permissions do not allow this.")]
    PermissionDenied,
    /// auth-svc refused the caller's API key (disabled, expired, used up, over its rate limit): its status, passed on.
    #[error("{}", .0.message())]
    Refused(tonic::Status),
    #[error("dependency unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl TaskError {
    /// The code carried as `ErrorInfo.reason`.
    pub fn reason(&self) -> Option<Reason> {
        Some(match self {
            Self::Validation(_) => Reason::ValidationError,
            Self::InvalidPageToken => Reason::InvalidPageToken,
            Self::NotFound => Reason::TaskNotFound,
            Self::EtagMismatch => Reason::EtagMismatch,
            Self::Unauthorized => Reason::Unauthorized,
            Self::PermissionDenied => Reason::InsufficientApiKeyPermissions,
            Self::Refused(_) | Self::Unavailable(_) | Self::Internal(_) => return None,
        })
    }

    fn code(&self) -> Code {
        match self {
            Self::Validation(_) | Self::InvalidPageToken => Code::InvalidArgument,
            Self::NotFound => Code::NotFound,
            Self::EtagMismatch => Code::FailedPrecondition,
            Self::Unauthorized => Code::Unauthenticated,
            Self::PermissionDenied => Code::PermissionDenied,
            Self::Refused(status) => status.code(),
            Self::Unavailable(_) => Code::Unavailable,
            Self::Internal(_) => Code::Internal,
        }
    }
}

impl From<sea_orm::DbErr> for TaskError {
    fn from(error: sea_orm::DbErr) -> Self {
        use sea_orm::DbErr;
        match error {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Self::Unavailable(error.into()),
            _ => Self::Internal(error.into()),
        }
    }
}

impl From<TaskError> for Status {
    fn from(error: TaskError) -> Self {
        if let TaskError::Refused(status) = error {
            return status;
        }
        let code = error.code();
        let message = match &error {
            TaskError::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), "dependency unavailable");
                "Service unavailable".to_owned()
            }
            TaskError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                "Internal Server Error".to_owned()
            }
            other => other.to_string(),
        };
        let reason = error.reason().map(Reason::as_str);
        warden_common::grpc::status(code, message, reason, ERROR_DOMAIN)
    }
}
