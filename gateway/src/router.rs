//! Every route the gateway serves, and the layers around them.
//!
//! Around the routed app, outermost first: [`outer`] (request metrics, security headers on every response, the
//! request time limit, the client's address from [`client_ip`]), CORS, then [`inner`] (Better Auth's rate limits
//! from [`limits`], the body size limit, the `callbackURL` check on GET links from [`hardening`]). They wrap the app as
//! a whole, so they run before routing and cover every route, present and future. They are two middleware functions
//! rather than a layer each: every layer costs a boxed future and a cloned service per request, and ten of them were
//! about a quarter of the gateway's time in profiles of get-session.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::client_ip::ClientIp;
use crate::metrics::Observation;
use crate::origin::OriginPolicy;
use crate::routes::account::{
    delete_user_callback, deletion, password, profile, verification, verify_password,
};
use crate::routes::{
    self, admin, api_key, dev, error_page, jwt, not_found, ok, passkey, provider_tokens, providers,
    sessions, social, transcoded, two_factor, ui,
};
use crate::transcode::hooks::OLDER_CLIENTS;
use warden_common::settings::{Plugin, Plugins};

use crate::state::AppState;
use crate::{client_ip, error, hardening, limits, metrics, request_id};

pub fn router(state: AppState) -> Router {
    let cors = cors(state.origins.clone());
    let plugins = state.plugins;
    let app: Router = Router::new()
        // The web UI, a client of the routes below like any other.
        .route("/", get(ui::index))
        .route("/app.js", get(ui::script))
        .route("/app.css", get(ui::stylesheet))
        .route("/qrcode.mjs", get(ui::qrcode_script))
        // The interactive API docs, a client of /api/openapi.json like any other.
        .route("/docs", get(ui::docs))
        .route("/docs.js", get(ui::docs_script))
        .route("/docs.css", get(ui::docs_stylesheet))
        // The OpenAPI document of every route below.
        .route("/api/openapi.json", get(routes::openapi))
        .route("/api/auth/ok", get(ok))
        // Readiness for balancers and orchestrators: the services answer and no drain has begun.
        .route("/readyz", get(crate::readiness::readyz))
        // Prometheus metrics, for the clients METRICS_ALLOW names.
        .route("/metrics", get(metrics::scrape))
        .route("/api/auth/sign-up/email", post(sessions::sign_up_email))
        .route("/api/auth/sign-in/email", post(sessions::sign_in_email))
        .route("/api/auth/sign-out", post(sessions::sign_out))
        .route(
            "/api/auth/get-session",
            get(sessions::get_session).post(sessions::get_session_post),
        )
        .route("/api/auth/list-sessions", get(sessions::list_sessions))
        .route("/api/auth/revoke-session", post(sessions::revoke_session))
        .route("/api/auth/revoke-sessions", post(sessions::revoke_sessions))
        .route(
            "/api/auth/revoke-other-sessions",
            post(sessions::revoke_other_sessions),
        )
        .merge(served(plugins, Plugin::Jwt, jwt_routes()))
        // Social sign-in (core in Better Auth, so never switched off) and the caller's linked accounts.
        .route("/api/auth/sign-in/social", post(social::sign_in_social))
        .route(
            "/api/auth/callback/{provider}",
            get(social::callback).post(social::callback_post),
        )
        .route("/api/auth/link-social", post(social::link_social))
        .route(
            "/api/auth/get-access-token",
            post(provider_tokens::get_access_token),
        )
        .route(
            "/api/auth/refresh-token",
            post(provider_tokens::refresh_token),
        )
        .route("/api/auth/account-info", get(provider_tokens::account_info))
        .route("/api/auth/list-accounts", get(social::list_accounts))
        .route("/api/auth/unlink-account", post(social::unlink_account))
        .route("/api/auth/update-user", post(profile::update_user))
        .route("/api/auth/change-password", post(password::change_password))
        .route("/api/auth/change-email", post(profile::change_email))
        .route("/api/auth/delete-user", post(deletion::delete_user))
        .route(
            "/api/auth/send-verification-email",
            post(verification::send_verification_email),
        )
        .route("/api/auth/verify-email", get(verification::verify_email))
        .route(
            "/api/auth/request-password-reset",
            post(password::request_password_reset),
        )
        .route(
            "/api/auth/reset-password/{token}",
            get(password::reset_password_link),
        )
        .route("/api/auth/reset-password", post(password::reset_password))
        .route(
            "/api/auth/update-session",
            post(sessions::update::update_session),
        )
        .route(
            "/api/auth/verify-password",
            post(verify_password::verify_password),
        )
        .route(
            "/api/auth/delete-user/callback",
            get(delete_user_callback::delete_user_callback),
        )
        // Better Auth's error page: HTML, no RPC behind it.
        .route("/api/auth/error", get(error_page::error_page))
        // Warden's own: the providers configured, for the web UI's sign-in buttons.
        .route("/api/warden/providers", get(providers::list_providers))
        // Development only: the mails auth-svc kept instead of sending (404 once SMTP_URL is set).
        .route("/api/dev/outbox", get(dev::dev_outbox))
        .merge(served(plugins, Plugin::Admin, admin_routes()))
        .merge(served(plugins, Plugin::TwoFactor, two_factor_routes()))
        .merge(served(plugins, Plugin::Passkey, passkey_routes()))
        .merge(served(plugins, Plugin::ApiKey, api_key_routes()))
        // The task API, transcoded from TaskService's `google.api.http` annotations (no handler per route):
        //   GET|POST /api/v1/tasks, GET|PATCH|DELETE /api/v1/tasks/{id}
        .merge(transcoded::routes(&state.transcoder))
        // The older clients' form of the same routes; `user_id` must be the caller's own.
        //   GET|POST /api/{user_id}/tasks, GET|PATCH|DELETE /api/{user_id}/tasks/{id}
        .merge(transcoded::alias(
            &state.transcoder,
            OLDER_CLIENTS.0,
            OLDER_CLIENTS.1,
        ))
        .method_not_allowed_fallback(not_found)
        .fallback(not_found)
        .layer(middleware::from_fn(routed))
        .with_state(state.clone());
    let body_limit = state.limits.body_limit;
    let edge = ServiceBuilder::new()
        .layer(middleware::from_fn_with_state(state.clone(), outer))
        .layer(cors)
        .layer(middleware::from_fn_with_state(state, inner))
        .layer(DefaultBodyLimit::max(body_limit))
        .service(app);
    Router::new().fallback_service(edge)
}

/// A plugin's routes when `PLUGINS` serves it; none otherwise, so its paths answer the bare 404 of a Better Auth
/// server without that plugin.
fn served(plugins: Plugins, plugin: Plugin, routes: Router<AppState>) -> Router<AppState> {
    if plugins.is_enabled(plugin) {
        routes
    } else {
        Router::new()
    }
}

/// Better Auth's jwt plugin (its `set-auth-jwt` header on get-session follows the same switch).
fn jwt_routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/token", get(jwt::token))
        .route("/api/auth/jwks", get(jwt::jwks))
}

/// Better Auth's admin plugin.
fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/admin/set-role", post(admin::set_role))
        .route("/api/auth/admin/ban-user", post(admin::ban_user))
        .route("/api/auth/admin/unban-user", post(admin::unban_user))
        .route("/api/auth/admin/list-users", get(admin::list_users))
        .route(
            "/api/auth/admin/list-user-sessions",
            post(admin::list_user_sessions),
        )
        .route(
            "/api/auth/admin/revoke-user-session",
            post(admin::revoke_user_session),
        )
        .route(
            "/api/auth/admin/revoke-user-sessions",
            post(admin::revoke_user_sessions),
        )
        .route("/api/auth/admin/remove-user", post(admin::remove_user))
        .route("/api/auth/admin/get-user", get(admin::get_user))
        .route("/api/auth/admin/create-user", post(admin::create_user))
        .route(
            "/api/auth/admin/set-user-password",
            post(admin::set_user_password),
        )
        .route(
            "/api/warden/admin/reset-two-factor",
            post(admin::reset_two_factor),
        )
}

fn two_factor_routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/two-factor/enable", post(two_factor::enable))
        .route("/api/auth/two-factor/disable", post(two_factor::disable))
        .route(
            "/api/auth/two-factor/get-totp-uri",
            post(two_factor::get_totp_uri),
        )
        .route(
            "/api/auth/two-factor/verify-totp",
            post(two_factor::verify_totp),
        )
        .route("/api/auth/two-factor/send-otp", post(two_factor::send_otp))
        .route(
            "/api/auth/two-factor/verify-otp",
            post(two_factor::verify_otp),
        )
        .route(
            "/api/auth/two-factor/verify-backup-code",
            post(two_factor::verify_backup_code),
        )
        .route(
            "/api/auth/two-factor/generate-backup-codes",
            post(two_factor::generate_backup_codes),
        )
}

fn api_key_routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/api-key/create", post(api_key::create))
        .route("/api/auth/api-key/get", get(api_key::get))
        .route("/api/auth/api-key/update", post(api_key::update))
        .route("/api/auth/api-key/delete", post(api_key::delete))
        .route("/api/auth/api-key/list", get(api_key::list))
        .route(
            "/api/warden/admin/create-api-key",
            post(api_key::admin_create),
        )
        .route("/api/warden/admin/list-api-keys", get(api_key::admin_list))
        .route(
            "/api/warden/admin/delete-api-key",
            post(api_key::admin_delete),
        )
}

fn passkey_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/auth/passkey/generate-register-options",
            get(passkey::generate_register_options),
        )
        .route(
            "/api/auth/passkey/verify-registration",
            post(passkey::verify_registration),
        )
        .route(
            "/api/auth/passkey/generate-authenticate-options",
            get(passkey::generate_authenticate_options),
        )
        .route(
            "/api/auth/passkey/verify-authentication",
            post(passkey::verify_authentication),
        )
        .route(
            "/api/auth/passkey/list-user-passkeys",
            get(passkey::list_user_passkeys),
        )
        .route(
            "/api/auth/passkey/delete-passkey",
            post(passkey::delete_passkey),
        )
        .route(
            "/api/auth/passkey/update-passkey",
            post(passkey::update_passkey),
        )
}

/// Outside CORS: counts and times the request, gives every answer the security headers, ends a request that takes
/// too long in 408, and finds the client's address.
async fn outer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let observation = Observation::begin(&mut request);
    client_ip::assign(&state.proxies, &mut request);
    let mut response = hardening::within(state.limits.request_timeout, next.run(request)).await;
    hardening::add_security_headers(state.https, response.headers_mut());
    observation.end(&state.metrics, &response);
    response
}

/// Inside CORS, before routing: Better Auth's rate limits, a declared body over the limit, an untrusted
/// `callbackURL` on a GET link.
async fn inner(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let client = request.extensions().get::<ClientIp>().copied();
    if let Some(refusal) =
        limits::refusal(state.limiter.as_ref(), request.uri().path(), client).await
    {
        return refusal;
    }
    if let Some(refusal) = hardening::oversized(state.limits.body_limit, &request) {
        return refusal;
    }
    if let Some(refusal) = hardening::untrusted_callback(&state, &request) {
        return refusal;
    }
    let mut response = next.run(request).await;
    // axum names the allowed methods on a wrong-method answer, which Better Auth's bare 404 does not; the header is
    // added after a route's own layers, so it is removed from outside the routed app.
    if response.status() == StatusCode::NOT_FOUND {
        response.headers_mut().remove(header::ALLOW);
    }
    response
}

/// On the routed app, where the route is known: tells the request's metrics its route, and gives it its id.
async fn routed(request: Request, next: Next) -> Response {
    metrics::tag_route(&request);
    request_id::assign(request, next).await
}

/// Credentialed CORS for the trusted origins only, exposing the headers Better Auth's bearer and jwt plugins set and
/// those a task client reads.
fn cors(origins: std::sync::Arc<OriginPolicy>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .is_ok_and(|origin| origins.is_trusted(origin, false))
        }))
        .allow_credentials(true)
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::IF_MATCH,
            HeaderName::from_static("x-api-key"),
        ])
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .expose_headers([
            HeaderName::from_static("set-auth-token"),
            HeaderName::from_static("set-auth-jwt"),
            header::ETAG,
            header::LOCATION,
            HeaderName::from_static(error::X_RETRY_AFTER),
        ])
}
