//! `PLUGINS`: which of Better Auth's plugins a deployment serves.

use std::fmt;
use std::str::FromStr;

use super::{SettingsError, split_list};

/// A Better Auth plugin Warden implements, by its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Plugin {
    Admin,
    Jwt,
    TwoFactor,
    Passkey,
    Organization,
    ApiKey,
}

impl Plugin {
    pub const ALL: [Plugin; 6] = [
        Plugin::Admin,
        Plugin::Jwt,
        Plugin::TwoFactor,
        Plugin::Passkey,
        Plugin::Organization,
        Plugin::ApiKey,
    ];

    /// Better Auth's id of the plugin (`two-factor`, `api-key`, …).
    pub fn id(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Jwt => "jwt",
            Self::TwoFactor => "two-factor",
            Self::Passkey => "passkey",
            Self::Organization => "organization",
            Self::ApiKey => "api-key",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Plugin {
    type Err = SettingsError;

    fn from_str(id: &str) -> Result<Self, SettingsError> {
        let id = id.trim();
        Self::ALL
            .into_iter()
            .find(|plugin| plugin.id().eq_ignore_ascii_case(id))
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|plugin| plugin.id()).collect();
                SettingsError::new(
                    "PLUGINS",
                    format!("`{id}` is not a plugin (known: {})", known.join(", ")),
                )
            })
    }
}

/// The plugins switched on: every one unless `PLUGINS` lists some (an empty list: none); and the one plugin option
/// both the gateway and auth-svc must agree on, `API_KEY_SESSIONS`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Plugins(u8, bool);

impl Plugins {
    pub fn all() -> Self {
        Self(
            Plugin::ALL
                .iter()
                .fold(0, |bits, plugin| bits | plugin.bit()),
            false,
        )
    }

    pub fn none() -> Self {
        Self(0, false)
    }

    /// The api-key plugin's `enableSessionForAPIKeys`: `x-api-key` stands for its owner's session on Better Auth's
    /// routes (`API_KEY_SESSIONS`; off, as in the package).
    pub fn with_api_key_sessions(self, on: bool) -> Self {
        Self(self.0, on)
    }

    /// Whether `x-api-key` stands for a session on Better Auth's routes (the api-key plugin served, and
    /// `API_KEY_SESSIONS` on).
    pub fn api_key_sessions(self) -> bool {
        self.1 && self.is_enabled(Plugin::ApiKey)
    }

    /// A comma list of ids; errors name `PLUGINS`.
    pub fn parse(list: &str) -> Result<Self, SettingsError> {
        split_list(list)
            .iter()
            .try_fold(Self::none(), |plugins, id| Ok(plugins.with(id.parse()?)))
    }

    pub fn with(self, plugin: Plugin) -> Self {
        Self(self.0 | plugin.bit(), self.1)
    }

    pub fn without(self, plugin: Plugin) -> Self {
        Self(self.0 & !plugin.bit(), self.1)
    }

    pub fn is_enabled(self, plugin: Plugin) -> bool {
        self.0 & plugin.bit() != 0
    }

    /// The plugins switched on, in [`Plugin::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Plugin> {
        Plugin::ALL
            .into_iter()
            .filter(move |plugin| self.is_enabled(*plugin))
    }
}

impl Default for Plugins {
    fn default() -> Self {
        Self::all()
    }
}

impl FromStr for Plugins {
    type Err = SettingsError;

    fn from_str(list: &str) -> Result<Self, SettingsError> {
        Self::parse(list)
    }
}

impl fmt::Debug for Plugins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Plugin::id)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_plugin_is_on_by_default() {
        for plugin in Plugin::ALL {
            assert!(Plugins::default().is_enabled(plugin), "{plugin}");
        }
    }

    #[test]
    fn a_list_switches_on_only_what_it_names() {
        let plugins = Plugins::parse(" admin, two-factor,,API-KEY ").unwrap();
        let on: Vec<Plugin> = plugins.iter().collect();
        assert_eq!(on, [Plugin::Admin, Plugin::TwoFactor, Plugin::ApiKey]);
        assert!(!plugins.is_enabled(Plugin::Jwt));
        assert_eq!(
            format!("{plugins:?}"),
            r#"{"admin", "two-factor", "api-key"}"#
        );
    }

    #[test]
    fn an_empty_list_means_none() {
        assert_eq!(Plugins::parse("").unwrap(), Plugins::none());
        assert_eq!(Plugins::parse(" , ").unwrap().iter().count(), 0);
    }

    #[test]
    fn an_unknown_id_is_refused_naming_plugins() {
        let error = Plugins::parse("admin,twofactor").unwrap_err();
        assert_eq!(error.variable, "PLUGINS");
        assert!(error.reason.contains("`twofactor`"), "{error}");
        assert!(error.reason.contains("two-factor"), "{error}");
    }

    proptest! {
        #[test]
        fn listing_ids_enables_exactly_those(picks in proptest::collection::vec(0usize..6, 0..10)) {
            let ids: Vec<&str> = picks.iter().map(|&i| Plugin::ALL[i].id()).collect();
            let plugins = Plugins::parse(&ids.join(",")).unwrap();
            for plugin in Plugin::ALL {
                prop_assert_eq!(plugins.is_enabled(plugin), ids.contains(&plugin.id()));
            }
        }
    }
}
