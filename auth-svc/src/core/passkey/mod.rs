//! Better Auth's passkey plugin (`@better-auth/passkey`): registering WebAuthn credentials for a signed-in user,
//! signing in with one (discoverable credentials: no email typed), and listing, renaming and deleting them.
//!
//! Rows are the package's: a ceremony is a `verification` row named by the token the browser keeps in its signed
//! `better-auth-passkey` cookie (five minutes), holding the challenge as JSON the package reads too; a credential
//! is a `passkey` row. The WebAuthn checks themselves are in [`webauthn`].

pub mod webauthn;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::TimeDelta;
use rand::RngCore;
use serde::{Deserialize, Serialize};

pub use webauthn::RelyingParty;

use crate::{
    core::sessions::{ClientInfo, Opened, Proof, Resolved, Sessions},
    domain::{SessionToken, generate_id, now, random_string, random_string_from},
    error::AuthError,
    store::{PasskeyRow, Store, Verification},
};

/// How long a ceremony may take (the package's `MAX_AGE_IN_SECONDS`).
pub const CEREMONY_LIFETIME: TimeDelta = TimeDelta::minutes(5);
/// What the browser gives the authenticator to answer in (@simplewebauthn/server's default).
const TIMEOUT_MS: u32 = 60_000;
/// The public-key algorithms offered, in the package's order: EdDSA, ES256, RS256.
const ALGORITHMS: [i32; 3] = [-8, -7, -257];

/// A ceremony begun: the options for `navigator.credentials`, as JSON in the package's shape, and the token that
/// names its row (a browser's signed cookie, a gRPC client's `challenge`).
pub struct Ceremony {
    pub options_json: String,
    pub token: String,
}

/// What a registration brings: the ceremony's token, the authenticator's answer, the passkey's name, whether to open
/// a session, and whether a browser's request named no origin (which the package refuses once the session is
/// checked).
pub struct Registration<'a> {
    pub ceremony: Option<&'a str>,
    pub response: &'a serde_json::Value,
    pub name: Option<String>,
    pub create_session: bool,
    pub without_origin: bool,
}

/// A credential registered, and the session opened when one was asked for.
pub struct Registered {
    pub passkey: PasskeyRow,
    pub opened: Option<Opened>,
}

/// Which authenticators a registration asks for (the package's `authenticatorAttachment`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Attachment {
    #[serde(rename = "platform")]
    Platform,
    #[serde(rename = "cross-platform")]
    CrossPlatform,
}

/// The ceremony row's value, as the package writes it (`type`, `expectedChallenge`, `userData`).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CeremonyValue {
    #[serde(rename = "type")]
    kind: String,
    expected_challenge: String,
    user_data: UserData,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    context: Option<Option<String>>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserData {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
}

const REGISTRATION: &str = "registration";
const AUTHENTICATION: &str = "authentication";

// The options, key for key as @simplewebauthn/server writes them.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationOptions<'a> {
    challenge: &'a str,
    rp: Rp<'a>,
    user: UserEntity<'a>,
    pub_key_cred_params: Vec<CredentialParameter>,
    timeout: u32,
    attestation: &'static str,
    exclude_credentials: Vec<Descriptor>,
    authenticator_selection: Selection,
    extensions: Extensions,
    hints: [(); 0],
}

#[derive(Serialize)]
struct Rp<'a> {
    name: &'a str,
    id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserEntity<'a> {
    id: &'a str,
    name: &'a str,
    display_name: &'a str,
}

#[derive(Serialize)]
struct CredentialParameter {
    alg: i32,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Descriptor {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    transports: Option<Vec<String>>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Selection {
    resident_key: &'static str,
    user_verification: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    authenticator_attachment: Option<Attachment>,
    require_resident_key: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Extensions {
    cred_props: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestOptions<'a> {
    rp_id: &'a str,
    challenge: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_credentials: Option<Vec<Descriptor>>,
    timeout: u32,
    user_verification: &'static str,
}

/// A stored passkey as a descriptor of the options: its transports as the package splits them (`""` gives `[""]`).
fn descriptor(row: &PasskeyRow) -> Descriptor {
    Descriptor {
        id: row.credential_id.clone(),
        transports: row
            .transports
            .as_deref()
            .map(|joined| joined.split(',').map(str::to_owned).collect()),
        kind: "public-key",
    }
}

fn new_challenge() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Clone)]
pub struct Passkeys {
    store: Store,
    sessions: Sessions,
    rp: RelyingParty,
}

impl Passkeys {
    pub fn new(store: Store, sessions: Sessions, rp: RelyingParty) -> Self {
        Self {
            store,
            sessions,
            rp,
        }
    }

    /// The caller's session, signed in recently enough to add a credential (the package's fresh-session rule).
    async fn fresh(&self, token: Option<&SessionToken>) -> Result<Resolved, AuthError> {
        let current = self.sessions.signed_in(token).await?;
        self.sessions.require_fresh(&current)?;
        Ok(current)
    }

    async fn begin(&self, value: &CeremonyValue) -> Result<String, AuthError> {
        let token = random_string(32);
        let row = Verification {
            identifier: token.clone(),
            value: serde_json::to_string(value)
                .map_err(|error| AuthError::Internal(error.into()))?,
            expires_at: now() + CEREMONY_LIFETIME,
        };
        self.store.insert_verification(&row, now()).await?;
        Ok(token)
    }

    /// Takes a ceremony's row (once: a second use finds nothing), refusing a missing, expired or other kind.
    async fn take(&self, token: Option<&str>, kind: &str) -> Result<CeremonyValue, AuthError> {
        let token = token
            .filter(|token| !token.is_empty())
            .ok_or(AuthError::ChallengeNotFound)?;
        let row = self
            .store
            .consume_verification(token)
            .await?
            .filter(|row| row.expires_at > now())
            .ok_or(AuthError::ChallengeNotFound)?;
        serde_json::from_str::<CeremonyValue>(&row.value)
            .ok()
            .filter(|value| value.kind == kind)
            .ok_or(AuthError::ChallengeNotFound)
    }

    /// Options to register a new passkey for the caller, excluding the ones they have.
    pub async fn registration_options(
        &self,
        token: Option<&SessionToken>,
        name: Option<&str>,
        attachment: Option<Attachment>,
    ) -> Result<Ceremony, AuthError> {
        let current = self.fresh(token).await?;
        let user = &current.user;
        let existing = self.store.passkeys_of(&user.id).await?;
        let shown = if user.email.is_empty() {
            user.id.clone()
        } else {
            user.email.clone()
        };
        let handle = URL_SAFE_NO_PAD.encode(random_string_from(
            32,
            b"abcdefghijklmnopqrstuvwxyz0123456789",
        ));
        let challenge = new_challenge();
        let options = CreationOptions {
            challenge: &challenge,
            rp: Rp {
                name: &self.rp.name,
                id: &self.rp.id,
            },
            user: UserEntity {
                id: &handle,
                name: name.filter(|name| !name.is_empty()).unwrap_or(&shown),
                display_name: &shown,
            },
            pub_key_cred_params: ALGORITHMS
                .iter()
                .map(|&alg| CredentialParameter {
                    alg,
                    kind: "public-key",
                })
                .collect(),
            timeout: TIMEOUT_MS,
            attestation: "none",
            exclude_credentials: existing.iter().map(descriptor).collect(),
            authenticator_selection: Selection {
                resident_key: "preferred",
                user_verification: "preferred",
                authenticator_attachment: attachment,
                require_resident_key: false,
            },
            extensions: Extensions { cred_props: true },
            hints: [],
        };
        let token = self
            .begin(&CeremonyValue {
                kind: REGISTRATION.into(),
                expected_challenge: challenge.clone(),
                user_data: UserData {
                    id: user.id.clone(),
                    name: Some(shown.clone()),
                    display_name: Some(shown.clone()),
                },
                context: Some(None),
            })
            .await?;
        Ok(Ceremony {
            options_json: serde_json::to_string(&options)
                .map_err(|error| AuthError::Internal(error.into()))?,
            token,
        })
    }

    /// Registers the credential an authenticator created for `registration`'s ceremony; with `create_session`, also
    /// opens a new session for the user.
    pub async fn register(
        &self,
        token: Option<&SessionToken>,
        registration: Registration<'_>,
        client: ClientInfo,
    ) -> Result<Registered, AuthError> {
        let Registration {
            ceremony,
            response,
            name,
            create_session,
            without_origin,
        } = registration;
        let current = self.fresh(token).await?;
        if without_origin {
            return Err(AuthError::RegistrationWithoutOrigin);
        }
        let value = self.take(ceremony, REGISTRATION).await?;
        if value.user_data.id != current.user.id {
            return Err(AuthError::NotAllowedToRegisterPasskey);
        }
        let credential = self
            .rp
            .register(response, &value.expected_challenge)
            .map_err(|refusal| {
                tracing::info!(%refusal, "passkey registration refused");
                AuthError::FailedToVerifyRegistration
            })?;
        // A credential id is one authenticator's key: never two rows for it, whoever holds the other (the caller's
        // own passkeys, which the options excluded, among them).
        if self
            .store
            .find_passkey_by_credential(&credential.credential_id)
            .await?
            .is_some()
        {
            tracing::info!("passkey registration refused: the credential is registered already");
            return Err(AuthError::FailedToVerifyRegistration);
        }
        let passkey = PasskeyRow {
            id: generate_id(),
            name: name
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty()),
            public_key: credential.public_key,
            user_id: current.user.id.clone(),
            credential_id: credential.credential_id,
            counter: i32::try_from(credential.counter).unwrap_or(i32::MAX),
            device_type: credential.device_type.to_owned(),
            backed_up: credential.backed_up,
            transports: Some(credential.transports),
            created_at: Some(now()),
            aaguid: Some(credential.aaguid),
        };
        self.store.insert_passkey(&passkey).await?;
        tracing::info!(passkey = %passkey.id, "passkey registered");
        let opened = if create_session {
            let user = current.user.clone();
            Some(
                self.sessions
                    .open(user, Proof::Passkey, true, client)
                    .await?,
            )
        } else {
            None
        };
        Ok(Registered { passkey, opened })
    }

    /// Options to sign in with a passkey: any of this site's discoverable credentials, or (signed in) the caller's.
    pub async fn authentication_options(
        &self,
        token: Option<&SessionToken>,
    ) -> Result<Ceremony, AuthError> {
        let current = match token {
            Some(token) => self.sessions.resolve(token, false).await?,
            None => None,
        };
        let allowed = match &current {
            Some(current) => self.store.passkeys_of(&current.user.id).await?,
            None => Vec::new(),
        };
        let challenge = new_challenge();
        let options = RequestOptions {
            rp_id: &self.rp.id,
            challenge: &challenge,
            allow_credentials: (!allowed.is_empty())
                .then(|| allowed.iter().map(descriptor).collect()),
            timeout: TIMEOUT_MS,
            user_verification: "preferred",
        };
        let token = self
            .begin(&CeremonyValue {
                kind: AUTHENTICATION.into(),
                expected_challenge: challenge.clone(),
                user_data: UserData {
                    id: current.map(|current| current.user.id).unwrap_or_default(),
                    name: None,
                    display_name: None,
                },
                context: None,
            })
            .await?;
        Ok(Ceremony {
            options_json: serde_json::to_string(&options)
                .map_err(|error| AuthError::Internal(error.into()))?,
            token,
        })
    }

    /// Signs in with a passkey's assertion for the ceremony `ceremony`: a session through [`Sessions::open`], so
    /// bans apply as to any sign-in.
    pub async fn authenticate(
        &self,
        ceremony: Option<&str>,
        response: &serde_json::Value,
        client: ClientInfo,
    ) -> Result<Opened, AuthError> {
        let value = self.take(ceremony, AUTHENTICATION).await?;
        let credential_id = response
            .get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let row = self
            .store
            .find_passkey_by_credential(credential_id)
            .await?
            .ok_or(AuthError::PasskeyNotFound)?;
        let asserted = self
            .rp
            .authenticate(response, &value.expected_challenge, &row)
            .map_err(|refusal| {
                tracing::info!(%refusal, passkey = %row.id, "passkey sign-in refused");
                if refusal.is_bad_signature() {
                    AuthError::SignatureRefused
                } else {
                    AuthError::AuthenticationFailed
                }
            })?;
        let counter = i32::try_from(asserted.counter).unwrap_or(i32::MAX);
        if !self
            .store
            .advance_passkey_counter(&row.id, row.counter, counter, asserted.backed_up)
            .await?
        {
            tracing::warn!(passkey = %row.id, "passkey sign-in refused: its counter moved meanwhile");
            return Err(AuthError::AuthenticationFailed);
        }
        let user = self
            .store
            .find_user_by_id(&row.user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        self.sessions.open(user, Proof::Passkey, true, client).await
    }

    /// The caller's passkeys.
    pub async fn list(&self, token: Option<&SessionToken>) -> Result<Vec<PasskeyRow>, AuthError> {
        let current = self.sessions.signed_in(token).await?;
        Ok(self.store.passkeys_of(&current.user.id).await?)
    }

    /// The caller's passkey `id`, as the package's ownership check finds it.
    async fn owned(
        &self,
        current: &Resolved,
        id: &str,
        foreign: AuthError,
    ) -> Result<(), AuthError> {
        if id.is_empty() {
            return Err(AuthError::MissingParameter("id"));
        }
        let row = self
            .store
            .find_passkey(id)
            .await?
            .ok_or(AuthError::PasskeyNotFound)?;
        if row.user_id != current.user.id {
            return Err(foreign);
        }
        Ok(())
    }

    pub async fn delete(&self, token: Option<&SessionToken>, id: &str) -> Result<(), AuthError> {
        let current = self.sessions.signed_in(token).await?;
        self.owned(&current, id, AuthError::NotYourPasskey).await?;
        if !self.store.delete_passkey(id, &current.user.id).await? {
            return Err(AuthError::PasskeyNotFound);
        }
        tracing::info!(passkey = %id, "passkey deleted");
        Ok(())
    }

    pub async fn rename(
        &self,
        token: Option<&SessionToken>,
        id: &str,
        name: &str,
    ) -> Result<PasskeyRow, AuthError> {
        let current = self.sessions.signed_in(token).await?;
        self.owned(&current, id, AuthError::NotAllowedToRegisterPasskey)
            .await?;
        self.store
            .rename_passkey(id, &current.user.id, name.trim())
            .await?
            .ok_or(AuthError::PasskeyNotFound)
    }
}
