//! Reading the secrets from settings: `AUTH_SECRET` alone, or a rotation list in `AUTH_SECRETS`.
//!
//! `AUTH_SECRETS` (Better Auth's `BETTER_AUTH_SECRETS`) is a comma list, newest first. Each entry is
//! `<version>:<secret>` as Better Auth writes it, or a bare secret; the version is what Better Auth puts in the
//! `$ba$<version>$` envelope of what it encrypts. The first entry signs and encrypts, so it must be a full-length
//! secret; older ones only verify and decrypt. `AUTH_SECRET`, when also set and not already listed, verifies too,
//! last: it is Better Auth's `legacySecret`, the one that encrypted everything written before versions existed.

use secrecy::{ExposeSecret, SecretString};

use super::{AuthSecret, Entry, MIN_SECRET_LEN};

/// Why the secret settings cannot be used. Never holds a secret. [`SecretsError::variable`] names the setting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    #[error("is required (BETTER_AUTH_SECRET is also read; AUTH_SECRETS holds several)")]
    Missing,
    #[error("must be at least {MIN_SECRET_LEN} characters")]
    TooShort,
    #[error("lists no secret")]
    EmptyList,
    #[error(
        "must start with a secret of at least {MIN_SECRET_LEN} characters (the first one signs)"
    )]
    CurrentTooShort,
    #[error("entry {position} has no secret after its version")]
    EmptyEntry { position: usize },
    #[error("entry {position} has a version that is not a number from 0 to 4294967295")]
    BadVersion { position: usize },
    #[error("version {version} is listed twice")]
    DuplicateVersion { version: u32 },
}

impl SecretsError {
    /// The environment variable at fault.
    pub fn variable(&self) -> &'static str {
        match self {
            Self::Missing | Self::TooShort => "AUTH_SECRET",
            _ => "AUTH_SECRETS",
        }
    }
}

impl AuthSecret {
    /// The secrets a deployment is configured with: `secrets` is `AUTH_SECRETS` (newest first), `secret` is
    /// `AUTH_SECRET`. Either may be absent, not both.
    pub fn from_settings(
        secrets: Option<&SecretString>,
        secret: Option<SecretString>,
    ) -> Result<Self, SecretsError> {
        let secret = secret.filter(|secret| !secret.expose_secret().is_empty());
        let list = secrets.filter(|list| !list.expose_secret().trim().is_empty());
        let Some(list) = list else {
            let secret = secret.ok_or(SecretsError::Missing)?;
            return Self::parse(secret).map_err(|_| SecretsError::TooShort);
        };
        let mut entries = parse_list(list.expose_secret())?;
        if entries[0].value.expose_secret().chars().count() < MIN_SECRET_LEN {
            return Err(SecretsError::CurrentTooShort);
        }
        if let Some(legacy) = secret {
            let listed = entries
                .iter()
                .any(|entry| entry.value.expose_secret() == legacy.expose_secret());
            if !listed {
                entries.push(Entry {
                    version: None,
                    value: legacy,
                });
            }
        }
        Ok(Self {
            entries: entries.into(),
        })
    }
}

fn parse_list(list: &str) -> Result<Vec<Entry>, SecretsError> {
    let mut entries: Vec<Entry> = Vec::new();
    let items = list
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty());
    for (index, item) in items.enumerate() {
        let position = index + 1;
        let entry = match item.split_once(':') {
            Some((version, value))
                if !version.trim().is_empty()
                    && version.trim().bytes().all(|b| b.is_ascii_digit()) =>
            {
                let version = version
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| SecretsError::BadVersion { position })?;
                let value = value.trim();
                if value.is_empty() {
                    return Err(SecretsError::EmptyEntry { position });
                }
                if entries.iter().any(|entry| entry.version == Some(version)) {
                    return Err(SecretsError::DuplicateVersion { version });
                }
                Entry {
                    version: Some(version),
                    value: value.to_owned().into(),
                }
            }
            _ => Entry {
                version: None,
                value: item.to_owned().into(),
            },
        };
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err(SecretsError::EmptyList);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: &str = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn";
    const OLD: &str = "oooooooooooooooooooooooooooooooo";

    fn settings(list: Option<&str>, secret: Option<&str>) -> Result<AuthSecret, SecretsError> {
        let list = list.map(|list| SecretString::from(list.to_owned()));
        AuthSecret::from_settings(list.as_ref(), secret.map(|s| s.to_owned().into()))
    }

    fn listed(secret: &AuthSecret) -> Vec<(Option<u32>, String)> {
        secret
            .expose_all()
            .map(|(version, value)| (version, value.to_owned()))
            .collect()
    }

    #[test]
    fn a_single_secret_is_the_signing_one() {
        let secret = settings(None, Some(OLD)).unwrap();
        assert_eq!(listed(&secret), [(None, OLD.to_owned())]);
        assert_eq!(secret.current_version(), None);
    }

    #[test]
    fn better_auth_versioned_entries_keep_their_order_and_versions() {
        let secret = settings(Some(&format!("2:{NEW}, 1:{OLD}")), None).unwrap();
        assert_eq!(
            listed(&secret),
            [(Some(2), NEW.to_owned()), (Some(1), OLD.to_owned())]
        );
        assert_eq!(secret.expose(), NEW);
        assert_eq!(secret.current_version(), Some(2));
    }

    #[test]
    fn bare_secrets_may_be_listed_without_versions() {
        let secret = settings(Some(&format!("{NEW},{OLD},")), None).unwrap();
        assert_eq!(
            listed(&secret),
            [(None, NEW.to_owned()), (None, OLD.to_owned())]
        );
    }

    #[test]
    fn auth_secret_verifies_last_unless_already_listed() {
        let legacy = "l".repeat(20);
        let secret = settings(Some(&format!("3:{NEW}")), Some(&legacy)).unwrap();
        assert_eq!(
            listed(&secret),
            [(Some(3), NEW.to_owned()), (None, legacy.clone())]
        );
        let secret = settings(Some(&format!("3:{NEW},2:{OLD}")), Some(OLD)).unwrap();
        assert_eq!(secret.len(), 2);
    }

    #[test]
    fn only_the_signing_secret_needs_full_length() {
        assert!(settings(Some(&format!("2:{NEW},1:short")), None).is_ok());
        assert_eq!(
            settings(Some(&format!("2:short,1:{NEW}")), None).unwrap_err(),
            SecretsError::CurrentTooShort
        );
        assert_eq!(
            settings(None, Some("short")).unwrap_err(),
            SecretsError::TooShort
        );
    }

    #[test]
    fn malformed_lists_are_refused_naming_auth_secrets() {
        for (list, error) in [
            (
                format!("1:{NEW},1:{OLD}"),
                SecretsError::DuplicateVersion { version: 1 },
            ),
            (
                format!("{NEW},2:"),
                SecretsError::EmptyEntry { position: 2 },
            ),
            (
                format!("99999999999:{NEW}"),
                SecretsError::BadVersion { position: 1 },
            ),
        ] {
            let got = settings(Some(&list), None).unwrap_err();
            assert_eq!(got, error);
            assert_eq!(got.variable(), "AUTH_SECRETS");
            assert!(!got.to_string().contains(NEW));
        }
        assert_eq!(
            settings(Some(" , "), None).unwrap_err(),
            SecretsError::EmptyList
        );
    }

    #[test]
    fn no_secret_at_all_names_auth_secret() {
        let error = settings(None, None).unwrap_err();
        assert_eq!(error, SecretsError::Missing);
        assert_eq!(error.variable(), "AUTH_SECRET");
    }

    #[test]
    fn a_value_signed_with_an_older_secret_verifies_and_new_ones_use_the_newest() {
        let old = AuthSecret::parse(OLD.to_owned().into()).unwrap();
        let rotated = settings(Some(&format!("2:{NEW},1:{OLD}")), None).unwrap();
        let signed_before = old.sign("token");
        assert_eq!(rotated.verify(&signed_before).as_deref(), Some("token"));
        let signed_now = rotated.sign("token");
        assert_ne!(signed_now, signed_before);
        assert_eq!(old.verify(&signed_now), None);
        let newest = AuthSecret::parse(NEW.to_owned().into()).unwrap();
        assert_eq!(newest.verify(&signed_now).as_deref(), Some("token"));
        let cookie = old.sign_cookie("abc");
        assert_eq!(rotated.verify_cookie(&cookie).as_deref(), Some("abc"));
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let secret = settings(Some(&format!("2:{NEW},1:{OLD}")), None).unwrap();
        let debug = format!("{secret:?}");
        assert!(!debug.contains(NEW) && !debug.contains(OLD), "{debug}");
    }
}
