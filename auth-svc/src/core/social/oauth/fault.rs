//! Why a provider call failed: the cause kept for the log ([`Fault`]), the error the caller hears with it
//! ([`Failure`]), and the one reader of a provider's answer, which bounds its size.

use serde_json::Value;

use super::OAuthError;
use crate::core::social::settings::Provider;

/// The largest answer read; discovery documents and key sets are a few KiB.
pub(super) const MAX_ANSWER: usize = 1 << 20;

/// Why a provider call failed, for the log only: fixed text, status codes and OAuth error codes, never an answer's
/// body, a token or a secret.
#[derive(Debug, thiserror::Error)]
pub(super) enum Fault {
    #[error("no answer ({0})")]
    Transport(&'static str),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("answer over 1 MiB")]
    TooLarge,
    #[error("answer is not JSON")]
    NotJson,
    #[error("answered the OAuth error `{0}`")]
    Refused(String),
    #[error("no {0}")]
    Missing(&'static str),
    #[error("invalid {0}")]
    Invalid(&'static str),
    #[error("ID token: {0}")]
    Jwt(&'static str),
}

impl Fault {
    pub(super) fn transport(error: reqwest::Error) -> Self {
        Self::Transport(if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "could not connect"
        } else {
            "the exchange broke off"
        })
    }

    /// The kind of a JWT failure in fixed words: the library's own messages may quote the token.
    pub(super) fn jwt(error: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        Self::Jwt(match error.kind() {
            ErrorKind::InvalidSignature => "bad signature",
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => "algorithm not allowed",
            ErrorKind::InvalidToken => "not a JWS",
            ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => "malformed",
            ErrorKind::InvalidKeyFormat
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey => "unusable key",
            _ => "refused",
        })
    }

    /// A provider's `error` code, if it is one (letters, digits, `_`, `-`, `.`; 64 at most), else a placeholder.
    pub(super) fn refused(code: Option<&str>) -> Self {
        let code = code
            .filter(|code| {
                code.len() <= 64
                    && code
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            })
            .unwrap_or("?");
        Self::Refused(code.to_owned())
    }
}

/// A failure on its way out: the error the caller hears and, for the log only, its cause.
pub(super) struct Failure {
    pub(super) error: OAuthError,
    pub(super) cause: Fault,
}

impl Failure {
    pub(super) fn logged(self, provider: &Provider) -> OAuthError {
        tracing::warn!(
            provider.id = %provider.id,
            error = %self.error,
            cause = %self.cause,
            "social provider call failed"
        );
        self.error
    }
}

pub(super) trait OrFail<T> {
    fn or_fail(self, error: OAuthError) -> Result<T, Failure>;
}

impl<T> OrFail<T> for Result<T, Fault> {
    fn or_fail(self, error: OAuthError) -> Result<T, Failure> {
        self.map_err(|cause| Failure { error, cause })
    }
}

/// An answer's JSON, from a 2xx of at most [`MAX_ANSWER`] bytes.
pub(super) async fn read_json(mut answer: reqwest::Response) -> Result<Value, Fault> {
    if !answer.status().is_success() {
        return Err(Fault::Status(answer.status().as_u16()));
    }
    if answer
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER as u64)
    {
        return Err(Fault::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(Fault::transport)? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(Fault::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|_| Fault::NotJson)
}
