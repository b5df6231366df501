//! Better Auth's two-factor plugin under `/api/auth/two-factor/`, each route one `TwoFactorService` call, and the
//! sign-in's challenge: a password sign-in of a user with a second factor answers `twoFactorRedirect` with Better
//! Auth's signed `two_factor` cookie instead of a session, and the verify routes read that cookie back as the
//! challenge. A trusted device keeps the signed `trust_device` cookie, which the sign-in presents.
//!
//! One difference on purpose: the challenge answer carries no `set-auth-token` header. Better Auth sends one there,
//! naming the session it has just deleted; Warden never opens that session.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde::Serialize;
use serde_json::json;
use warden_common::settings::Plugin;
use warden_proto::Reason;
use warden_proto::auth::v1 as pb;

use super::stale_session::refuse_upstream as refuse;
use crate::cookies::{SetCookies, read_signed_cookie};
use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema, Shape};
use crate::json::User;
use crate::state::AppState;

fn signed_cookie(state: &AppState, headers: &HeaderMap, name: &str) -> Option<String> {
    read_signed_cookie(headers, name, &state.secret)
}

/// The trusted-device token a sign-in presents, while the plugin is served.
pub(crate) fn trusted_device(state: &AppState, headers: &HeaderMap) -> Option<String> {
    if !state.plugins.is_enabled(Plugin::TwoFactor) {
        return None;
    }
    signed_cookie(state, headers, state.cookies.trust_device_name())
}

/// A sign-in that needs a second factor: no session (its cookies expired), the signed challenge cookie, and the
/// methods the user can complete it with.
pub(crate) fn challenged(
    state: &AppState,
    challenge: pb::TwoFactorChallenge,
    remember: bool,
    trust_refused: bool,
) -> Response {
    let cookies = &state.cookies;
    let mut set = SetCookies::none();
    if !remember {
        // Kept for the session the challenge opens, as Better Auth keeps it.
        set = set.then(cookies.dont_remember_cookie(&state.secret));
    }
    if trust_refused {
        set = set.then(cookies.trust_device_deletion());
    }
    for deletion in cookies.session_deletion() {
        set = set.then(deletion);
    }
    set = set.then(cookies.two_factor_cookie(&state.secret, &challenge.challenge));
    let body = Challenged {
        two_factor_redirect: true,
        two_factor_methods: challenge.methods,
    };
    (set, Json(body)).into_response()
}

/// Bodies in Better Auth's key order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Challenged {
    two_factor_redirect: bool,
    two_factor_methods: Vec<String>,
}

#[derive(Serialize)]
struct Enabled {
    method: String,
    #[serde(rename = "totpURI")]
    totp_uri: Option<String>,
    #[serde(rename = "backupCodes")]
    backup_codes: Vec<String>,
}

#[derive(Serialize)]
struct BackupCodes {
    status: bool,
    #[serde(rename = "backupCodes")]
    backup_codes: Vec<String>,
}

#[derive(Serialize)]
struct TokenAndUser {
    token: Option<String>,
    user: Option<User>,
}

/// `{password}`, as the routes that ask for the password again take it. No `Debug`: it holds a password.
pub struct PasswordBody {
    password: String,
}

impl Schema for PasswordBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            password: fields.string("password"),
        }
    }
}

/// No `Debug`: it holds a password.
pub struct EnableBody {
    password: String,
    method: Option<String>,
    issuer: Option<String>,
}

impl Schema for EnableBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            password: fields.string("password"),
            method: fields.optional_string("method"),
            issuer: fields.optional_string("issuer"),
        }
    }
}

/// A code and whether to trust this device. No `Debug`: it holds a code.
pub struct CodeBody {
    code: String,
    trust_device: bool,
}

impl Schema for CodeBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            code: fields.string("code"),
            trust_device: fields.optional_bool("trustDevice").unwrap_or(false),
        }
    }
}

/// No `Debug`: it holds a code.
pub struct BackupCodeBody {
    code: String,
    disable_session: bool,
    trust_device: bool,
}

impl Schema for BackupCodeBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            code: fields.string("code"),
            disable_session: fields.optional_bool("disableSession").unwrap_or(false),
            trust_device: fields.optional_bool("trustDevice").unwrap_or(false),
        }
    }
}

/// send-otp's body: nothing, or `{trustDevice}` (read and unused, as in Better Auth).
pub struct SendOtpBody;

impl Schema for SendOtpBody {
    const SHAPE: Shape = Shape::OptionalObject;

    fn read(fields: &mut Fields<'_>) -> Self {
        fields.optional_bool("trustDevice");
        Self
    }
}

/// The cookies of a session that replaced the caller's (Better Auth's `setSessionCookie` after a change of the
/// user's security settings): remembered unless the caller's was not.
fn replaced(state: &AppState, current: &CurrentSession, token: &str) -> SetCookies {
    let remember = !current.dont_remember();
    SetCookies::session(
        &state.cookies,
        &state.secret,
        token,
        remember,
        current.dont_remember(),
    )
}

pub async fn enable(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<EnableBody>,
) -> Response {
    let request = client.request(
        pb::EnableTwoFactorRequest {
            password: body.password,
            method: body.method,
            issuer: body.issuer,
        },
        Some(&current),
    );
    match state.two_factor.clone().enable(request).await {
        Ok(response) => {
            let response = response.into_inner();
            match response.token {
                Some(token) => (
                    replaced(&state, &current, &token),
                    Json(json!({ "method": response.method })),
                )
                    .into_response(),
                None => Json(Enabled {
                    method: response.method,
                    totp_uri: response.totp_uri,
                    backup_codes: response.backup_codes,
                })
                .into_response(),
            }
        }
        Err(status) => refuse(&state, &current, Route::TwoFactorEnable, status),
    }
}

pub async fn disable(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<PasswordBody>,
) -> Response {
    let request = client.request(
        pb::DisableTwoFactorRequest {
            password: body.password,
        },
        Some(&current),
    );
    match state.two_factor.clone().disable(request).await {
        Ok(response) => {
            let response = response.into_inner();
            let mut cookies = replaced(&state, &current, &response.token);
            if signed_cookie(&state, &headers, state.cookies.trust_device_name()).is_some() {
                cookies = cookies.then(state.cookies.trust_device_deletion());
            }
            (cookies, Json(json!({ "status": response.status }))).into_response()
        }
        Err(status) => refuse(&state, &current, Route::TwoFactorDisable, status),
    }
}

pub async fn get_totp_uri(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<PasswordBody>,
) -> Response {
    let request = client.request(
        pb::GetTotpUriRequest {
            password: body.password,
        },
        Some(&current),
    );
    match state.two_factor.clone().get_totp_uri(request).await {
        Ok(response) => Json(json!({ "totpURI": response.into_inner().totp_uri })).into_response(),
        Err(status) => refuse(&state, &current, Route::TwoFactorGetTotpUri, status),
    }
}

pub async fn generate_backup_codes(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<PasswordBody>,
) -> Response {
    let request = client.request(
        pb::GenerateBackupCodesRequest {
            password: body.password,
        },
        Some(&current),
    );
    match state
        .two_factor
        .clone()
        .generate_backup_codes(request)
        .await
    {
        Ok(response) => {
            let response = response.into_inner();
            Json(BackupCodes {
                status: response.status,
                backup_codes: response.backup_codes,
            })
            .into_response()
        }
        Err(status) => refuse(
            &state,
            &current,
            Route::TwoFactorGenerateBackupCodes,
            status,
        ),
    }
}

pub async fn send_otp(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: CurrentSession,
    client: ClientInfo,
    Body(SendOtpBody): Body<SendOtpBody>,
) -> Result<Response, ApiError> {
    let challenge = signed_cookie(&state, &headers, state.cookies.two_factor_name());
    let request = client.request(pb::SendOtpRequest { challenge }, Some(&current));
    super::call(
        Route::TwoFactorSendOtp,
        state.two_factor.clone().send_otp(request),
    )
    .await?;
    Ok(super::status_true().into_response())
}

/// Which code a verify route checks.
#[derive(Clone, Copy)]
enum Factor {
    Totp,
    Otp,
}

pub async fn verify_totp(
    state: State<AppState>,
    headers: HeaderMap,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<CodeBody>,
) -> Response {
    verify_code(state, headers, current, client, body, Factor::Totp).await
}

pub async fn verify_otp(
    state: State<AppState>,
    headers: HeaderMap,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<CodeBody>,
) -> Response {
    verify_code(state, headers, current, client, body, Factor::Otp).await
}

async fn verify_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: CurrentSession,
    client: ClientInfo,
    body: CodeBody,
    factor: Factor,
) -> Response {
    let challenge = signed_cookie(&state, &headers, state.cookies.two_factor_name());
    let request = client.request(
        pb::VerifyCodeRequest {
            code: body.code,
            challenge,
            trust_device: body.trust_device,
            dont_remember: current.dont_remember(),
        },
        Some(&current),
    );
    let (answer, route) = match factor {
        Factor::Totp => (
            state.two_factor.clone().verify_totp(request).await,
            Route::TwoFactorVerifyTotp,
        ),
        Factor::Otp => (
            state.two_factor.clone().verify_otp(request).await,
            Route::TwoFactorVerifyOtp,
        ),
    };
    verified(&state, &current, route, answer)
}

pub async fn verify_backup_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<BackupCodeBody>,
) -> Response {
    let challenge = signed_cookie(&state, &headers, state.cookies.two_factor_name());
    let request = client.request(
        pb::VerifyBackupCodeRequest {
            code: body.code,
            challenge,
            trust_device: body.trust_device,
            dont_remember: current.dont_remember(),
            disable_session: body.disable_session,
        },
        Some(&current),
    );
    let answer = state.two_factor.clone().verify_backup_code(request).await;
    if body.disable_session
        && let Ok(response) = &answer
    {
        // A code checked without a session: the caller's token (none in a sign-in), no cookies.
        let response = response.get_ref().clone();
        return Json(TokenAndUser {
            token: (!response.token.is_empty()).then_some(response.token),
            user: response.user.map(|user| User::new(user, state.plugins)),
        })
        .into_response();
    }
    verified(&state, &current, Route::TwoFactorVerifyBackupCode, answer)
}

/// `{token, user}` of an accepted code, with the cookies of what it did: a completed challenge sets the new
/// session's cookie, expires the challenge's and, when asked, trusts the device; a replaced session sets its cookie.
fn verified(
    state: &AppState,
    current: &CurrentSession,
    route: Route,
    answer: Result<tonic::Response<pb::VerifyCodeResponse>, tonic::Status>,
) -> Response {
    let response = match answer {
        Ok(response) => response.into_inner(),
        Err(status) => return refused_code(state, route, status),
    };
    let cookies = &state.cookies;
    let set = if response.challenge_completed {
        let mut set = SetCookies::session(
            cookies,
            &state.secret,
            &response.token,
            response.remember,
            false,
        )
        .then(cookies.two_factor_deletion());
        if let Some(trusted) = &response.trust_device {
            // A trusted device's sessions are remembered from then on: the marker goes.
            set = set
                .without(cookies.dont_remember_name())
                .then(cookies.trust_device_cookie(&state.secret, trusted))
                .then(cookies.dont_remember_deletion());
        }
        set
    } else if response.session_opened {
        replaced(state, current, &response.token)
    } else {
        SetCookies::none()
    };
    let body = TokenAndUser {
        token: Some(response.token),
        user: response.user.map(|user| User::new(user, state.plugins)),
    };
    (set, Json(body)).into_response()
}

/// A refused code. A challenge that can no longer be used (five wrong app or backup codes) has its cookie expired, as
/// Better Auth expires it; five wrong mailed codes use up only that code, and the challenge stays for a new one.
fn refused_code(state: &AppState, route: Route, status: tonic::Status) -> Response {
    use tonic_types::StatusExt;
    let spent = route != Route::TwoFactorVerifyOtp
        && status
            .get_details_error_info()
            .is_some_and(|info| info.reason == Reason::TooManyAttemptsRequestNewCode.as_str());
    let error = ApiError::upstream(route)(status);
    if spent {
        (SetCookies::one(state.cookies.two_factor_deletion()), error).into_response()
    } else {
        error.into_response()
    }
}
