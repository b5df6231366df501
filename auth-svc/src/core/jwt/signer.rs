//! A decrypted signing key held in memory, and the claims it signs: Better Auth's jwt-plugin token for a user.

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::domain::UserRecord;

/// How long an issued token lives, as Better Auth's default `expirationTime` of 15 minutes.
pub const TOKEN_LIFETIME_SECS: i64 = 900;

/// The whole user, as Better Auth serialises it (ISO dates, nulls present), plus the registered claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub id: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub role: Option<String>,
    pub banned: Option<bool>,
    pub ban_reason: Option<String>,
    pub ban_expires: Option<String>,
    /// The two-factor plugin's field, while it is served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_factor_enabled: Option<bool>,
    pub iat: i64,
    pub sub: String,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

impl Claims {
    /// Claims for `user` issued at `now` by `issuer` (also the audience, as Better Auth sets both to its base URL).
    pub fn new(user: &UserRecord, issuer: &str, now: DateTime<Utc>) -> Self {
        let iat = now.timestamp();
        Self {
            id: user.id.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            image: user.image.clone(),
            created_at: iso(user.created_at),
            updated_at: iso(user.updated_at),
            role: user.role.clone(),
            banned: user.banned,
            ban_reason: user.ban_reason.clone(),
            ban_expires: user.ban_expires.map(iso),
            two_factor_enabled: None,
            iat,
            sub: user.id.clone(),
            exp: iat + TOKEN_LIFETIME_SECS,
            iss: issuer.to_owned(),
            aud: issuer.to_owned(),
        }
    }
}

/// JavaScript's `toISOString()`: `2026-11-23T11:08:21.797Z`.
fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The key that signs: its `kid` and the private key, never printed.
pub struct Signer {
    kid: String,
    key: EncodingKey,
}

impl Signer {
    pub fn new(kid: String, key: &ed25519_dalek::SigningKey) -> Self {
        let der = key
            .to_pkcs8_der()
            .expect("an Ed25519 key always encodes as PKCS#8");
        Self {
            kid,
            key: EncodingKey::from_ed_der(der.as_bytes()),
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact JWS with header `{"typ":"JWT","alg":"EdDSA","kid":…}`.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key)
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use chrono::TimeZone;
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    fn user() -> UserRecord {
        UserRecord {
            id: "user-1".into(),
            name: "Alice".into(),
            email: "alice@example.com".into(),
            email_verified: false,
            image: None,
            created_at: Utc.with_ymd_and_hms(2026, 11, 23, 11, 8, 21).unwrap()
                + chrono::TimeDelta::milliseconds(797),
            updated_at: Utc.with_ymd_and_hms(2026, 11, 23, 11, 8, 21).unwrap(),
            role: Some("user".into()),
            banned: Some(false),
            ban_reason: None,
            ban_expires: None,
            two_factor_enabled: Some(false),
        }
    }

    #[test]
    fn claims_carry_the_whole_user_with_nulls_and_iso_dates() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap();
        let json =
            serde_json::to_value(Claims::new(&user(), "http://127.0.0.1:8080", now)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": "user-1", "name": "Alice", "email": "alice@example.com", "emailVerified": false,
                "image": null, "createdAt": "2026-11-23T11:08:21.797Z", "updatedAt": "2026-11-23T11:08:21.000Z",
                "role": "user", "banned": false, "banReason": null, "banExpires": null,
                "iat": now.timestamp(), "sub": "user-1", "exp": now.timestamp() + 900,
                "iss": "http://127.0.0.1:8080", "aud": "http://127.0.0.1:8080",
            })
        );
    }

    #[test]
    fn a_signed_token_verifies_with_the_public_key_alone() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
        let signer = Signer::new("kid-1".into(), &key);
        let claims = Claims::new(&user(), "https://app.example", Utc::now());

        let token = signer.sign(&claims).unwrap();

        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some("kid-1"));
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&["https://app.example"]);
        validation.set_audience(&["https://app.example"]);
        let decoded = jsonwebtoken::decode::<Claims>(
            &token,
            &DecodingKey::from_ed_components(&x).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims, claims);
    }

    #[test]
    fn a_token_does_not_verify_with_another_key() {
        let signer = Signer::new(
            "kid-1".into(),
            &ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]),
        );
        let token = signer
            .sign(&Claims::new(&user(), "https://app.example", Utc::now()))
            .unwrap();
        let other = ed25519_dalek::SigningKey::from_bytes(&[4u8; 32]);
        let x = URL_SAFE_NO_PAD.encode(other.verifying_key().as_bytes());
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&["https://app.example"]);
        assert!(
            jsonwebtoken::decode::<Claims>(
                &token,
                &DecodingKey::from_ed_components(&x).unwrap(),
                &validation
            )
            .is_err()
        );
    }
}
