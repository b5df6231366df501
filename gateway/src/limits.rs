//! Better Auth's rate limits on `/api/auth/*`, before routing, keyed by the client's address and the path.
//!
//! Counts live in Redis when `REDIS_URL` is set, so every gateway replica sees the same counts, and in process
//! otherwise (see `warden_ratelimit`). auth-svc does not count these requests again: it trusts the gateway.

use axum::response::Response;
use warden_ratelimit::{RateLimiter, Rules, Store};

use crate::client_ip::ClientIp;
use warden_common::settings::SettingsError;

use crate::config::Limits;
use crate::error::too_many_requests;

/// Better Auth's prefix for its paths; rules are written for the path after it.
const AUTH_BASE_PATH: &str = "/api/auth";

/// The limiter `limits` asks for, or none when rate limiting is off.
pub fn limiter(limits: &Limits) -> Result<Option<RateLimiter>, SettingsError> {
    if !limits.rate_limit_enabled {
        return Ok(None);
    }
    let store = match &limits.redis_url {
        Some(url) => Store::redis(url.expose(), &limits.redis_key_prefix)
            .map_err(|error| SettingsError::new("REDIS_URL", error.to_string()))?,
        None => Store::memory(),
    };
    Ok(Some(RateLimiter::new(store, Rules::better_auth())))
}

/// Counts a request for `path` from `client`; the 429 to answer instead once its allowance for the path is spent.
pub async fn refusal(
    limiter: Option<&RateLimiter>,
    path: &str,
    client: Option<ClientIp>,
) -> Option<Response> {
    let (Some(limiter), Some(path), Some(ClientIp(ip))) = (limiter, auth_path(path), client) else {
        return None;
    };
    let seconds = limiter.check(ip, path).await.retry_after_secs()?;
    tracing::info!(client.ip = %ip, http.path = path, retry_after = seconds, "rate limited");
    Some(too_many_requests(seconds))
}

/// The path under `/api/auth`, as Better Auth's rules name it.
fn auth_path(path: &str) -> Option<&str> {
    path.strip_prefix(AUTH_BASE_PATH)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use http::StatusCode;

    use super::*;
    use crate::error::X_RETRY_AFTER;

    #[test]
    fn only_paths_under_the_auth_base_path_are_limited() {
        assert_eq!(auth_path("/api/auth/sign-in/email"), Some("/sign-in/email"));
        assert_eq!(auth_path("/api/auth"), Some(""));
        assert_eq!(auth_path("/api/authx/sign-in"), None);
        assert_eq!(auth_path("/api/v1/tasks"), None);
        assert_eq!(auth_path("/"), None);
    }

    #[tokio::test]
    async fn a_refusal_from_auth_svc_is_the_same_429_with_its_wait_rounded_up() {
        use tonic_types::{ErrorDetails, StatusExt};
        let status = tonic::Status::with_error_details(
            tonic::Code::ResourceExhausted,
            "Too many requests. Please try again later.",
            ErrorDetails::with_retry_info(Some(std::time::Duration::from_millis(2_100))),
        );
        let error = crate::error::ApiError::upstream(crate::error::Route::SignInEmail)(status);
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[X_RETRY_AFTER], "3");
    }

    #[tokio::test]
    async fn the_refusal_is_better_auths_429() {
        let response = too_many_requests(7);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[X_RETRY_AFTER], "7");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"message": "Too many requests. Please try again later."})
        );
    }
}
