//! Session tokens at rest: SHA-256, lower-case hex.

use sha2::{Digest, Sha256};

/// The stored form of a session token, also its cache key.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
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
}
