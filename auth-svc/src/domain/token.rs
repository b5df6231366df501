//! Session tokens and ids: 32 characters of `[A-Za-z0-9]` from a CSPRNG, as Better Auth's `generateId(32)`.

use rand::{Rng, distr::Alphanumeric};
use warden_common::token::hash_token;

const ID_LEN: usize = 32;

/// A fresh random id (≈190 bits), also used for users, sessions and accounts.
pub fn generate_id() -> String {
    // ThreadRng is a ChaCha-based CSPRNG seeded from the OS; Alphanumeric samples without bias.
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(ID_LEN)
        .map(char::from)
        .collect()
}

/// A raw session token as presented by a client; only its hash is ever stored.
#[derive(Clone)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> Self {
        Self(generate_id())
    }

    pub fn from_presented(raw: String) -> Self {
        Self(raw)
    }

    pub fn hash(&self) -> String {
        hash_token(&self.0)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_alphanumeric_characters_and_differ() {
        let (a, b) = (generate_id(), generate_id());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
