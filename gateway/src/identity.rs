//! Who is calling, for the task routes: the session credential (cookie or bearer) is checked by auth-svc's
//! `GetSession` on every request, and task-svc is then called with the JWT that call returns. A caller that sends a
//! JWT itself (`Authorization: Bearer <jwt>`, from `/api/auth/token` or `set-auth-jwt`) is passed on with it as it is.
//! An API key (`x-api-key`, or a bearer shaped like one) is passed on as `x-api-key` for task-svc to have verified.
//! The gateway never tells task-svc a user id; task-svc verifies the credential itself, either way.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tonic::metadata::MetadataValue;
use warden_proto::auth::v1 as pb;

use crate::cookies::SetCookies;
use crate::error::{ApiError, Route};
use crate::extract::{ClientInfo, CurrentSession};
use crate::state::AppState;

/// A caller whose session auth-svc has just confirmed, or who sent a JWT for task-svc to verify. No `Debug`: it holds a
/// credential.
pub struct Caller {
    /// Confirmed by auth-svc for a session; for a JWT, the `sub` it claims, good only for refusing another user's
    /// path early (task-svc acts on its own verified reading of the JWT); none for an API key.
    user_id: Option<String>,
    credential: Credential,
    /// The session cookie again when the lookup extended the session, as Better Auth does on any session route.
    pub cookies: SetCookies,
}

/// What task-svc is called with.
enum Credential {
    Jwt(String),
    ApiKey(String),
}

impl Caller {
    /// 401 `UNAUTHORIZED` without a credential or when its session is gone. A JWT bearer goes before a cookie, as any
    /// bearer does; a bad one is refused by task-svc.
    pub async fn resolve(
        state: &AppState,
        current: &CurrentSession,
        client: &ClientInfo,
    ) -> Result<Self, ApiError> {
        if let Some(key) = current.api_key() {
            return Ok(Self {
                user_id: None,
                credential: Credential::ApiKey(key.to_owned()),
                cookies: SetCookies::none(),
            });
        }
        if let Some(jwt) = current.jwt() {
            return Self::bearing(jwt);
        }
        if current.token().is_none() {
            return Err(ApiError::unauthorized());
        }
        let request = client.request(
            pb::GetSessionRequest {
                disable_refresh: current.dont_remember(),
            },
            Some(current),
        );
        let response = match state.auth.clone().get_session(request).await {
            Ok(response) => response.into_inner(),
            Err(status) if status.code() == tonic::Code::Unauthenticated => {
                return Err(ApiError::unauthorized());
            }
            Err(status) => return Err(ApiError::upstream(Route::GetSession)(status)),
        };
        let (Some(session), Some(user)) = (response.session, response.user) else {
            return Err(ApiError::Internal("GetSession returned no session or user"));
        };
        if response.jwt.is_empty() {
            return Err(ApiError::Internal("GetSession returned no JWT"));
        }
        let cookies = if response.refreshed {
            SetCookies::refreshed(&state.cookies, &state.secret, &session.token)
        } else {
            SetCookies::none()
        };
        Ok(Self {
            user_id: Some(user.id),
            credential: Credential::Jwt(response.jwt),
            cookies,
        })
    }

    /// A caller with a JWT of its own: 401 when it does not even name a user.
    fn bearing(jwt: &str) -> Result<Self, ApiError> {
        #[derive(serde::Deserialize)]
        struct Claims {
            sub: String,
        }
        let claims = jwt
            .split('.')
            .nth(1)
            .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
            .and_then(|json| serde_json::from_slice::<Claims>(&json).ok())
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Self {
            user_id: Some(claims.sub),
            credential: Credential::Jwt(jwt.to_owned()),
            cookies: SetCookies::none(),
        })
    }

    /// The older clients' `/api/{user_id}/…` paths name the user; any other user than the caller is 403. Those paths
    /// take sessions and JWTs: an API key, whose owner the gateway does not know, is 401 there.
    pub fn check_path_user(&self, path_user: Option<&str>) -> Result<(), ApiError> {
        match (path_user, self.user_id.as_deref()) {
            (Some(_), None) => Err(ApiError::unauthorized()),
            (Some(user), Some(caller)) if user != caller => Err(ApiError::forbidden()),
            _ => Ok(()),
        }
    }

    /// A task-svc request carrying `message`, the caller's JWT and the request id; nothing else about the caller.
    pub fn request<T>(&self, client: &ClientInfo, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        match &self.credential {
            Credential::Jwt(jwt) => {
                if let Ok(value) = MetadataValue::try_from(format!("Bearer {jwt}")) {
                    metadata.insert("authorization", value);
                }
            }
            Credential::ApiKey(key) => {
                if let Ok(value) = MetadataValue::try_from(key.as_str()) {
                    metadata.insert("x-api-key", value);
                }
            }
        }
        if let Some(id) = client
            .request_id
            .as_deref()
            .and_then(|id| MetadataValue::try_from(id).ok())
        {
            metadata.insert("x-request-id", id);
        }
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            user_id: Some("u1".into()),
            credential: Credential::Jwt("h.p.s".into()),
            cookies: SetCookies::none(),
        }
    }

    #[test]
    fn a_task_request_carries_only_the_jwt_and_the_request_id() {
        let client = ClientInfo {
            forwarded: false,
            ip: Some("203.0.113.7".parse().unwrap()),
            user_agent: Some("Mozilla/5.0".into()),
            request_id: Some("req-1".into()),
        };
        let request = caller().request(&client, ());
        let metadata = request.metadata();
        assert_eq!(metadata.get("authorization").unwrap(), "Bearer h.p.s");
        assert_eq!(metadata.get("x-request-id").unwrap(), "req-1");
        assert_eq!(metadata.len(), 2);
    }

    #[test]
    fn a_jwt_bearer_is_passed_on_as_it_is_naming_its_claimed_user_for_the_path_check() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"u9","email":"a@example.com"}"#);
        let jwt = format!("eyJhbGciOiJFZERTQSJ9.{payload}.c2ln");
        let caller = Caller::bearing(&jwt).unwrap();
        assert_eq!(caller.user_id.as_deref(), Some("u9"));
        assert!(caller.check_path_user(Some("u9")).is_ok());
        assert!(caller.check_path_user(Some("u8")).is_err());
        let request = caller.request(&ClientInfo::default(), ());
        assert_eq!(
            request.metadata().get("authorization").unwrap(),
            format!("Bearer {jwt}").as_str()
        );
        let no_subject = format!(
            "h.{}.s",
            URL_SAFE_NO_PAD.encode(br#"{"email":"a@example.com"}"#)
        );
        assert!(Caller::bearing(&no_subject).is_err());
        assert!(Caller::bearing("h.not-json.s").is_err());
    }

    #[test]
    fn an_api_key_is_passed_on_as_x_api_key_and_names_no_user_for_the_path_check() {
        let caller = Caller {
            user_id: None,
            credential: Credential::ApiKey("wd_key".into()),
            cookies: SetCookies::none(),
        };
        let request = caller.request(&ClientInfo::default(), ());
        assert_eq!(request.metadata().get("x-api-key").unwrap(), "wd_key");
        assert!(request.metadata().get("authorization").is_none());
        assert!(caller.check_path_user(None).is_ok());
        assert!(caller.check_path_user(Some("u1")).is_err());
    }

    #[test]
    fn a_path_may_name_only_the_caller() {
        let caller = caller();
        assert!(caller.check_path_user(None).is_ok());
        assert!(caller.check_path_user(Some("u1")).is_ok());
        match caller.check_path_user(Some("u2")) {
            Err(ApiError::Local { status, reason, .. }) => {
                assert_eq!((status.as_u16(), reason.as_str()), (403, "FORBIDDEN"));
            }
            _ => panic!("another user's path must be forbidden"),
        }
    }
}
