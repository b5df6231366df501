//! Tracing set-up shared by every binary: one line per event on stderr, as text or as JSON, at the level the
//! environment asks for.
//!
//! `LOG_FORMAT` is `text` (the default) or `json`; `LOG_LEVEL` is a level (`info` by default) or a directive list such
//! as `warn,auth_svc=debug`, and overrides `RUST_LOG`, which is read only when `LOG_LEVEL` is unset. An empty variable
//! counts as unset. A bad `LOG_FORMAT` or `LOG_LEVEL` stops the start with one line naming the variable.

use tracing_subscriber::EnvFilter;

const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, as `tracing_subscriber`'s default formatter writes them.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message` and the event's fields at the top level,
    /// and the current span.
    Json,
}

/// A `LOG_FORMAT` or `LOG_LEVEL` that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogSettingsError {
    #[error("LOG_FORMAT: must be `text` or `json`, not `{0}`")]
    Format(String),
    #[error(
        "LOG_LEVEL: `{0}` is not a level (off, error, warn, info, debug, trace) or a list such as `warn,auth_svc=debug`"
    )]
    Level(String),
}

/// The logging settings read from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    pub format: LogFormat,
    /// An `EnvFilter` directive list.
    pub filter: String,
}

impl LogSettings {
    /// Reads `LOG_FORMAT`, `LOG_LEVEL` and `RUST_LOG` from the process environment.
    pub fn from_env() -> Result<Self, LogSettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `env`, so tests need not touch the process environment.
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, LogSettingsError> {
        let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let format = match set("LOG_FORMAT") {
            None => LogFormat::Text,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err(LogSettingsError::Format(value)),
            },
        };
        let filter = match set("LOG_LEVEL") {
            Some(value) => parse_level(&value).ok_or(LogSettingsError::Level(value))?,
            // RUST_LOG keeps its usual leniency: directives EnvFilter cannot read are skipped.
            None => set("RUST_LOG").unwrap_or_else(|| "info".to_owned()),
        };
        Ok(Self { format, filter })
    }

    /// Installs the subscriber; does nothing when one is already installed.
    pub fn install(&self) {
        use std::io::IsTerminal;
        let filter = EnvFilter::builder().parse_lossy(&self.filter);
        // Colours only for a person at a terminal, never into a log collector.
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr);
        let _ = match self.format {
            LogFormat::Text => builder.try_init(),
            LogFormat::Json => builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .try_init(),
        };
    }
}

/// `LOG_LEVEL`'s directives, lower-cased, when every one is a level or `target=level`; `None` otherwise, so a typo
/// such as `infoo` (which `EnvFilter` would read as a target name) is refused rather than silently logging nothing.
fn parse_level(value: &str) -> Option<String> {
    let is_level = |level: &str| LEVELS.contains(&level);
    let mut directives = Vec::new();
    for directive in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let directive = directive.to_ascii_lowercase();
        let valid = match directive.rsplit_once('=') {
            Some((target, level)) => {
                !target.is_empty()
                    && is_level(level)
                    && directive
                        .parse::<tracing_subscriber::filter::Directive>()
                        .is_ok()
            }
            None => is_level(&directive),
        };
        if !valid {
            return None;
        }
        directives.push(directive);
    }
    (!directives.is_empty()).then(|| directives.join(","))
}

/// Sets up logging from the environment; safe to call more than once. A bad `LOG_FORMAT` or `LOG_LEVEL` ends the
/// process with exit code 2 and one line on stderr naming the variable, as any other bad setting does at start.
pub fn init() {
    if let Err(error) = try_init() {
        eprintln!("error: {error}");
        std::process::exit(crate::settings::EXIT_CODE.into());
    }
}

/// As [`init`], returning the bad setting instead of exiting.
pub fn try_init() -> Result<(), LogSettingsError> {
    LogSettings::from_env()?.install();
    Ok(())
}

/// An error and its causes on one line, for the `error: …` a binary prints before it exits; a cause whose text the
/// line already holds is left out (database errors repeat their source in their own message).
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_and_its_causes_make_one_line_without_repeats() {
        let error = anyhow::anyhow!("connection refused")
            .context("pool timed out: connection refused")
            .context("connecting to DATABASE_URL");
        assert_eq!(
            one_line(&error),
            "connecting to DATABASE_URL: pool timed out: connection refused"
        );
    }

    fn settings(vars: &[(&str, &str)]) -> Result<LogSettings, LogSettingsError> {
        LogSettings::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn with_nothing_set_logs_are_text_at_info() {
        let settings = settings(&[]).unwrap();
        assert_eq!(settings.format, LogFormat::Text);
        assert_eq!(settings.filter, "info");
    }

    #[test]
    fn the_format_is_text_or_json_in_any_case() {
        assert_eq!(
            settings(&[("LOG_FORMAT", "JSON")]).unwrap().format,
            LogFormat::Json
        );
        assert_eq!(
            settings(&[("LOG_FORMAT", " text ")]).unwrap().format,
            LogFormat::Text
        );
        assert_eq!(
            settings(&[("LOG_FORMAT", "")]).unwrap().format,
            LogFormat::Text
        );
    }

    #[test]
    fn an_unknown_format_is_refused_naming_the_variable() {
        let error = settings(&[("LOG_FORMAT", "xml")]).unwrap_err();
        assert_eq!(error, LogSettingsError::Format("xml".into()));
        assert!(error.to_string().starts_with("LOG_FORMAT: "), "{error}");
    }

    #[test]
    fn log_level_overrides_rust_log() {
        let settings = settings(&[("LOG_LEVEL", "WARN"), ("RUST_LOG", "debug")]).unwrap();
        assert_eq!(settings.filter, "warn");
    }

    #[test]
    fn rust_log_is_read_when_log_level_is_unset_or_empty() {
        let settings = settings(&[("LOG_LEVEL", ""), ("RUST_LOG", "debug,hyper=warn")]).unwrap();
        assert_eq!(settings.filter, "debug,hyper=warn");
    }

    #[test]
    fn log_level_takes_per_target_directives() {
        let settings = settings(&[("LOG_LEVEL", "warn, auth_svc=debug")]).unwrap();
        assert_eq!(settings.filter, "warn,auth_svc=debug");
    }

    #[test]
    fn a_misspelt_level_is_refused_naming_the_variable() {
        for bad in ["infoo", "verbose", "auth_svc=loud", "=debug", ","] {
            let error = settings(&[("LOG_LEVEL", bad)]).unwrap_err();
            assert!(
                error.to_string().starts_with("LOG_LEVEL: "),
                "{bad}: {error}"
            );
        }
    }
}
