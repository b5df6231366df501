//! A provider stand-in on 127.0.0.1 for the tests of the calls themselves, and the keys it signs with.

use std::sync::{Arc, Mutex};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use url::{Url, form_urlencoded};

use super::{AuthorizationRequest, Tokens};
use crate::core::social::settings::{Client, Endpoints, Kind, Provider};

pub(super) const STATE: &str = "tJSlkf6MtuDmrAFWn-trDW9LUutMjxF1";
/// RFC 7636 appendix B.
pub(super) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(super) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub(super) const NONCE: &str = "fFguUPlanSWaRFVeNdELEQbvEWBKSF3e";

pub(super) fn provider(id: &str, kind: Kind, endpoints: Endpoints, client_id: &str) -> Provider {
    let scopes: &[&str] = match kind {
        Kind::Google => &["email", "profile", "openid"],
        Kind::Github { .. } => &["read:user", "user:email"],
        Kind::Generic => &["openid", "email", "profile"],
    };
    Provider {
        id: id.into(),
        kind,
        endpoints,
        client: Client {
            id: client_id.into(),
            secret: SecretString::from("the-secret"),
        },
        scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
        pkce: true,
    }
}

pub(super) fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

pub(super) fn request<'a>(
    redirect_uri: &'a str,
    scopes: &'a [String],
    additional_params: &'a [(String, String)],
) -> AuthorizationRequest<'a> {
    AuthorizationRequest {
        state: STATE,
        code_verifier: Some(VERIFIER),
        nonce: None,
        redirect_uri,
        scopes,
        login_hint: None,
        additional_params,
    }
}

pub(super) fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|item| (*item).to_owned()).collect()
}

pub(super) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

pub(super) fn oidc_provider() -> Provider {
    provider(
        "oidc",
        Kind::Generic,
        Endpoints::Discovery(url(
            "http://127.0.0.1:4100/.well-known/openid-configuration",
        )),
        "ba-client",
    )
}

// A provider stand-in on 127.0.0.1 for the calls themselves.

/// A request the stand-in saw.
#[derive(Clone, Debug)]
pub(super) struct Seen {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
}

impl Seen {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(own, _)| own.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// What the stand-in answers, by path; tests change it as they go.
pub(super) struct Answers {
    pub(super) discovery: Value,
    pub(super) jwks: Value,
    pub(super) token: (u16, Value),
    pub(super) userinfo: (u16, Value),
    pub(super) user: (u16, Value),
    pub(super) emails: (u16, Value),
}

#[derive(Clone)]
pub(super) struct Op {
    pub(super) base: Url,
    pub(super) issuer: String,
    pub(super) answers: Arc<Mutex<Answers>>,
    pub(super) seen: Arc<Mutex<Vec<Seen>>>,
}

impl Op {
    pub(super) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = url(&format!("http://{}/", listener.local_addr().unwrap()));
        let issuer = base.as_str().trim_end_matches('/').to_owned();
        let discovery = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "userinfo_endpoint": format!("{issuer}/me"),
            "jwks_uri": format!("{issuer}/jwks"),
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        });
        let op = Self {
            base,
            issuer,
            answers: Arc::new(Mutex::new(Answers {
                discovery,
                jwks: json!({"keys": []}),
                token: (200, json!({"access_token": "at-1", "token_type": "Bearer"})),
                userinfo: (200, json!({})),
                user: (200, json!({})),
                emails: (200, json!([])),
            })),
            seen: Arc::default(),
        };
        let serving = op.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let op = serving.clone();
                tokio::spawn(async move { op.answer(stream).await });
            }
        });
        op
    }

    pub(super) fn set(&self, change: impl FnOnce(&mut Answers)) {
        change(&mut self.answers.lock().unwrap());
    }

    pub(super) fn seen(&self, path: &str) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|seen| seen.target.split('?').next() == Some(path))
            .cloned()
            .collect()
    }

    pub(super) async fn answer(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        let mut words = line.split_whitespace();
        let (method, target) = (
            words.next().unwrap_or_default().to_owned(),
            words.next().unwrap_or_default().to_owned(),
        );
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).await?;
            let Some((name, value)) = header.trim_end().split_once(':') else {
                break;
            };
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let mut seen = Seen {
            method,
            target,
            headers,
            body: String::new(),
        };
        let length = seen
            .header("content-length")
            .and_then(|length| length.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        seen.body = String::from_utf8(body).unwrap();
        self.seen.lock().unwrap().push(seen.clone());
        let (status, body) = {
            let answers = self.answers.lock().unwrap();
            match seen.target.split('?').next().unwrap_or_default() {
                "/.well-known/openid-configuration" => (200, answers.discovery.clone()),
                "/jwks" => (200, answers.jwks.clone()),
                "/token" => answers.token.clone(),
                "/me" => answers.userinfo.clone(),
                "/user" => answers.user.clone(),
                "/user/emails" => answers.emails.clone(),
                _ => (404, json!({"error": "not_found"})),
            }
        };
        let body = match body {
            Value::String(raw) => raw,
            json => json.to_string(),
        };
        let head = format!(
            "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             location: https://elsewhere.example.com/\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let stream = reader.get_mut();
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await
    }

    pub(super) fn generic(&self) -> Provider {
        provider(
            "acme",
            Kind::Generic,
            Endpoints::Discovery(self.base.join(".well-known/openid-configuration").unwrap()),
            "client-1",
        )
    }

    pub(super) fn google(&self) -> Provider {
        let mut google = self.generic();
        google.id = "google".into();
        google.kind = Kind::Google;
        google
    }

    pub(super) fn github(&self) -> Provider {
        provider(
            "github",
            Kind::Github {
                api: self.base.clone(),
            },
            Endpoints::Manual {
                authorization: self.base.join("auth").unwrap(),
                token: self.base.join("token").unwrap(),
                userinfo: None,
            },
            "client-1",
        )
    }

    pub(super) fn manual(&self) -> Provider {
        provider(
            "plain",
            Kind::Generic,
            Endpoints::Manual {
                authorization: self.base.join("auth").unwrap(),
                token: self.base.join("token").unwrap(),
                userinfo: Some(self.base.join("me").unwrap()),
            },
            "client-1",
        )
    }

    /// Claims the stand-in would sign for alice.
    pub(super) fn claims(&self) -> Value {
        let now = Utc::now().timestamp();
        json!({"iss": self.issuer, "aud": "client-1", "sub": "alice", "email": "alice@example.com",
               "email_verified": true, "name": "Alice", "picture": "http://op/alice.png",
               "iat": now, "exp": now + 600, "nonce": NONCE})
    }
}

/// A signing key and its public JWK.
pub(super) struct Key {
    pub(super) algorithm: Algorithm,
    pub(super) kid: String,
    pub(super) key: EncodingKey,
    pub(super) jwk: Value,
}

/// A 2048-bit RSA key, PKCS#1 (what jsonwebtoken signs with).
pub(super) const RSA_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEAqZRPzGbee0KXBopkHk+h/tsNRVUkW/2ydFnGgedWGWhkUi+b
lCfy7+yUUgtm3KTrAo9CgjS2qvBa02KPMfSA4H63efvAaGbGoAEZ7/8BSKoikgYr
mkZu/vvGmiBYSgBGVr2TfMArmr4hPbtCEHJTEpaUhi3/sfWlShnw9aDpPGPH6Twx
3jR9UokrQxbWsBbTUa8orqueZl11QZTyv6I1kjTo/chdI6Wwjxo/+oTI5go+Byuh
Wbdygvs4ndjVYHZmi5Y3erzdfLNUF3jrM3mQkf+gcP3OK7druZmURdBxvEUHrEfk
cySyCWJ7FKRyY+piYrdQSf4nK2NU58PluMJ93QIDAQABAoIBABXEWg7aaHXpaQHX
qzzBy4EvZG9xG5rsQGcTa/naNDDMN85d2opEq3gVBb/XQ1OQnrLkKS0V75mXAw2N
oeRPZmiKk2oGwN6VzKqWoZnvAV7uqcPVI20o29ACiO5ZNwP+r4isSl1xvFcfTxyB
qBv81MF2zyc/Ccpxxc7yb/3TcwTDc4PJaEYPhPJ9TYpE+8r1x7oDjOQG8Qfp246s
TFnXD6zDrUNOmCU1MNeoF+xwx9YI9vISKLjmw/Uplk/rC4WZecmNjrqawgFf1laL
lle6xRTq5YjjxsSlAghp+9swXRU9mStdUrbjc87rTgKoZLpw/aPsd6YIpjoXmDr+
oOtPJzkCgYEA2xwpdcb4MKa+d+JYIw18pzPVg3UkVUxUkmzEs1tlmr6WubUYN/Z2
VqwsCMf8QYcAG4dSxuYZsTLltZsZaNweyRoYd6N1lvv1wa2PBitx/NDqJ8d48wsS
TXlalNUjTbSo2PTbin1oHvRLZIvHn/PrmgBV+nWLYEiV7Wq3vx2o+DkCgYEAxiFV
aLNyxa7R299ycf7Wvb00ndmqbro5OlZISvOQzTJTgwZxPn6C6GFkUawKlA08wjg8
45RO15VgOvDAbhJ7UKHvjkcdoEm1mZWAe3Yc/d8yYgzcm+CdnH/slIsL4cTWUU2q
UslqS9CjU9sZkT/9cPbDL8J4I+LFDl2+ui/TSsUCgYApOsdibipNnVLB5EmJbwRB
wjMvJV/M3Swc0XLB/TTFRY+/KiCAh1QFQyiWDmudOPYAOBqPasTy3wzye1jwrlrs
pIhuGsgJvSelZi8/jfVJCVbGXXaY5UBwa6Fr2B9og9Ix4QFesfJhwL5fER5jLtbq
h52mH3A2kfIEVsx0nfQpoQKBgEtzFDBL7dAD89zUKaPplOMqcygNZM7H0dU6WEta
l3Dc0lqaEHPo/3b455gGePzKUbHwcpeDucZ1FvE7DzybgyRAlpZK1KheiW5UNVpO
r1mqLmiSV0xw6/RV7sTecobmS2sotUzTcMwwRpI/ZGwgvyXOgqPkXZXk3H/NCT2j
ysW1AoGAPq95uzlm+Yg/t15AbO+VRJg+UyVv5QHKX9+lWAYbBEvHoGch7kSZc+CC
2i6AYjZJGNabUo4MWJClZUJTfuxJxIMYdpHmiT8gAkVj/Xmly86pJe5wlYt6Kawm
FzzofsJmhwAZywyhF1yyCHFE0VgDLPg0V8F5R5bu5zV9lxwsr2s=
-----END RSA PRIVATE KEY-----";

/// A P-256 key, PKCS#8.
pub(super) const EC_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4ra47DGTlBcyoFDN
ZOOU6lFrIn4mHblNnmhIRJdlZm6hRANCAASMCxaB02+hVXMjvT7ID2dJOwaZW+LN
9nhhVJKCe3YJAJZt3YfL8B6yV+g5GnT1uAIpfrd75N5u6ktq87kB5m1f
-----END PRIVATE KEY-----";

pub(super) fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

impl Key {
    pub(super) fn rsa(kid: &str) -> Self {
        let key = EncodingKey::from_rsa_der(&pem_body(RSA_KEY));
        Self::from_encoding(Algorithm::RS256, kid, key)
    }

    pub(super) fn ec(kid: &str) -> Self {
        let key = EncodingKey::from_ec_der(&pem_body(EC_KEY));
        Self::from_encoding(Algorithm::ES256, kid, key)
    }

    pub(super) fn ed(kid: &str, seed: u8) -> Self {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let der = signing.to_pkcs8_der().unwrap();
        let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
        Self {
            algorithm: Algorithm::EdDSA,
            kid: kid.into(),
            key: EncodingKey::from_ed_der(der.as_bytes()),
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}),
        }
    }

    pub(super) fn from_encoding(algorithm: Algorithm, kid: &str, key: EncodingKey) -> Self {
        let mut jwk =
            serde_json::to_value(Jwk::from_encoding_key(&key, algorithm).unwrap()).unwrap();
        jwk["kid"] = json!(kid);
        Self {
            algorithm,
            kid: kid.into(),
            key,
            jwk,
        }
    }

    pub(super) fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

pub(super) fn publish(op: &Op, keys: &[&Key]) {
    let jwks = json!({"keys": keys.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>()});
    op.set(|answers| answers.jwks = jwks);
}

pub(super) fn id_tokens(id_token: String) -> Tokens {
    Tokens {
        access_token: Some("at-1".into()),
        id_token: Some(id_token),
        ..Tokens::default()
    }
}

pub(super) fn form(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}
