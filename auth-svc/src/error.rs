//! The service's one error type and its single mapping to `tonic::Status`.

use tonic::{Code, Status};

use crate::{admin::AdminAction, keys::KeyError};

pub const ERROR_DOMAIN: &str = "warden.auth.v1";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A request field failed validation; the message is Better Auth's `[body.x] …` form.
    #[error("{0}")]
    Validation(String),
    #[error("Invalid email")]
    InvalidEmail,
    #[error("Password too short")]
    PasswordTooShort,
    #[error("Password too long")]
    PasswordTooLong,
    #[error("User already exists. Use another email.")]
    UserAlreadyExists,
    #[error("Invalid email or password")]
    InvalidEmailOrPassword,
    #[error("Unauthorized")]
    Unauthorized,
    #[error("Session is not fresh")]
    SessionNotFresh,
    #[error("Invalid password")]
    InvalidPassword,
    #[error("Credential account not found")]
    CredentialAccountNotFound,
    #[error("Session expired. Re-authenticate to perform this action.")]
    SessionExpired,
    #[error("Invalid token")]
    InvalidToken,
    #[error("Token expired")]
    TokenExpired,
    #[error("Email not verified")]
    EmailNotVerified,
    #[error("Email mismatch")]
    EmailMismatch,
    #[error("Email is already verified")]
    EmailAlreadyVerified,
    /// Better Auth sends this one without a code.
    #[error("No fields to update")]
    NoFieldsToUpdate,
    /// Better Auth sends this one without a code.
    #[error("Email is the same")]
    EmailIsTheSame,
    #[error("User not found")]
    UserNotFound,
    #[error(
        "You have been banned from this application. Please contact support if you believe this is an error."
    )]
    BannedUser,
    /// A signed-in caller who is not an administrator asked for an admin action.
    #[error("{}", .0.message())]
    NotAllowed(AdminAction),
    #[error("You cannot ban yourself")]
    CannotBanYourself,
    #[error("You cannot remove yourself")]
    CannotRemoveYourself,
    /// A rate limit or the failed sign-in back-off; carries how long to wait.
    #[error("Too many requests. Please try again later.")]
    TooManyRequests { retry_after: std::time::Duration },
    /// A server-only field (Better Auth's `input: false`) in a body of additional fields.
    #[error("{0} is not allowed to be set")]
    FieldNotAllowed(String),
    /// delete-user/callback without a session: the user the link is for cannot be known.
    #[error("Failed to get user info")]
    FailedToGetUserInfo,
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AuthError {
    /// The Better Auth error code carried as `ErrorInfo.reason`.
    pub fn reason(&self) -> Option<&'static str> {
        Some(match self {
            Self::Validation(_) => "VALIDATION_ERROR",
            Self::InvalidEmail => "INVALID_EMAIL",
            Self::PasswordTooShort => "PASSWORD_TOO_SHORT",
            Self::PasswordTooLong => "PASSWORD_TOO_LONG",
            Self::UserAlreadyExists => "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            Self::InvalidEmailOrPassword => "INVALID_EMAIL_OR_PASSWORD",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::SessionNotFresh => "SESSION_NOT_FRESH",
            Self::UserNotFound => "USER_NOT_FOUND",
            Self::BannedUser => "BANNED_USER",
            Self::NotAllowed(action) => action.code(),
            Self::CannotBanYourself => "YOU_CANNOT_BAN_YOURSELF",
            Self::CannotRemoveYourself => "YOU_CANNOT_REMOVE_YOURSELF",
            Self::InvalidPassword => "INVALID_PASSWORD",
            Self::CredentialAccountNotFound => "CREDENTIAL_ACCOUNT_NOT_FOUND",
            Self::SessionExpired => "SESSION_EXPIRED",
            Self::InvalidToken => "INVALID_TOKEN",
            Self::TokenExpired => "TOKEN_EXPIRED",
            Self::EmailNotVerified => "EMAIL_NOT_VERIFIED",
            Self::EmailMismatch => "EMAIL_MISMATCH",
            Self::EmailAlreadyVerified => "EMAIL_ALREADY_VERIFIED",
            Self::TooManyRequests { .. } => crate::limits::RATE_LIMITED,
            Self::FieldNotAllowed(_) => "FIELD_NOT_ALLOWED",
            Self::FailedToGetUserInfo => "FAILED_TO_GET_USER_INFO",
            Self::NoFieldsToUpdate
            | Self::EmailIsTheSame
            | Self::Unavailable(_)
            | Self::Internal(_) => return None,
        })
    }

    fn code(&self) -> Code {
        match self {
            Self::Validation(_)
            | Self::InvalidEmail
            | Self::PasswordTooShort
            | Self::PasswordTooLong
            | Self::CannotBanYourself
            | Self::CannotRemoveYourself
            | Self::InvalidPassword
            | Self::CredentialAccountNotFound
            | Self::InvalidToken
            | Self::TokenExpired
            | Self::EmailMismatch
            | Self::EmailAlreadyVerified
            | Self::NoFieldsToUpdate
            | Self::EmailIsTheSame => Code::InvalidArgument,
            Self::SessionExpired => Code::FailedPrecondition,
            Self::EmailNotVerified => Code::PermissionDenied,
            Self::UserNotFound => Code::NotFound,
            Self::BannedUser | Self::NotAllowed(_) => Code::PermissionDenied,
            Self::UserAlreadyExists => Code::AlreadyExists,
            Self::InvalidEmailOrPassword | Self::Unauthorized => Code::Unauthenticated,
            Self::SessionNotFresh => Code::PermissionDenied,
            Self::TooManyRequests { .. } => Code::ResourceExhausted,
            Self::FieldNotAllowed(_) => Code::InvalidArgument,
            Self::FailedToGetUserInfo => Code::NotFound,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Internal(_) => Code::Internal,
        }
    }
}

impl From<sea_orm::DbErr> for AuthError {
    fn from(error: sea_orm::DbErr) -> Self {
        use sea_orm::DbErr;
        match error {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Self::Unavailable(error.into()),
            _ => Self::Internal(error.into()),
        }
    }
}

impl From<KeyError> for AuthError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Store(error) => error.into(),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        if let AuthError::TooManyRequests { retry_after } = error {
            return crate::limits::rate_limited(retry_after);
        }
        let code = error.code();
        let message = match &error {
            AuthError::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), "storage unavailable");
                "Service unavailable".to_owned()
            }
            AuthError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                "Internal Server Error".to_owned()
            }
            other => other.to_string(),
        };
        warden_common::grpc::status(code, message, error.reason(), ERROR_DOMAIN)
    }
}

/// True when a database error is a unique-constraint violation.
pub fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
