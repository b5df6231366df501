//! Proto `User` and `Session` rendered as Better Auth's JSON: camelCase keys, nullable fields present as `null`,
//! dates in JavaScript's `toISOString()` form (`2026-11-23T11:08:21.797Z`).

use chrono::SecondsFormat;
use serde::Serialize;
use warden_common::settings::{Plugin, Plugins};
use warden_proto::auth::v1 as pb;

/// The type name zod reports for a value it did not expect (`None`: absent, zod's `undefined`), as Better Auth's
/// validation messages and the transcoded routes' say it.
pub fn received(value: Option<&serde_json::Value>) -> &'static str {
    use serde_json::Value;
    match value {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub role: Option<String>,
    pub banned: Option<bool>,
    pub ban_reason: Option<String>,
    pub ban_expires: Option<String>,
    /// The two-factor plugin's field: present (`null` for rows from before the plugin) only while it is served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_factor_enabled: Option<Option<bool>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub token: String,
    pub user_id: String,
    pub expires_at: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub impersonated_by: Option<String>,
}

/// `get-session`'s body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionWithUser {
    pub session: Session,
    pub user: User,
}

/// A timestamp as `Date.prototype.toISOString()` writes it; `None` when absent or out of range.
pub fn iso_date(timestamp: Option<&prost_types::Timestamp>) -> Option<String> {
    let date = warden_proto::time::from_timestamp(timestamp?)?;
    Some(date.to_rfc3339_opts(SecondsFormat::Millis, true))
}

impl User {
    /// The user as Better Auth with `plugins` renders it: a plugin's fields only while it is served.
    pub fn new(user: pb::User, plugins: Plugins) -> Self {
        Self {
            two_factor_enabled: plugins
                .is_enabled(Plugin::TwoFactor)
                .then_some(user.two_factor_enabled),
            created_at: iso_date(user.created_at.as_ref()),
            updated_at: iso_date(user.updated_at.as_ref()),
            ban_expires: iso_date(user.ban_expires.as_ref()),
            id: user.id,
            name: user.name,
            email: user.email,
            email_verified: user.email_verified,
            image: user.image,
            role: user.role,
            banned: user.banned,
            ban_reason: user.ban_reason,
        }
    }
}

impl From<pb::Session> for Session {
    fn from(session: pb::Session) -> Self {
        Self {
            expires_at: iso_date(session.expires_at.as_ref()),
            created_at: iso_date(session.created_at.as_ref()),
            updated_at: iso_date(session.updated_at.as_ref()),
            id: session.id,
            token: session.token,
            user_id: session.user_id,
            ip_address: session.ip_address,
            user_agent: session.user_agent,
            impersonated_by: session.impersonated_by,
        }
    }
}

#[cfg(test)]
mod tests {
    use prost_types::Timestamp;
    use serde_json::json;

    use super::*;

    fn at(seconds: i64, nanos: i32) -> Option<Timestamp> {
        Some(Timestamp { seconds, nanos })
    }

    #[test]
    fn dates_have_milliseconds_and_z() {
        // 2026-11-23T11:08:21.797Z
        assert_eq!(
            iso_date(at(1_795_432_101, 797_654_321).as_ref()).as_deref(),
            Some("2026-11-23T11:08:21.797Z")
        );
        assert_eq!(
            iso_date(at(0, 0).as_ref()).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(iso_date(None), None);
        assert_eq!(iso_date(at(0, -1).as_ref()), None);
    }

    #[test]
    fn a_user_has_every_better_auth_key_with_nulls_present() {
        let user = pb::User {
            id: "u1".into(),
            name: "Alice".into(),
            email: "alice@example.com".into(),
            email_verified: false,
            image: None,
            created_at: at(1_795_432_101, 797_000_000),
            updated_at: at(1_795_432_101, 797_000_000),
            role: Some("user".into()),
            banned: Some(false),
            ban_reason: None,
            ban_expires: None,
            two_factor_enabled: Some(true),
        };
        let without = Plugins::parse("admin,jwt").unwrap();
        assert_eq!(
            serde_json::to_value(User::new(user.clone(), without)).unwrap(),
            json!({
                "id": "u1", "name": "Alice", "email": "alice@example.com", "emailVerified": false, "image": null,
                "createdAt": "2026-11-23T11:08:21.797Z", "updatedAt": "2026-11-23T11:08:21.797Z",
                "role": "user", "banned": false, "banReason": null, "banExpires": null
            })
        );
        let with = Plugins::parse("admin,jwt,two-factor").unwrap();
        let rendered = serde_json::to_value(User::new(user.clone(), with)).unwrap();
        assert_eq!(rendered["twoFactorEnabled"], json!(true));
        let before_the_plugin = pb::User {
            two_factor_enabled: None,
            ..user
        };
        let rendered = serde_json::to_value(User::new(before_the_plugin, with)).unwrap();
        assert_eq!(rendered["twoFactorEnabled"], json!(null));
    }

    #[test]
    fn a_session_has_every_better_auth_key_with_nulls_present() {
        let session = pb::Session {
            id: "s1".into(),
            token: "tok".into(),
            user_id: "u1".into(),
            expires_at: at(1_796_036_901, 804_000_000),
            ip_address: Some(String::new()),
            user_agent: None,
            created_at: at(1_795_432_101, 804_000_000),
            updated_at: at(1_795_432_101, 804_000_000),
            impersonated_by: None,
        };
        assert_eq!(
            serde_json::to_value(Session::from(session)).unwrap(),
            json!({
                "id": "s1", "token": "tok", "userId": "u1", "expiresAt": "2026-11-30T11:08:21.804Z",
                "ipAddress": "", "userAgent": null,
                "createdAt": "2026-11-23T11:08:21.804Z", "updatedAt": "2026-11-23T11:08:21.804Z",
                "impersonatedBy": null
            })
        );
    }
}
