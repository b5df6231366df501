//! The gRPC edge: one file per service ([`auth`], [`admin`], [`dev`], [`social`], [`two_factor`], [`passkey`], [`api_key`]), each a thin implementation of the generated
//! trait that reads the caller ([`Caller`]), turns the message into domain types ([`convert`]), calls the core and
//! turns its answer back into messages. [`limits`] is the tower layer in front of them that applies Better Auth's
//! rate limits to direct callers.
//!
//! A conversion that fails is `INVALID_ARGUMENT` with Better Auth's reason and message, decided here before the
//! core sees the request, so the core's functions take only values that are already valid.

pub mod admin;
pub mod api_key;
pub mod auth;
pub mod convert;
pub mod dev;
pub mod limits;
pub mod passkey;
pub mod social;
pub mod two_factor;

use std::{net::IpAddr, sync::Arc};

use ipnet::IpNet;
use tonic::{Request, metadata::MetadataMap};
use warden_common::AuthSecret;

use crate::{core::sessions::ClientInfo, domain::SessionToken};

/// Metadata carrying the browser's address when the gateway calls on its behalf.
pub const FORWARDED_FOR: &str = "x-forwarded-for";
/// Metadata carrying the browser's user agent when the gateway calls on its behalf.
pub const FORWARDED_USER_AGENT: &str = "x-forwarded-user-agent";

/// Reads who is calling: the session credential and the client's address and agent. Cheap to clone.
#[derive(Clone)]
pub struct Caller {
    secret: AuthSecret,
    trusted_proxies: Arc<[IpNet]>,
}

impl Caller {
    pub fn new(secret: AuthSecret, trusted_proxies: &[IpNet]) -> Self {
        Self {
            secret,
            trusted_proxies: trusted_proxies.into(),
        }
    }

    /// `authorization: Bearer <token>`: a signed `token.signature` must verify; a bare token is taken as is. Without
    /// one, an `x-api-key`: the routes that take keys tell them by their shape, every other route finds no session.
    pub fn token<T>(&self, request: &Request<T>) -> Option<SessionToken> {
        bearer(&self.secret, request.metadata()).or_else(|| {
            text(request.metadata(), "x-api-key")
                .map(|key| key.trim().to_owned())
                .filter(|key| warden_common::token::is_api_key_shaped(key))
                .map(SessionToken::from_presented)
        })
    }

    /// The API key the call carries: `x-api-key`, else a bearer shaped like a key. Never a session token.
    pub fn api_key<T>(&self, request: &Request<T>) -> Option<String> {
        let metadata = request.metadata();
        if let Some(key) = text(metadata, "x-api-key").filter(|key| !key.trim().is_empty()) {
            return Some(key.trim().to_owned());
        }
        let value = text(metadata, "authorization")?;
        let (scheme, presented) = value.trim().split_once(' ')?;
        let presented = presented.trim();
        (scheme.eq_ignore_ascii_case("bearer")
            && warden_common::token::is_api_key_shaped(presented))
        .then(|| presented.to_owned())
    }

    /// The caller's address and agent; forwarded values are believed only from trusted proxies.
    pub fn client<T>(&self, request: &Request<T>) -> ClientInfo {
        let peer = request.remote_addr().map(|addr| addr.ip());
        let metadata = request.metadata();
        let trusted =
            peer.is_some_and(|ip| self.trusted_proxies.iter().any(|net| net.contains(&ip)));
        if trusted && let Some(forwarded) = forwarded_ip(metadata) {
            return ClientInfo {
                ip_address: Some(forwarded.to_string()),
                user_agent: Some(text(metadata, FORWARDED_USER_AGENT).unwrap_or_default()),
            };
        }
        ClientInfo {
            ip_address: peer.map(|ip| ip.to_string()),
            user_agent: Some(text(metadata, "user-agent").unwrap_or_default()),
        }
    }
}

fn bearer(secret: &AuthSecret, metadata: &MetadataMap) -> Option<SessionToken> {
    let value = metadata.get("authorization")?.to_str().ok()?;
    let (scheme, presented) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let presented = presented.trim();
    if presented.is_empty() {
        return None;
    }
    if presented.contains('.') {
        let decoded = percent_encoding::percent_decode_str(presented)
            .decode_utf8()
            .ok()?;
        return secret.verify(&decoded).map(SessionToken::from_presented);
    }
    Some(SessionToken::from_presented(presented.to_owned()))
}

/// Exactly one valid address, as Better Auth requires of `x-forwarded-for`.
fn forwarded_ip(metadata: &MetadataMap) -> Option<IpAddr> {
    text(metadata, FORWARDED_FOR)?.trim().parse().ok()
}

fn text(metadata: &MetadataMap, key: &str) -> Option<String> {
    metadata.get(key)?.to_str().ok().map(str::to_owned)
}
