//! `TRUSTED_ORIGINS`: origins allowed to call with cookies (CORS, CSRF checks, gRPC-web), besides `BASE_URL`'s.
//!
//! An entry may hold `*`/`?` wildcards, matched against the whole origin when it names a scheme
//! (`https://*.example.com`) and against the host otherwise (`*.example.com`); a plain http(s) entry stands for its
//! origin (`https://app.example.com/` works); other schemes (a mobile app's `myapp://`) match by prefix, as Better Auth
//! does. Relative callback paths (`/dashboard`, never `//host`) are trusted where a caller allows them.

use std::str::FromStr;

use super::{PublicUrl, SettingsError, split_list};

/// Parsed origin patterns. [`TrustedOrigins::for_site`] puts `BASE_URL`'s origin first, as every check wants it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedOrigins {
    patterns: Vec<String>,
}

impl TrustedOrigins {
    /// A comma list; errors name `TRUSTED_ORIGINS`.
    pub fn parse(list: &str) -> Result<Self, SettingsError> {
        Self::from_entries(split_list(list))
    }

    /// Each entry an origin or pattern; errors name `TRUSTED_ORIGINS`.
    pub fn from_entries<S: AsRef<str>>(
        entries: impl IntoIterator<Item = S>,
    ) -> Result<Self, SettingsError> {
        let mut origins = Self::default();
        for entry in entries {
            origins.push(entry.as_ref())?;
        }
        Ok(origins)
    }

    /// Adds one entry; errors name `TRUSTED_ORIGINS`.
    pub fn push(&mut self, entry: &str) -> Result<(), SettingsError> {
        let pattern = normalize_pattern(entry).ok_or_else(|| {
            SettingsError::new("TRUSTED_ORIGINS", format!("`{entry}` is not an origin"))
        })?;
        if !self.patterns.contains(&pattern) {
            self.patterns.push(pattern);
        }
        Ok(())
    }

    /// `base`'s origin, then `extra`'s patterns: whom a deployment at `base` trusts.
    pub fn for_site(base: &PublicUrl, extra: &TrustedOrigins) -> Self {
        let mut patterns = vec![base.origin().to_owned()];
        patterns.extend(
            extra
                .patterns
                .iter()
                .filter(|pattern| pattern.as_str() != base.origin())
                .cloned(),
        );
        Self { patterns }
    }

    /// The normalised patterns, in order.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `url` (an origin, a full URL, or with `allow_relative` a path) belongs to a trusted origin.
    pub fn is_trusted(&self, url: &str, allow_relative: bool) -> bool {
        if url.starts_with('/') {
            return allow_relative && is_safe_relative_path(url);
        }
        self.patterns
            .iter()
            .any(|pattern| matches_pattern(url, pattern))
    }
}

impl FromStr for TrustedOrigins {
    type Err = SettingsError;

    fn from_str(list: &str) -> Result<Self, SettingsError> {
        Self::parse(list)
    }
}

fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Plain http(s) entries become their origin; wildcard and custom-scheme entries stay as written, lower-cased.
fn normalize_pattern(entry: &str) -> Option<String> {
    let entry = entry.trim().to_ascii_lowercase();
    if entry.is_empty() {
        return None;
    }
    if has_wildcard(&entry) {
        return Some(entry);
    }
    let url = url::Url::parse(&entry).ok()?;
    if matches!(url.scheme(), "http" | "https") {
        url.host()?;
        Some(url.origin().ascii_serialization())
    } else {
        Some(entry)
    }
}

fn origin_of(url: &url::Url) -> Option<String> {
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

fn matches_pattern(url: &str, pattern: &str) -> bool {
    let parsed = url::Url::parse(url).ok();
    if has_wildcard(pattern) {
        return match (&parsed, pattern.contains("://")) {
            (Some(parsed), true) => {
                let target = origin_of(parsed).unwrap_or_else(|| url.to_ascii_lowercase());
                glob_matches(pattern, &target)
            }
            (Some(parsed), false) => match parsed.host_str() {
                Some(host) => {
                    let host = match parsed.port() {
                        Some(port) => format!("{host}:{port}"),
                        None => host.to_owned(),
                    };
                    glob_matches(pattern, &host)
                }
                None => false,
            },
            (None, _) => false,
        };
    }
    match parsed {
        Some(parsed) if matches!(parsed.scheme(), "http" | "https") => {
            origin_of(&parsed).is_some_and(|origin| origin == pattern)
        }
        // Custom schemes (mobile apps) compare by prefix, as Better Auth does.
        Some(_) => url.to_ascii_lowercase().starts_with(pattern),
        None => false,
    }
}

/// `*` is any run of characters except `/`, `?` one such character.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Classic two-pointer glob with backtracking to the last `*`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some('?') if text[t] != '/' => {
                p += 1;
                t += 1;
            }
            Some(&c) if c != '*' && c != '?' && c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) if text[star_t] != '/' => {
                    star = Some((star_p, star_t + 1));
                    p = star_p + 1;
                    t = star_t + 1;
                }
                _ => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Better Auth's relative callback rule: `/path` with word characters, `-.+/@`, and an optional simple query;
/// never `//`, `/\` or an encoded slash right after the first `/`.
fn is_safe_relative_path(url: &str) -> bool {
    let Some(rest) = url.strip_prefix('/') else {
        return false;
    };
    let lower = rest.to_ascii_lowercase();
    if rest.starts_with(['/', '\\']) || lower.starts_with("%2f") || lower.starts_with("%5c") {
        return false;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    path.chars().all(|c| word(c) || "-.+/@".contains(c))
        && query.is_none_or(|q| q.chars().all(|c| word(c) || "-.+/=&%@".contains(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> TrustedOrigins {
        let base = PublicUrl::parse("http://localhost:3000/app").unwrap();
        let extra =
            TrustedOrigins::parse("https://*.example.com, *.wild.test,https://exact.org/,myapp://")
                .unwrap();
        TrustedOrigins::for_site(&base, &extra)
    }

    #[test]
    fn the_base_url_origin_is_trusted_whatever_its_path() {
        assert!(origins().is_trusted("http://localhost:3000", false));
        assert!(origins().is_trusted("http://localhost:3000/dashboard?x=1", false));
        assert!(!origins().is_trusted("http://localhost:3001", false));
        assert!(!origins().is_trusted("https://localhost:3000", false));
    }

    #[test]
    fn a_trailing_slash_in_a_trusted_origin_does_not_matter() {
        assert!(origins().is_trusted("https://exact.org", false));
        assert!(!origins().is_trusted("https://exact.org.evil.com", false));
    }

    #[test]
    fn scheme_wildcards_match_subdomains_but_not_lookalikes() {
        assert!(origins().is_trusted("https://app.example.com", false));
        assert!(origins().is_trusted("https://a.b.example.com/path", false));
        assert!(!origins().is_trusted("http://app.example.com", false));
        assert!(!origins().is_trusted("https://example.com", false));
        assert!(!origins().is_trusted("https://app.example.com.evil.com", false));
        assert!(!origins().is_trusted("https://evilexample.com", false));
        assert!(!origins().is_trusted("https://app.example.com:8443", false));
    }

    #[test]
    fn host_wildcards_match_any_scheme() {
        assert!(origins().is_trusted("http://x.wild.test", false));
        assert!(origins().is_trusted("https://x.wild.test", false));
        assert!(!origins().is_trusted("https://wild.test", false));
    }

    #[test]
    fn custom_schemes_match_by_prefix() {
        assert!(origins().is_trusted("myapp://callback", false));
        assert!(!origins().is_trusted("otherapp://callback", false));
    }

    #[test]
    fn relative_paths_are_trusted_only_where_allowed_and_never_protocol_relative() {
        assert!(origins().is_trusted("/dashboard", true));
        assert!(origins().is_trusted("/a/b-c.d?x=1&y=%20", true));
        assert!(!origins().is_trusted("/dashboard", false));
        assert!(!origins().is_trusted("//evil.com", true));
        assert!(!origins().is_trusted("/\\evil.com", true));
        assert!(!origins().is_trusted("/%2fevil.com", true));
        assert!(!origins().is_trusted("/%5Cevil.com", true));
        assert!(!origins().is_trusted("/x#frag", true));
    }

    #[test]
    fn garbage_is_never_trusted() {
        assert!(!origins().is_trusted("", false));
        assert!(!origins().is_trusted("null", false));
        assert!(!origins().is_trusted("localhost:3000", false));
    }

    #[test]
    fn bad_entries_are_refused_naming_the_variable() {
        let error = TrustedOrigins::parse("http://a.example, nope").unwrap_err();
        assert_eq!(error.variable, "TRUSTED_ORIGINS");
        assert!(error.reason.contains("`nope`"), "{error}");
    }

    #[test]
    fn entries_are_normalised_once_and_listed_once() {
        let origins = TrustedOrigins::parse(
            " HTTPS://A.example.com/x, ,https://*.B.example.com , https://a.example.com",
        )
        .unwrap();
        assert_eq!(
            origins.patterns(),
            ["https://a.example.com", "https://*.b.example.com"]
        );
        assert!(TrustedOrigins::parse("").unwrap().is_empty());
        let base = PublicUrl::parse("https://a.example.com/app/").unwrap();
        let site = TrustedOrigins::for_site(&base, &origins);
        assert_eq!(
            site.patterns(),
            ["https://a.example.com", "https://*.b.example.com"]
        );
    }
}
