//! The gateway's one error type, rendered as Better Auth's `{"message", "code"}` body.
//!
//! An upstream `tonic::Status` keeps the service's message and its `ErrorInfo` reason (the Better Auth or task error
//! code); the HTTP status is chosen in [`http_status`] alone, from the route and the reason, falling back to the gRPC
//! code.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt;
use warden_proto::Reason;

/// The endpoint an upstream error came from; Better Auth gives one reason different statuses on different routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    SignUpEmail,
    SignInEmail,
    SignOut,
    GetSession,
    ListSessions,
    RevokeSession,
    RevokeSessions,
    RevokeOtherSessions,
    IssueToken,
    GetJwks,
    /// An RPC the transcoder serves from its `google.api.http` binding, by its full name
    /// (`warden.task.v1.TaskService.ListTasks`).
    Rpc(&'static str),
    AdminSetRole,
    AdminBanUser,
    AdminUnbanUser,
    AdminListUsers,
    AdminListUserSessions,
    AdminRevokeUserSession,
    AdminRevokeUserSessions,
    AdminRemoveUser,
    AdminGetUser,
    AdminCreateUser,
    AdminSetUserPassword,
    /// Warden's own admin route: a user's second factor turned off.
    AdminResetTwoFactor,
    UpdateUser,
    ChangePassword,
    ChangeEmail,
    DeleteUser,
    SendVerificationEmail,
    VerifyEmail,
    RequestPasswordReset,
    CheckResetToken,
    ResetPassword,
    ListOutbox,
    /// Warden's own list of the social providers configured.
    ListProviders,
    UpdateSession,
    VerifyPassword,
    DeleteUserCallback,
    SignInSocial,
    SocialCallback,
    ListAccounts,
    UnlinkAccount,
    LinkSocial,
    GetAccessToken,
    RefreshToken,
    AccountInfo,
    TwoFactorEnable,
    TwoFactorDisable,
    TwoFactorGetTotpUri,
    TwoFactorVerifyTotp,
    TwoFactorSendOtp,
    TwoFactorVerifyOtp,
    TwoFactorVerifyBackupCode,
    TwoFactorGenerateBackupCodes,
    PasskeyGenerateRegisterOptions,
    PasskeyVerifyRegistration,
    PasskeyGenerateAuthenticateOptions,
    PasskeyVerifyAuthentication,
    PasskeyList,
    PasskeyDelete,
    PasskeyUpdate,
    ApiKeyCreate,
    ApiKeyGet,
    ApiKeyUpdate,
    ApiKeyDelete,
    ApiKeyList,
}

impl Route {
    /// Better Auth's admin routes answer a missing session with a bare 401: an empty body.
    fn is_admin(self) -> bool {
        matches!(
            self,
            Self::AdminSetRole
                | Self::AdminBanUser
                | Self::AdminUnbanUser
                | Self::AdminListUsers
                | Self::AdminListUserSessions
                | Self::AdminRevokeUserSession
                | Self::AdminRevokeUserSessions
                | Self::AdminRemoveUser
                | Self::AdminGetUser
                | Self::AdminCreateUser
                | Self::AdminSetUserPassword
                | Self::AdminResetTwoFactor
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// An error the gateway decides itself, with Better Auth's code and message.
    #[error("{reason}: {message}")]
    Local {
        status: StatusCode,
        reason: Reason,
        message: String,
    },
    /// An error auth-svc or task-svc (or the channel to it) returned.
    #[error("{route:?} failed upstream: {:?} {}", status.code(), status.message())]
    Upstream { route: Route, status: tonic::Status },
    /// A broken invariant; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl ApiError {
    pub fn local(status: StatusCode, reason: Reason, message: impl Into<String>) -> Self {
        Self::Local {
            status,
            reason,
            message: message.into(),
        }
    }

    pub fn bad_request(reason: Reason, message: impl Into<String>) -> Self {
        Self::local(StatusCode::BAD_REQUEST, reason, message)
    }

    /// 400 `VALIDATION_ERROR` with zod's `[body.field] …` message.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::bad_request(Reason::ValidationError, message)
    }

    /// 401 `UNAUTHORIZED`: the request carries no live session.
    pub fn unauthorized() -> Self {
        Self::local(
            StatusCode::UNAUTHORIZED,
            Reason::Unauthorized,
            "Unauthorized",
        )
    }

    /// 403 `FORBIDDEN`: the session is live but may not act here.
    pub fn forbidden() -> Self {
        Self::local(StatusCode::FORBIDDEN, Reason::Forbidden, "Forbidden")
    }

    /// For `.map_err(ApiError::upstream(Route::…))` on an RPC result.
    pub fn upstream(route: Route) -> impl FnOnce(tonic::Status) -> Self {
        move |status| Self::Upstream { route, status }
    }
}

/// The HTTP status for an upstream error: by reason first, then by gRPC code.
pub fn http_status(route: Route, code: Code, reason: Option<Reason>) -> StatusCode {
    use Reason as R;
    match (route, reason) {
        (Route::AdminCreateUser, Some(R::UserAlreadyExistsUseAnotherEmail)) => {
            StatusCode::BAD_REQUEST
        }
        (_, Some(R::UserAlreadyExistsUseAnotherEmail)) => StatusCode::UNPROCESSABLE_ENTITY,
        // A verify-email link that does not work is 401 whatever the reason; a delete-user token 404.
        (Route::VerifyEmail, Some(R::InvalidToken | R::TokenExpired | R::UserNotFound)) => {
            StatusCode::UNAUTHORIZED
        }
        (Route::DeleteUser | Route::DeleteUserCallback, Some(R::InvalidToken)) => {
            StatusCode::NOT_FOUND
        }
        (Route::ResetPassword, Some(R::UserNotFound)) => StatusCode::BAD_REQUEST,
        // An ID-token sign-in that does not verify, or names nobody, is 401 in Better Auth.
        (
            Route::SignInSocial | Route::LinkSocial,
            Some(R::InvalidToken | R::FailedToGetUserInfo),
        ) => StatusCode::UNAUTHORIZED,
        (
            _,
            Some(
                R::InvalidToken
                | R::TokenExpired
                | R::SessionExpired
                | R::InvalidPassword
                | R::CredentialAccountNotFound
                | R::EmailMismatch
                | R::EmailAlreadyVerified,
            ),
        ) => StatusCode::BAD_REQUEST,
        (_, Some(R::InvalidEmailOrPassword | R::Unauthorized)) => StatusCode::UNAUTHORIZED,
        (_, Some(R::SessionNotFresh | R::BannedUser | R::EmailNotVerified)) => {
            StatusCode::FORBIDDEN
        }
        (Route::AccountInfo, Some(R::FailedToGetUserInfo)) => StatusCode::UNAUTHORIZED,
        // Better Auth's linking refusals and its token routes' errors.
        (_, Some(R::SocialAccountAlreadyLinked)) => StatusCode::CONFLICT,
        (_, Some(R::LinkingNotAllowed | R::LinkingDifferentEmailsNotAllowed)) => {
            StatusCode::UNAUTHORIZED
        }
        (_, Some(R::LinkingFailed)) => StatusCode::EXPECTATION_FAILED,
        (
            _,
            Some(
                R::ProviderNotSupported
                | R::ProviderNotConfigured
                | R::FailedToGetAccessToken
                | R::RefreshTokenNotFound
                | R::FailedToRefreshAccessToken
                | R::AccessTokenNotFound,
            ),
        ) => StatusCode::BAD_REQUEST,
        // Better Auth's two-factor plugin.
        (
            _,
            Some(
                R::OtpHasExpired
                | R::TotpNotEnabled
                | R::TotpAlreadyEnabled
                | R::TwoFactorNotEnabled
                | R::BackupCodesNotEnabled
                | R::TooManyAttemptsRequestNewCode,
            ),
        ) => StatusCode::BAD_REQUEST,
        (_, Some(R::InvalidBackupCode | R::InvalidCode | R::InvalidTwoFactorCookie)) => {
            StatusCode::UNAUTHORIZED
        }
        (_, Some(R::AccountTemporarilyLocked)) => StatusCode::TOO_MANY_REQUESTS,
        // Better Auth's passkey plugin: a credential it cannot find is 401 in a sign-in, 404 when managing them.
        (Route::PasskeyVerifyAuthentication, Some(R::PasskeyNotFound)) => StatusCode::UNAUTHORIZED,
        (_, Some(R::PasskeyNotFound)) => StatusCode::NOT_FOUND,
        (_, Some(R::YouAreNotAllowedToRegisterThisPasskey)) => StatusCode::UNAUTHORIZED,
        // Another user's passkey: a bare 401 (see `into_response`).
        (Route::PasskeyDelete, Some(R::Forbidden)) => StatusCode::UNAUTHORIZED,
        // The package answers a registration its verifier refuses with a 500, one that named no origin with a 400.
        (_, Some(R::FailedToVerifyRegistration)) if code == Code::InvalidArgument => {
            StatusCode::BAD_REQUEST
        }
        (_, Some(R::FailedToVerifyRegistration)) => StatusCode::INTERNAL_SERVER_ERROR,
        // A signature that does not verify is 401; any other refused assertion 400.
        (_, Some(R::AuthenticationFailed)) if code == Code::Unauthenticated => {
            StatusCode::UNAUTHORIZED
        }
        (_, Some(R::ChallengeNotFound | R::AuthenticationFailed)) => StatusCode::BAD_REQUEST,
        // Better Auth's api-key plugin: a banned owner and every session refusal are 401.
        (_, Some(R::UserBanned | R::UnauthorizedSession)) => StatusCode::UNAUTHORIZED,
        (_, Some(R::TaskNotFound)) => StatusCode::NOT_FOUND,
        (_, Some(R::EtagMismatch)) => StatusCode::PRECONDITION_FAILED,
        (_, Some(R::InvalidPageToken | R::ValidationError)) => StatusCode::BAD_REQUEST,
        _ => match code {
            Code::InvalidArgument => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists => StatusCode::UNPROCESSABLE_ENTITY,
            Code::FailedPrecondition => StatusCode::PRECONDITION_FAILED,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        },
    }
}

/// Better Auth's error body; some of its errors carry no code.
#[derive(Debug, Serialize)]
struct ErrorBody {
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

fn internal_body() -> ErrorBody {
    ErrorBody {
        message: "Internal Server Error".to_owned(),
        code: Some("INTERNAL_SERVER_ERROR".to_owned()),
    }
}

/// The status and body for an upstream error.
fn upstream_response(route: Route, status: &tonic::Status) -> (StatusCode, ErrorBody) {
    let reason = status
        .get_details_error_info()
        .map(|info| info.reason)
        .filter(|reason| !reason.is_empty());
    // A code this build does not know still reaches the client as spelt; its status comes from the gRPC code.
    let http = http_status(
        route,
        status.code(),
        reason.as_deref().and_then(Reason::parse),
    );
    // The one 500 Better Auth sends for a client's mistake: a registration its verifier refused.
    let declared = reason.as_deref() == Some(Reason::FailedToVerifyRegistration.as_str());
    if http.is_server_error() && !declared {
        tracing::error!(
            ?route,
            grpc.code = ?status.code(),
            grpc.message = status.message(),
            "upstream call failed"
        );
    }
    let body = match reason {
        _ if http == StatusCode::INTERNAL_SERVER_ERROR && !declared => internal_body(),
        Some(reason) => ErrorBody {
            message: status.message().to_owned(),
            code: Some(reason),
        },
        // Without a reason the message may come from the transport, not auth-svc: say only what happened.
        None if http.is_server_error() => {
            let phrase = http.canonical_reason().unwrap_or("Error");
            ErrorBody {
                message: phrase.to_owned(),
                code: Some(phrase.to_ascii_uppercase().replace(' ', "_")),
            }
        }
        None => ErrorBody {
            message: status.message().to_owned(),
            code: None,
        },
    };
    (http, body)
}

/// What an oversized body is told, whichever layer notices.
pub const PAYLOAD_TOO_LARGE_MESSAGE: &str = "Request body is too large";

/// Better Auth's rate-limit header: the seconds to wait.
pub const X_RETRY_AFTER: &str = "x-retry-after";

/// Better Auth's answer to a spent allowance: 429, `X-Retry-After` in whole seconds, and a message without code.
pub fn too_many_requests(retry_after_secs: u64) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({ "message": "Too many requests. Please try again later." })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(X_RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
    response
}

/// The API-key limit an upstream refusal names: `USAGE_EXCEEDED`, or `RATE_LIMITED` with the key's `tryAgainIn`.
fn key_limit(status: &tonic::Status) -> Option<(String, Option<i64>)> {
    let info = status.get_details_error_info()?;
    let try_again_in = info
        .metadata
        .get("tryAgainIn")
        .and_then(|ms| ms.parse::<i64>().ok());
    let keyed = info.reason == Reason::UsageExceeded.as_str()
        || (info.reason == Reason::RateLimited.as_str() && try_again_in.is_some());
    keyed.then_some((info.reason, try_again_in))
}

/// 429 for a key over its limits, as the package words it (`details.tryAgainIn` in milliseconds), with Better Auth's
/// `X-Retry-After` in seconds when there is a time to wait.
fn key_limited(status: &tonic::Status) -> Response {
    let Some((reason, try_again_in)) = key_limit(status) else {
        return too_many_requests(1);
    };
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Details {
        try_again_in: i64,
    }
    /// The package's order: message, code, details.
    #[derive(Serialize)]
    struct KeyLimited<'a> {
        message: &'a str,
        code: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        details: Option<Details>,
    }
    let body = KeyLimited {
        message: status.message(),
        code: reason,
        details: try_again_in.map(|try_again_in| Details { try_again_in }),
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if let Some(ms) = try_again_in {
        let seconds = u64::try_from(ms).unwrap_or(0).div_ceil(1000).max(1);
        response
            .headers_mut()
            .insert(X_RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A bare status, as Better Auth's `APIError.fromStatus`: an empty body, still typed `application/json`.
fn bare(status: StatusCode) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::empty(),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Self::Local {
                status,
                reason,
                message,
            } => (
                status,
                ErrorBody {
                    message,
                    code: Some(reason.as_str().to_owned()),
                },
            ),
            // An API key's own limits: the package's code and message, and for a rate limit its `details`.
            Self::Upstream { status, .. }
                if status.code() == Code::ResourceExhausted && key_limit(&status).is_some() =>
            {
                return key_limited(&status);
            }
            // A rate limit or back-off in auth-svc reads as the gateway's own 429.
            Self::Upstream { status, .. } if status.code() == Code::ResourceExhausted => {
                let retry = status
                    .get_details_retry_info()
                    .and_then(|info| info.retry_delay)
                    .map_or(1, |delay| {
                        delay.as_secs() + u64::from(delay.subsec_nanos() > 0)
                    });
                return too_many_requests(retry);
            }
            Self::Upstream { route, status } => match upstream_response(route, &status) {
                (StatusCode::UNAUTHORIZED, _) if route.is_admin() => {
                    return bare(StatusCode::UNAUTHORIZED);
                }
                (
                    StatusCode::UNAUTHORIZED,
                    ErrorBody {
                        code: Some(code), ..
                    },
                ) if route == Route::PasskeyDelete && code == Reason::Forbidden.as_str() => {
                    return bare(StatusCode::UNAUTHORIZED);
                }
                answer => answer,
            },
            Self::Internal(detail) => {
                tracing::error!(detail, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, internal_body())
            }
        };
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tonic_types::ErrorDetails;

    use super::*;

    fn with_reason(code: Code, message: &str, reason: &str) -> tonic::Status {
        tonic::Status::with_error_details(
            code,
            message,
            ErrorDetails::with_error_info(reason, "warden.auth.v1", HashMap::new()),
        )
    }

    async fn render(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn every_reason_crosses_the_wire_and_reaches_the_body_as_itself() {
        for &reason in Reason::ALL {
            let sent = warden_common::grpc::status(
                Code::InvalidArgument,
                "refused",
                Some(reason.as_str()),
                "warden.auth.v1",
            );
            // What crosses the wire: the code, the message and the encoded details (`grpc-status-details-bin`).
            let received = tonic::Status::with_details(
                sent.code(),
                sent.message(),
                sent.details().to_vec().into(),
            );
            let (_, body) = render(ApiError::upstream(Route::SignInEmail)(received)).await;
            let code = body["code"].as_str().unwrap();
            assert_eq!(Reason::parse(code), Some(reason), "{body}");
        }
    }

    #[test]
    fn reasons_choose_the_status_before_codes() {
        let cases = [
            (
                Code::AlreadyExists,
                "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
                422,
            ),
            (
                Code::InvalidArgument,
                "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
                422,
            ),
            (Code::Unauthenticated, "INVALID_EMAIL_OR_PASSWORD", 401),
            (Code::Unauthenticated, "UNAUTHORIZED", 401),
            (Code::FailedPrecondition, "UNAUTHORIZED", 401),
            (Code::PermissionDenied, "SESSION_NOT_FRESH", 403),
            (Code::FailedPrecondition, "BANNED_USER", 403),
            (Code::FailedPrecondition, "EMAIL_NOT_VERIFIED", 403),
            (Code::InvalidArgument, "PASSWORD_TOO_SHORT", 400),
            (Code::NotFound, "TASK_NOT_FOUND", 404),
            (Code::FailedPrecondition, "ETAG_MISMATCH", 412),
            (Code::Aborted, "ETAG_MISMATCH", 412),
            (Code::InvalidArgument, "INVALID_PAGE_TOKEN", 400),
            (Code::InvalidArgument, "VALIDATION_ERROR", 400),
            (Code::FailedPrecondition, "VALIDATION_ERROR", 400),
        ];
        for (code, reason, expected) in cases {
            assert_eq!(
                http_status(Route::SignInEmail, code, Reason::parse(reason)).as_u16(),
                expected,
                "{reason}"
            );
        }
    }

    #[test]
    fn codes_choose_the_status_without_a_known_reason() {
        let cases = [
            (Code::InvalidArgument, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 422),
            (Code::FailedPrecondition, 412),
            (Code::ResourceExhausted, 429),
            (Code::Unavailable, 503),
            (Code::DeadlineExceeded, 504),
            (Code::Internal, 500),
            (Code::Unknown, 500),
            (Code::Unimplemented, 500),
            (Code::Cancelled, 500),
            (Code::DataLoss, 500),
        ];
        for (code, expected) in cases {
            assert_eq!(
                http_status(Route::GetSession, code, None).as_u16(),
                expected,
                "{code:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_upstream_error_keeps_its_message_and_reason() {
        let status = with_reason(
            Code::AlreadyExists,
            "User already exists. Use another email.",
            "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
        );
        let (http, body) = render(ApiError::upstream(Route::SignUpEmail)(status)).await;
        assert_eq!(http, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body,
            serde_json::json!({"message": "User already exists. Use another email.", "code": "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"})
        );
    }

    #[tokio::test]
    async fn an_internal_upstream_error_says_nothing_more() {
        let status = with_reason(Code::Internal, "database exploded at row 7", "SOMETHING");
        let (http, body) = render(ApiError::upstream(Route::GetSession)(status)).await;
        assert_eq!(http, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            serde_json::json!({"message": "Internal Server Error", "code": "INTERNAL_SERVER_ERROR"})
        );
    }

    #[tokio::test]
    async fn an_unreachable_auth_service_is_a_plain_503() {
        let status =
            tonic::Status::unavailable("tcp connect error: Connection refused (os error 111)");
        let (http, body) = render(ApiError::upstream(Route::SignInEmail)(status)).await;
        assert_eq!(http, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            serde_json::json!({"message": "Service Unavailable", "code": "SERVICE_UNAVAILABLE"})
        );
    }

    #[tokio::test]
    async fn a_client_error_without_reason_has_no_code() {
        let status = tonic::Status::invalid_argument("No fields to update");
        let (http, body) = render(ApiError::upstream(Route::SignUpEmail)(status)).await;
        assert_eq!(http, StatusCode::BAD_REQUEST);
        assert_eq!(body, serde_json::json!({"message": "No fields to update"}));
    }

    #[tokio::test]
    async fn a_task_error_keeps_the_task_services_reason_and_message() {
        let status = with_reason(
            Code::FailedPrecondition,
            "The task has changed since it was read",
            "ETAG_MISMATCH",
        );
        let (http, body) = render(ApiError::upstream(Route::Rpc(
            "warden.task.v1.TaskService.UpdateTask",
        ))(status))
        .await;
        assert_eq!(http, StatusCode::PRECONDITION_FAILED);
        assert_eq!(
            body,
            serde_json::json!({"message": "The task has changed since it was read", "code": "ETAG_MISMATCH"})
        );
        let status = with_reason(Code::NotFound, "Task not found", "TASK_NOT_FOUND");
        let (http, body) = render(ApiError::upstream(Route::Rpc(
            "warden.task.v1.TaskService.GetTask",
        ))(status))
        .await;
        assert_eq!(http, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            serde_json::json!({"message": "Task not found", "code": "TASK_NOT_FOUND"})
        );
    }

    #[tokio::test]
    async fn unauthorized_and_forbidden_have_better_auth_bodies() {
        let (http, body) = render(ApiError::unauthorized()).await;
        assert_eq!(http, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            serde_json::json!({"message": "Unauthorized", "code": "UNAUTHORIZED"})
        );
        let (http, body) = render(ApiError::forbidden()).await;
        assert_eq!(http, StatusCode::FORBIDDEN);
        assert_eq!(
            body,
            serde_json::json!({"message": "Forbidden", "code": "FORBIDDEN"})
        );
    }

    #[tokio::test]
    async fn admin_routes_answer_a_missing_session_with_an_empty_body() {
        let status = with_reason(Code::Unauthenticated, "Unauthorized", "UNAUTHORIZED");
        let response = ApiError::upstream(Route::AdminListUsers)(status).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "application/json"
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(bytes.is_empty());
    }

    #[test]
    fn an_existing_email_is_400_on_admin_create_user_and_422_on_sign_up() {
        let reason = Some(Reason::UserAlreadyExistsUseAnotherEmail);
        assert_eq!(
            http_status(Route::AdminCreateUser, Code::AlreadyExists, reason),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            http_status(Route::SignUpEmail, Code::AlreadyExists, reason),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn account_reasons_get_the_status_better_auth_gives_them_on_each_route() {
        let cases = [
            (
                Route::ResetPassword,
                Code::InvalidArgument,
                "INVALID_TOKEN",
                400,
            ),
            (Route::ResetPassword, Code::NotFound, "USER_NOT_FOUND", 400),
            (
                Route::VerifyEmail,
                Code::InvalidArgument,
                "INVALID_TOKEN",
                401,
            ),
            (
                Route::VerifyEmail,
                Code::InvalidArgument,
                "TOKEN_EXPIRED",
                401,
            ),
            (Route::VerifyEmail, Code::NotFound, "USER_NOT_FOUND", 401),
            (
                Route::DeleteUser,
                Code::InvalidArgument,
                "INVALID_TOKEN",
                404,
            ),
            (
                Route::DeleteUser,
                Code::FailedPrecondition,
                "SESSION_EXPIRED",
                400,
            ),
            (
                Route::DeleteUserCallback,
                Code::InvalidArgument,
                "INVALID_TOKEN",
                404,
            ),
            (
                Route::DeleteUserCallback,
                Code::NotFound,
                "FAILED_TO_GET_USER_INFO",
                404,
            ),
            (
                Route::VerifyPassword,
                Code::InvalidArgument,
                "INVALID_PASSWORD",
                400,
            ),
            (
                Route::DeleteUser,
                Code::InvalidArgument,
                "INVALID_PASSWORD",
                400,
            ),
            (
                Route::ChangePassword,
                Code::InvalidArgument,
                "CREDENTIAL_ACCOUNT_NOT_FOUND",
                400,
            ),
            (
                Route::SendVerificationEmail,
                Code::InvalidArgument,
                "EMAIL_MISMATCH",
                400,
            ),
            (
                Route::SignInEmail,
                Code::PermissionDenied,
                "EMAIL_NOT_VERIFIED",
                403,
            ),
        ];
        for (route, code, reason, expected) in cases {
            assert_eq!(
                http_status(route, code, Reason::parse(reason)).as_u16(),
                expected,
                "{route:?} {reason}"
            );
        }
    }

    #[tokio::test]
    async fn origin_errors_are_403_with_better_auth_codes() {
        let (http, body) = render(crate::origin::OriginError::InvalidCallbackUrl.into()).await;
        assert_eq!(http, StatusCode::FORBIDDEN);
        assert_eq!(
            body,
            serde_json::json!({"message": "Invalid callbackURL", "code": "INVALID_CALLBACK_URL"})
        );
    }
}
