//! Users and sessions as the service handles (and caches) them.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

/// Now, at the millisecond precision that Better Auth's JSON dates carry.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub role: Option<String>,
    pub banned: Option<bool>,
    pub ban_reason: Option<String>,
    pub ban_expires: Option<DateTime<Utc>>,
    /// The two-factor plugin's flag: on once a second factor is verified. `None` in rows written before the plugin
    /// was installed.
    #[serde(default)]
    pub two_factor_enabled: Option<bool>,
}

impl UserRecord {
    /// Whether the user is banned at `at`: a ban whose time has passed no longer counts.
    pub fn is_banned(&self, at: DateTime<Utc>) -> bool {
        self.banned == Some(true) && self.ban_expires.is_none_or(|expires| expires > at)
    }
}

/// A session; `token_hash` is what is stored, never the raw token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: String,
    pub token_hash: String,
    pub user_id: String,
    pub expires_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub impersonated_by: Option<String>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn user(banned: Option<bool>, expires: Option<DateTime<Utc>>) -> UserRecord {
        let now = now();
        UserRecord {
            id: "u1".into(),
            name: "A".into(),
            email: "a@example.com".into(),
            email_verified: false,
            image: None,
            created_at: now,
            updated_at: now,
            role: Some("user".into()),
            banned,
            ban_reason: None,
            ban_expires: expires,
            two_factor_enabled: Some(false),
        }
    }

    #[test]
    fn a_ban_counts_until_its_time_has_passed() {
        let now = now();
        assert!(user(Some(true), None).is_banned(now));
        assert!(user(Some(true), Some(now + TimeDelta::seconds(1))).is_banned(now));
        assert!(!user(Some(true), Some(now - TimeDelta::seconds(1))).is_banned(now));
        assert!(!user(Some(false), None).is_banned(now));
        assert!(!user(None, None).is_banned(now));
    }
}
