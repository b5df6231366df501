//! Tokens: session tokens and ids, 32 characters of `[A-Za-z0-9]` from a CSPRNG as Better Auth's `generateId(32)`;
//! the reference to a session that revocation takes; and the one-off tokens of mailed links.

use rand::{Rng, distr::Alphanumeric};
use warden_common::token::{hash_token, is_token_hash};

use super::is_storable;

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

/// Better Auth's `generateRandomString` alphabet: `a-z 0-9 A-Z - _`.
pub const RANDOM_ALPHABET: &[u8] =
    b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

/// `length` characters from [`RANDOM_ALPHABET`], from the OS's CSPRNG (Better Auth's `generateRandomString`).
pub fn random_string(length: usize) -> String {
    random_string_from(length, RANDOM_ALPHABET)
}

/// `length` characters from `alphabet`, each drawn uniformly from the OS's CSPRNG.
pub fn random_string_from(length: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..length)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
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

/// A session named for revocation: by its raw token, or by the stored hash that session listings show in its place.
/// Either way it is kept as the stored hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRef(String);

impl SessionRef {
    /// `None` for an empty reference.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.is_empty() {
            return None;
        }
        let hash = if is_token_hash(raw) {
            raw.to_owned()
        } else {
            hash_token(raw)
        };
        Some(Self(hash))
    }

    /// The stored hash of the session named.
    pub fn hash(&self) -> &str {
        &self.0
    }
}

/// The token of a mailed link (email verification, password reset, account deletion); never empty, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl LinkToken {
    /// `None` for an empty token, or one no link holds: with a NUL, which the database could not even look up.
    pub fn parse(raw: String) -> Option<Self> {
        (!raw.is_empty() && is_storable(&raw)).then_some(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ids_are_32_alphanumeric_characters_and_differ() {
        let (a, b) = (generate_id(), generate_id());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_session_is_named_by_its_token_or_its_hash_alike() {
        let token = SessionToken::generate();
        let by_token = SessionRef::parse(token.expose()).unwrap();
        let by_hash = SessionRef::parse(&token.hash()).unwrap();
        assert_eq!(by_token.hash(), token.hash());
        assert_eq!(by_token, by_hash);
        assert_eq!(SessionRef::parse(""), None);
    }

    #[test]
    fn empty_link_tokens_are_refused_and_none_is_shown() {
        assert_eq!(LinkToken::parse(String::new()), None);
        assert_eq!(LinkToken::parse("abc\0".into()), None);
        let token = LinkToken::parse("abc".into()).unwrap();
        assert_eq!(token.expose(), "abc");
        assert_eq!(format!("{token:?}"), "LinkToken([redacted])");
    }

    proptest! {
        #[test]
        fn any_reference_becomes_a_stored_hash(raw in any::<String>()) {
            match SessionRef::parse(&raw) {
                None => prop_assert!(raw.is_empty()),
                Some(reference) => {
                    prop_assert!(is_token_hash(reference.hash()));
                    // A hash names itself; anything else is a raw token and is hashed.
                    let expected = if is_token_hash(&raw) { raw.clone() } else { hash_token(&raw) };
                    prop_assert_eq!(reference.hash(), expected.as_str());
                    prop_assert_eq!(SessionRef::parse(reference.hash()), Some(reference.clone()));
                }
            }
        }

        #[test]
        fn link_tokens_keep_any_non_empty_text_without_a_nul(raw in any::<String>()) {
            let token = LinkToken::parse(raw.clone());
            prop_assert_eq!(token.is_some(), !raw.is_empty() && !raw.contains('\0'));
            if let Some(token) = token {
                prop_assert_eq!(token.expose(), raw.as_str());
            }
        }
    }
}
