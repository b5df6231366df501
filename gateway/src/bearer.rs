//! Better Auth's bearer plugin: `Authorization: Bearer <token>` in place of the session cookie.
//!
//! A value with a `.` is a signed token (`token.signature`, possibly percent-encoded) and must verify; a value
//! without one is a raw session token, passed on for auth-svc to judge. A value shaped like a JWT (three base64url
//! parts) is no session token at all: the task routes pass it on for task-svc to verify ([`bearer_jwt`]).

use http::{HeaderMap, header};
use warden_common::AuthSecret;

/// The raw session token named by the request's bearer credential, if it holds a usable one.
pub fn bearer_token(headers: &HeaderMap, secret: &AuthSecret) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credential) = value.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    parse_credential(credential.trim(), secret)
}

/// The bearer credential when it is shaped like a compact JWS (`header.payload.signature`, base64url), unverified.
/// A session token has at most one `.`, so the two never meet.
pub fn bearer_jwt(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credential) = value.split_once(char::is_whitespace)?;
    let credential = credential.trim();
    let base64url = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    };
    let jws = credential.split('.').count() == 3 && credential.split('.').all(base64url);
    (scheme.eq_ignore_ascii_case("bearer") && jws).then_some(credential)
}

/// An API key: the `x-api-key` header, else a bearer credential shaped like a key (see
/// [`warden_common::token::is_api_key_shaped`]), unverified.
pub fn bearer_api_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|key| !key.is_empty())
    {
        return Some(key);
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credential) = value.split_once(char::is_whitespace)?;
    let credential = credential.trim();
    (scheme.eq_ignore_ascii_case("bearer") && warden_common::token::is_api_key_shaped(credential))
        .then_some(credential)
}

fn parse_credential(credential: &str, secret: &AuthSecret) -> Option<String> {
    if credential.is_empty() {
        return None;
    }
    if !credential.contains('.') {
        return Some(credential.to_owned());
    }
    if credential.contains('%') {
        let decoded = percent_encoding::percent_decode_str(credential)
            .decode_utf8()
            .ok()?;
        secret.verify(&decoded)
    } else {
        secret.verify(credential)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED: &str =
        "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd.KnI2kUs3iY/ZzFNooOvLhEdSLQ9QDj2PxOpln/86Cig=";
    const ENCODED: &str =
        "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd.KnI2kUs3iY%2FZzFNooOvLhEdSLQ9QDj2PxOpln%2F86Cig%3D";
    const TOKEN: &str = "g0tKYK8A0FJcgIMR7j1MsJBdx5hwEbnd";

    fn secret() -> AuthSecret {
        AuthSecret::parse("x".repeat(32).into()).unwrap()
    }

    fn token_from(authorization: &str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, authorization.parse().unwrap());
        bearer_token(&headers, &secret())
    }

    fn jwt_from(authorization: &str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, authorization.parse().unwrap());
        bearer_jwt(&headers).map(str::to_owned)
    }

    #[test]
    fn only_a_three_part_base64url_bearer_is_taken_for_a_jwt() {
        assert_eq!(
            jwt_from("Bearer eyJh.eyJz.c2ln").as_deref(),
            Some("eyJh.eyJz.c2ln")
        );
        assert_eq!(
            jwt_from("bearer  eyJh.eyJz.c2ln ").as_deref(),
            Some("eyJh.eyJz.c2ln")
        );
        for value in [
            format!("Bearer {SIGNED}"),
            format!("Bearer {TOKEN}"),
            "Bearer eyJh.eyJz".into(),
            "Bearer eyJh.eyJz.c2ln.eHl6".into(),
            "Bearer eyJh..c2ln".into(),
            "Bearer eyJh.eyJz.c2ln=".into(),
            "Basic eyJh.eyJz.c2ln".into(),
            "Bearer".into(),
        ] {
            assert_eq!(jwt_from(&value), None, "{value}");
        }
        assert_eq!(jwt_from(&format!("Bearer {SIGNED}")), None);
        assert_eq!(
            token_from("Bearer eyJh.eyJz.c2ln"),
            None,
            "nor is it a session token"
        );
    }

    #[test]
    fn a_signed_bearer_yields_the_raw_token() {
        assert_eq!(
            token_from(&format!("Bearer {SIGNED}")).as_deref(),
            Some(TOKEN)
        );
    }

    #[test]
    fn a_percent_encoded_signed_bearer_is_decoded_first() {
        assert_eq!(
            token_from(&format!("Bearer {ENCODED}")).as_deref(),
            Some(TOKEN)
        );
    }

    #[test]
    fn a_raw_bearer_is_passed_on_as_is() {
        assert_eq!(
            token_from(&format!("Bearer {TOKEN}")).as_deref(),
            Some(TOKEN)
        );
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        assert_eq!(
            token_from(&format!("bearer {SIGNED}")).as_deref(),
            Some(TOKEN)
        );
        assert_eq!(
            token_from(&format!("BEARER  {TOKEN}")).as_deref(),
            Some(TOKEN)
        );
    }

    #[test]
    fn a_tampered_signed_bearer_is_ignored() {
        assert_eq!(token_from(&format!("Bearer h{}", &SIGNED[1..])), None);
        assert_eq!(
            token_from(&format!("Bearer {}", SIGNED.replace("KnI2", "KnI3"))),
            None
        );
        assert_eq!(token_from(&format!("Bearer {TOKEN}.notasignature")), None);
        assert_eq!(token_from("Bearer %ff.x"), None);
    }

    #[test]
    fn other_schemes_and_empty_values_are_ignored() {
        assert_eq!(token_from(&format!("Basic {TOKEN}")), None);
        assert_eq!(token_from("Bearer"), None);
        assert_eq!(token_from("Bearer   "), None);
        assert_eq!(bearer_token(&HeaderMap::new(), &secret()), None);
    }
}
