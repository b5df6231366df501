//! Rate limits for callers that reach auth-svc directly: Better Auth's rules, applied per peer address to each RPC
//! under the REST path it is published at (`SignInEmail` counts as `/sign-in/email`), in a tower layer in front of
//! the services.
//!
//! Calls from a trusted proxy (the gateway) are not counted: the gateway has already counted them by the browser's
//! address, so a browser request is counted once, and the gateway's own address never becomes one bucket shared by
//! every user. Counts are kept in Redis when `REDIS_URL` is set (shared with the gateway and other replicas), in
//! process otherwise.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ipnet::IpNet;
use prost::Message;
use tonic::Status;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use warden_ratelimit::{Decision, RateLimiter};

use crate::error::rate_limited;

/// The REST paths are relative to this, as Better Auth's rules are written.
const AUTH_BASE_PATH: &str = "/api/auth";

/// RPCs without a REST route of their own that do what a Better Auth route does, and count under its path: an
/// ID-token sign-in is `/sign-in/social` with `idToken` in Better Auth.
const SHARED_PATHS: [(&str, &str); 1] = [(
    "/warden.auth.v1.SocialService/SignInWithIdToken",
    "/sign-in/social",
)];

/// What the layer needs: the limiter (none when off), the trusted proxies and each RPC's REST path.
#[derive(Clone)]
pub struct Limits {
    limiter: Option<RateLimiter>,
    trusted_proxies: Arc<[IpNet]>,
    paths: Arc<HashMap<String, String>>,
}

impl Limits {
    pub fn new(limiter: Option<RateLimiter>, trusted_proxies: &[IpNet]) -> Self {
        Self {
            limiter,
            trusted_proxies: trusted_proxies.into(),
            paths: Arc::new(
                rest_paths(warden_proto::FILE_DESCRIPTOR_SET)
                    .into_iter()
                    .chain(SHARED_PATHS.map(|(rpc, path)| (rpc.to_owned(), path.to_owned())))
                    .collect(),
            ),
        }
    }

    /// `service` behind the limit, still named as itself.
    pub fn wrap<S>(&self, service: S) -> Limited<S> {
        Limited {
            inner: service,
            limits: self.clone(),
        }
    }

    /// Counts a call from `peer` to the gRPC `path`; `Err` carries the refusal.
    async fn check(&self, peer: Option<IpAddr>, grpc_path: &str) -> Result<(), Status> {
        let (Some(limiter), Some(peer)) = (&self.limiter, peer) else {
            return Ok(());
        };
        let peer = peer.to_canonical();
        if self.trusted_proxies.iter().any(|net| net.contains(&peer)) {
            return Ok(());
        }
        let path = self.paths.get(grpc_path).map_or(grpc_path, String::as_str);
        match limiter.check(peer, path).await {
            Decision::Allow => Ok(()),
            Decision::Deny { retry_after } => {
                tracing::info!(client.ip = %peer, rpc = grpc_path, "rate limited");
                Err(rate_limited(retry_after))
            }
        }
    }
}

/// A gRPC service behind [`Limits`].
#[derive(Clone)]
pub struct Limited<S> {
    inner: S,
    limits: Limits,
}

impl<S: NamedService> NamedService for Limited<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> tower::Service<http::Request<Body>> for Limited<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // The readied service handles this call; its fresh clone waits for the next poll_ready.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limits = self.limits.clone();
        Box::pin(async move {
            // Over TLS the connection info is wrapped (`TlsConnectInfo`).
            let extensions = request.extensions();
            let peer = extensions
                .get::<TcpConnectInfo>()
                .or_else(|| {
                    extensions
                        .get::<TlsConnectInfo<TcpConnectInfo>>()
                        .map(TlsConnectInfo::get_ref)
                })
                .and_then(TcpConnectInfo::remote_addr)
                .map(|addr| addr.ip());
            match limits.check(peer, request.uri().path()).await {
                Ok(()) => inner.call(request).await,
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}

/// Each RPC's gRPC path (`/warden.auth.v1.AuthService/SignInEmail`) mapped to its `google.api.http` path under
/// the auth base path (`/sign-in/email`), read from the descriptor set.
fn rest_paths(descriptors: &[u8]) -> HashMap<String, String> {
    let Ok(set) = descriptor::FileSet::decode(descriptors) else {
        return HashMap::new();
    };
    let mut paths = HashMap::new();
    for file in set.file {
        let package = file.package.unwrap_or_default();
        for service in file.service {
            let service_name = service.name.unwrap_or_default();
            for method in service.method {
                let rule = method.options.and_then(|options| options.http);
                let Some(http) = rule.as_ref().and_then(http_path) else {
                    continue;
                };
                let rest = http.strip_prefix(AUTH_BASE_PATH).unwrap_or(http);
                let grpc = format!(
                    "/{package}.{service_name}/{}",
                    method.name.unwrap_or_default()
                );
                paths.insert(grpc, rest.to_owned());
            }
        }
    }
    paths
}

fn http_path(rule: &warden_proto::google::api::HttpRule) -> Option<&str> {
    use warden_proto::google::api::http_rule::Pattern;
    Some(match rule.pattern.as_ref()? {
        Pattern::Get(path)
        | Pattern::Put(path)
        | Pattern::Post(path)
        | Pattern::Delete(path)
        | Pattern::Patch(path) => path,
        Pattern::Custom(custom) => &custom.path,
    })
}

/// Just enough of `google.protobuf.FileDescriptorSet` to read the `google.api.http` option, which the well-known
/// descriptor types would drop as an unknown extension.
mod descriptor {
    use warden_proto::google::api::HttpRule;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct FileSet {
        #[prost(message, repeated, tag = "1")]
        pub file: Vec<File>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct File {
        #[prost(string, optional, tag = "2")]
        pub package: Option<String>,
        #[prost(message, repeated, tag = "6")]
        pub service: Vec<Service>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Service {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(message, repeated, tag = "2")]
        pub method: Vec<Method>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Method {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(message, optional, tag = "4")]
        pub options: Option<MethodOptions>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct MethodOptions {
        #[prost(message, optional, tag = "72295728")]
        pub http: Option<HttpRule>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rpc_counts_under_its_better_auth_path() {
        let paths = rest_paths(warden_proto::FILE_DESCRIPTOR_SET);
        let path = |rpc: &str| paths.get(rpc).map(String::as_str);
        assert_eq!(
            path("/warden.auth.v1.AuthService/SignInEmail"),
            Some("/sign-in/email")
        );
        assert_eq!(
            path("/warden.auth.v1.AuthService/SignUpEmail"),
            Some("/sign-up/email")
        );
        assert_eq!(
            path("/warden.auth.v1.AuthService/RequestPasswordReset"),
            Some("/request-password-reset")
        );
        assert_eq!(
            path("/warden.auth.v1.AuthService/ChangePassword"),
            Some("/change-password")
        );
        assert_eq!(
            path("/warden.auth.v1.AdminService/ListUsers"),
            Some("/admin/list-users")
        );
        assert_eq!(
            path("/warden.auth.v1.SocialService/CompleteSignIn"),
            Some("/callback/{provider_id}")
        );
    }

    #[test]
    fn an_id_token_sign_in_counts_as_the_social_sign_in_it_is() {
        let limits = Limits::new(None, &[]);
        assert_eq!(
            limits
                .paths
                .get("/warden.auth.v1.SocialService/SignInWithIdToken")
                .map(String::as_str),
            Some("/sign-in/social")
        );
    }
}
