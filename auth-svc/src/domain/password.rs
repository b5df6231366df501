//! Passwords as requests carry them, and Better Auth's length rules, counted as it counts them: JavaScript
//! `.length`, i.e. UTF-16 code units.
//!
//! A [`Password`] is any text: constructing one checks nothing, so each route applies the length rule it needs at
//! the point Better Auth does (change-password checks the session before the new password's length, for instance).

use secrecy::{ExposeSecret, SecretString};

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 128;

/// A password from a request; the text never reaches a log (no `Debug` shows it).
pub struct Password(SecretString);

#[derive(Debug, PartialEq, Eq)]
pub enum PasswordLength {
    TooShort,
    TooLong,
}

impl Password {
    pub fn new(secret: SecretString) -> Self {
        Self(secret)
    }

    /// Sign-up and password changes: 8..=128 UTF-16 code units.
    pub fn check_new(&self) -> Result<(), PasswordLength> {
        match utf16_len(self.expose()) {
            n if n < MIN_PASSWORD_LEN => Err(PasswordLength::TooShort),
            n if n > MAX_PASSWORD_LEN => Err(PasswordLength::TooLong),
            _ => Ok(()),
        }
    }

    /// Sign-in and password confirmations check only the maximum: a short password is simply a wrong one.
    pub fn check_candidate(&self) -> Result<(), PasswordLength> {
        if utf16_len(self.expose()) > MAX_PASSWORD_LEN {
            return Err(PasswordLength::TooLong);
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for Password {
    fn from(raw: String) -> Self {
        Self(raw.into())
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(text: &str) -> Password {
        Password::from(text.to_owned())
    }

    #[test]
    fn lengths_count_utf16_code_units() {
        // Each emoji is two UTF-16 code units: four of them make eight.
        assert_eq!(password("😀😀😀😀").check_new(), Ok(()));
        assert_eq!(
            password("😀😀😀").check_new(),
            Err(PasswordLength::TooShort)
        );
        assert_eq!(password(&"a".repeat(128)).check_new(), Ok(()));
        assert_eq!(
            password(&"😀".repeat(65)).check_new(),
            Err(PasswordLength::TooLong)
        );
    }

    #[test]
    fn candidates_may_be_short_but_not_long() {
        assert_eq!(password("x").check_candidate(), Ok(()));
        assert_eq!(password("").check_candidate(), Ok(()));
        assert_eq!(
            password(&"a".repeat(129)).check_candidate(),
            Err(PasswordLength::TooLong)
        );
    }

    #[test]
    fn any_text_is_a_password_and_debug_never_shows_it() {
        let secret = password("hunter2 hunter2");
        assert_eq!(secret.expose(), "hunter2 hunter2");
        assert!(!secret.is_empty());
        assert!(password("").is_empty());
        assert_eq!(format!("{secret:?}"), "Password([redacted])");
    }
}
