//! Better Auth's `symmetricEncrypt`: what it encrypts at rest under the secret (JWT signing keys, and provider access
//! and refresh tokens), read and written in its format so a database moves between the two either way.
//!
//! The text is lowercase hex of a 24-byte random nonce followed by XChaCha20-Poly1305 of the plaintext under
//! SHA-256 of the secret; under a versioned secret (`AUTH_SECRETS`) it is wrapped as `$ba$<version>$<hex>`.
//!
//! Some texts are sealed under a purpose key instead of the secret itself ([`seal_for`], Better Auth's
//! `derivePurposeKey`), so that a ciphertext made for one use cannot be opened as another.

use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce, aead::Aead};
use sha2::{Digest, Sha256};
use warden_common::AuthSecret;

const NONCE_LEN: usize = 24;
const ENVELOPE_PREFIX: &str = "$ba$";

/// `plaintext` encrypted under the newest secret, in the `$ba$<version>$` envelope when that secret has a version.
pub fn seal(secret: &AuthSecret, plaintext: &str) -> String {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let sealed = cipher(secret.expose())
        .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
        .expect("XChaCha20-Poly1305 encrypts any message this size");
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    let hex_text = hex::encode(bytes);
    match secret.current_version() {
        Some(version) => format!("{ENVELOPE_PREFIX}{version}${hex_text}"),
        None => hex_text,
    }
}

/// Whether `text` has the shape [`seal`] gives (an envelope, or even-length hex), which is how Better Auth tells an
/// encrypted column from one stored in plain text.
pub fn looks_sealed(text: &str) -> bool {
    text.starts_with(ENVELOPE_PREFIX)
        || (!text.is_empty()
            && text.len().is_multiple_of(2)
            && text.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The plaintext of a [`seal`]ed text, under any of the secrets: the one its envelope names first, then the others
/// (the cipher is authenticated, so a wrong one fails cleanly). None when no secret opens it.
pub fn open(secret: &AuthSecret, text: &str) -> Option<String> {
    let (version, hex_text) = open_envelope(text);
    let bytes = hex::decode(hex_text).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let named = secret
        .expose_all()
        .filter(|(own, _)| version.is_some() && *own == version);
    let others = secret
        .expose_all()
        .filter(|(own, _)| version.is_none() || *own != version);
    named
        .chain(others)
        .find_map(|(_, key)| cipher(key).decrypt(XNonce::from_slice(nonce), sealed).ok())
        .and_then(|plain| String::from_utf8(plain).ok())
}

/// The salt of Better Auth's purpose keys.
const PURPOSE_SALT: &[u8] = b"better-auth:oauth-encryption:v1";

/// Better Auth's `derivePurposeKey(secret, purpose)`: HKDF-SHA256 of the secret, written as 64 hex digits, which
/// then serve as the secret of the cipher.
fn purpose_key(secret: &str, purpose: &str) -> String {
    let hkdf = hkdf::Hkdf::<Sha256>::new(Some(PURPOSE_SALT), secret.as_bytes());
    let mut key = [0u8; 32];
    hkdf.expand(format!("better-auth:{purpose}:v1").as_bytes(), &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    hex::encode(key)
}

/// `plaintext` sealed under the newest secret's key for `purpose` (bare hex, as Better Auth writes it).
pub fn seal_for(secret: &AuthSecret, purpose: &str, plaintext: &str) -> String {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let key = purpose_key(secret.expose(), purpose);
    let sealed = cipher(&key)
        .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
        .expect("XChaCha20-Poly1305 encrypts any message this size");
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    hex::encode(bytes)
}

/// The plaintext of a [`seal_for`]ed text, under any of the secrets' keys for `purpose`.
pub fn open_for(secret: &AuthSecret, purpose: &str, text: &str) -> Option<String> {
    let bytes = hex::decode(text).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    secret
        .expose_all()
        .find_map(|(_, key)| {
            cipher(&purpose_key(key, purpose))
                .decrypt(XNonce::from_slice(nonce), sealed)
                .ok()
        })
        .and_then(|plain| String::from_utf8(plain).ok())
}

fn cipher(secret: &str) -> XChaCha20Poly1305 {
    let key = Sha256::digest(secret.as_bytes());
    XChaCha20Poly1305::new(&key)
}

/// `$ba$<version>$<hex>` → (`Some(version)`, `<hex>`); bare hex → (`None`, hex). The envelope names which of several
/// secrets encrypted it.
fn open_envelope(data: &str) -> (Option<u32>, &str) {
    data.strip_prefix(ENVELOPE_PREFIX)
        .and_then(|rest| rest.split_once('$'))
        .filter(|(version, _)| !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()))
        .map_or((None, data), |(version, hex)| (version.parse().ok(), hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> AuthSecret {
        AuthSecret::parse(text.to_owned().into()).unwrap()
    }

    #[test]
    fn opens_better_auths_test_vector_and_round_trips() {
        // symmetricEncrypt(secret "x"*32, nonce = 24 bytes of 0x01, "ya29.access-token"), from the package itself.
        let vector = "01010101010101010101010101010101010101010101010110b46a4e86028cd4e3a8cf8287a7f6557ef22a3088c2232e4882663b47ac3f17c5";
        let secret = secret(&"x".repeat(32));
        assert_eq!(open(&secret, vector).as_deref(), Some("ya29.access-token"));
        let sealed = seal(&secret, "gho_a-token");
        assert!(looks_sealed(&sealed));
        assert_eq!(open(&secret, &sealed).as_deref(), Some("gho_a-token"));
        assert_eq!(open(&secret, &sealed.replacen('0', "1", 1)), None);
        assert_eq!(open(&self::secret(&"y".repeat(32)), &sealed), None);
    }

    #[test]
    fn purpose_keys_are_better_auths() {
        // derivePurposeKey("x"*32, …), from the package itself.
        let secret_text = "x".repeat(32);
        assert_eq!(
            purpose_key(&secret_text, "oauth-link-session-token"),
            "19fa803a7baf5be9c24d30f01bce21268bc9d54a29021090490e3b7417854a10"
        );
        assert_eq!(
            purpose_key(&secret_text, "oauth-state-cookie"),
            "898bac3f0d39190403bb0baa497264866ba5f26ea45edc29a76c84c99e8f27bb"
        );
        let secret = secret(&secret_text);
        let sealed = seal_for(&secret, "oauth-link-session-token", "a-session-token");
        assert_eq!(
            open_for(&secret, "oauth-link-session-token", &sealed).as_deref(),
            Some("a-session-token")
        );
        assert_eq!(open_for(&secret, "oauth-state-cookie", &sealed), None);
        assert_eq!(open(&secret, &sealed), None);
    }

    #[test]
    fn plain_tokens_do_not_look_sealed_but_even_hex_does() {
        assert!(!looks_sealed("ya29.plain-access-token"));
        assert!(!looks_sealed("abc"));
        assert!(!looks_sealed(""));
        assert!(looks_sealed("abcdef12"));
        assert!(looks_sealed("$ba$2$00"));
    }
}
