//! `GET /api/auth/error`: Better Auth's error page, where its flows send a browser that has nowhere better to go
//! (a reset link without a `callbackURL`, for one). The page is the package's default, byte for byte apart from what
//! the query fills in: `?error=` shown as the code when it is made of `[A-Za-z0-9_'-]` (else `UNKNOWN`), and
//! `?error_description=` HTML-escaped with the package's own `sanitize`, in place of the default text.
//!
//! Better Auth redirects to `/?error=…` instead when `NODE_ENV` is `production` and the page is not customised;
//! Warden has no such mode and always serves the page (its web UI at `/` does not read `?error=`). The page has no
//! script, so it is served with a policy that allows none.

use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::extract::query_param;

const TEMPLATE: &str = include_str!("error_page.html");
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/// What `encodeURIComponent` leaves alone, less `'`, which would end the page's single-quoted attribute.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'(')
    .remove(b')');

/// The entities Better Auth's `sanitize` leaves as they are rather than escaping their `&`.
fn starts_with_entity(rest: &str) -> bool {
    const NAMED: [&str; 5] = ["amp;", "lt;", "gt;", "quot;", "#39;"];
    if NAMED.iter().any(|name| rest.starts_with(name)) {
        return true;
    }
    let (digits, hex) = match rest.strip_prefix("#x") {
        Some(hex) => (hex, true),
        None => match rest.strip_prefix('#') {
            Some(decimal) => (decimal, false),
            None => return false,
        },
    };
    let count = digits
        .chars()
        .take_while(|c| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        })
        .count();
    count > 0 && digits[count..].starts_with(';')
}

/// Better Auth's `sanitize`: `<>"'` become entities, then every `&` that does not already start one becomes `&amp;`.
pub fn sanitize(input: &str) -> String {
    let escaped = input
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let mut out = String::with_capacity(escaped.len());
    for (index, c) in escaped.char_indices() {
        if c == '&' && !starts_with_entity(&escaped[index + 1..]) {
            out.push_str("&amp;");
        } else {
            out.push(c);
        }
    }
    out
}

/// The code shown: `?error=` when made of `[A-Za-z0-9_'-]`, else `UNKNOWN`.
fn safe_code(error: Option<&str>) -> &str {
    match error {
        Some(code)
            if !code.is_empty()
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\'')) =>
        {
            code
        }
        _ => "UNKNOWN",
    }
}

/// The page for `error` and `description`.
pub fn render(error: Option<&str>, description: Option<&str>) -> String {
    let code = safe_code(error);
    let encode = |text: &str| utf8_percent_encode(text, URI_COMPONENT).to_string();
    let code_uri = encode(code);
    let description = match description.filter(|text| !text.is_empty()) {
        Some(text) => sanitize(text),
        None => format!(
            "We encountered an unexpected error. Please try again or return to the home page. If you're a \
             developer, you can find <a href='https://better-auth.com/docs/reference/errors/{code_uri}' \
             target='_blank' rel=\"noopener noreferrer\" style='color: var(--foreground); text-decoration: \
             underline;'>more information about the error</a>."
        ),
    };
    // The description, the only free text, goes in last, so nothing in it is taken for a placeholder.
    TEMPLATE
        .replace("{code_uri}", &code_uri)
        .replace(
            "{ask_ai}",
            &encode(&format!("What does the error code {code} mean?")),
        )
        .replace("{code}", &sanitize(code))
        .replace("{description}", &description)
}

pub async fn error_page(RawQuery(query): RawQuery) -> Response {
    let error = query_param(query.as_deref(), "error");
    let description = query_param(query.as_deref(), "error_description");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
        ],
        render(error.as_deref(), description.as_deref()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_escapes_as_better_auth_does() {
        assert_eq!(sanitize("a <b>&amp;&x"), "a &lt;b&gt;&amp;&amp;x");
        assert_eq!(sanitize(r#""'"#), "&quot;&#39;");
        assert_eq!(
            sanitize("&#169; &#xA9; &#; &#xZ;"),
            "&#169; &#xA9; &amp;#; &amp;#xZ;"
        );
        assert_eq!(
            sanitize("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
    }

    #[test]
    fn only_plain_codes_are_shown() {
        assert_eq!(safe_code(Some("INVALID_TOKEN")), "INVALID_TOKEN");
        assert_eq!(safe_code(Some("state-mismatch")), "state-mismatch");
        assert_eq!(safe_code(Some("<script>")), "UNKNOWN");
        assert_eq!(safe_code(Some("a b")), "UNKNOWN");
        assert_eq!(safe_code(Some("")), "UNKNOWN");
        assert_eq!(safe_code(None), "UNKNOWN");
    }

    #[test]
    fn the_page_shows_the_code_and_the_escaped_description() {
        let page = render(Some("INVALID_TOKEN"), Some("<img src=x onerror=alert(1)>"));
        assert!(page.contains("\n                INVALID_TOKEN\n"), "{page}");
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!page.contains("<img"));
        assert!(page.contains(
            "errors/INVALID_TOKEN?askai=What%20does%20the%20error%20code%20INVALID_TOKEN%20mean%3F"
        ));
        let page = render(None, Some("{code} stays {code}"));
        assert!(page.contains("{code} stays {code}"));
        assert!(page.contains("\n                UNKNOWN\n"));
    }

    #[test]
    fn without_a_description_the_default_text_links_the_code() {
        let page = render(Some("x'y"), None);
        assert!(page.contains("https://better-auth.com/docs/reference/errors/x%27y'"));
        assert!(page.contains("x&#39;y"));
        assert!(page.contains("We encountered an unexpected error."));
    }
}
