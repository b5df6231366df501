//! Verifying the JWTs auth-svc issues: EdDSA (Ed25519) only, the key found by `kid` in the [`JwksCache`], and
//! `exp`, `iss` and `aud` checked (`iss` = `aud` = BASE_URL). Any other algorithm (`none`, HS256, RS256, …) fails,
//! whatever the token claims.
//!
//! A token that verified is remembered (by its SHA-256) until it expires, so a client that sends the same JWT again
//! (the gateway does for a user's requests within one second, when auth-svc hands out the same token) costs a hash
//! and a lookup instead of an Ed25519 verification. A remembered token is exactly the string that verified, and a JWT cannot change or be
//! revoked before its `exp`, so the answer is the one verifying again would give.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{AuthMetrics, AuthenticatedUser, jwks::JwksCache};
use crate::error::TaskError;

/// Seconds of clock difference tolerated on `exp`.
const LEEWAY_SECS: u64 = 30;

/// At most this many verified tokens are remembered; past it the expired ones go, or all if none has expired.
const REMEMBERED_CAPACITY: usize = 16_384;

/// The claims task-svc reads; Better Auth's jwt plugin puts the whole user object beside them.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: Option<String>,
}

pub struct JwtVerifier {
    jwks: JwksCache,
    validation: Validation,
    /// Tokens that verified, by SHA-256, with their caller and the time (`exp` + leeway) they stop being valid.
    verified: Mutex<HashMap<[u8; 32], (AuthenticatedUser, i64)>>,
    metrics: Arc<AuthMetrics>,
}

impl JwtVerifier {
    /// `base_url` is the issuer and audience every token must name.
    pub fn new(jwks: JwksCache, base_url: &str, metrics: Arc<AuthMetrics>) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[base_url]);
        validation.set_audience(&[base_url]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Self {
            jwks,
            validation,
            verified: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    pub async fn verify(&self, token: &str) -> Result<AuthenticatedUser, TaskError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = chrono::Utc::now().timestamp();
        if let Some((user, valid_until)) = self.remembered().get(&digest)
            && now < *valid_until
        {
            return Ok(user.clone());
        }
        let (user, exp) = self.verify_signed(token).await?;
        let valid_until = exp.saturating_add(LEEWAY_SECS as i64);
        let mut verified = self.remembered();
        if verified.len() >= REMEMBERED_CAPACITY {
            verified.retain(|_, (_, until)| now < *until);
            if verified.len() >= REMEMBERED_CAPACITY {
                verified.clear();
            }
        }
        verified.insert(digest, (user.clone(), valid_until));
        Ok(user)
    }

    fn remembered(&self) -> MutexGuard<'_, HashMap<[u8; 32], (AuthenticatedUser, i64)>> {
        // Every critical section is one lookup or one insert: a panic cannot leave the map half-written.
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Full verification: algorithm, key, signature and claims. Returns the caller and the token's `exp`.
    async fn verify_signed(&self, token: &str) -> Result<(AuthenticatedUser, i64), TaskError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|error| rejected("header", &error))?;
        if header.alg != Algorithm::EdDSA {
            tracing::debug!(alg = ?header.alg, "JWT rejected: algorithm");
            return Err(TaskError::Unauthorized);
        }
        let kid = header.kid.ok_or_else(|| {
            tracing::debug!("JWT rejected: no kid");
            TaskError::Unauthorized
        })?;
        let key = self.jwks.key(&kid).await?.ok_or_else(|| {
            tracing::debug!("JWT rejected: unknown kid");
            TaskError::Unauthorized
        })?;
        self.metrics.count_signature_check();
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|error| rejected("claims", &error))?
            .claims;
        if claims.sub.is_empty() {
            return Err(TaskError::Unauthorized);
        }
        let user = AuthenticatedUser {
            id: claims.sub,
            email: claims.email,
            name: claims.name,
            role: claims.role,
            permissions: None,
        };
        Ok((user, claims.exp))
    }
}

fn rejected(stage: &'static str, error: &jsonwebtoken::errors::Error) -> TaskError {
    tracing::debug!(stage, kind = ?error.kind(), "JWT rejected");
    TaskError::Unauthorized
}

/// Three base64url parts whose first is a JSON object: a JWT, to be verified here (whatever its algorithm) rather
/// than sent to auth-svc. Session tokens are one part, or two when signed (`token.signature`).
pub fn is_jwt_shaped(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let base64url = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if header.is_empty() || payload.is_empty() || !base64url(signature) || !base64url(payload) {
        return false;
    }
    URL_SAFE_NO_PAD
        .decode(header)
        .is_ok_and(|json| json.trim_ascii_start().first() == Some(&b'{'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwts_are_recognised_whatever_their_algorithm() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        assert!(is_jwt_shaped(&format!("{header}.e30.")));
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","kid":"k"}"#);
        assert!(is_jwt_shaped(&format!("{header}.e30.c2ln")));
    }

    #[test]
    fn session_tokens_are_not_jwts() {
        assert!(!is_jwt_shaped("g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd"));
        assert!(!is_jwt_shaped(
            "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd.c2lnbmF0dXJl%2Babc%3D"
        ));
        assert!(!is_jwt_shaped("a.b.c"));
        assert!(!is_jwt_shaped("..."));
    }
}
