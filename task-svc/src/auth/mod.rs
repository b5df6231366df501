//! Who is calling: every TaskService call is authenticated here, before any handler runs.
//!
//! [`RequireAuth`] (a tower layer around the TaskService) reads `authorization: Bearer <token>` or `x-api-key`. A JWT
//! is verified locally ([`jwt`], against the keys [`jwks`] caches); an API key (`x-api-key`, or a bearer shaped like
//! one) is resolved through auth-svc's `AuthenticateApiKey`, which looks it up by hash and counts the use; any other
//! bearer (a raw or signed session token) is resolved through auth-svc's `GetSession`. On success an [`AuthenticatedUser`] goes into the request's extensions, and it
//! is the only thing handlers read to know the caller: headers such as `x-user-id` mean nothing. On failure the call
//! ends with UNAUTHENTICATED before reaching the service.

pub mod jwks;
pub mod jwt;

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use http::HeaderMap;
use tonic::{Code, Status, body::Body, server::NamedService, transport::Channel};
use warden_proto::Reason;
use warden_proto::auth::v1::{
    self as pb, api_key_service_client::ApiKeyServiceClient, auth_service_client::AuthServiceClient,
};

use self::{jwks::JwksCache, jwt::JwtVerifier};
use crate::error::TaskError;

/// The caller, as verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Option<String>,
    /// A caller with an API key that has permissions: what it may do (resource and actions). `None`: all of the
    /// user's rights (a session, a JWT, a key without permissions).
    pub permissions: Option<Vec<(String, Vec<String>)>>,
}

/// The resource a key's permissions name for tasks; its actions are `read`, `create`, `update` and `delete`.
pub const TASK_RESOURCE: &str = "task";

impl AuthenticatedUser {
    /// `PermissionDenied` unless the caller may take `action` on tasks.
    pub fn require(&self, action: &str) -> Result<(), TaskError> {
        match &self.permissions {
            None => Ok(()),
            Some(grants) => grants
                .iter()
                .any(|(resource, actions)| {
                    resource == TASK_RESOURCE && actions.iter().any(|granted| granted == action)
                })
                .then_some(())
                .ok_or(TaskError::PermissionDenied),
        }
    }
}

/// Counters for what authentication costs auth-svc.
#[derive(Debug, Default)]
pub struct AuthMetrics {
    jwks_fetches: AtomicU64,
    session_lookups: AtomicU64,
    key_lookups: AtomicU64,
    signature_checks: AtomicU64,
}

impl AuthMetrics {
    /// How many times the JWKS was fetched from auth-svc.
    pub fn jwks_fetches(&self) -> u64 {
        self.jwks_fetches.load(Ordering::Relaxed)
    }

    /// How many session-token bearers were resolved through `GetSession`.
    pub fn session_lookups(&self) -> u64 {
        self.session_lookups.load(Ordering::Relaxed)
    }

    /// How many API keys were resolved through `AuthenticateApiKey`.
    pub fn key_lookups(&self) -> u64 {
        self.key_lookups.load(Ordering::Relaxed)
    }

    /// How many JWT signatures were checked (a JWT that verified before is not checked again until it expires).
    pub fn signature_checks(&self) -> u64 {
        self.signature_checks.load(Ordering::Relaxed)
    }

    fn count_signature_check(&self) {
        self.signature_checks.fetch_add(1, Ordering::Relaxed);
    }

    fn count_jwks_fetch(&self) {
        self.jwks_fetches.fetch_add(1, Ordering::Relaxed);
    }
}

/// Turns a bearer into an [`AuthenticatedUser`]; cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    jwt: JwtVerifier,
    auth: AuthServiceClient<Channel>,
    keys: ApiKeyServiceClient<Channel>,
    metrics: Arc<AuthMetrics>,
}

impl Authenticator {
    /// `base_url` is the JWT issuer and audience; an unknown `kid` refetches the JWKS at most once per
    /// `refetch_interval`.
    pub fn new(auth: Channel, base_url: &str, refetch_interval: Duration) -> Self {
        let keys = ApiKeyServiceClient::new(auth.clone());
        let auth = AuthServiceClient::new(auth);
        let metrics = Arc::new(AuthMetrics::default());
        let jwks = JwksCache::new(auth.clone(), refetch_interval, metrics.clone());
        Self {
            inner: Arc::new(Inner {
                jwt: JwtVerifier::new(jwks, base_url, metrics.clone()),
                auth,
                keys,
                metrics,
            }),
        }
    }

    pub fn metrics(&self) -> Arc<AuthMetrics> {
        self.inner.metrics.clone()
    }

    /// `path` is the call's (`/warden.task.v1.TaskService/CreateTask`): an API key must grant what it does.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        path: &str,
    ) -> Result<AuthenticatedUser, TaskError> {
        if let Some(key) = api_key(headers) {
            return self.api_key(key, headers, path).await;
        }
        let token = bearer(headers).ok_or(TaskError::Unauthorized)?;
        if warden_common::token::is_api_key_shaped(token) {
            self.api_key(token, headers, path).await
        } else if jwt::is_jwt_shaped(token) {
            self.inner.jwt.verify(token).await
        } else {
            self.session(token, headers).await
        }
    }

    /// Asks auth-svc whose API key `key` is; it looks the key up by its hash, checks that it is enabled, unexpired and
    /// within its limits, and counts this use. Its refusals reach the caller as they are: a key over its rate limit is
    /// RESOURCE_EXHAUSTED with RetryInfo, a disabled or expired one UNAUTHENTICATED with the package's reason; an unknown
    /// key is UNAUTHORIZED, as any credential that names nobody.
    async fn api_key(
        &self,
        key: &str,
        headers: &HeaderMap,
        path: &str,
    ) -> Result<AuthenticatedUser, TaskError> {
        self.inner
            .metrics
            .key_lookups
            .fetch_add(1, Ordering::Relaxed);
        let permissions = action_of(path).map(|action| pb::Permissions {
            grants: vec![pb::Grant {
                resource: TASK_RESOURCE.to_owned(),
                actions: vec![action.to_owned()],
            }],
        });
        let mut request = tonic::Request::new(pb::AuthenticateApiKeyRequest { permissions });
        let value = key.parse().map_err(|_| TaskError::Unauthorized)?;
        request.metadata_mut().insert("x-api-key", value);
        forward_request_id(headers, &mut request);
        let response = self
            .inner
            .keys
            .clone()
            .authenticate_api_key(request)
            .await
            .map_err(|status| match status.code() {
                Code::Unavailable | Code::DeadlineExceeded | Code::Internal | Code::Unknown => {
                    TaskError::Unavailable(
                        anyhow::anyhow!("{status}")
                            .context("resolving an API key through auth-svc"),
                    )
                }
                // The api-key plugin is not served: no key is valid.
                Code::Unimplemented | Code::NotFound => TaskError::Unauthorized,
                // No such key: the same answer as any credential that names nobody.
                _ if is_reason(&status, Reason::InvalidApiKey) => TaskError::Unauthorized,
                _ => TaskError::Refused(status),
            })?
            .into_inner();
        let user = response.user.ok_or(TaskError::Unauthorized)?;
        Ok(AuthenticatedUser {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            permissions: response.permissions.map(|permissions| {
                permissions
                    .grants
                    .into_iter()
                    .map(|grant| (grant.resource, grant.actions))
                    .collect()
            }),
        })
    }

    /// Asks auth-svc whose session `token` is; it checks the signature, expiry, revocation and bans.
    async fn session(
        &self,
        token: &str,
        headers: &HeaderMap,
    ) -> Result<AuthenticatedUser, TaskError> {
        self.inner
            .metrics
            .session_lookups
            .fetch_add(1, Ordering::Relaxed);
        let mut request = tonic::Request::new(pb::GetSessionRequest::default());
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| TaskError::Unauthorized)?;
        request.metadata_mut().insert("authorization", value);
        forward_request_id(headers, &mut request);
        let response = self
            .inner
            .auth
            .clone()
            .get_session(request)
            .await
            .map_err(|status| match status.code() {
                Code::Unavailable
                | Code::DeadlineExceeded
                | Code::Internal
                | Code::Unknown
                | Code::ResourceExhausted => TaskError::Unavailable(
                    anyhow::anyhow!("{status}").context("resolving a session through auth-svc"),
                ),
                _ => TaskError::Unauthorized,
            })?
            .into_inner();
        let user = response.user.ok_or(TaskError::Unauthorized)?;
        Ok(AuthenticatedUser {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            permissions: None,
        })
    }
}

fn forward_request_id<T>(headers: &HeaderMap, request: &mut tonic::Request<T>) {
    if let Some(id) = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
    {
        request.metadata_mut().insert("x-request-id", id);
    }
}

fn is_reason(status: &Status, reason: Reason) -> bool {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .is_some_and(|info| info.reason == reason.as_str())
}

/// The action on tasks a TaskService method takes, as a key's permissions name it.
pub fn action_of(path: &str) -> Option<&'static str> {
    Some(match path.rsplit('/').next()? {
        "ListTasks" | "GetTask" => "read",
        "CreateTask" => "create",
        "UpdateTask" => "update",
        "DeleteTask" => "delete",
        _ => return None,
    })
}

/// The `x-api-key` header, if there is one.
fn api_key(headers: &HeaderMap) -> Option<&str> {
    let key = headers.get("x-api-key")?.to_str().ok()?.trim();
    (!key.is_empty()).then_some(key)
}

/// The token of `authorization: Bearer <token>`, if there is one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Wraps a gRPC service so that every call is authenticated first.
#[derive(Clone)]
pub struct AuthLayer {
    authenticator: Authenticator,
}

impl AuthLayer {
    pub fn new(authenticator: Authenticator) -> Self {
        Self { authenticator }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = RequireAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAuth {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RequireAuth<S> {
    inner: S,
    authenticator: Authenticator,
}

impl<S: NamedService> NamedService for RequireAuth<S> {
    const NAME: &'static str = S::NAME;
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> tower::Service<http::Request<Body>> for RequireAuth<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // The readied service handles this call; a fresh clone takes its place for the next.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let authenticator = self.authenticator.clone();
        Box::pin(async move {
            match authenticator
                .authenticate(request.headers(), request.uri().path())
                .await
            {
                Ok(user) => {
                    request.extensions_mut().insert(user);
                    inner.call(request).await
                }
                Err(error) => Ok(Status::from(error).into_http()),
            }
        })
    }
}
