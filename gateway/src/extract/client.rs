//! What auth-svc is told about the client, as gRPC metadata.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use http::header;
use http::request::Parts;
use tonic::metadata::MetadataValue;

use super::CurrentSession;
use crate::client_ip::ClientIp;
use crate::request_id::RequestId;

/// What auth-svc is told about the client: its address (as [`ClientIp`] found it: the socket peer, or what a
/// trusted proxy forwarded), user agent and the request id.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<std::net::IpAddr>,
    /// Whether `ip` came from a trusted proxy's `X-Forwarded-For` rather than the socket.
    pub forwarded: bool,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = match parts.extensions.get::<ClientIp>() {
            Some(ClientIp(ip)) => Some(*ip),
            None => peer,
        };
        Ok(Self {
            forwarded: ip.is_some() && ip != peer && parts.headers.contains_key("x-forwarded-for"),
            ip,
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            request_id: parts.extensions.get::<RequestId>().map(|id| id.0.clone()),
        })
    }
}

impl ClientInfo {
    /// A gRPC request carrying `message`, the session token (if any) and the client's details as metadata.
    pub fn request<T>(&self, message: T, session: Option<&CurrentSession>) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        // Values that are not valid metadata (odd bytes in a user agent, a raw token with spaces) are left out;
        // auth-svc then sees no value rather than a mangled one.
        let mut insert = |key: &'static str, value: String| {
            if let Ok(value) = MetadataValue::try_from(value) {
                metadata.insert(key, value);
            }
        };
        // An API key is no session on Better Auth's routes unless API_KEY_SESSIONS says so (the api-key plugin's
        // default): it is not passed on, and auth-svc finds no session, as Better Auth finds none for it.
        if let Some(token) = session.and_then(CurrentSession::credential) {
            insert("authorization", format!("Bearer {token}"));
        }
        if let Some(ip) = self.ip {
            insert("x-forwarded-for", ip.to_string());
        }
        if let Some(user_agent) = &self.user_agent {
            insert("x-forwarded-user-agent", user_agent.clone());
        }
        if let Some(id) = &self.request_id {
            insert("x-request-id", id.clone());
        }
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_info_becomes_grpc_metadata() {
        let client = ClientInfo {
            forwarded: false,
            ip: Some("203.0.113.7".parse().unwrap()),
            user_agent: Some("Mozilla/5.0".into()),
            request_id: Some("req-1".into()),
        };
        let session = CurrentSession::with_token("tok");
        let request = client.request((), Some(&session));
        let metadata = request.metadata();
        assert_eq!(metadata.get("authorization").unwrap(), "Bearer tok");
        assert_eq!(metadata.get("x-forwarded-for").unwrap(), "203.0.113.7");
        assert_eq!(
            metadata.get("x-forwarded-user-agent").unwrap(),
            "Mozilla/5.0"
        );
        assert_eq!(metadata.get("x-request-id").unwrap(), "req-1");
        assert!(
            client
                .request((), None)
                .metadata()
                .get("authorization")
                .is_none()
        );
        assert!(format!("{session:?}").contains("[redacted]"));
    }
}
