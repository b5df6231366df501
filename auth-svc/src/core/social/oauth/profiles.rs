//! Claims and profile answers mapped to a [`ProviderUser`] as Better Auth maps them (§5.5).

use serde_json::{Map, Value};

use super::ProviderUser;
use super::claims::{non_empty, string_bool, subject_of, text};
use super::fault::Fault;

pub(super) fn holds_sub_and_email(claims: &Map<String, Value>) -> bool {
    subject_of(claims.get("sub")).is_some() && non_empty(claims, "email").is_some()
}

/// Google's user from its ID token's claims (§5.5): `sub`, `email`, `email_verified`, `name`, `picture`.
pub(super) fn google_user(claims: Map<String, Value>) -> Result<ProviderUser, Fault> {
    Ok(ProviderUser {
        account_id: subject_of(claims.get("sub")).ok_or(Fault::Missing("sub"))?,
        email: non_empty(&claims, "email"),
        email_verified: string_bool(claims.get("email_verified")).unwrap_or(false),
        name: non_empty(&claims, "name").unwrap_or_default(),
        image: non_empty(&claims, "picture"),
        raw: Value::Object(claims),
    })
}

/// A generic provider's profile from ID-token claims, as Better Auth builds it: `id`, `emailVerified` and `image`
/// from the claims, then the claims themselves over them.
pub(super) fn profile_from_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    let mut profile = Map::new();
    if let Some(sub) = claims.get("sub") {
        profile.insert("id".into(), sub.clone());
    }
    let verified = string_bool(claims.get("email_verified")).unwrap_or(false);
    profile.insert("emailVerified".into(), verified.into());
    if let Some(picture) = claims.get("picture") {
        profile.insert("image".into(), picture.clone());
    }
    profile.extend(claims.clone());
    profile
}

/// A generic provider's profile from its userinfo answer, as Better Auth builds it: the answer with
/// `emailVerified` from `email_verified` and `image` from `picture` (none when there is no picture).
pub(super) fn profile_from_userinfo(answer: Value) -> Result<Map<String, Value>, Fault> {
    let Value::Object(mut profile) = answer else {
        return Err(Fault::Invalid("userinfo answer"));
    };
    let verified = string_bool(profile.get("email_verified")).unwrap_or(false);
    profile.insert("emailVerified".into(), verified.into());
    match profile.get("picture").cloned() {
        Some(picture) if !picture.is_null() => profile.insert("image".into(), picture),
        _ => profile.remove("image"),
    };
    Ok(profile)
}

/// A generic provider's user from its profile (§5.5): `email`, `emailVerified`, `image`, `name` (or "").
pub(super) fn generic_user(
    profile: Map<String, Value>,
    account_id: Option<String>,
) -> Result<ProviderUser, Fault> {
    Ok(ProviderUser {
        account_id: account_id.ok_or(Fault::Missing("an account subject"))?,
        email: non_empty(&profile, "email"),
        email_verified: string_bool(profile.get("emailVerified")).unwrap_or(false),
        name: non_empty(&profile, "name").unwrap_or_default(),
        image: non_empty(&profile, "image"),
        raw: Value::Object(profile),
    })
}

/// GitHub's user from `/user` and, when it answered, `/user/emails` (§5.5): the profile's email, else the primary
/// entry's, else the first entry's; verified only when the entry with exactly that email says so; `name`, else
/// `login`, else ""; `String(id)`.
pub(super) fn github_user(profile: Value, emails: Option<Value>) -> Result<ProviderUser, Fault> {
    let Value::Object(mut profile) = profile else {
        return Err(Fault::Invalid("GitHub /user answer"));
    };
    let emails: Option<Vec<&Map<String, Value>>> = emails
        .as_ref()
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_object).collect());
    if let Some(emails) = &emails
        && non_empty(&profile, "email").is_none()
    {
        let chosen = emails
            .iter()
            .find(|entry| entry.get("primary").and_then(Value::as_bool) == Some(true))
            .or(emails.first())
            .and_then(|entry| entry.get("email"))
            .cloned();
        // Better Auth assigns `undefined` when no entry has an email, which drops the member from the profile.
        match chosen {
            Some(email) => profile.insert("email".into(), email),
            None => profile.remove("email"),
        };
    }
    let email = non_empty(&profile, "email");
    let email_verified = email.as_deref().is_some_and(|email| {
        emails
            .iter()
            .flatten()
            .find(|entry| text(entry, "email") == Some(email))
            .and_then(|entry| entry.get("verified"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    });
    Ok(ProviderUser {
        account_id: subject_of(profile.get("id")).ok_or(Fault::Missing("id"))?,
        email,
        email_verified,
        name: non_empty(&profile, "name")
            .or_else(|| non_empty(&profile, "login"))
            .unwrap_or_default(),
        image: non_empty(&profile, "avatar_url"),
        raw: Value::Object(profile),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn github_takes_the_profile_email_else_the_primary_else_the_first() {
        let emails = json!([
            {"email": "work@example.com", "primary": false, "verified": true},
            {"email": "gina@example.com", "primary": true, "verified": true},
        ]);
        let own = github_user(
            json!({"id": 1234567, "login": "gina", "name": "Gina", "email": "gina@example.com",
                   "avatar_url": "https://a/u"}),
            Some(emails.clone()),
        )
        .unwrap();
        assert_eq!(own.account_id, "1234567");
        assert_eq!(own.email.as_deref(), Some("gina@example.com"));
        assert!(own.email_verified);
        assert_eq!(own.name, "Gina");
        assert_eq!(own.image.as_deref(), Some("https://a/u"));

        let primary = github_user(
            json!({"id": 1, "login": "gina", "email": null}),
            Some(emails),
        )
        .unwrap();
        assert_eq!(primary.email.as_deref(), Some("gina@example.com"));
        assert!(primary.email_verified);
        assert_eq!(primary.raw["email"], "gina@example.com");

        let first = github_user(
            json!({"id": 1, "login": "gina", "email": ""}),
            Some(json!([{"email": "a@example.com", "primary": false, "verified": false}, {"email": "b@example.com"}])),
        )
        .unwrap();
        assert_eq!(first.email.as_deref(), Some("a@example.com"));
        assert!(!first.email_verified);
    }

    #[test]
    fn github_verifies_only_the_exactly_matching_email() {
        let user = github_user(
            json!({"id": "7", "login": "gina", "email": "Gina@Example.com"}),
            Some(json!([{"email": "gina@example.com", "primary": true, "verified": true}])),
        )
        .unwrap();
        assert_eq!(user.email.as_deref(), Some("Gina@Example.com"));
        assert!(!user.email_verified);
    }

    #[test]
    fn github_without_emails_has_none_and_names_fall_back_to_the_login() {
        let failed = github_user(json!({"id": 2, "login": "daveg", "name": null}), None).unwrap();
        assert_eq!(failed.email, None);
        assert!(!failed.email_verified);
        assert_eq!(failed.name, "daveg");

        let empty = github_user(json!({"id": 2, "email": null}), Some(json!([]))).unwrap();
        assert_eq!(empty.email, None);
        assert_eq!(empty.name, "");
        assert!(empty.raw.get("email").is_none());

        assert!(github_user(json!({"login": "no-id"}), None).is_err());
        assert!(github_user(json!("not a profile"), None).is_err());
    }

    #[test]
    fn generic_profiles_are_better_auths() {
        let userinfo = profile_from_userinfo(json!({
            "sub": "alice", "email": "alice@example.com", "email_verified": "true", "name": "Alice OIDC",
            "picture": "http://op/alice.png", "image": "overwritten"
        }))
        .unwrap();
        assert_eq!(userinfo["emailVerified"], true);
        assert_eq!(userinfo["image"], "http://op/alice.png");
        let user = generic_user(userinfo, Some("alice".into())).unwrap();
        assert!(user.email_verified);
        assert_eq!(user.name, "Alice OIDC");
        assert_eq!(user.image.as_deref(), Some("http://op/alice.png"));

        let bare =
            profile_from_userinfo(json!({"id": 42, "image": "kept?", "email_verified": "yes"}))
                .unwrap();
        assert!(bare.get("image").is_none());
        assert_eq!(bare["emailVerified"], false);
        let user = generic_user(bare, subject_of(Some(&json!(42)))).unwrap();
        assert_eq!(user.account_id, "42");
        assert_eq!(user.name, "");

        let claims = json!({"sub": "bob", "email": "bob@example.com", "email_verified": true, "picture": "p"});
        let profile = profile_from_claims(claims.as_object().unwrap());
        assert_eq!(profile["id"], "bob");
        assert_eq!(profile["emailVerified"], true);
        assert_eq!(profile["image"], "p");

        for nothing in [
            json!(""),
            json!("undefined"),
            json!("null"),
            json!(null),
            json!(true),
        ] {
            assert_eq!(subject_of(Some(&nothing)), None, "{nothing}");
        }
        assert!(generic_user(Map::new(), None).is_err());
    }
}
