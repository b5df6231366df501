//! Backup codes as Better Auth makes and keeps them: ten codes of ten characters from `a-z 0-9 A-Z`, shown as
//! `xxxxx-xxxxx`, stored as a JSON array sealed under the secret (its `storeBackupCodes: "encrypted"` default).

use subtle::ConstantTimeEq;
use warden_common::AuthSecret;

use crate::{core::sealed, domain::random_string_from};

const AMOUNT: usize = 10;
const LENGTH: usize = 10;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A user's backup codes, opened. No `Debug`: they are credentials.
pub struct BackupCodes(Vec<String>);

impl BackupCodes {
    pub fn generate() -> Self {
        Self(
            (0..AMOUNT)
                .map(|_| {
                    let code = random_string_from(LENGTH, ALPHABET);
                    format!("{}-{}", &code[..5], &code[5..])
                })
                .collect(),
        )
    }

    /// The codes of a stored column: sealed JSON, or (rows written with `storeBackupCodes: "plain"`) plain JSON.
    pub fn open(secret: &AuthSecret, stored: &str) -> Option<Self> {
        let json = if sealed::looks_sealed(stored) {
            sealed::open(secret, stored)?
        } else {
            stored.to_owned()
        };
        serde_json::from_str(&json).ok().map(Self)
    }

    pub fn seal(&self, secret: &AuthSecret) -> String {
        let json = serde_json::to_string(&self.0).expect("strings serialise");
        sealed::seal(secret, &json)
    }

    /// The codes left once `code` is spent, or `None` when it is not one of them. Every code is compared in
    /// constant time.
    pub fn spend(&self, code: &str) -> Option<Self> {
        let mut found = false;
        for candidate in &self.0 {
            found |= bool::from(candidate.as_bytes().ct_eq(code.as_bytes()));
        }
        found.then(|| Self(self.0.iter().filter(|c| *c != code).cloned().collect()))
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn secret() -> AuthSecret {
        AuthSecret::parse(SecretString::from(
            "a-test-secret-that-is-long-enough-0123456789",
        ))
        .unwrap()
    }

    #[test]
    fn ten_codes_of_two_halves() {
        let codes = BackupCodes::generate().into_vec();
        assert_eq!(codes.len(), 10);
        for code in &codes {
            let (a, b) = code.split_once('-').unwrap();
            assert_eq!((a.len(), b.len()), (5, 5), "{code}");
            assert!(a.bytes().chain(b.bytes()).all(|c| ALPHABET.contains(&c)));
        }
    }

    #[test]
    fn a_code_is_spent_once() {
        let codes = BackupCodes::generate();
        let first = codes.0[0].clone();
        let left = codes.spend(&first).unwrap();
        assert_eq!(left.0.len(), 9);
        assert!(left.spend(&first).is_none());
        assert!(codes.spend("nope").is_none());
    }

    #[test]
    fn sealed_codes_open_again_and_plain_json_is_read() {
        let codes = BackupCodes::generate();
        let stored = codes.seal(&secret());
        assert!(!stored.contains(&codes.0[0]));
        assert_eq!(BackupCodes::open(&secret(), &stored).unwrap().0, codes.0);
        let plain = serde_json::to_string(&codes.0).unwrap();
        assert_eq!(BackupCodes::open(&secret(), &plain).unwrap().0, codes.0);
    }
}
