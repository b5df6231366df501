//! Better Auth's `jwks` row format, both ways.
//!
//! `publicKey` is the public JWK as JSON text, `{"crv":"Ed25519","x":"…","kty":"OKP"}`. `privateKey` is a JSON string
//! literal (quotes included) holding hex(nonce ‖ ciphertext ‖ tag): XChaCha20-Poly1305 with a random 24-byte nonce,
//! keyed by SHA-256 of the UTF-8 secret, over the private JWK `{"crv":"Ed25519","d":"…","x":"…","kty":"OKP"}`.
//! Rows Better Auth wrote with private-key encryption disabled (the JWK object itself) are read too. With several
//! secrets (rotation), new rows are encrypted under the newest, inside Better Auth's `$ba$<version>$<hex>` envelope
//! when that secret has a version, and a row decrypts under whichever configured secret encrypted it.

use base64::{
    Engine,
    alphabet::URL_SAFE,
    engine::{
        DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig, general_purpose::URL_SAFE_NO_PAD,
    },
};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use warden_common::AuthSecret;

use crate::{core::sealed, domain::generate_id, store::KeyRow};

pub const ALG: &str = "EdDSA";
pub const CRV: &str = "Ed25519";
pub const KTY: &str = "OKP";

/// Padding is optional on input (some JWK writers add it); output never has it, as jose writes.
const B64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The public half of a key, as stored in `publicKey` (field order as jose exports it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub crv: String,
    pub x: String,
    pub kty: String,
}

#[derive(Serialize, Deserialize)]
struct PrivateJwk {
    crv: String,
    d: String,
    x: String,
    kty: String,
}

/// Why a stored key cannot be used. Never carries key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    #[error("privateKey is neither a JSON string nor a JWK object")]
    NotJson,
    #[error("privateKey is not hex")]
    NotHex,
    #[error("privateKey does not decrypt with this secret (or was altered)")]
    Decrypt,
    #[error("the key is not an Ed25519 JWK")]
    NotEd25519,
    #[error("a key coordinate is not 32 bytes of base64url")]
    BadCoordinate,
    #[error("the private key does not match the public key")]
    Mismatch,
}

/// A new Ed25519 key as a row Better Auth would write: encrypted under `secret`, current (no `expiresAt`).
pub fn generate(secret: &AuthSecret, now: DateTime<Utc>) -> KeyRow {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    let private = PrivateJwk {
        crv: CRV.into(),
        d: URL_SAFE_NO_PAD.encode(key.as_bytes()),
        x: x.clone(),
        kty: KTY.into(),
    };
    let public = PublicJwk {
        crv: CRV.into(),
        x,
        kty: KTY.into(),
    };
    let private_json = serde_json::to_string(&private).expect("a JWK serialises");
    KeyRow {
        id: generate_id(),
        public_key: serde_json::to_string(&public).expect("a JWK serialises"),
        private_key: encrypt(secret, &private_json),
        created_at: now,
        expires_at: None,
        alg: Some(ALG.into()),
        crv: Some(CRV.into()),
    }
}

/// `plaintext` encrypted under the newest secret as Better Auth's `symmetricEncrypt` does ([`sealed`]), as the JSON
/// string literal stored in `privateKey`.
pub fn encrypt(secret: &AuthSecret, plaintext: &str) -> String {
    serde_json::Value::String(sealed::seal(secret, plaintext)).to_string()
}

/// The plaintext of a `privateKey` column value written by [`encrypt`] or by Better Auth, under any of the secrets.
pub fn decrypt(secret: &AuthSecret, column: &str) -> Result<String, FormatError> {
    let quoted: String = serde_json::from_str(column).map_err(|_| FormatError::NotJson)?;
    let hex_text = quoted.rsplit('$').next().unwrap_or_default();
    if hex::decode(hex_text).is_err() {
        return Err(FormatError::NotHex);
    }
    sealed::open(secret, &quoted).ok_or(FormatError::Decrypt)
}

/// The private key of a row, checked against its own `x` and the row's public key.
pub fn signing_key(secret: &AuthSecret, row: &KeyRow) -> Result<SigningKey, FormatError> {
    let private: PrivateJwk = if row.private_key.trim_start().starts_with('{') {
        serde_json::from_str(&row.private_key).map_err(|_| FormatError::NotJson)?
    } else {
        serde_json::from_str(&decrypt(secret, &row.private_key)?)
            .map_err(|_| FormatError::NotEd25519)?
    };
    if private.kty != KTY || private.crv != CRV {
        return Err(FormatError::NotEd25519);
    }
    let key = SigningKey::from_bytes(&coordinate(&private.d)?);
    let public = public_jwk(row)?;
    let derived = key.verifying_key().to_bytes();
    if coordinate(&private.x)? != derived || coordinate(&public.x)? != derived {
        return Err(FormatError::Mismatch);
    }
    Ok(key)
}

/// The row's public key, if it is an Ed25519 one.
pub fn public_jwk(row: &KeyRow) -> Result<PublicJwk, FormatError> {
    let jwk: PublicJwk =
        serde_json::from_str(&row.public_key).map_err(|_| FormatError::NotEd25519)?;
    if jwk.kty != KTY || jwk.crv != CRV {
        return Err(FormatError::NotEd25519);
    }
    coordinate(&jwk.x)?;
    Ok(jwk)
}

fn coordinate(b64: &str) -> Result<[u8; 32], FormatError> {
    B64_LENIENT
        .decode(b64)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(FormatError::BadCoordinate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce, aead::Aead};
    use sha2::{Digest, Sha256};

    fn secret(text: &str) -> AuthSecret {
        AuthSecret::parse(text.to_owned().into()).unwrap()
    }

    /// A row better-auth@1.7.25 wrote, with the private JWK it holds.
    fn fixture() -> (AuthSecret, KeyRow, serde_json::Value) {
        let fixture: serde_json::Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/better-auth-jwks-row.json"
        ))
        .unwrap();
        let text = |name: &str| fixture[name].as_str().unwrap().to_owned();
        let row = KeyRow {
            id: text("id"),
            public_key: text("publicKey"),
            private_key: text("privateKey"),
            created_at: Utc::now(),
            expires_at: None,
            alg: Some(text("alg")),
            crv: Some(text("crv")),
        };
        (secret(&text("secret")), row, fixture)
    }

    #[test]
    fn encrypting_then_decrypting_gives_back_the_plaintext() {
        let key = secret(&"s".repeat(40));
        let column = encrypt(&key, r#"{"hello":"world"}"#);
        assert_eq!(decrypt(&key, &column).unwrap(), r#"{"hello":"world"}"#);
    }

    #[test]
    fn the_stored_private_key_is_a_quoted_hex_string_with_a_fresh_nonce() {
        let key = secret(&"s".repeat(40));
        let (a, b) = (encrypt(&key, "same"), encrypt(&key, "same"));
        assert!(a.starts_with('"') && a.ends_with('"'));
        let hex_text = &a[1..a.len() - 1];
        assert!(hex_text.bytes().all(|c| c.is_ascii_hexdigit()));
        // 24-byte nonce + 4 bytes of text + 16-byte tag.
        assert_eq!(hex_text.len(), 2 * (24 + 4 + 16));
        assert_ne!(a, b);
    }

    #[test]
    fn another_secret_or_a_flipped_bit_does_not_decrypt() {
        let key = secret(&"s".repeat(40));
        let column = encrypt(&key, "private");
        assert_eq!(
            decrypt(&secret(&"t".repeat(40)), &column),
            Err(FormatError::Decrypt)
        );
        let mut tampered = column.clone().into_bytes();
        tampered[10] = if tampered[10] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(decrypt(&key, &tampered), Err(FormatError::Decrypt));
        assert_eq!(decrypt(&key, "\"zz\""), Err(FormatError::NotHex));
        assert_eq!(decrypt(&key, "not json"), Err(FormatError::NotJson));
    }

    #[test]
    fn a_row_better_auth_wrote_decrypts_to_its_private_jwk() {
        let (secret, row, fixture) = fixture();
        let plain: serde_json::Value =
            serde_json::from_str(&decrypt(&secret, &row.private_key).unwrap()).unwrap();
        assert_eq!(plain["d"], fixture["d"]);
        assert_eq!(plain["x"], fixture["x"]);
        let key = signing_key(&secret, &row).unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            fixture["x"].as_str().unwrap()
        );
    }

    #[test]
    fn a_row_built_as_better_auth_builds_it_is_read() {
        // Reference §11, step by step, independently of `generate` and `encrypt`.
        let secret_text = "a-secret-of-at-least-thirty-two-chars!";
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        let d = URL_SAFE_NO_PAD.encode(key.as_bytes());
        let private_jwk = format!(r#"{{"crv":"Ed25519","d":"{d}","x":"{x}","kty":"OKP"}}"#);
        let cipher = XChaCha20Poly1305::new(&Sha256::digest(secret_text.as_bytes()));
        let nonce = [9u8; 24];
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), private_jwk.as_bytes())
            .unwrap();
        let row = KeyRow {
            id: generate_id(),
            public_key: format!(r#"{{"crv":"Ed25519","x":"{x}","kty":"OKP"}}"#),
            private_key: format!("\"{}{}\"", hex::encode(nonce), hex::encode(sealed)),
            created_at: Utc::now(),
            expires_at: None,
            alg: Some("EdDSA".into()),
            crv: Some("Ed25519".into()),
        };

        let read = signing_key(&secret(secret_text), &row).unwrap();

        assert_eq!(read.to_bytes(), key.to_bytes());
    }

    #[test]
    fn generated_rows_have_better_auths_shape_and_read_back() {
        let key = secret(&"s".repeat(40));
        let row = generate(&key, Utc::now());
        let public: serde_json::Value = serde_json::from_str(&row.public_key).unwrap();
        assert_eq!(public["kty"], "OKP");
        assert_eq!(public["crv"], "Ed25519");
        assert_eq!(public.as_object().unwrap().len(), 3);
        assert!(row.public_key.starts_with(r#"{"crv":"Ed25519","x":""#));
        let plain = decrypt(&key, &row.private_key).unwrap();
        assert!(plain.starts_with(r#"{"crv":"Ed25519","d":""#));
        assert!(plain.ends_with(r#"","kty":"OKP"}"#));
        assert_eq!(
            (row.alg.as_deref(), row.crv.as_deref()),
            (Some("EdDSA"), Some("Ed25519"))
        );
        assert_eq!(row.id.len(), 32);
        assert!(signing_key(&key, &row).is_ok());
    }

    #[test]
    fn unencrypted_and_enveloped_private_keys_are_read_too() {
        let (secret, mut row, fixture) = fixture();
        let hex_text: String = serde_json::from_str(&row.private_key).unwrap();
        let enveloped = row.clone();
        row.private_key = serde_json::Value::String(format!("$ba$1${hex_text}")).to_string();
        assert!(signing_key(&secret, &row).is_ok());
        row.private_key = decrypt(&secret, &enveloped.private_key).unwrap();
        assert!(signing_key(&secret, &row).is_ok());
        assert_eq!(public_jwk(&row).unwrap().x, fixture["x"].as_str().unwrap());
    }

    fn rotating(list: &str) -> AuthSecret {
        AuthSecret::from_settings(Some(&list.to_owned().into()), None).unwrap()
    }

    #[test]
    fn with_versioned_secrets_new_keys_go_in_the_newest_secrets_envelope() {
        let (new, old) = ("n".repeat(40), "o".repeat(40));
        let key = rotating(&format!("7:{new},3:{old}"));
        let column = encrypt(&key, "private");
        assert!(column.starts_with("\"$ba$7$"), "{column}");
        assert_eq!(decrypt(&key, &column).unwrap(), "private");
        assert_eq!(decrypt(&secret(&new), &column).unwrap(), "private");
        assert_eq!(decrypt(&secret(&old), &column), Err(FormatError::Decrypt));
        let unversioned = rotating(&format!("{new},{old}"));
        let column = encrypt(&unversioned, "private");
        assert!(!column.contains('$'));
    }

    #[test]
    fn a_key_encrypted_under_an_older_secret_still_decrypts() {
        let (new, old) = ("n".repeat(40), "o".repeat(40));
        let bare = encrypt(&secret(&old), "private");
        let hex_text: String = serde_json::from_str(&bare).unwrap();
        let enveloped = serde_json::Value::String(format!("$ba$3${hex_text}")).to_string();
        // Better Auth's legacy secret (AUTH_SECRET) read bare rows; listed secrets read their envelopes.
        let legacy =
            AuthSecret::from_settings(Some(&format!("7:{new}").into()), Some(old.clone().into()))
                .unwrap();
        for key in [rotating(&format!("7:{new},3:{old}")), legacy] {
            assert_eq!(decrypt(&key, &bare).unwrap(), "private");
            assert_eq!(decrypt(&key, &enveloped).unwrap(), "private");
        }
        assert_eq!(
            decrypt(&rotating(&format!("7:{new}")), &bare),
            Err(FormatError::Decrypt)
        );
        let (secret, row, _) = fixture();
        let rotated = AuthSecret::from_settings(
            Some(&format!("2:{new}").into()),
            Some(secret.expose().to_owned().into()),
        )
        .unwrap();
        assert!(signing_key(&rotated, &row).is_ok());
    }

    #[test]
    fn a_private_key_that_does_not_match_the_public_key_is_refused() {
        let key = secret(&"s".repeat(40));
        let mut row = generate(&key, Utc::now());
        row.public_key = generate(&key, Utc::now()).public_key;
        assert_eq!(signing_key(&key, &row).err(), Some(FormatError::Mismatch));
    }
}
