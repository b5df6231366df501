//! The WebAuthn checks, by `webauthn-rs-core`: a registration's attestation and an assertion's signature, against
//! this deployment's relying party and the challenge a ceremony row kept. What Better Auth stores is translated here,
//! both ways: the COSE key in standard base64, the credential id in base64url, `deviceType`/`backedUp` for the
//! authenticator's backup flags.
//!
//! Stronger than `@better-auth/passkey` on purpose: the allowed origins are the deployment's (`PASSKEY_ORIGINS`),
//! never the request's `Origin`; a sign-in needs user verification (a PIN or biometric, not only a touch).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::json;
use url::Url;
use warden_common::settings::TrustedOrigins;
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::proto::{
    AttestationFormat, AttestationMetadata, AuthenticationState, COSEKey, Credential,
    ParsedAttestation, ParsedAttestationData, PublicKeyCredential, RegisterPublicKeyCredential,
    RegisteredExtensions, RegistrationState, UserVerificationPolicy,
};

use crate::store::PasskeyRow;

/// Better Auth's `deviceType` for a credential that may be synced between devices (backup eligible).
pub const MULTI_DEVICE: &str = "multiDevice";
pub const SINGLE_DEVICE: &str = "singleDevice";

/// The relying party: `PASSKEY_RP_ID`, `PASSKEY_RP_NAME`, `PASSKEY_ORIGINS`.
#[derive(Clone, Debug)]
pub struct RelyingParty {
    pub id: String,
    pub name: String,
    pub origins: TrustedOrigins,
}

/// Why a ceremony's response was refused; logged, never sent (the client sees one code).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the response is not a WebAuthn credential: {0}")]
    Malformed(String),
    #[error("client data from an origin not allowed")]
    Origin,
    #[error("{0:?}")]
    Verifier(webauthn_rs_core::error::WebauthnError),
    #[error("the stored public key does not parse")]
    StoredKey,
}

impl Refusal {
    /// The signature did not verify (everything else about the assertion did).
    pub fn is_bad_signature(&self) -> bool {
        matches!(
            self,
            Self::Verifier(webauthn_rs_core::error::WebauthnError::AuthenticationFailure)
        )
    }
}

/// A credential just registered, as its `passkey` row stores it.
#[derive(Debug)]
pub struct NewCredential {
    pub credential_id: String,
    pub public_key: String,
    pub counter: u32,
    pub device_type: &'static str,
    pub backed_up: bool,
    pub aaguid: String,
    pub transports: String,
}

/// An assertion accepted: the authenticator's new counter and backup state.
#[derive(Debug)]
pub struct Asserted {
    pub counter: u32,
    pub backed_up: bool,
}

/// The fields of a response read before the verifier sees it.
#[derive(Deserialize)]
struct Envelope {
    response: EnvelopeResponse,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeResponse {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(default)]
    attestation_object: Option<String>,
    #[serde(default)]
    transports: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ClientData {
    origin: String,
}

/// The response as one of the typed forms the checks read, without copying it.
fn read<'a, T: Deserialize<'a>>(response: &'a serde_json::Value) -> Result<T, Refusal> {
    T::deserialize(response).map_err(|error| Refusal::Malformed(error.to_string()))
}

fn decode_url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// Better Auth's `base64.decode`: standard or URL-safe alphabet, padded or not.
fn decode_any(text: &str) -> Option<Vec<u8>> {
    let unpadded = text.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(unpadded.replace('+', "-").replace('/', "_"))
        .ok()
}

impl RelyingParty {
    /// The verifier for one response, allowing only the origin its client data names once that origin is one of
    /// this deployment's. The origin is matched here, with the same patterns `TRUSTED_ORIGINS` takes, and again by
    /// the verifier.
    fn verifier(&self, envelope: &Envelope) -> Result<WebauthnCore, Refusal> {
        let client_data = decode_url(&envelope.response.client_data_json)
            .ok_or_else(|| Refusal::Malformed("clientDataJSON is not base64url".into()))?;
        let client_data: ClientData = serde_json::from_slice(&client_data)
            .map_err(|error| Refusal::Malformed(error.to_string()))?;
        if !self.origins.is_trusted(&client_data.origin, false) {
            return Err(Refusal::Origin);
        }
        let origin = Url::parse(&client_data.origin).map_err(|_| Refusal::Origin)?;
        Ok(WebauthnCore::new_unsafe_experts_only(
            &self.name,
            &self.id,
            vec![origin],
            Duration::from_secs(60),
            Some(false),
            Some(false),
        ))
    }

    /// Checks a registration response (`navigator.credentials.create()`, as @simplewebauthn/browser sends it) made
    /// for `challenge` (base64url). Attestation is not judged (Better Auth's
    /// "none"), and user verification is not required to register, as in Better Auth.
    pub fn register(
        &self,
        response: &serde_json::Value,
        challenge: &str,
    ) -> Result<NewCredential, Refusal> {
        let envelope: Envelope = read(response)?;
        let credential: RegisterPublicKeyCredential = read(response)?;
        let verifier = self.verifier(&envelope)?;
        // The verifier's states are serialisable by design; Better Auth's ceremony row keeps only the challenge,
        // from which the state is rebuilt (so a ceremony Better Auth began can end here, and the other way round).
        let state: RegistrationState = serde_json::from_value(json!({
            "policy": "preferred",
            "exclude_credentials": [],
            "challenge": challenge,
            "credential_algorithms": ["EDDSA", "ES256", "RS256"],
            "require_resident_key": false,
            "authenticator_attachment": null,
            "extensions": {},
            "allow_synchronised_authenticators": true,
        }))
        .map_err(|error| Refusal::Malformed(error.to_string()))?;
        let registered = verifier
            .register_credential(&credential, &state, None)
            .map_err(Refusal::Verifier)?;
        let attestation = envelope
            .response
            .attestation_object
            .as_deref()
            .and_then(decode_url)
            .ok_or_else(|| Refusal::Malformed("attestationObject is not base64url".into()))?;
        let (aaguid, public_key) = attested_key(&attestation)
            .ok_or_else(|| Refusal::Malformed("authenticator data without a credential".into()))?;
        Ok(NewCredential {
            credential_id: URL_SAFE_NO_PAD.encode(registered.cred_id.as_slice()),
            public_key: STANDARD.encode(public_key),
            counter: registered.counter,
            device_type: if registered.backup_eligible {
                MULTI_DEVICE
            } else {
                SINGLE_DEVICE
            },
            backed_up: registered.backup_state,
            aaguid: uuid::Uuid::from_bytes(aaguid).to_string(),
            transports: envelope.response.transports.unwrap_or_default().join(","),
        })
    }

    /// Checks an assertion (`navigator.credentials.get()`) made for `challenge` with the stored passkey `row`.
    /// User verification is required; a counter that does not move forward (for authenticators that count) is
    /// refused.
    pub fn authenticate(
        &self,
        response: &serde_json::Value,
        challenge: &str,
        row: &PasskeyRow,
    ) -> Result<Asserted, Refusal> {
        let envelope: Envelope = read(response)?;
        let credential: PublicKeyCredential = read(response)?;
        let verifier = self.verifier(&envelope)?;
        let mut state: AuthenticationState = serde_json::from_value(json!({
            "credentials": [],
            "policy": "required",
            "challenge": challenge,
            "appid": null,
            "allow_backup_eligible_upgrade": true,
        }))
        .map_err(|error| Refusal::Malformed(error.to_string()))?;
        state.set_allowed_credentials(vec![stored_credential(row)?]);
        let result = verifier
            .authenticate_credential(&credential, &state)
            .map_err(Refusal::Verifier)?;
        Ok(Asserted {
            counter: result.counter(),
            backed_up: result.backup_state(),
        })
    }
}

/// A `passkey` row as the verifier's credential: Better Auth keeps no user-verification policy, so none is assumed
/// (sign-ins require verification anyway).
fn stored_credential(row: &PasskeyRow) -> Result<Credential, Refusal> {
    let cose = decode_any(&row.public_key).ok_or(Refusal::StoredKey)?;
    let value: serde_cbor_2::Value =
        serde_cbor_2::from_slice(&cose).map_err(|_| Refusal::StoredKey)?;
    let key = COSEKey::try_from(&value).map_err(|_| Refusal::StoredKey)?;
    let id = decode_url(&row.credential_id).ok_or(Refusal::StoredKey)?;
    Ok(Credential {
        cred_id: id.into(),
        cred: key,
        counter: u32::try_from(row.counter).unwrap_or(0),
        transports: None,
        user_verified: false,
        backup_eligible: row.device_type == MULTI_DEVICE,
        backup_state: row.backed_up,
        registration_policy: UserVerificationPolicy::Preferred,
        extensions: RegisteredExtensions::none(),
        attestation: ParsedAttestation {
            data: ParsedAttestationData::None,
            metadata: AttestationMetadata::None,
        },
        attestation_format: AttestationFormat::None,
    })
}

/// The AAGUID and the COSE public key, byte for byte, from a verified attestation object: the verifier parses the
/// key but keeps no encoding of it, and Better Auth stores the authenticator's own bytes.
fn attested_key(attestation: &[u8]) -> Option<([u8; 16], Vec<u8>)> {
    use serde::Deserialize as _;
    let object: serde_cbor_2::Value = serde_cbor_2::from_slice(attestation).ok()?;
    let serde_cbor_2::Value::Map(entries) = object else {
        return None;
    };
    let auth_data = entries.iter().find_map(|(key, value)| match (key, value) {
        (serde_cbor_2::Value::Text(name), serde_cbor_2::Value::Bytes(bytes))
            if name == "authData" =>
        {
            Some(bytes)
        }
        _ => None,
    })?;
    // rpIdHash (32), flags (1), signCount (4), then the attested credential data: AAGUID (16), id length (2), id.
    const ATTESTED: u8 = 0x40;
    if auth_data.len() < 55 || auth_data[32] & ATTESTED == 0 {
        return None;
    }
    let aaguid: [u8; 16] = auth_data[37..53].try_into().ok()?;
    let id_length = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    let key_start = 55usize.checked_add(id_length)?;
    let rest = auth_data.get(key_start..)?;
    let mut reader = serde_cbor_2::Deserializer::from_slice(rest);
    serde_cbor_2::Value::deserialize(&mut reader).ok()?;
    let key_length = reader.byte_offset();
    Some((aaguid, rest[..key_length].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_keys_decode_in_either_alphabet() {
        assert_eq!(decode_any("+/8="), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_any("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_any("*"), None);
    }
}
