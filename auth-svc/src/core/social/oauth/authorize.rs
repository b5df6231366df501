//! The authorization URL as Better Auth builds it (§3): its parameters in Better Auth's order, the scopes, and
//! PKCE's challenge.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use url::{Url, form_urlencoded};

use super::AuthorizationRequest;
use crate::core::social::settings::{Kind, Provider};

/// Authorization parameters the request builds itself; `additional_params` cannot replace them (§3).
const RESERVED_PARAMS: [&str; 8] = [
    "state",
    "client_id",
    "redirect_uri",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "scope",
];

/// RFC 7636's S256 challenge: base64url, unpadded, of SHA-256 of the verifier.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Better Auth's authorization URL (§3) at `endpoint`; `oidc` puts `openid` first in a generic provider's scopes.
pub(super) fn authorization_url(
    provider: &Provider,
    endpoint: &Url,
    oidc: bool,
    request: &AuthorizationRequest<'_>,
) -> Url {
    let mut params = Params::default();
    params.set("response_type", "code");
    params.set("client_id", &provider.client.id);
    params.set("state", request.state);
    let scopes = scopes(provider, request.scopes, oidc);
    if !scopes.is_empty() {
        params.set("scope", &scopes.join(" "));
    }
    params.set("redirect_uri", request.redirect_uri);
    // Better Auth skips an empty hint, nonce or verifier as it skips an absent one.
    if let Some(hint) = request.login_hint.filter(|hint| !hint.is_empty()) {
        params.set("login_hint", hint);
    }
    if let Some(nonce) = request.nonce.filter(|nonce| !nonce.is_empty()) {
        params.set("nonce", nonce);
    }
    let verifier = request
        .code_verifier
        .filter(|v| provider.pkce && !v.is_empty());
    if let Some(verifier) = verifier {
        params.set("code_challenge_method", "S256");
        params.set("code_challenge", &code_challenge(verifier));
    }
    if provider.kind == Kind::Google {
        params.set("include_granted_scopes", "true");
    }
    for (name, value) in request.additional_params {
        if !RESERVED_PARAMS.contains(&name.as_str()) {
            params.set(name, value);
        }
    }
    params.onto(endpoint)
}

/// Google and GitHub: the provider's scopes, then the request's. Generic: the request's first, then the provider's,
/// with `openid` put first when the provider is OpenID Connect and neither names it. No de-duplication, as Better Auth.
fn scopes<'a>(provider: &'a Provider, requested: &'a [String], oidc: bool) -> Vec<&'a str> {
    let (first, then) = match provider.kind {
        Kind::Generic => (requested, provider.scopes.as_slice()),
        _ => (provider.scopes.as_slice(), requested),
    };
    let mut scopes: Vec<&str> = first.iter().chain(then).map(String::as_str).collect();
    if provider.kind == Kind::Generic && oidc && !scopes.contains(&"openid") {
        scopes.insert(0, "openid");
    }
    scopes
}

/// Query parameters with `URLSearchParams.set` semantics: a name set again keeps its place.
#[derive(Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn set(&mut self, name: &str, value: &str) {
        match self.0.iter_mut().find(|(own, _)| own == name) {
            Some((_, own)) => value.clone_into(own),
            None => self.0.push((name.to_owned(), value.to_owned())),
        }
    }

    /// `endpoint` with these parameters after its own query, less the pairs they replace; the pairs kept stay as
    /// written, as Better Auth keeps them (a provider may sign its query).
    fn onto(&self, endpoint: &Url) -> Url {
        let replaced = |pair: &&str| {
            form_urlencoded::parse(pair.as_bytes())
                .next()
                .is_some_and(|(name, _)| self.0.iter().any(|(own, _)| *own == name))
        };
        let mut query: Vec<String> = endpoint
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && !replaced(pair))
            .map(str::to_owned)
            .collect();
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.0)
            .finish();
        if !encoded.is_empty() {
            query.push(encoded);
        }
        let mut url = endpoint.clone();
        let query = query.join("&");
        url.set_query((!query.is_empty()).then_some(query.as_str()));
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::social::oauth::stand_in::*;
    use crate::core::social::settings::Endpoints;

    #[test]
    fn the_code_challenge_is_rfc_7636s() {
        assert_eq!(code_challenge(VERIFIER), CHALLENGE);
    }

    #[test]
    fn google_authorization_urls_are_better_auths() {
        let google = provider(
            "google",
            Kind::Google,
            Endpoints::Discovery(url(
                "https://accounts.google.com/.well-known/openid-configuration",
            )),
            "google-client-id.apps.googleusercontent.com",
        );
        let endpoint = url("https://accounts.google.com/o/oauth2/v2/auth");
        let redirect = "http://localhost:3100/api/auth/callback/google";
        let plain = authorization_url(&google, &endpoint, true, &request(redirect, &[], &[]));
        assert_eq!(
            plain.as_str(),
            format!(
                "https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=google-client-id.apps.googleusercontent.com&state={STATE}&scope=email+profile+openid&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Fgoogle&code_challenge_method=S256&code_challenge={CHALLENGE}&include_granted_scopes=true"
            )
        );

        let scopes = strings(&["https://www.googleapis.com/auth/drive.readonly"]);
        let extra = pairs(&[("hd", "example.com"), ("foo", "bar baz")]);
        let mut with_more = request(redirect, &scopes, &extra);
        with_more.login_hint = Some("alice@example.com");
        let rich = authorization_url(&google, &endpoint, true, &with_more);
        assert_eq!(
            rich.as_str(),
            format!(
                "https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=google-client-id.apps.googleusercontent.com&state={STATE}&scope=email+profile+openid+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdrive.readonly&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Fgoogle&login_hint=alice%40example.com&code_challenge_method=S256&code_challenge={CHALLENGE}&include_granted_scopes=true&hd=example.com&foo=bar+baz"
            )
        );
    }

    #[test]
    fn github_authorization_urls_are_better_auths() {
        let github = provider(
            "github",
            Kind::Github {
                api: url("https://api.github.com/"),
            },
            Endpoints::Manual {
                authorization: url("https://github.com/login/oauth/authorize"),
                token: url("https://github.com/login/oauth/access_token"),
                userinfo: None,
            },
            "github-client-id",
        );
        let endpoint = url("https://github.com/login/oauth/authorize");
        let redirect = "http://localhost:3100/api/auth/callback/github";
        let plain = authorization_url(&github, &endpoint, false, &request(redirect, &[], &[]));
        assert_eq!(
            plain.as_str(),
            format!(
                "https://github.com/login/oauth/authorize?response_type=code&client_id=github-client-id&state={STATE}&scope=read%3Auser+user%3Aemail&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Fgithub&code_challenge_method=S256&code_challenge={CHALLENGE}"
            )
        );

        let scopes = strings(&["repo"]);
        let mut with_hint = request(redirect, &scopes, &[]);
        with_hint.login_hint = Some("alicegh");
        let hinted = authorization_url(&github, &endpoint, false, &with_hint);
        assert_eq!(
            hinted.as_str(),
            format!(
                "https://github.com/login/oauth/authorize?response_type=code&client_id=github-client-id&state={STATE}&scope=read%3Auser+user%3Aemail+repo&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Fgithub&login_hint=alicegh&code_challenge_method=S256&code_challenge={CHALLENGE}"
            )
        );
    }

    #[test]
    fn generic_authorization_urls_are_better_auths() {
        let oidc = oidc_provider();
        let endpoint = url("http://127.0.0.1:4100/auth");
        let redirect = "http://localhost:3100/api/auth/callback/oidc";
        let mut plain = request(redirect, &[], &[]);
        plain.nonce = Some(NONCE);
        assert_eq!(
            authorization_url(&oidc, &endpoint, true, &plain).as_str(),
            format!(
                "http://127.0.0.1:4100/auth?response_type=code&client_id=ba-client&state={STATE}&scope=openid+email+profile&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Foidc&nonce={NONCE}&code_challenge_method=S256&code_challenge={CHALLENGE}"
            )
        );

        // Request scopes come first for a generic provider; an additional parameter is appended.
        let scopes = strings(&["offline_access"]);
        let extra = pairs(&[("prompt", "consent")]);
        let mut rich = request(redirect, &scopes, &extra);
        rich.nonce = Some(NONCE);
        rich.login_hint = Some("alice");
        assert_eq!(
            authorization_url(&oidc, &endpoint, true, &rich).as_str(),
            format!(
                "http://127.0.0.1:4100/auth?response_type=code&client_id=ba-client&state={STATE}&scope=offline_access+openid+email+profile&redirect_uri=http%3A%2F%2Flocalhost%3A3100%2Fapi%2Fauth%2Fcallback%2Foidc&login_hint=alice&nonce={NONCE}&code_challenge_method=S256&code_challenge={CHALLENGE}&prompt=consent"
            )
        );
    }

    #[test]
    fn additional_parameters_replace_in_place_and_never_the_reserved_ones() {
        let oidc = oidc_provider();
        let endpoint = url("https://op.example.com/auth?tenant=a%20b&prompt=none&");
        let extra = pairs(&[
            ("prompt", "login"),
            ("ui_locales", "fr"),
            ("state", "forged"),
            ("prompt", "consent"),
        ]);
        let built = authorization_url(
            &oidc,
            &endpoint,
            true,
            &request("https://app/cb", &[], &extra),
        );
        assert_eq!(
            built.as_str(),
            format!(
                "https://op.example.com/auth?tenant=a%20b&response_type=code&client_id=ba-client&state={STATE}&scope=openid+email+profile&redirect_uri=https%3A%2F%2Fapp%2Fcb&code_challenge_method=S256&code_challenge={CHALLENGE}&prompt=consent&ui_locales=fr"
            )
        );
    }

    #[test]
    fn openid_goes_first_for_a_discovered_provider_and_pkce_off_sends_no_challenge() {
        let mut oidc = oidc_provider();
        oidc.scopes = strings(&["email"]);
        oidc.pkce = false;
        let endpoint = url("https://op.example.com/auth");
        let scopes = strings(&["read"]);
        let built = authorization_url(
            &oidc,
            &endpoint,
            true,
            &request("https://app/cb", &scopes, &[]),
        );
        assert_eq!(
            built.as_str(),
            format!(
                "https://op.example.com/auth?response_type=code&client_id=ba-client&state={STATE}&scope=openid+read+email&redirect_uri=https%3A%2F%2Fapp%2Fcb"
            )
        );
        let plain_oauth = authorization_url(
            &oidc,
            &endpoint,
            false,
            &request("https://app/cb", &scopes, &[]),
        );
        assert!(plain_oauth.as_str().contains("&scope=read+email&"));

        oidc.scopes.clear();
        let no_scope = authorization_url(
            &oidc,
            &endpoint,
            false,
            &request("https://app/cb", &[], &[]),
        );
        assert!(!no_scope.as_str().contains("scope="));
    }
}
