//! The shared secret and Better Auth's signed values.
//!
//! A signed value is `value + "." + base64std(HMAC-SHA256(secret, value))`, percent-encoded when it is a cookie.
//!
//! A deployment may hold several secrets while it rotates them (Better Auth's `secrets` option, Warden's
//! `AUTH_SECRETS`, see [`parse`]): the first, newest one signs and encrypts, and every one of them verifies, so
//! cookies and keys made under an older secret keep working until they run out.

mod parse;

pub use parse::SecretsError;

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Better Auth requires at least 32 characters of secret.
pub const MIN_SECRET_LEN: usize = 32;

/// Length of a base64 (with padding) HMAC-SHA256 signature.
const SIGNATURE_LEN: usize = 44;

#[derive(Debug, thiserror::Error)]
#[error("must be at least {MIN_SECRET_LEN} characters")]
pub struct SecretTooShort;

/// One secret; `version` is its number in a Better Auth `secrets` list, absent for a plain `AUTH_SECRET`.
#[derive(Clone)]
struct Entry {
    version: Option<u32>,
    value: SecretString,
}

/// The deployment's secrets, which sign cookies and bearer tokens and encrypt the JWT signing keys. The first signs
/// and encrypts; all of them verify and decrypt.
#[derive(Clone)]
pub struct AuthSecret {
    entries: Arc<[Entry]>,
}

impl std::fmt::Debug for AuthSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthSecret([redacted] x{})", self.entries.len())
    }
}

impl AuthSecret {
    /// A single secret (`AUTH_SECRET`) of at least [`MIN_SECRET_LEN`] characters.
    pub fn parse(secret: SecretString) -> Result<Self, SecretTooShort> {
        if secret.expose_secret().chars().count() < MIN_SECRET_LEN {
            return Err(SecretTooShort);
        }
        Ok(Self {
            entries: Arc::new([Entry {
                version: None,
                value: secret,
            }]),
        })
    }

    /// The secret that signs and encrypts.
    pub fn expose(&self) -> &str {
        self.entries[0].value.expose_secret()
    }

    /// The signing secret's version in a Better Auth `secrets` list; new encrypted keys name it in their envelope.
    pub fn current_version(&self) -> Option<u32> {
        self.entries[0].version
    }

    /// Every secret with its version, newest first; the signing one comes first.
    pub fn expose_all(&self) -> impl Iterator<Item = (Option<u32>, &str)> {
        self.entries
            .iter()
            .map(|entry| (entry.version, entry.value.expose_secret()))
    }

    /// How many secrets verify (1 unless rotating).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Never true: there is always a signing secret. (Here for `len`'s sake.)
    pub fn is_empty(&self) -> bool {
        false
    }

    fn mac(secret: &str) -> HmacSha256 {
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length")
    }

    /// `value.signature`, not percent-encoded (the `set-auth-token` header form), signed with the newest secret.
    pub fn sign(&self, value: &str) -> String {
        let mut mac = Self::mac(self.expose());
        mac.update(value.as_bytes());
        let signature = STANDARD.encode(mac.finalize().into_bytes());
        format!("{value}.{signature}")
    }

    /// The signed value percent-encoded as `encodeURIComponent` does (the cookie form).
    pub fn sign_cookie(&self, value: &str) -> String {
        encode_uri_component(&self.sign(value))
    }

    /// Checks `value.signature` (already percent-decoded) against every secret and returns the value; `None` for
    /// anything else.
    pub fn verify(&self, signed: &str) -> Option<String> {
        let dot = signed.rfind('.')?;
        if dot < 1 {
            return None;
        }
        let (value, signature) = (&signed[..dot], &signed[dot + 1..]);
        if signature.len() != SIGNATURE_LEN || !signature.ends_with('=') {
            return None;
        }
        let expected = STANDARD.decode(signature).ok()?;
        let matches = |(_, secret): (Option<u32>, &str)| {
            let mut mac = Self::mac(secret);
            mac.update(value.as_bytes());
            // `verify_slice` compares in constant time.
            mac.verify_slice(&expected).is_ok()
        };
        self.expose_all().any(matches).then(|| value.to_owned())
    }

    /// Checks a cookie's wire value: percent-decodes it, then verifies it.
    pub fn verify_cookie(&self, wire: &str) -> Option<String> {
        let decoded = percent_encoding::percent_decode_str(wire)
            .decode_utf8()
            .ok()?;
        self.verify(&decoded)
    }
}

/// The characters `encodeURIComponent` leaves alone: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

pub fn encode_uri_component(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, URI_COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> AuthSecret {
        AuthSecret::parse("x".repeat(32).into()).unwrap()
    }

    // Test vectors from Better Auth 1.7 (reference §4).
    const VECTORS: &[(&str, &str, &str)] = &[
        (
            "abc",
            "abc.Qk8iIq+eUdx4hAKV3yBgWYmVuKjzpO5XMbW+KynWq8c=",
            "abc.Qk8iIq%2BeUdx4hAKV3yBgWYmVuKjzpO5XMbW%2BKynWq8c%3D",
        ),
        (
            "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd",
            "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd.KnI2kUs3iY/ZzFNooOvLhEdSLQ9QDj2PxOpln/86Cig=",
            "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd.KnI2kUs3iY%2FZzFNooOvLhEdSLQ9QDj2PxOpln%2F86Cig%3D",
        ),
        (
            "true",
            "true.1bXlcnrqtmSepkNJviBBMNg0+TFE/NL3hULlLOhQEEc=",
            "true.1bXlcnrqtmSepkNJviBBMNg0%2BTFE%2FNL3hULlLOhQEEc%3D",
        ),
    ];

    #[test]
    fn signing_matches_better_auth_vectors() {
        for (value, signed, wire) in VECTORS {
            assert_eq!(secret().sign(value), *signed);
            assert_eq!(secret().sign_cookie(value), *wire);
        }
    }

    #[test]
    fn verifying_better_auth_vectors_returns_the_value() {
        for (value, signed, wire) in VECTORS {
            assert_eq!(secret().verify(signed).as_deref(), Some(*value));
            assert_eq!(secret().verify_cookie(wire).as_deref(), Some(*value));
        }
    }

    #[test]
    fn a_tampered_value_or_signature_is_rejected() {
        let (_, signed, _) = VECTORS[1];
        let tampered_value = signed.replacen('g', "h", 1);
        assert_eq!(secret().verify(&tampered_value), None);
        let tampered_sig = signed.replace("KnI2", "KnI3");
        assert_eq!(secret().verify(&tampered_sig), None);
        assert_eq!(secret().verify("g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd"), None);
        assert_eq!(
            secret().verify(".Qk8iIq+eUdx4hAKV3yBgWYmVuKjzpO5XMbW+KynWq8c="),
            None
        );
        let other = AuthSecret::parse("y".repeat(32).into()).unwrap();
        assert_eq!(other.verify(signed), None);
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(AuthSecret::parse("x".repeat(31).into()).is_err());
    }
}
