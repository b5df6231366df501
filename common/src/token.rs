//! Credentials at rest: session tokens as SHA-256 in lower-case hex, API keys as SHA-256 in base64url.

use sha2::{Digest, Sha256};

/// The stored form of a session token, also its cache key.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The stored form of an API key, as Better Auth's api-key plugin stores it: SHA-256, base64url without padding.
/// Keys are looked up by this alone.
pub fn hash_api_key(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(key.as_bytes()))
}

/// Whether a bearer credential is shaped like an API key rather than a session token: no `.` (a signed session token
/// has one, a JWT two), nothing but letters, digits, `_` and `-`, and at least 64 characters (a key is 64 random
/// letters after its prefix; a session token 32 characters).
pub fn is_api_key_shaped(value: &str) -> bool {
    value.len() >= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `value` already looks like a stored hash (64 lower-case hex digits).
pub fn is_token_hash(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_token_hash(&hash_token("anything")));
        assert!(!is_token_hash("g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd"));
    }

    #[test]
    fn keys_and_session_tokens_are_told_apart_by_shape() {
        let key = format!("wd_{}", "a".repeat(64));
        assert!(is_api_key_shaped(&key));
        assert!(is_api_key_shaped(&"Z".repeat(64)));
        assert!(!is_api_key_shaped("g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd"));
        assert!(!is_api_key_shaped(&format!("{}.sig", "a".repeat(64))));
        assert!(!is_api_key_shaped(&"a".repeat(63)));
    }

    #[test]
    fn api_keys_hash_as_the_package_hashes_them() {
        // SHA-256("abc") in base64url without padding, as @better-auth/api-key's defaultKeyHasher writes it.
        assert_eq!(
            hash_api_key("abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}
