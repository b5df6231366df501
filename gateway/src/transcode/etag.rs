//! HTTP entity tags: a resource's `etag` goes out quoted in `ETag`, and comes back in `If-Match` (or the request's
//! `etag`) as the precondition the service checks atomically with the write.
//!
//! A weak tag (`W/"…"`) is compared by its value: proxies weaken tags when they re-encode a body, and a task's etag
//! names the same version either way.

use http::{HeaderMap, HeaderValue, header};

/// `"<etag>"`, for the `ETag` header; `None` when the etag is empty or holds characters a tag may not.
pub fn quote(etag: &str) -> Option<HeaderValue> {
    let valid = !etag.is_empty()
        && etag
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b));
    valid
        .then(|| HeaderValue::try_from(format!("\"{etag}\"")).ok())
        .flatten()
}

/// What an `If-Match` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// One of these versions, unquoted.
    Tags(Vec<String>),
}

/// The request's `If-Match`, every header line together; `None` when absent or blank.
pub fn if_match(headers: &HeaderMap) -> Option<IfMatch> {
    let mut tags = Vec::new();
    for value in headers.get_all(header::IF_MATCH) {
        let value = String::from_utf8_lossy(value.as_bytes());
        for tag in split_tags(&value) {
            if tag == "*" {
                return Some(IfMatch::Any);
            }
            tags.push(tag);
        }
    }
    (!tags.is_empty()).then_some(IfMatch::Tags(tags))
}

/// The unquoted tags of a list such as `"a", W/"b,c", d`; a tag sent without quotes is taken as it is.
fn split_tags(list: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            return tags;
        }
        let unweakened = rest.strip_prefix("W/").unwrap_or(rest);
        let (tag, after) = match unweakened.strip_prefix('"') {
            Some(quoted) => match quoted.split_once('"') {
                Some((tag, after)) => (tag, after),
                None => (quoted, ""),
            },
            None => {
                let end = unweakened.find(',').unwrap_or(unweakened.len());
                (unweakened[..end].trim_end(), &unweakened[end..])
            }
        };
        if !tag.is_empty() {
            tags.push(tag.to_owned());
        }
        rest = after;
    }
}

/// The etag a write must match, from `If-Match` and an `etag` sent in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Write whatever the current version.
    None,
    /// Write only this version; task-svc checks it with the write.
    Etag(String),
    /// Write only if the current version is one of these; the current one is read first.
    OneOf(Vec<String>),
    /// The two preconditions contradict each other: no version can satisfy both.
    Unsatisfiable,
}

impl Precondition {
    pub fn new(if_match: Option<IfMatch>, body_etag: Option<String>) -> Self {
        let body_etag = body_etag.filter(|etag| !etag.is_empty());
        match (if_match, body_etag) {
            (None | Some(IfMatch::Any), None) => Self::None,
            (None | Some(IfMatch::Any), Some(etag)) => Self::Etag(etag),
            (Some(IfMatch::Tags(tags)), Some(etag)) if tags.contains(&etag) => Self::Etag(etag),
            (Some(IfMatch::Tags(_)), Some(_)) => Self::Unsatisfiable,
            (Some(IfMatch::Tags(mut tags)), None) if tags.len() == 1 => Self::Etag(tags.remove(0)),
            (Some(IfMatch::Tags(tags)), None) => Self::OneOf(tags),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> Option<IfMatch> {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(header::IF_MATCH, line.parse().unwrap());
        }
        if_match(&headers)
    }

    fn tags(tags: &[&str]) -> Option<IfMatch> {
        Some(IfMatch::Tags(
            tags.iter().map(|t| (*t).to_owned()).collect(),
        ))
    }

    #[test]
    fn an_etag_goes_out_quoted() {
        assert_eq!(quote("0190b7c2-3c1e").unwrap(), "\"0190b7c2-3c1e\"");
        assert_eq!(quote("a!#~").unwrap(), "\"a!#~\"");
    }

    #[test]
    fn an_empty_or_unquotable_etag_has_no_header() {
        assert_eq!(quote(""), None);
        assert_eq!(quote("a\"b"), None);
        assert_eq!(quote("a b"), None);
        assert_eq!(quote("ünï"), None);
    }

    #[test]
    fn a_quoted_tag_is_unquoted() {
        assert_eq!(parse(&["\"abc\""]), tags(&["abc"]));
        assert_eq!(parse(&["  \"abc\"  "]), tags(&["abc"]));
    }

    #[test]
    fn a_weak_tag_is_compared_by_its_value() {
        assert_eq!(parse(&["W/\"abc\""]), tags(&["abc"]));
    }

    #[test]
    fn a_star_matches_any_version() {
        assert_eq!(parse(&["*"]), Some(IfMatch::Any));
        assert_eq!(parse(&["\"a\", *"]), Some(IfMatch::Any));
    }

    #[test]
    fn lists_and_repeated_headers_are_read_whole() {
        assert_eq!(
            parse(&["\"a\", W/\"b\",\"c,d\"", "\"e\""]),
            tags(&["a", "b", "c,d", "e"])
        );
    }

    #[test]
    fn an_unquoted_tag_is_taken_as_sent() {
        assert_eq!(parse(&["abc"]), tags(&["abc"]));
        assert_eq!(parse(&["abc , def"]), tags(&["abc", "def"]));
    }

    #[test]
    fn absent_or_blank_headers_ask_nothing() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[""]), None);
        assert_eq!(parse(&[" , \"\" "]), None);
    }

    #[test]
    fn an_unterminated_quote_keeps_what_follows_it() {
        assert_eq!(parse(&["\"abc"]), tags(&["abc"]));
    }

    #[test]
    fn one_tag_or_a_body_etag_is_checked_by_the_write() {
        assert_eq!(Precondition::new(None, None), Precondition::None);
        assert_eq!(
            Precondition::new(None, Some(String::new())),
            Precondition::None
        );
        assert_eq!(
            Precondition::new(Some(IfMatch::Any), None),
            Precondition::None
        );
        assert_eq!(
            Precondition::new(tags(&["a"]), None),
            Precondition::Etag("a".into())
        );
        assert_eq!(
            Precondition::new(None, Some("b".into())),
            Precondition::Etag("b".into())
        );
        assert_eq!(
            Precondition::new(Some(IfMatch::Any), Some("b".into())),
            Precondition::Etag("b".into())
        );
    }

    #[test]
    fn a_body_etag_must_be_among_the_if_match_tags() {
        assert_eq!(
            Precondition::new(tags(&["a", "b"]), Some("b".into())),
            Precondition::Etag("b".into())
        );
        assert_eq!(
            Precondition::new(tags(&["a"]), Some("b".into())),
            Precondition::Unsatisfiable
        );
    }

    #[test]
    fn several_tags_need_the_current_version() {
        assert_eq!(
            Precondition::new(tags(&["a", "b"]), None),
            Precondition::OneOf(vec!["a".into(), "b".into()])
        );
    }
}
