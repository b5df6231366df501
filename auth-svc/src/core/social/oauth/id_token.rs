//! ID-token verification: the key set's usable keys, the signature, and the claims (what is checked, and why
//! more than Better Auth checks, is in the `oauth` module doc).

use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use url::Url;

use super::OAuth;
use super::claims::{subject_of, text};
use super::discovery::Discovered;
use super::fault::Fault;
use crate::core::social::settings::{Kind, Provider};

/// The least time between two fetches of a JWKS prompted by unknown `kid`s.
const JWKS_REFETCH: Duration = Duration::from_secs(10);
/// Clock skew allowed on `exp` and `nbf`, Better Auth's 30 s.
const LEEWAY_SECS: f64 = 30.0;

/// The ID-token algorithms accepted, by their JOSE names.
const ALGORITHMS: [(Algorithm, &str); 3] = [
    (Algorithm::RS256, "RS256"),
    (Algorithm::ES256, "ES256"),
    (Algorithm::EdDSA, "EdDSA"),
];
/// Google's issuer, which its ID tokens also name without the scheme.
const GOOGLE_ISSUER: &str = "https://accounts.google.com";
const GOOGLE_BARE_ISSUER: &str = "accounts.google.com";

impl OAuth {
    /// The claims of an ID token whose signature and claims are good.
    pub(super) async fn verified_claims(
        &self,
        provider: &Provider,
        discovered: &Discovered,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<Map<String, Value>, Fault> {
        let (issuer, jwks) = discovered
            .keys()
            .ok_or(Fault::Missing("a JWKS to verify the ID token with"))?;
        let header = jsonwebtoken::decode_header(id_token).map_err(Fault::jwt)?;
        let name = ALGORITHMS
            .iter()
            .find(|(algorithm, _)| *algorithm == header.alg)
            .map(|(_, name)| *name)
            .ok_or(Fault::Invalid("ID token algorithm"))?;
        if !discovered.algorithms.is_empty() && !discovered.algorithms.iter().any(|a| a == name) {
            return Err(Fault::Invalid(
                "ID token algorithm not among the discovered ones",
            ));
        }
        let keys = self
            .signing_keys(jwks, header.kid.as_deref(), header.alg)
            .await?;
        let claims = verify_signature(id_token, header.alg, &keys)?;
        check_claims(&claims, &expectations(provider, Some(issuer), nonce))?;
        Ok(claims)
    }

    /// Keys of the JWKS at `url` that can check a token with this `kid` and algorithm, fetching the set when none
    /// can and the last fetch is [`JWKS_REFETCH`] old.
    async fn signing_keys(
        &self,
        url: &Url,
        kid: Option<&str>,
        algorithm: Algorithm,
    ) -> Result<Vec<DecodingKey>, Fault> {
        let slot = self.jwks.get(url);
        let mut slot = slot.lock().await;
        let mut keys = usable_keys(&slot.keys, kid, algorithm);
        if keys.is_empty()
            && slot
                .fetched_at
                .is_none_or(|at| at.elapsed() >= JWKS_REFETCH)
        {
            slot.fetched_at = Some(Instant::now());
            slot.keys = parse_jwks(&self.get_json(url, None).await?)?;
            keys = usable_keys(&slot.keys, kid, algorithm);
        }
        if keys.is_empty() {
            return Err(Fault::Invalid(
                "no JWKS key for the ID token's kid and algorithm",
            ));
        }
        Ok(keys)
    }
}

#[derive(Default)]
pub(super) struct KeySlot {
    keys: Vec<Jwk>,
    fetched_at: Option<Instant>,
}

/// The keys of a JWKS document that parse; one key of a kind this library cannot read does not spoil the others.
fn parse_jwks(document: &Value) -> Result<Vec<Jwk>, Fault> {
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(Fault::Missing("keys in the JWKS"))?;
    Ok(keys
        .iter()
        .filter_map(|key| serde_json::from_value(key.clone()).ok())
        .collect())
}

/// The keys that can check a token signed with `algorithm` under `kid` (every key's when the token names none).
fn usable_keys(keys: &[Jwk], kid: Option<&str>, algorithm: Algorithm) -> Vec<DecodingKey> {
    keys.iter()
        .filter(|key| kid.is_none_or(|kid| key.common.key_id.as_deref() == Some(kid)))
        .filter_map(|key| decoding_key(key, algorithm))
        .collect()
}

/// A JWK as a key for `algorithm`, when it is one: a signing key, of the algorithm it declares if it declares one,
/// of the type and size the algorithm needs (RSA of 2048 bits or more, P-256, Ed25519).
fn decoding_key(key: &Jwk, algorithm: Algorithm) -> Option<DecodingKey> {
    let signing = key
        .common
        .public_key_use
        .as_ref()
        .is_none_or(|usage| *usage == PublicKeyUse::Signature);
    let declared = key.common.key_algorithm.is_none_or(|declared| {
        matches!(
            (declared, algorithm),
            (KeyAlgorithm::RS256, Algorithm::RS256)
                | (KeyAlgorithm::ES256, Algorithm::ES256)
                | (KeyAlgorithm::EdDSA, Algorithm::EdDSA)
        )
    });
    let decoded_len = |text: &str| URL_SAFE_NO_PAD.decode(text).map(|bytes| bytes.len()).ok();
    let fits = match (&key.algorithm, algorithm) {
        (AlgorithmParameters::RSA(rsa), Algorithm::RS256) => {
            decoded_len(&rsa.n).is_some_and(|len| len >= 256)
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        // The verifier slices the first 32 bytes, so anything shorter must not reach it.
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => {
            okp.curve == EllipticCurve::Ed25519 && decoded_len(&okp.x) == Some(32)
        }
        _ => false,
    };
    (signing && declared && fits)
        .then(|| DecodingKey::from_jwk(key).ok())
        .flatten()
}

/// The claims of a token one of `keys` signed; the claims themselves are [`check_claims`]'s.
fn verify_signature(
    id_token: &str,
    algorithm: Algorithm,
    keys: &[DecodingKey],
) -> Result<Map<String, Value>, Fault> {
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let mut last = Fault::Missing("a key");
    for key in keys {
        match jsonwebtoken::decode::<Map<String, Value>>(id_token, key, &validation) {
            Ok(data) => return Ok(data.claims),
            Err(error) => last = Fault::jwt(error),
        }
    }
    Err(last)
}

/// The claims of an ID token from a provider without keys, checked like a verified one's but for the signature:
/// the token came straight from the token endpoint over TLS (OpenID Connect Core 3.1.3.7, 6).
pub(super) fn unverified_claims(
    provider: &Provider,
    issuer: Option<&str>,
    id_token: &str,
    nonce: Option<&str>,
) -> Result<Map<String, Value>, Fault> {
    let claims = jsonwebtoken::dangerous::insecure_decode::<Map<String, Value>>(id_token)
        .map_err(Fault::jwt)?
        .claims;
    check_claims(&claims, &expectations(provider, issuer, nonce))?;
    Ok(claims)
}

/// What an ID token's claims must say.
struct Expected<'a> {
    /// Accepted `iss` values; empty when the issuer is unknown (configured endpoints).
    issuers: Vec<&'a str>,
    client_id: &'a str,
    nonce: Option<&'a str>,
    /// Seconds since the epoch.
    now: f64,
}

fn expectations<'a>(
    provider: &'a Provider,
    issuer: Option<&'a str>,
    nonce: Option<&'a str>,
) -> Expected<'a> {
    let mut issuers: Vec<&str> = issuer.into_iter().collect();
    if provider.kind == Kind::Google && issuer == Some(GOOGLE_ISSUER) {
        issuers.push(GOOGLE_BARE_ISSUER);
    }
    Expected {
        issuers,
        client_id: &provider.client.id,
        nonce,
        now: Utc::now().timestamp_millis() as f64 / 1000.0,
    }
}

/// `iss`, `aud` (with `azp` when there are several audiences), `exp` and `nbf` with leeway, `iat`, `sub`, `nonce`.
fn check_claims(claims: &Map<String, Value>, expected: &Expected<'_>) -> Result<(), Fault> {
    if !expected.issuers.is_empty()
        && !text(claims, "iss").is_some_and(|iss| expected.issuers.contains(&iss))
    {
        return Err(Fault::Invalid("ID token iss"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(audience)) => vec![audience.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(Fault::Invalid("ID token aud"));
    }
    if audiences.len() > 1 && text(claims, "azp") != Some(expected.client_id) {
        return Err(Fault::Invalid("ID token azp"));
    }
    let number = |name| claims.get(name).and_then(Value::as_f64);
    match number("exp") {
        Some(exp) if exp + LEEWAY_SECS > expected.now => {}
        _ => return Err(Fault::Invalid("ID token exp")),
    }
    match (claims.get("nbf"), number("nbf")) {
        (None, _) => {}
        (Some(_), Some(nbf)) if nbf - LEEWAY_SECS <= expected.now => {}
        _ => return Err(Fault::Invalid("ID token nbf")),
    }
    if number("iat").is_none() {
        return Err(Fault::Invalid("ID token iat"));
    }
    if subject_of(claims.get("sub")).is_none() {
        return Err(Fault::Invalid("ID token sub"));
    }
    if let Some(nonce) = expected.nonce
        && text(claims, "nonce") != Some(nonce)
    {
        return Err(Fault::Invalid("ID token nonce"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::core::social::oauth::OAuthError;
    use crate::core::social::oauth::stand_in::*;
    use crate::core::social::settings::Endpoints;

    fn expected<'a>(nonce: Option<&'a str>, now: f64) -> Expected<'a> {
        Expected {
            issuers: vec!["https://op.example.com"],
            client_id: "client-1",
            nonce,
            now,
        }
    }

    #[test]
    fn id_token_claims_are_checked_one_by_one() {
        let now = 1_900_000_000.0;
        let good = json!({"iss": "https://op.example.com", "aud": "client-1", "sub": "alice", "iat": now,
                          "exp": now + 600.0, "nonce": "n-1"});
        let with = |change: Value| {
            let mut claims = good.as_object().unwrap().clone();
            for (name, value) in change.as_object().unwrap() {
                if value.is_null() {
                    claims.remove(name);
                } else {
                    claims.insert(name.clone(), value.clone());
                }
            }
            claims
        };
        let passes = |claims: &Map<String, Value>, nonce| {
            check_claims(claims, &expected(nonce, now)).is_ok()
        };

        assert!(passes(&with(json!({})), Some("n-1")));
        assert!(
            passes(&with(json!({})), None),
            "a nonce is checked only when one is expected"
        );
        assert!(passes(&with(json!({"aud": ["client-1"]})), None));
        assert!(passes(
            &with(json!({"aud": ["client-1", "other"], "azp": "client-1"})),
            None
        ));
        assert!(
            passes(&with(json!({"exp": now - 29.0})), None),
            "30 s of leeway"
        );
        assert!(passes(&with(json!({"nbf": now + 29.0})), None));

        let refused = [
            json!({"iss": "https://evil.example.com"}),
            json!({"iss": null}),
            json!({"aud": "other"}),
            json!({"aud": ["other"]}),
            json!({"aud": ["client-1", "other"]}),
            json!({"aud": ["client-1", "other"], "azp": "other"}),
            json!({"aud": null}),
            json!({"exp": now - 31.0}),
            json!({"exp": null}),
            json!({"exp": "soon"}),
            json!({"nbf": now + 31.0}),
            json!({"nbf": "later"}),
            json!({"iat": null}),
            json!({"sub": null}),
            json!({"sub": ""}),
            json!({"nonce": "n-2"}),
            json!({"nonce": null}),
        ];
        for change in refused {
            assert!(!passes(&with(change.clone()), Some("n-1")), "{change}");
        }
    }

    #[test]
    fn google_tokens_may_name_the_issuer_without_the_scheme() {
        let google = provider(
            "google",
            Kind::Google,
            Endpoints::Discovery(url(
                "https://accounts.google.com/.well-known/openid-configuration",
            )),
            "g",
        );
        assert_eq!(
            expectations(&google, Some("https://accounts.google.com"), None).issuers,
            ["https://accounts.google.com", "accounts.google.com"]
        );
        assert_eq!(
            expectations(&oidc_provider(), Some("https://accounts.google.com"), None).issuers,
            ["https://accounts.google.com"]
        );
        assert_eq!(
            expectations(&google, Some("http://127.0.0.1:9/"), None).issuers,
            ["http://127.0.0.1:9/"]
        );
    }

    #[test]
    fn only_signing_keys_of_the_right_kind_and_size_are_used() {
        let jwk = |value: Value| serde_json::from_value::<Jwk>(value).unwrap();
        let ed_x = URL_SAFE_NO_PAD.encode([9u8; 32]);
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": ed_x});
        assert!(decoding_key(&jwk(ed.clone()), Algorithm::EdDSA).is_some());
        assert!(decoding_key(&jwk(ed.clone()), Algorithm::RS256).is_none());
        let short = json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode([9u8; 16])});
        assert!(
            decoding_key(&jwk(short), Algorithm::EdDSA).is_none(),
            "a short key would panic the verifier"
        );
        let mut encryption = ed.clone();
        encryption["use"] = json!("enc");
        assert!(decoding_key(&jwk(encryption), Algorithm::EdDSA).is_none());
        let mut declared_other = ed;
        declared_other["alg"] = json!("ES256");
        assert!(decoding_key(&jwk(declared_other), Algorithm::EdDSA).is_none());

        let small_rsa =
            json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc1u8; 128]), "e": "AQAB"});
        assert!(decoding_key(&jwk(small_rsa), Algorithm::RS256).is_none());
        let rsa = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc1u8; 256]), "e": "AQAB"});
        assert!(decoding_key(&jwk(rsa), Algorithm::RS256).is_some());

        let set = parse_jwks(
            &json!({"keys": [{"kty": "unknown"}, {"kty": "OKP", "crv": "Ed25519", "x": ed_x}]}),
        )
        .unwrap();
        assert_eq!(
            set.len(),
            1,
            "a key this library cannot read does not spoil the set"
        );
    }

    #[tokio::test]
    async fn id_tokens_verify_under_each_accepted_algorithm() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        let keys = [Key::rsa("rsa"), Key::ec("ec"), Key::ed("ed", 7)];
        publish(&op, &keys.iter().collect::<Vec<_>>());
        for key in &keys {
            let user = oauth
                .user_info(&provider, &id_tokens(key.sign(&op.claims())), Some(NONCE))
                .await
                .unwrap();
            assert_eq!(user.account_id, "alice", "{:?}", key.algorithm);
            assert_eq!(user.email.as_deref(), Some("alice@example.com"));
            assert!(user.email_verified);
            assert_eq!(user.name, "Alice");
            assert_eq!(user.image.as_deref(), Some("http://op/alice.png"));
            assert_eq!(user.raw["id"], "alice");
        }
        assert!(
            op.seen("/me").is_empty(),
            "claims with sub and email are the profile"
        );
        assert_eq!(op.seen("/jwks").len(), 1, "the key set is cached");
    }

    #[tokio::test]
    async fn a_bad_id_token_is_refused() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        let key = Key::ed("ed", 7);
        publish(&op, &[&key]);
        let claims = op.claims();
        let with = |name: &str, value: Value| {
            let mut claims = claims.clone();
            claims[name] = value;
            key.sign(&claims)
        };
        let good = key.sign(&claims);
        let (head, rest) = good.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        let mut tampered_signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        tampered_signature[0] ^= 1;
        let forged_payload = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&json!({"sub": "mallory", "email": "m@example.com"})).unwrap(),
        );
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"ed"}"#);
        let hmac = jsonwebtoken::encode(
            &Header {
                kid: Some("ed".into()),
                ..Header::new(Algorithm::HS256)
            },
            &claims,
            &EncodingKey::from_secret(b"the-secret"),
        )
        .unwrap();
        let other_key = Key::ed("ed", 8).sign(&claims);
        let now = Utc::now().timestamp();

        let bad = [
            (
                "tampered signature",
                format!(
                    "{head}.{payload}.{}",
                    URL_SAFE_NO_PAD.encode(&tampered_signature)
                ),
            ),
            (
                "forged payload",
                format!("{head}.{forged_payload}.{signature}"),
            ),
            ("alg none", format!("{none_header}.{payload}.")),
            ("HS256 under the client secret", hmac),
            ("another key under the same kid", other_key),
            ("wrong audience", with("aud", json!("client-2"))),
            (
                "wrong issuer",
                with("iss", json!("http://evil.example.com")),
            ),
            ("expired", with("exp", json!(now - 120))),
            ("wrong nonce", with("nonce", json!("another"))),
            ("not a JWT", "not-a-jwt".to_owned()),
        ];
        for (case, token) in bad {
            let user = oauth
                .user_info(&provider, &id_tokens(token.clone()), Some(NONCE))
                .await;
            assert!(
                matches!(user, Err(OAuthError::InvalidIdToken)),
                "user_info: {case}"
            );
            let user = oauth.verify_id_token(&provider, &token, Some(NONCE)).await;
            assert!(
                matches!(user, Err(OAuthError::InvalidIdToken)),
                "verify_id_token: {case}"
            );
        }
        oauth
            .user_info(&provider, &id_tokens(good), Some(NONCE))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_the_key_set_at_most_once_per_ten_seconds() {
        let op = Op::start().await;
        let oauth = OAuth::new();
        let provider = op.generic();
        let old = Key::ed("old", 1);
        let new = Key::ed("new", 2);
        publish(&op, &[&old]);
        oauth
            .user_info(&provider, &id_tokens(old.sign(&op.claims())), None)
            .await
            .unwrap();
        assert_eq!(op.seen("/jwks").len(), 1);

        // The provider rotates, but the set was fetched under 10 s ago: the new kid waits.
        publish(&op, &[&old, &new]);
        let rotated = id_tokens(new.sign(&op.claims()));
        assert!(matches!(
            oauth.user_info(&provider, &rotated, None).await,
            Err(OAuthError::InvalidIdToken)
        ));
        assert_eq!(op.seen("/jwks").len(), 1);

        // Ten seconds on, one refetch finds it.
        {
            let slot = oauth.jwks.get(&op.base.join("jwks").unwrap());
            let mut slot = slot.lock().await;
            slot.fetched_at = slot.fetched_at.map(|at| at - JWKS_REFETCH);
        }
        oauth.user_info(&provider, &rotated, None).await.unwrap();
        oauth.user_info(&provider, &rotated, None).await.unwrap();
        assert_eq!(op.seen("/jwks").len(), 2);
    }
}
