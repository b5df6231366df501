//! Passwords, counted as Better Auth counts them: JavaScript `.length`, i.e. UTF-16 code units.

use secrecy::{ExposeSecret, SecretString};

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 128;

/// A password whose length has been checked; the text never reaches a log.
pub struct Password(SecretString);

#[derive(Debug, PartialEq, Eq)]
pub enum PasswordLength {
    TooShort,
    TooLong,
}

impl Password {
    /// Sign-up and password changes: 8..=128 UTF-16 code units.
    pub fn new_password(raw: String) -> Result<Self, PasswordLength> {
        match utf16_len(&raw) {
            n if n < MIN_PASSWORD_LEN => Err(PasswordLength::TooShort),
            n if n > MAX_PASSWORD_LEN => Err(PasswordLength::TooLong),
            _ => Ok(Self(raw.into())),
        }
    }

    /// Sign-in checks only the maximum: a short password is simply a wrong one.
    pub fn candidate(raw: String) -> Result<Self, PasswordLength> {
        if utf16_len(&raw) > MAX_PASSWORD_LEN {
            return Err(PasswordLength::TooLong);
        }
        Ok(Self(raw.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_utf16_code_units() {
        // Each emoji is two UTF-16 code units: four of them make eight.
        assert!(Password::new_password("😀😀😀😀".into()).is_ok());
        assert_eq!(
            Password::new_password("😀😀😀".into()).err(),
            Some(PasswordLength::TooShort)
        );
        assert!(Password::new_password("a".repeat(128)).is_ok());
        assert_eq!(
            Password::new_password("😀".repeat(65)).err(),
            Some(PasswordLength::TooLong)
        );
    }

    #[test]
    fn sign_in_accepts_short_candidates_but_not_long_ones() {
        assert!(Password::candidate("x".into()).is_ok());
        assert_eq!(
            Password::candidate("a".repeat(129)).err(),
            Some(PasswordLength::TooLong)
        );
    }
}
