//! Email-verification tokens exactly as Better Auth makes them: an HS256 JWT keyed with the UTF-8 bytes of
//! `AUTH_SECRET`, claims `{email, userId?, updateTo?, requestType?, iat, exp = iat + 3600}`. They are stateless, so a
//! link mailed by Better Auth verifies here and the other way round.
//!
//! Password-reset tokens are 24 random characters of `[A-Za-z0-9]`, Better Auth's `generateId(24)`.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rand::{Rng, distr::Alphanumeric};
use serde::{Deserialize, Serialize};
use warden_common::AuthSecret;

use crate::error::AuthError;

/// How long a verification link works.
pub const VERIFICATION_LIFETIME_SECS: i64 = 3600;
/// Better Auth's reset token length.
const RESET_TOKEN_LEN: usize = 24;

/// The `requestType` of a link mailed to the new address of an email change; opening it applies the change.
pub const CHANGE_EMAIL_VERIFICATION: &str = "change-email-verification";
/// The `requestType` of a link mailed to the old address to confirm a change (Better Auth's
/// `sendChangeEmailConfirmation`); opening it mails a [`CHANGE_EMAIL_VERIFICATION`] link to the new address.
pub const CHANGE_EMAIL_CONFIRMATION: &str = "change-email-confirmation";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailClaims {
    pub email: String,
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(rename = "updateTo", default, skip_serializing_if = "Option::is_none")]
    pub update_to: Option<String>,
    #[serde(
        rename = "requestType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub request_type: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

impl EmailClaims {
    /// Claims for `email` (lower-cased, as Better Auth writes it), valid for one hour from `now`.
    pub fn new(email: &str, user_id: Option<&str>, now: DateTime<Utc>) -> Self {
        let iat = now.timestamp();
        Self {
            email: email.to_lowercase(),
            user_id: user_id.map(str::to_owned),
            update_to: None,
            request_type: None,
            iat,
            exp: iat + VERIFICATION_LIFETIME_SECS,
        }
    }

    /// An email change from this address to `new_email`.
    pub fn change_to(mut self, new_email: &str, request_type: &str) -> Self {
        self.update_to = Some(new_email.to_owned());
        self.request_type = Some(request_type.to_owned());
        self
    }
}

pub fn sign(secret: &AuthSecret, claims: &EmailClaims) -> Result<String, AuthError> {
    // jose's `setProtectedHeader({alg: "HS256"})`: no `typ`.
    let mut header = Header::new(Algorithm::HS256);
    header.typ = None;
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )
    .map_err(|error| AuthError::Internal(error.into()))
}

/// The claims of a token this deployment (or Better Auth with the same secret) signed, under any secret still
/// configured (rotation); `TOKEN_EXPIRED` once `exp` has passed, `INVALID_TOKEN` for anything else.
pub fn verify(secret: &AuthSecret, token: &str) -> Result<EmailClaims, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    let mut outcome = Err(AuthError::InvalidToken);
    for (_, key) in secret.expose_all() {
        match jsonwebtoken::decode::<EmailClaims>(
            token,
            &DecodingKey::from_secret(key.as_bytes()),
            &validation,
        ) {
            Ok(data) => return Ok(data.claims),
            // A good signature that has expired is the answer; a bad one may still be another secret's.
            Err(error) if matches!(error.kind(), ErrorKind::ExpiredSignature) => {
                return Err(AuthError::TokenExpired);
            }
            Err(_) => outcome = Err(AuthError::InvalidToken),
        }
    }
    outcome
}

/// A fresh password-reset token (≈143 bits from a CSPRNG).
pub fn reset_token() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(RESET_TOKEN_LEN)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    use super::*;

    fn secret() -> AuthSecret {
        AuthSecret::parse("x".repeat(32).into()).unwrap()
    }

    #[test]
    fn tokens_are_hs256_over_the_secret_bytes_with_better_auths_claims() {
        let now = DateTime::from_timestamp(1_795_432_101, 0).unwrap();
        let claims = EmailClaims::new("Ada@Example.com", Some("u1"), now);
        let token = sign(&secret(), &claims).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "HS256"}));
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({"email": "ada@example.com", "userId": "u1", "iat": 1_795_432_101, "exp": 1_795_435_701})
        );
        let mut mac = Hmac::<Sha256>::new_from_slice("x".repeat(32).as_bytes()).unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert_eq!(
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
            parts[2]
        );
    }

    #[test]
    fn a_fresh_token_verifies_and_keeps_its_change_claims() {
        let claims = EmailClaims::new("old@example.com", None, Utc::now())
            .change_to("new@example.com", CHANGE_EMAIL_VERIFICATION);
        let token = sign(&secret(), &claims).unwrap();
        assert_eq!(verify(&secret(), &token).unwrap(), claims);
    }

    #[test]
    fn an_expired_token_is_told_apart_from_a_forged_one() {
        let old = EmailClaims::new(
            "a@example.com",
            None,
            Utc::now() - chrono::TimeDelta::hours(2),
        );
        let token = sign(&secret(), &old).unwrap();
        assert!(matches!(
            verify(&secret(), &token),
            Err(AuthError::TokenExpired)
        ));
        let other = AuthSecret::parse("y".repeat(32).into()).unwrap();
        let forged = sign(&other, &EmailClaims::new("a@example.com", None, Utc::now())).unwrap();
        assert!(matches!(
            verify(&secret(), &forged),
            Err(AuthError::InvalidToken)
        ));
        assert!(matches!(
            verify(&secret(), "not.a.jwt"),
            Err(AuthError::InvalidToken)
        ));
    }

    #[test]
    fn reset_tokens_are_24_alphanumeric_characters() {
        let (a, b) = (reset_token(), reset_token());
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_token_signed_under_an_older_secret_verifies_after_rotation() {
        let old = secret();
        let claims = EmailClaims::new("ada@example.com", Some("u1"), Utc::now());
        let token = sign(&old, &claims).unwrap();
        let newest = "n".repeat(32);
        let rotated = AuthSecret::from_settings(
            Some(&format!("2:{newest},1:{}", "x".repeat(32)).into()),
            None,
        )
        .unwrap();
        let unrelated = AuthSecret::parse("z".repeat(32).into()).unwrap();

        assert_eq!(verify(&rotated, &token).unwrap().email, "ada@example.com");
        assert!(matches!(
            verify(&unrelated, &token),
            Err(AuthError::InvalidToken)
        ));
    }
}
