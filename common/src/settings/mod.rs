//! Settings, parsed once: the typed values every binary's `Config` holds, and the clap groups that read them.
//!
//! A setting is parsed where it enters (a flag or an environment variable) into a type that cannot hold a bad value:
//! [`PublicUrl`] (`BASE_URL`, normalised once, so nothing downstream trims a slash), [`TrustedOrigins`],
//! [`Networks`] (`TRUSTED_PROXIES`, `METRICS_ALLOW`), [`DatabaseUrl`] and [`RedisUrl`] (whose `Debug` hides
//! credentials), [`UpstreamUrl`] (`AUTH_URL`, `TASK_URL`), [`Plugins`] (`PLUGINS`) and the secrets. Settings that
//! several binaries share are flattened clap groups ([`args`]), as [`crate::runtime::RuntimeArgs`] is; each has a
//! `resolve` into those types. Better Auth's variable names (`BETTER_AUTH_SECRET`, `BETTER_AUTH_URL`, …) are read
//! through an injectable lookup ([`Env`]) when Warden's are unset, so tests never touch the process environment.
//!
//! Every failure is one [`SettingsError`] naming the variable. Every binary reports it the same way ([`exit`]): one
//! line, `error: <VARIABLE>: <reason>`, on stderr, and exit code [`EXIT_CODE`] (2, the code clap gives a bad command
//! line, so a bad flag and a bad variable look alike to a supervisor). [`parse_args`] makes clap's own errors for
//! environment-backed flags (a number that is not one, say) name the variable the same way.

pub mod args;
mod lists;
mod networks;
mod origins;
mod plugins;
mod public_url;
mod urls;

pub use lists::split_list;
pub use networks::Networks;
pub use origins::TrustedOrigins;
pub use plugins::{Plugin, Plugins};
pub use public_url::{DEFAULT_PUBLIC_URL, PublicUrl};
pub use urls::{DatabaseUrl, RedisUrl, UpstreamUrl};

use std::borrow::Cow;
use std::net::SocketAddr;
use std::process::ExitCode;

/// A setting that cannot be used, named by its environment variable. Never holds a secret.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {reason}")]
pub struct SettingsError {
    /// A fixed name (`BASE_URL`), or one built from a setting (`OAUTH_OKTA_CLIENT_ID`).
    pub variable: Cow<'static, str>,
    pub reason: String,
}

impl SettingsError {
    pub fn new(variable: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            reason: reason.into(),
        }
    }
}

impl From<crate::tls::TlsError> for SettingsError {
    fn from(error: crate::tls::TlsError) -> Self {
        Self::new(error.variable, error.reason)
    }
}

impl From<crate::SecretsError> for SettingsError {
    fn from(error: crate::SecretsError) -> Self {
        Self::new(error.variable(), error.to_string())
    }
}

/// The exit code of every binary refused a setting or a command line.
pub const EXIT_CODE: u8 = 2;

/// Looks up an environment variable: the process environment in production, a closure in tests.
pub trait Env: Fn(&str) -> Option<String> {}
impl<F: Fn(&str) -> Option<String>> Env for F {}

/// The process environment. An empty value is returned as such: `PLUGINS=""` means no plugin, while the groups
/// treat an empty URL or secret as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Prints `error: <VARIABLE>: <reason>` on stderr and gives [`EXIT_CODE`].
pub fn exit(error: &SettingsError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(EXIT_CODE)
}

/// Parses the command line and environment; on a bad value of an environment-backed flag prints one line naming its
/// variable and exits with [`EXIT_CODE`]; other clap errors (and `--help`) are clap's own.
pub fn parse_args<C: clap::Parser>() -> C {
    match C::try_parse() {
        Ok(cli) => cli,
        Err(error) => match clap_error_variable::<C>(&error) {
            Some(line) => {
                eprintln!("error: {line}");
                std::process::exit(EXIT_CODE.into());
            }
            None => error.exit(),
        },
    }
}

/// `<VARIABLE>: <clap's reason>` when `error` is about the value of a flag that reads a variable.
fn clap_error_variable<C: clap::CommandFactory>(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = arg.strip_prefix("--")?.split([' ', '=']).next()?;
    let command = C::command();
    let variable = find_env(&command, long)?;
    let text = error.to_string();
    let reason = text.lines().next()?.trim_start_matches("error: ");
    Some(format!("{variable}: {reason}"))
}

fn find_env(command: &clap::Command, long: &str) -> Option<String> {
    command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))
        .and_then(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .or_else(|| {
            command
                .get_subcommands()
                .find_map(|sub| find_env(sub, long))
        })
}

/// A listen address, or `off` (or nothing) for none; errors name `variable`.
pub fn optional_listen(
    variable: &'static str,
    value: &str,
) -> Result<Option<SocketAddr>, SettingsError> {
    let value = value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    listen(variable, value).map(Some)
}

/// A listen address such as `127.0.0.1:8080`; errors name `variable`.
pub fn listen(variable: &'static str, value: &str) -> Result<SocketAddr, SettingsError> {
    value.trim().parse().map_err(|_| {
        SettingsError::new(
            variable,
            format!("`{value}` is not an address such as 127.0.0.1:8080"),
        )
    })
}

/// A number of seconds that must not be zero.
pub fn at_least_one_second(
    variable: &'static str,
    seconds: u64,
) -> Result<std::time::Duration, SettingsError> {
    if seconds == 0 {
        return Err(SettingsError::new(variable, "must be at least 1 second"));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        runtime: crate::runtime::RuntimeArgs,
        #[arg(long)]
        plain: Option<u32>,
    }

    #[test]
    fn an_error_reads_variable_colon_reason() {
        let error = SettingsError::new("BASE_URL", "must be an http:// or https:// URL");
        assert_eq!(
            error.to_string(),
            "BASE_URL: must be an http:// or https:// URL"
        );
    }

    #[test]
    fn clap_errors_of_environment_backed_flags_name_the_variable() {
        use clap::Parser;
        let error = Cli::try_parse_from(["bin", "--worker-threads", "two"]).unwrap_err();
        let line = clap_error_variable::<Cli>(&error).unwrap();
        assert!(
            line.starts_with("WORKER_THREADS: invalid value 'two'"),
            "{line}"
        );
        assert!(!line.contains('\n'));
        let error = Cli::try_parse_from(["bin", "--plain", "x"]).unwrap_err();
        assert_eq!(clap_error_variable::<Cli>(&error), None);
        let error = Cli::try_parse_from(["bin", "--nope"]).unwrap_err();
        assert_eq!(clap_error_variable::<Cli>(&error), None);
    }

    #[test]
    fn listen_addresses_may_be_off() {
        assert_eq!(optional_listen("METRICS_ADDR", " off ").unwrap(), None);
        assert_eq!(optional_listen("METRICS_ADDR", "").unwrap(), None);
        assert_eq!(
            optional_listen("METRICS_ADDR", "127.0.0.1:9101").unwrap(),
            Some(SocketAddr::from(([127, 0, 0, 1], 9101)))
        );
        let error = optional_listen("METRICS_ADDR", "nowhere").unwrap_err();
        assert_eq!(error.variable, "METRICS_ADDR");
        assert_eq!(listen("TASK_ADDR", "x").unwrap_err().variable, "TASK_ADDR");
    }

    #[test]
    fn zero_seconds_are_refused() {
        assert_eq!(
            at_least_one_second("SESSION_CACHE_TTL", 0)
                .unwrap_err()
                .variable,
            "SESSION_CACHE_TTL"
        );
        assert_eq!(
            at_least_one_second("X", 3).unwrap(),
            std::time::Duration::from_secs(3)
        );
    }
}
