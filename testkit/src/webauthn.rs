//! A passkey authenticator for tests: what a browser and a platform authenticator hand a relying party, built here
//! from the WebAuthn specification with `ring`'s signing, independent of the verifier Warden uses. It answers the
//! options JSON of `navigator.credentials.create()` and `.get()` with the JSON @simplewebauthn/browser sends
//! (`RegistrationResponseJSON`, `AuthenticationResponseJSON`), attestation "none", and can be told to lie: another
//! origin or relying party, no user verification, a counter of its choosing, a broken signature.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The key an authenticator makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (COSE -7), what platform authenticators use.
    Es256,
    /// Ed25519 (COSE -8), what some security keys choose when offered first.
    EdDsa,
}

enum Key {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

/// How one answer departs from an honest one.
#[derive(Clone, Debug, Default)]
pub struct Lie {
    /// The origin written into the client data instead of the real one.
    pub origin: Option<String>,
    /// The relying party hashed into the authenticator data instead of the options'.
    pub rp_id: Option<String>,
    /// Leave the user-verified flag off.
    pub unverified: bool,
    /// This signature counter instead of the next one.
    pub counter: Option<u32>,
    /// Flip a bit of the signature.
    pub bad_signature: bool,
    /// This challenge instead of the options'.
    pub challenge: Option<String>,
}

/// One credential on one authenticator.
pub struct Authenticator {
    key: Key,
    credential_id: Vec<u8>,
    rp_id: Option<String>,
    user_handle: Option<String>,
    counter: u32,
    /// Whether it counts its signatures (many synced passkeys always send 0).
    counts: bool,
    /// Backup eligible and backed up: a synced passkey.
    synced: bool,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

// The little CBOR a COSE key and an attestation object need (RFC 8949): maps, small integers, bytes and text.

fn cbor_head(major: u8, length: usize, out: &mut Vec<u8>) {
    let major = major << 5;
    match length {
        0..=23 => out.push(major | length as u8),
        24..=0xff => out.extend([major | 24, length as u8]),
        _ => {
            out.push(major | 25);
            out.extend((length as u16).to_be_bytes());
        }
    }
}

fn cbor_int(value: i64, out: &mut Vec<u8>) {
    if value >= 0 {
        cbor_head(0, value as usize, out);
    } else {
        cbor_head(1, (-1 - value) as usize, out);
    }
}

fn cbor_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, bytes.len(), out);
    out.extend(bytes);
}

fn cbor_text(text: &str, out: &mut Vec<u8>) {
    cbor_head(3, text.len(), out);
    out.extend(text.as_bytes());
}

impl Authenticator {
    /// A new credential of `algorithm`, counting its signatures, not synced.
    pub fn new(algorithm: Algorithm) -> Self {
        let random = SystemRandom::new();
        let key = match algorithm {
            Algorithm::Es256 => {
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &random)
                    .expect("a P-256 key");
                Key::Es256(
                    EcdsaKeyPair::from_pkcs8(
                        &ECDSA_P256_SHA256_ASN1_SIGNING,
                        pkcs8.as_ref(),
                        &random,
                    )
                    .expect("the P-256 key just made"),
                )
            }
            Algorithm::EdDsa => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&random).expect("an Ed25519 key");
                Key::EdDsa(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("the key just made"))
            }
        };
        let credential_id: [u8; 16] = rand::random();
        Self {
            key,
            credential_id: credential_id.to_vec(),
            rp_id: None,
            user_handle: None,
            counter: 0,
            counts: true,
            synced: false,
        }
    }

    /// A synced passkey: backup eligible and backed up, and (as most are) never counting.
    pub fn synced(mut self) -> Self {
        self.synced = true;
        self.counts = false;
        self
    }

    /// An authenticator that sends 0 as its counter every time.
    pub fn not_counting(mut self) -> Self {
        self.counts = false;
        self
    }

    /// The credential id as the browser names it (base64url).
    pub fn credential_id(&self) -> String {
        b64(&self.credential_id)
    }

    pub fn counter(&self) -> u32 {
        self.counter
    }

    fn cose_key(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match &self.key {
            Key::Es256(key) => {
                // The uncompressed point: 0x04, x, y.
                let point = key.public_key().as_ref();
                cbor_head(5, 5, &mut out);
                cbor_int(1, &mut out);
                cbor_int(2, &mut out); // kty: EC2
                cbor_int(3, &mut out);
                cbor_int(-7, &mut out); // alg: ES256
                cbor_int(-1, &mut out);
                cbor_int(1, &mut out); // crv: P-256
                cbor_int(-2, &mut out);
                cbor_bytes(&point[1..33], &mut out);
                cbor_int(-3, &mut out);
                cbor_bytes(&point[33..65], &mut out);
            }
            Key::EdDsa(key) => {
                cbor_head(5, 4, &mut out);
                cbor_int(1, &mut out);
                cbor_int(1, &mut out); // kty: OKP
                cbor_int(3, &mut out);
                cbor_int(-8, &mut out); // alg: EdDSA
                cbor_int(-1, &mut out);
                cbor_int(6, &mut out); // crv: Ed25519
                cbor_int(-2, &mut out);
                cbor_bytes(key.public_key().as_ref(), &mut out);
            }
        }
        out
    }

    /// The COSE public key in standard base64, as Better Auth's `passkey.publicKey` holds it.
    pub fn public_key_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.cose_key())
    }

    fn auth_data(&self, rp_id: &str, counter: u32, verified: bool, attested: bool) -> Vec<u8> {
        let mut flags = 0x01; // user present
        if verified {
            flags |= 0x04;
        }
        if self.synced {
            flags |= 0x08 | 0x10;
        }
        if attested {
            flags |= 0x40;
        }
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(counter.to_be_bytes());
        if attested {
            data.extend([0u8; 16]); // AAGUID: none, as privacy-preserving platforms send
            data.extend((self.credential_id.len() as u16).to_be_bytes());
            data.extend(&self.credential_id);
            data.extend(self.cose_key());
        }
        data
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.key {
            Key::Es256(key) => key
                .sign(&SystemRandom::new(), message)
                .expect("signing")
                .as_ref()
                .to_vec(),
            Key::EdDsa(key) => key.sign(message).as_ref().to_vec(),
        }
    }

    /// Creates the credential for `options` (PublicKeyCredentialCreationOptionsJSON), as a browser at `origin`
    /// would: RegistrationResponseJSON.
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        self.register_lying(options, origin, &Lie::default())
    }

    pub fn register_lying(&mut self, options: &Value, origin: &str, lie: &Lie) -> Value {
        let rp_id = options["rp"]["id"]
            .as_str()
            .expect("options name the relying party");
        self.rp_id = Some(rp_id.to_owned());
        self.user_handle = options["user"]["id"].as_str().map(str::to_owned);
        let challenge = lie
            .challenge
            .clone()
            .unwrap_or_else(|| options["challenge"].as_str().unwrap().to_owned());
        let client_data = Self::client_data(
            "webauthn.create",
            &challenge,
            lie.origin.as_deref().unwrap_or(origin),
        );
        let auth_data = self.auth_data(
            lie.rp_id.as_deref().unwrap_or(rp_id),
            self.counter,
            !lie.unverified,
            true,
        );
        let mut attestation = Vec::new();
        cbor_head(5, 3, &mut attestation);
        cbor_text("fmt", &mut attestation);
        cbor_text("none", &mut attestation);
        cbor_text("attStmt", &mut attestation);
        cbor_head(5, 0, &mut attestation);
        cbor_text("authData", &mut attestation);
        cbor_bytes(&auth_data, &mut attestation);
        let id = self.credential_id();
        json!({
            "id": id,
            "rawId": id,
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
                "transports": ["internal", "hybrid"],
            },
            "type": "public-key",
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
    }

    /// Signs in for `options` (PublicKeyCredentialRequestOptionsJSON), as a browser at `origin` would:
    /// AuthenticationResponseJSON, with user verification.
    pub fn assert(&mut self, options: &Value, origin: &str) -> Value {
        self.assert_lying(options, origin, &Lie::default())
    }

    pub fn assert_lying(&mut self, options: &Value, origin: &str, lie: &Lie) -> Value {
        let rp_id = options["rpId"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| self.rp_id.clone())
            .expect("a relying party");
        let challenge = lie
            .challenge
            .clone()
            .unwrap_or_else(|| options["challenge"].as_str().unwrap().to_owned());
        if self.counts {
            self.counter += 1;
        }
        let counter = lie.counter.unwrap_or(self.counter);
        let client_data = Self::client_data(
            "webauthn.get",
            &challenge,
            lie.origin.as_deref().unwrap_or(origin),
        );
        let auth_data = self.auth_data(
            lie.rp_id.as_deref().unwrap_or(&rp_id),
            counter,
            !lie.unverified,
            false,
        );
        let mut message = auth_data.clone();
        message.extend(Sha256::digest(&client_data));
        let mut signature = self.sign(&message);
        if lie.bad_signature {
            let last = signature.len() - 1;
            signature[last] ^= 1;
        }
        let id = self.credential_id();
        json!({
            "id": id,
            "rawId": id,
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": self.user_handle,
            },
            "type": "public-key",
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
    }
}
