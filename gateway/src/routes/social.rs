//! Better Auth's social routes: `sign-in/social` (the provider's authorization URL, and the signed `state` cookie
//! that binds the sign-in to this browser), `callback/{provider}` (completing it: a session and a redirect, or a
//! redirect with `?error=`), and the caller's accounts (`link-social`, `list-accounts`, `unlink-account`). One
//! `SocialService` call each; `docs/reference/better-auth-social-wire.md` is the contract.

use axum::Json;
use axum::extract::{Path, RawQuery, Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use serde_json::Value;
use tonic_types::StatusExt;
use warden_proto::auth::v1 as pb;

use super::{call, status_true};
use crate::cookies::{SetCookies, read_cookie};
use crate::error::{ApiError, Route};
use crate::extract::{Body, ClientInfo, CurrentSession, Fields, Schema};
use crate::json::iso_date;
use crate::state::AppState;

/// The callback's parameters, in the order Better Auth writes them back after a form post.
const CALLBACK_PARAMS: [&str; 7] = [
    "code",
    "error",
    "device_id",
    "error_description",
    "state",
    "user",
    "iss",
];

/// `POST /sign-in/social`'s body. The ID-token branch (`idToken`) is the native apps' path.
pub struct SignInSocialBody {
    provider: String,
    callback_url: Option<String>,
    new_user_callback_url: Option<String>,
    error_callback_url: Option<String>,
    disable_redirect: Option<bool>,
    scopes: Vec<String>,
    login_hint: Option<String>,
    request_sign_up: Option<bool>,
    additional_params: Vec<pb::AuthorizationParam>,
    additional_data: Option<String>,
    id_token: Option<IdToken>,
}

/// The ID-token branch's `idToken` object. No `Debug`: it holds tokens.
struct IdToken {
    token: String,
    nonce: Option<String>,
    access_token: Option<String>,
    refresh_token: Option<String>,
}

impl IdToken {
    /// zod's `object({token, nonce?, accessToken?, refreshToken?, expiresAt?, user?})`; the refresh token, expiry and
    /// user are accepted and, as in Better Auth, not used.
    fn read(fields: &mut Fields<'_>) -> Option<Self> {
        let object = match fields.object().get("idToken") {
            None => return None,
            Some(Value::Object(object)) => object.clone(),
            Some(_) => {
                fields.mismatch("idToken", "object");
                return None;
            }
        };
        let mut inner = Fields::new(&object);
        let token = inner.string("token");
        let nonce = inner.optional_string("nonce");
        let access_token = inner.optional_string("accessToken");
        let refresh_token = inner.optional_string("refreshToken");
        inner.optional_number("expiresAt");
        for issue in inner.into_issues() {
            fields.push_issue(issue.replacen("[body.", "[body.idToken.", 1));
        }
        Some(Self {
            token,
            nonce,
            access_token,
            refresh_token,
        })
    }
}

/// The provider's id, as zod's enum of configured providers reads it: any other type is "Invalid input".
fn provider(fields: &mut Fields<'_>) -> String {
    match fields.object().get("provider") {
        Some(Value::String(provider)) => provider.clone(),
        _ => {
            fields.invalid("provider");
            String::new()
        }
    }
}

/// `additionalData`, a record kept as JSON text.
fn additional_data(fields: &mut Fields<'_>) -> Option<String> {
    match fields.object().get("additionalData") {
        None => None,
        Some(data @ Value::Object(_)) => Some(data.to_string()),
        Some(_) => {
            fields.mismatch("additionalData", "record");
            None
        }
    }
}

fn additional_params(fields: &mut Fields<'_>) -> Vec<pb::AuthorizationParam> {
    fields
        .string_record("additionalParams")
        .into_iter()
        .map(|(name, value)| pb::AuthorizationParam { name, value })
        .collect()
}

impl Schema for SignInSocialBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        let provider = provider(fields);
        let additional_data = additional_data(fields);
        Self {
            provider,
            callback_url: fields.optional_string("callbackURL"),
            new_user_callback_url: fields.optional_string("newUserCallbackURL"),
            error_callback_url: fields.optional_string("errorCallbackURL"),
            disable_redirect: fields.optional_bool("disableRedirect"),
            scopes: fields.string_array("scopes"),
            login_hint: fields.optional_string("loginHint"),
            request_sign_up: fields.optional_bool("requestSignUp"),
            additional_params: additional_params(fields),
            additional_data,
            id_token: IdToken::read(fields),
        }
    }
}

/// `POST /link-social`'s body: the sign-in's, without `newUserCallbackURL`.
pub struct LinkSocialBody {
    provider: String,
    callback_url: Option<String>,
    error_callback_url: Option<String>,
    disable_redirect: Option<bool>,
    scopes: Vec<String>,
    login_hint: Option<String>,
    additional_params: Vec<pb::AuthorizationParam>,
    additional_data: Option<String>,
    id_token: Option<IdToken>,
}

impl Schema for LinkSocialBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        let provider = provider(fields);
        let additional_data = additional_data(fields);
        // Accepted and, as in Better Auth, not used.
        fields.optional_bool("requestSignUp");
        Self {
            provider,
            callback_url: fields.optional_string("callbackURL"),
            error_callback_url: fields.optional_string("errorCallbackURL"),
            disable_redirect: fields.optional_bool("disableRedirect"),
            scopes: fields.string_array("scopes"),
            login_hint: fields.optional_string("loginHint"),
            additional_params: additional_params(fields),
            additional_data,
            id_token: IdToken::read(fields),
        }
    }
}

#[derive(Serialize)]
struct IdTokenResponse {
    redirect: bool,
    token: String,
    user: crate::json::User,
}

#[derive(Serialize)]
struct StartedResponse {
    url: String,
    redirect: bool,
}

pub async fn sign_in_social(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<SignInSocialBody>,
) -> Result<Response, ApiError> {
    if let Some(id_token) = body.id_token {
        let request = client.request(
            pb::SignInWithIdTokenRequest {
                provider: body.provider,
                id_token: id_token.token,
                nonce: id_token.nonce,
                access_token: id_token.access_token,
                request_sign_up: body.request_sign_up,
            },
            None,
        );
        let super::Opened {
            response,
            user,
            cookies,
        } = super::open_session(
            &state,
            &current,
            Route::SignInSocial,
            true,
            state.social.clone().sign_in_with_id_token(request),
        )
        .await?;
        let body = IdTokenResponse {
            redirect: false,
            token: response.token,
            user,
        };
        return Ok((cookies, Json(body)).into_response());
    }
    let redirect = !body.disable_redirect.unwrap_or(false);
    let request = client.request(
        pb::StartSignInRequest {
            provider: body.provider,
            callback_url: body.callback_url,
            new_user_callback_url: body.new_user_callback_url,
            error_callback_url: body.error_callback_url,
            scopes: body.scopes,
            login_hint: body.login_hint,
            request_sign_up: body.request_sign_up,
            additional_params: body.additional_params,
            additional_data_json: body.additional_data,
        },
        None,
    );
    let started = call(
        Route::SignInSocial,
        state.social.clone().start_sign_in(request),
    )
    .await?;
    Ok(started_response(
        &state,
        started.url,
        &started.state,
        redirect,
    ))
}

/// The ID-token link's answer.
#[derive(Serialize)]
struct LinkedResponse {
    url: &'static str,
    status: bool,
    redirect: bool,
}

pub async fn link_social(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<LinkSocialBody>,
) -> Result<Response, ApiError> {
    let redirect = !body.disable_redirect.unwrap_or(false);
    let request = client.request(
        pb::LinkAccountRequest {
            provider: body.provider,
            callback_url: body.callback_url,
            error_callback_url: body.error_callback_url,
            scopes: body.scopes,
            login_hint: body.login_hint,
            additional_params: body.additional_params,
            additional_data_json: body.additional_data,
            id_token: body.id_token.map(|id_token| pb::IdTokenCredential {
                token: id_token.token,
                nonce: id_token.nonce,
                access_token: id_token.access_token,
                refresh_token: id_token.refresh_token,
            }),
        },
        Some(&current),
    );
    let started = call(
        Route::LinkSocial,
        state.social.clone().link_account(request),
    )
    .await?;
    if started.linked {
        let body = LinkedResponse {
            url: "",
            status: true,
            redirect: false,
        };
        return Ok(Json(body).into_response());
    }
    Ok(started_response(
        &state,
        started.url,
        &started.state,
        redirect,
    ))
}

/// A started flow's answer: the URL (and `Location` unless the client handles the redirect) and the state cookie.
fn started_response(state: &AppState, url: String, flow: &str, redirect: bool) -> Response {
    let cookie = SetCookies::one(state.cookies.state_cookie(&state.secret, flow));
    let location = redirect
        .then(|| HeaderValue::try_from(url.as_str()).ok())
        .flatten()
        .map(|url| [(header::LOCATION, url)]);
    let body = StartedResponse { url, redirect };
    (cookie, location, Json(body)).into_response()
}

/// `GET /callback/{provider}`: the provider sends the browser back here.
pub async fn callback(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    client: ClientInfo,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let query = query.unwrap_or_default();
    let mut params = Vec::with_capacity(CALLBACK_PARAMS.len());
    for name in CALLBACK_PARAMS {
        params.push(single_param(&query, name)?);
    }
    let [
        code,
        error,
        _device,
        error_description,
        returned_state,
        _user,
        iss,
    ] = <[Option<String>; 7]>::try_from(params).expect("seven parameters");
    let kept_state = read_cookie(request.headers(), state.cookies.state_name())
        .and_then(|wire| state.secret.verify_cookie(wire));
    let message = pb::CompleteSignInRequest {
        provider_id,
        state: returned_state,
        code,
        error,
        error_description,
        iss,
        kept_state,
    };
    let answer = state
        .social
        .clone()
        .complete_sign_in(client.request(message, None))
        .await;
    let completed = match answer {
        Ok(completed) => completed.into_inner(),
        Err(status) => return Ok(refused(&state, &status)),
    };
    if completed.linked {
        // A link opens no session: the state cookie goes, the session cookie stays as it is.
        let cookies = SetCookies::one(state.cookies.state_deletion());
        return Ok(redirect_to(&completed.redirect_url, cookies));
    }
    let token = completed.token.clone();
    let cookies = SetCookies::session(&state.cookies, &state.secret, &token, true, false)
        .after(state.cookies.state_deletion());
    Ok(redirect_to(&completed.redirect_url, cookies))
}

/// `POST /callback/{provider}`: a provider answering with a form post; Better Auth turns it into the GET form.
pub async fn callback_post(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let object = crate::extract::read_object(
        request,
        &state,
        crate::extract::Shape::OptionalObject,
        true,
        false,
    )
    .await?;
    let query = query.unwrap_or_default();
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for name in CALLBACK_PARAMS {
        let value = match single_param(&query, name)? {
            Some(value) => Some(value),
            None => match object.get(name) {
                Some(Value::String(value)) => Some(value.clone()),
                _ => None,
            },
        };
        if let Some(value) = value {
            serializer.append_pair(name, &value);
        }
    }
    let params = serializer.finish();
    let base = state.base_url.trim_end_matches('/');
    let mut url = format!("{base}/api/auth/callback/{provider_id}");
    if !params.is_empty() {
        url.push('?');
        url.push_str(&params);
    }
    Ok(redirect_to(&url, SetCookies::none()))
}

/// A callback parameter, which may appear once: a repeated one is zod's refusal of an array.
fn single_param(query: &str, name: &str) -> Result<Option<String>, ApiError> {
    let mut values = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned());
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::validation(format!(
            "[query.{name}] Invalid input: expected string, received array"
        )));
    }
    Ok(first)
}

/// The redirect a refused callback gets: `?error=<code>` to the state's error URL or Better Auth's error page, and
/// the state cookie expired once the state is used up.
fn refused(state: &AppState, status: &tonic::Status) -> Response {
    let info = status.get_details_error_info();
    let (code, metadata) = match &info {
        Some(info) if status.code() == tonic::Code::FailedPrecondition => {
            (info.reason.as_str(), Some(&info.metadata))
        }
        _ => {
            tracing::error!(grpc.code = ?status.code(), "the social callback failed");
            ("internal_server_error", None)
        }
    };
    let field = |name: &str| metadata.and_then(|metadata| metadata.get(name)).cloned();
    let default_url = format!("{}/api/auth/error", state.base_url.trim_end_matches('/'));
    let target = field("error_url").unwrap_or(default_url);
    let mut params = vec![("error", code.to_owned())];
    if let Some(description) = field("error_description") {
        params.push(("error_description", description));
    }
    let cookies = if field("state_consumed").as_deref() == Some("true") {
        SetCookies::one(state.cookies.state_deletion())
    } else {
        SetCookies::none()
    };
    redirect_to(&append_query(&target, &params), cookies)
}

/// Better Auth's `appendQueryParams`: parameters encoded as a form, added after any query and before a fragment; an
/// absolute URL is written out again as a URL parser writes it (so an origin gains its `/`).
pub fn append_query(target: &str, params: &[(&str, String)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        serializer.append_pair(name, value);
    }
    let encoded = serializer.finish();
    if let Ok(mut url) = url::Url::parse(target) {
        let query = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{encoded}"),
            _ => encoded,
        };
        url.set_query(Some(&query));
        return url.to_string();
    }
    let (rest, fragment) = match target.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (target, None),
    };
    let separator = if rest.contains('?') { '&' } else { '?' };
    let mut out = format!("{rest}{separator}{encoded}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// 302 to `url`, typed JSON with an empty body as Better Auth's redirects are.
fn redirect_to(url: &str, cookies: SetCookies) -> Response {
    let location = HeaderValue::try_from(url).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (
        StatusCode::FOUND,
        cookies,
        [
            (header::LOCATION, location),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
    )
        .into_response()
}

/// An account as Better Auth's list-accounts writes it, in its key order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountJson {
    account_id: String,
    provider_id: String,
    user_id: String,
    created_at: Option<String>,
    updated_at: Option<String>,
    id: String,
    scopes: Vec<String>,
}

pub async fn list_accounts(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
) -> Result<Response, ApiError> {
    let listed = call(
        Route::ListAccounts,
        state
            .social
            .clone()
            .list_accounts(client.request(pb::ListAccountsRequest {}, Some(&current))),
    )
    .await?;
    let accounts: Vec<AccountJson> = listed
        .accounts
        .into_iter()
        .map(|account| AccountJson {
            account_id: account.account_id,
            provider_id: account.provider_id,
            user_id: account.user_id,
            created_at: iso_date(account.created_at.as_ref()),
            updated_at: iso_date(account.updated_at.as_ref()),
            id: account.id,
            scopes: account.scopes,
        })
        .collect();
    Ok(Json(accounts).into_response())
}

pub struct UnlinkBody {
    account_id: String,
}

impl Schema for UnlinkBody {
    fn read(fields: &mut Fields<'_>) -> Self {
        Self {
            account_id: fields.string("accountId"),
        }
    }
}

pub async fn unlink_account(
    State(state): State<AppState>,
    current: CurrentSession,
    client: ClientInfo,
    Body(body): Body<UnlinkBody>,
) -> Result<Response, ApiError> {
    call(
        Route::UnlinkAccount,
        state.social.clone().unlink_account(client.request(
            pb::UnlinkAccountRequest {
                account_id: body.account_id,
            },
            Some(&current),
        )),
    )
    .await?;
    Ok(status_true().into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_parameters_are_appended_as_better_auth_appends_them() {
        let error = || vec![("error", "state_mismatch".to_owned())];
        assert_eq!(
            append_query("http://localhost:3100/api/auth/error", &error()),
            "http://localhost:3100/api/auth/error?error=state_mismatch"
        );
        assert_eq!(
            append_query("http://localhost:3100", &error()),
            "http://localhost:3100/?error=state_mismatch"
        );
        assert_eq!(
            append_query("/oops", &error()),
            "/oops?error=state_mismatch"
        );
        assert_eq!(
            append_query("http://localhost:3100/err?x=1", &error()),
            "http://localhost:3100/err?x=1&error=state_mismatch"
        );
        assert_eq!(
            append_query("/err?x=1#top", &error()),
            "/err?x=1&error=state_mismatch#top"
        );
        assert_eq!(
            append_query(
                "/oops",
                &[
                    ("error", "access_denied".into()),
                    ("error_description", "End-User aborted interaction".into())
                ]
            ),
            "/oops?error=access_denied&error_description=End-User+aborted+interaction"
        );
    }
}
