//! Better Auth's rate-limit rules: which window and maximum a path gets.
//!
//! Paths are relative to the auth base path (`/sign-in/email`, not `/api/auth/sign-in/email`). A path is allowed
//! `max` requests; the count starts again once `window` has passed since the last allowed request.

use std::time::Duration;

/// At most `max` requests per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub window: Duration,
    pub max: u32,
}

impl Rule {
    pub const fn new(window: Duration, max: u32) -> Self {
        Self { window, max }
    }
}

/// A default rule and path-prefix rules that override it; the first matching prefix wins.
#[derive(Clone, Debug)]
pub struct Rules {
    default: Rule,
    special: Vec<(&'static str, Rule)>,
}

/// Paths that sign in or change credentials: 3 per 10 s. A social sign-in's callback counts as a sign-in (stronger
/// than Better Auth, which allows it 100 per 10 s): it is where a guessed or replayed code would be tried. The
/// two-factor plugin's routes have the same rule of their own in Better Auth.
const CREDENTIAL_PATHS: [&str; 6] = [
    "/sign-in",
    "/sign-up",
    "/change-password",
    "/change-email",
    "/callback/",
    "/two-factor/",
];

/// Paths that send mail: 3 per 60 s.
const MAIL_PATHS: [&str; 5] = [
    "/request-password-reset",
    "/send-verification-email",
    "/forget-password",
    "/email-otp/send-verification-otp",
    "/email-otp/request-password-reset",
];

impl Rules {
    /// Better Auth's defaults.
    pub fn better_auth() -> Self {
        let credentials = Rule::new(Duration::from_secs(10), 3);
        let mail = Rule::new(Duration::from_secs(60), 3);
        let special = CREDENTIAL_PATHS
            .iter()
            .map(|path| (*path, credentials))
            .chain(MAIL_PATHS.iter().map(|path| (*path, mail)))
            .collect();
        Self {
            default: Rule::new(Duration::from_secs(10), 100),
            special,
        }
    }

    /// The rule for `path` (relative to the auth base path).
    pub fn rule_for(&self, path: &str) -> Rule {
        self.special
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix))
            .map_or(self.default, |(_, rule)| *rule)
    }
}

impl Default for Rules {
    fn default() -> Self {
        Self::better_auth()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str) -> (u64, u32) {
        let rule = Rules::better_auth().rule_for(path);
        (rule.window.as_secs(), rule.max)
    }

    #[test]
    fn credential_paths_allow_three_per_ten_seconds() {
        for path in [
            "/sign-in/email",
            "/sign-up/email",
            "/sign-in/social",
            "/callback/google",
            "/callback/{provider_id}",
            "/change-password",
            "/change-email",
            "/two-factor/verify-totp",
            "/two-factor/send-otp",
        ] {
            assert_eq!(rule(path), (10, 3), "{path}");
        }
    }

    #[test]
    fn mail_sending_paths_allow_three_per_minute() {
        for path in [
            "/request-password-reset",
            "/send-verification-email",
            "/forget-password",
            "/forget-password/email-otp",
            "/email-otp/send-verification-otp",
        ] {
            assert_eq!(rule(path), (60, 3), "{path}");
        }
    }

    #[test]
    fn every_other_path_allows_a_hundred_per_ten_seconds() {
        for path in [
            "/get-session",
            "/sign-out",
            "/reset-password",
            "/verify-email",
            "",
            "/admin/list-users",
        ] {
            assert_eq!(rule(path), (10, 100), "{path}");
        }
    }

    #[test]
    fn prefixes_match_from_the_start_only() {
        assert_eq!(rule("/x/sign-in"), (10, 100));
        assert_eq!(rule("sign-in"), (10, 100));
    }
}
