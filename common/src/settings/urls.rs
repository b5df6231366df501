//! URLs of what the services talk to: the database, Redis, and the other services.
//!
//! The database and Redis URLs may hold a password: their `Debug` shows the URL with it replaced, so a logged
//! `Config` never leaks it; errors never quote them either.

use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};

use super::SettingsError;

/// `DATABASE_URL`: `postgres://…` or `sqlite:…`.
#[derive(Clone)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    /// Errors name `DATABASE_URL` and never quote the URL.
    pub fn parse(raw: &str) -> Result<Self, SettingsError> {
        let url = raw.trim();
        if url.is_empty() {
            return Err(SettingsError::new(
                "DATABASE_URL",
                "is required (postgres://… or sqlite://…)",
            ));
        }
        if !(url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("sqlite:"))
        {
            return Err(SettingsError::new(
                "DATABASE_URL",
                "must start with postgres:// or sqlite:",
            ));
        }
        Ok(Self(url.to_owned().into()))
    }

    /// The URL, password included, for the database driver.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_sqlite(&self) -> bool {
        self.expose().starts_with("sqlite:")
    }
}

impl FromStr for DatabaseUrl {
    type Err = SettingsError;

    fn from_str(raw: &str) -> Result<Self, SettingsError> {
        Self::parse(raw)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", redacted(self.expose()))
    }
}

/// `REDIS_URL`: `redis://…`, `rediss://…` or `redis+unix://…`.
#[derive(Clone)]
pub struct RedisUrl(SecretString);

impl RedisUrl {
    /// Errors name `REDIS_URL` and never quote the URL.
    pub fn parse(raw: &str) -> Result<Self, SettingsError> {
        let url = raw.trim();
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        if !matches!(scheme, Some("redis" | "rediss" | "redis+unix" | "unix")) {
            return Err(SettingsError::new(
                "REDIS_URL",
                "must be a redis://, rediss:// or redis+unix:// URL",
            ));
        }
        Ok(Self(url.to_owned().into()))
    }

    /// The URL, password included, for the Redis client.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl FromStr for RedisUrl {
    type Err = SettingsError;

    fn from_str(raw: &str) -> Result<Self, SettingsError> {
        Self::parse(raw)
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({:?})", redacted(self.expose()))
    }
}

/// The URL with any user information replaced; `[unparsable]` when it cannot be read as a URL.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("redacted"));
            }
            parsed.to_string()
        }
        Err(_) if !url.contains('@') => url.to_owned(),
        Err(_) => "[unparsable]".to_owned(),
    }
}

/// A service's gRPC URL (`AUTH_URL`, `TASK_URL`): `http://` or `https://` with a host, without trailing `/`.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamUrl(String);

impl UpstreamUrl {
    /// Errors name `variable`.
    pub fn parse(variable: &'static str, raw: &str) -> Result<Self, SettingsError> {
        let text = raw.trim().trim_end_matches('/');
        let url = url::Url::parse(text)
            .map_err(|_| SettingsError::new(variable, format!("`{raw}` is not a URL")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(SettingsError::new(
                variable,
                format!("`{raw}` must be an http:// or https:// URL"),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// `http://<addr>`: a service on this machine, known by its address.
    pub fn http(addr: std::net::SocketAddr) -> Self {
        Self(format!("http://{addr}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

impl fmt::Display for UpstreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UpstreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UpstreamUrl({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_postgres_or_sqlite() {
        assert!(DatabaseUrl::parse("postgres://u@h/db").is_ok());
        assert!(DatabaseUrl::parse("postgresql://u@h/db").is_ok());
        assert!(DatabaseUrl::parse("sqlite::memory:").unwrap().is_sqlite());
        for bad in ["", "  ", "mysql://x", "postgres"] {
            assert_eq!(
                DatabaseUrl::parse(bad).unwrap_err().variable,
                "DATABASE_URL"
            );
        }
    }

    #[test]
    fn passwords_never_reach_debug_output_or_errors() {
        let db = DatabaseUrl::parse("postgres://warden:hunter2@db.internal:5432/warden").unwrap();
        let shown = format!("{db:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.internal"), "{shown}");
        assert_eq!(
            db.expose(),
            "postgres://warden:hunter2@db.internal:5432/warden"
        );
        let redis = RedisUrl::parse("redis://:hunter2@redis.internal:6379").unwrap();
        assert!(!format!("{redis:?}").contains("hunter2"));
        let error = RedisUrl::parse("http://:hunter2@x").unwrap_err();
        assert_eq!(error.variable, "REDIS_URL");
        assert!(!error.to_string().contains("hunter2"));
        let error = DatabaseUrl::parse("mysql://:hunter2@x").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
        assert!(!redacted("redis://:hunter2@[::1").contains("hunter2"));
    }

    #[test]
    fn upstream_urls_are_http_with_a_host_and_lose_their_trailing_slash() {
        let url = UpstreamUrl::parse("AUTH_URL", " https://auth-svc:50051/ ").unwrap();
        assert_eq!(url.as_str(), "https://auth-svc:50051");
        assert!(url.is_https());
        for bad in ["127.0.0.1:50051", "ftp://h:1", "http://", "nope"] {
            assert_eq!(
                UpstreamUrl::parse("TASK_URL", bad).unwrap_err().variable,
                "TASK_URL"
            );
        }
        assert_eq!(
            UpstreamUrl::http("127.0.0.1:1".parse().unwrap()).as_str(),
            "http://127.0.0.1:1"
        );
    }
}
