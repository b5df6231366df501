//! The service's one error type and its single mapping to `tonic::Status`.

use std::{collections::HashMap, time::Duration};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use warden_proto::Reason;

use crate::domain::{AdminAction, PasswordLength};

pub const ERROR_DOMAIN: &str = "warden.auth.v1";

/// The message of every refusal by a rate limit or the sign-in back-off.
const TOO_MANY_REQUESTS: &str = "Too many requests. Please try again later.";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A request field failed validation; the message is Better Auth's `[body.x] …` form.
    #[error("{0}")]
    Validation(String),
    #[error("Invalid email")]
    InvalidEmail,
    #[error("Password too short")]
    PasswordTooShort,
    #[error("Password too long")]
    PasswordTooLong,
    #[error("User already exists. Use another email.")]
    UserAlreadyExists,
    #[error("Invalid email or password")]
    InvalidEmailOrPassword,
    #[error("Unauthorized")]
    Unauthorized,
    #[error("Session is not fresh")]
    SessionNotFresh,
    #[error("Invalid password")]
    InvalidPassword,
    #[error("Credential account not found")]
    CredentialAccountNotFound,
    #[error("Session expired. Re-authenticate to perform this action.")]
    SessionExpired,
    #[error("Invalid token")]
    InvalidToken,
    #[error("Token expired")]
    TokenExpired,
    #[error("Email not verified")]
    EmailNotVerified,
    #[error("Email mismatch")]
    EmailMismatch,
    #[error("Email is already verified")]
    EmailAlreadyVerified,
    /// Better Auth sends this one without a code.
    #[error("No fields to update")]
    NoFieldsToUpdate,
    /// Better Auth sends this one without a code.
    #[error("Email is the same")]
    EmailIsTheSame,
    #[error("User not found")]
    UserNotFound,
    #[error(
        "You have been banned from this application. Please contact support if you believe this is an error."
    )]
    BannedUser,
    /// A signed-in caller who is not an administrator asked for an admin action.
    #[error("{}", .0.message())]
    NotAllowed(AdminAction),
    #[error("You cannot ban yourself")]
    CannotBanYourself,
    #[error("You cannot remove yourself")]
    CannotRemoveYourself,
    /// A rate limit or the failed sign-in back-off; carries how long to wait.
    #[error("{TOO_MANY_REQUESTS}")]
    TooManyRequests { retry_after: std::time::Duration },
    /// A server-only field (Better Auth's `input: false`) in a body of additional fields.
    #[error("{0} is not allowed to be set")]
    FieldNotAllowed(String),
    /// delete-user/callback without a session: the user the link is for cannot be known.
    #[error("Failed to get user info")]
    FailedToGetUserInfo,
    #[error("Provider not found")]
    ProviderNotFound,
    #[error("Account not found")]
    AccountNotFound,
    #[error("You can't unlink your last account")]
    FailedToUnlinkLastAccount,
    #[error("id_token not supported")]
    IdTokenNotSupported,
    #[error("User email not found")]
    UserEmailNotFound,
    /// The account-linking rules refused an ID-token sign-in; Better Auth's message names the rule.
    #[error("{0}")]
    OauthLink(String),
    /// An ID-token link of a provider account that belongs to another user.
    #[error("Social account already linked")]
    SocialAccountAlreadyLinked,
    /// An ID-token link the provider does not vouch for (address unverified, provider not trusted).
    #[error("Account not linked - linking not allowed")]
    LinkingNotAllowed,
    #[error("Account not linked - different emails not allowed")]
    LinkingDifferentEmailsNotAllowed,
    #[error("Account not linked - unable to create account")]
    LinkingFailed,
    /// The account's provider is not configured here; holds its id.
    #[error("Provider {0} is not supported.")]
    ProviderNotSupported(String),
    #[error("Account is not associated with a configured social provider.")]
    ProviderNotConfigured,
    #[error("Failed to get a valid access token")]
    FailedToGetAccessToken,
    #[error("Refresh token not found")]
    RefreshTokenNotFound,
    #[error("Failed to refresh access token")]
    FailedToRefreshAccessToken,
    #[error("Access token not found")]
    AccessTokenNotFound,
    /// A callback, new-user or error URL that is neither relative nor on a trusted origin.
    #[error("Invalid {0}")]
    UntrustedUrl(UrlField),
    #[error("OTP has expired")]
    OtpHasExpired,
    #[error("TOTP not enabled")]
    TotpNotEnabled,
    #[error("TOTP is already enabled")]
    TotpAlreadyEnabled,
    #[error("Two factor isn't enabled")]
    TwoFactorNotEnabled,
    #[error("Backup codes aren't enabled")]
    BackupCodesNotEnabled,
    #[error("Invalid backup code")]
    InvalidBackupCode,
    #[error("Invalid code")]
    InvalidCode,
    #[error("Too many attempts. Please request a new code.")]
    TooManyAttemptsRequestNewCode,
    #[error(
        "Too many failed verification attempts. Your account is temporarily locked. Please try again later."
    )]
    AccountTemporarilyLocked,
    #[error("Invalid two factor cookie")]
    InvalidTwoFactorCookie,
    #[error("Challenge not found")]
    ChallengeNotFound,
    #[error("You are not allowed to register this passkey")]
    NotAllowedToRegisterPasskey,
    #[error("Failed to verify registration")]
    FailedToVerifyRegistration,
    /// A browser's registration that named no origin (Better Auth's 400, where a refused registration is 500).
    #[error("Failed to verify registration")]
    RegistrationWithoutOrigin,
    #[error("Passkey not found")]
    PasskeyNotFound,
    #[error("Authentication failed")]
    AuthenticationFailed,
    /// An assertion whose signature does not verify (Better Auth's 401, where other refusals are 400).
    #[error("Authentication failed")]
    SignatureRefused,
    /// Another user's passkey named by id.
    #[error("Forbidden")]
    NotYourPasskey,
    /// A required id sent empty (Better Auth's ownership check); Better Auth sends this one without a code.
    #[error("Missing required parameter: {0}")]
    MissingParameter(&'static str),
    /// The api-key plugin's refusals.
    #[error("{0}")]
    ApiKey(#[from] ApiKeyError),
    /// A social sign-in's callback refused, as Better Auth redirects it (`?error=<code>`).
    #[error("{}", .0.code)]
    Callback(CallbackError),
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AuthError {
    /// The Better Auth error code carried as `ErrorInfo.reason`.
    pub fn reason(&self) -> Option<Reason> {
        Some(match self {
            Self::Validation(_) => Reason::ValidationError,
            Self::InvalidEmail => Reason::InvalidEmail,
            Self::PasswordTooShort => Reason::PasswordTooShort,
            Self::PasswordTooLong => Reason::PasswordTooLong,
            Self::UserAlreadyExists => Reason::UserAlreadyExistsUseAnotherEmail,
            Self::InvalidEmailOrPassword => Reason::InvalidEmailOrPassword,
            Self::Unauthorized => Reason::Unauthorized,
            Self::SessionNotFresh => Reason::SessionNotFresh,
            Self::UserNotFound => Reason::UserNotFound,
            Self::BannedUser => Reason::BannedUser,
            Self::NotAllowed(action) => action.reason(),
            Self::CannotBanYourself => Reason::YouCannotBanYourself,
            Self::CannotRemoveYourself => Reason::YouCannotRemoveYourself,
            Self::InvalidPassword => Reason::InvalidPassword,
            Self::CredentialAccountNotFound => Reason::CredentialAccountNotFound,
            Self::SessionExpired => Reason::SessionExpired,
            Self::InvalidToken => Reason::InvalidToken,
            Self::TokenExpired => Reason::TokenExpired,
            Self::EmailNotVerified => Reason::EmailNotVerified,
            Self::EmailMismatch => Reason::EmailMismatch,
            Self::EmailAlreadyVerified => Reason::EmailAlreadyVerified,
            Self::TooManyRequests { .. } => Reason::RateLimited,
            Self::FieldNotAllowed(_) => Reason::FieldNotAllowed,
            Self::FailedToGetUserInfo => Reason::FailedToGetUserInfo,
            Self::ProviderNotFound => Reason::ProviderNotFound,
            Self::AccountNotFound => Reason::AccountNotFound,
            Self::FailedToUnlinkLastAccount => Reason::FailedToUnlinkLastAccount,
            Self::IdTokenNotSupported => Reason::IdTokenNotSupported,
            Self::UserEmailNotFound => Reason::UserEmailNotFound,
            Self::OauthLink(_) => Reason::OauthLinkError,
            Self::SocialAccountAlreadyLinked => Reason::SocialAccountAlreadyLinked,
            Self::LinkingNotAllowed => Reason::LinkingNotAllowed,
            Self::LinkingDifferentEmailsNotAllowed => Reason::LinkingDifferentEmailsNotAllowed,
            Self::LinkingFailed => Reason::LinkingFailed,
            Self::ProviderNotSupported(_) => Reason::ProviderNotSupported,
            Self::ProviderNotConfigured => Reason::ProviderNotConfigured,
            Self::FailedToGetAccessToken => Reason::FailedToGetAccessToken,
            Self::RefreshTokenNotFound => Reason::RefreshTokenNotFound,
            Self::FailedToRefreshAccessToken => Reason::FailedToRefreshAccessToken,
            Self::AccessTokenNotFound => Reason::AccessTokenNotFound,
            Self::UntrustedUrl(field) => field.reason(),
            Self::OtpHasExpired => Reason::OtpHasExpired,
            Self::TotpNotEnabled => Reason::TotpNotEnabled,
            Self::TotpAlreadyEnabled => Reason::TotpAlreadyEnabled,
            Self::TwoFactorNotEnabled => Reason::TwoFactorNotEnabled,
            Self::BackupCodesNotEnabled => Reason::BackupCodesNotEnabled,
            Self::InvalidBackupCode => Reason::InvalidBackupCode,
            Self::InvalidCode => Reason::InvalidCode,
            Self::TooManyAttemptsRequestNewCode => Reason::TooManyAttemptsRequestNewCode,
            Self::AccountTemporarilyLocked => Reason::AccountTemporarilyLocked,
            Self::InvalidTwoFactorCookie => Reason::InvalidTwoFactorCookie,
            Self::ChallengeNotFound => Reason::ChallengeNotFound,
            Self::NotAllowedToRegisterPasskey => Reason::YouAreNotAllowedToRegisterThisPasskey,
            Self::FailedToVerifyRegistration | Self::RegistrationWithoutOrigin => {
                Reason::FailedToVerifyRegistration
            }
            Self::PasskeyNotFound => Reason::PasskeyNotFound,
            Self::AuthenticationFailed | Self::SignatureRefused => Reason::AuthenticationFailed,
            Self::NotYourPasskey => Reason::Forbidden,
            Self::ApiKey(refusal) => refusal.reason(),
            Self::NoFieldsToUpdate
            | Self::MissingParameter(_)
            | Self::Callback(_)
            | Self::EmailIsTheSame
            | Self::Unavailable(_)
            | Self::Internal(_) => return None,
        })
    }

    fn code(&self) -> Code {
        match self {
            Self::Validation(_)
            | Self::InvalidEmail
            | Self::PasswordTooShort
            | Self::PasswordTooLong
            | Self::CannotBanYourself
            | Self::CannotRemoveYourself
            | Self::InvalidPassword
            | Self::CredentialAccountNotFound
            | Self::InvalidToken
            | Self::TokenExpired
            | Self::EmailMismatch
            | Self::EmailAlreadyVerified
            | Self::NoFieldsToUpdate
            | Self::EmailIsTheSame => Code::InvalidArgument,
            Self::SessionExpired => Code::FailedPrecondition,
            Self::EmailNotVerified => Code::PermissionDenied,
            Self::UserNotFound => Code::NotFound,
            Self::BannedUser | Self::NotAllowed(_) => Code::PermissionDenied,
            Self::UserAlreadyExists => Code::AlreadyExists,
            Self::InvalidEmailOrPassword | Self::Unauthorized => Code::Unauthenticated,
            Self::SessionNotFresh => Code::PermissionDenied,
            Self::TooManyRequests { .. } => Code::ResourceExhausted,
            Self::FieldNotAllowed(_) => Code::InvalidArgument,
            Self::FailedToGetUserInfo => Code::NotFound,
            Self::ProviderNotFound | Self::IdTokenNotSupported => Code::NotFound,
            Self::UserEmailNotFound | Self::OauthLink(_) => Code::Unauthenticated,
            Self::AccountNotFound | Self::FailedToUnlinkLastAccount => Code::InvalidArgument,
            Self::SocialAccountAlreadyLinked => Code::AlreadyExists,
            Self::LinkingNotAllowed | Self::LinkingDifferentEmailsNotAllowed => {
                Code::PermissionDenied
            }
            Self::LinkingFailed => Code::Aborted,
            Self::ProviderNotSupported(_) | Self::ProviderNotConfigured => Code::InvalidArgument,
            Self::RefreshTokenNotFound | Self::AccessTokenNotFound => Code::FailedPrecondition,
            // The provider refused or could not be reached.
            Self::FailedToGetAccessToken | Self::FailedToRefreshAccessToken => Code::Unavailable,
            Self::UntrustedUrl(_) => Code::PermissionDenied,
            Self::OtpHasExpired
            | Self::TotpNotEnabled
            | Self::TotpAlreadyEnabled
            | Self::TwoFactorNotEnabled
            | Self::BackupCodesNotEnabled => Code::FailedPrecondition,
            Self::InvalidBackupCode | Self::InvalidCode | Self::InvalidTwoFactorCookie => {
                Code::Unauthenticated
            }
            // Not RESOURCE_EXHAUSTED: that is a rate limit, which says when to retry; these say to start again
            // (a new challenge) or to wait out a lock whose end is not told.
            Self::TooManyAttemptsRequestNewCode => Code::FailedPrecondition,
            Self::AccountTemporarilyLocked => Code::PermissionDenied,
            Self::Callback(_) => Code::FailedPrecondition,
            Self::ChallengeNotFound | Self::FailedToVerifyRegistration => Code::FailedPrecondition,
            Self::NotAllowedToRegisterPasskey => Code::PermissionDenied,
            Self::PasskeyNotFound => Code::NotFound,
            Self::AuthenticationFailed => Code::InvalidArgument,
            Self::SignatureRefused => Code::Unauthenticated,
            Self::NotYourPasskey => Code::PermissionDenied,
            Self::ApiKey(refusal) => refusal.code(),
            Self::MissingParameter(_) | Self::RegistrationWithoutOrigin => Code::InvalidArgument,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Internal(_) => Code::Internal,
        }
    }
}

/// A callback refused, as Better Auth redirects it: `?error=<code>` (and the provider's `error_description`) to the
/// state's error URL, or to the error page when the state could not be read.
#[derive(Clone, Debug)]
pub struct CallbackError {
    pub code: String,
    pub description: Option<String>,
    /// The state's `errorCallbackURL`; `None` means the error page.
    pub error_url: Option<String>,
    /// The state was used up: the browser's state cookie is to be cleared.
    pub state_consumed: bool,
}

impl CallbackError {
    pub fn new(code: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            description: None,
            error_url: None,
            state_consumed: false,
        }
    }

    /// Sent to the state's error URL.
    pub fn to(mut self, error_url: Option<String>) -> Self {
        self.error_url = error_url;
        self
    }

    pub fn consumed(mut self) -> Self {
        self.state_consumed = true;
        self
    }

    pub fn described(mut self, description: Option<String>) -> Self {
        self.description = description;
        self
    }

    /// FAILED_PRECONDITION with an `ErrorInfo` whose reason is the code and whose metadata says where to go.
    pub fn into_status(self) -> Status {
        let mut metadata = HashMap::new();
        if let Some(url) = self.error_url {
            metadata.insert("error_url".to_owned(), url);
        }
        if let Some(description) = self.description {
            metadata.insert("error_description".to_owned(), description);
        }
        metadata.insert("state_consumed".to_owned(), self.state_consumed.to_string());
        let details = ErrorDetails::with_error_info(&self.code, ERROR_DOMAIN, metadata);
        Status::with_error_details(Code::FailedPrecondition, self.code.clone(), details)
    }
}

impl From<CallbackError> for AuthError {
    fn from(error: CallbackError) -> Self {
        Self::Callback(error)
    }
}

/// Which URL of a request was refused, named as Better Auth names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlField {
    Callback,
    NewUserCallback,
    ErrorCallback,
}

impl UrlField {
    fn reason(self) -> Reason {
        match self {
            Self::Callback => Reason::InvalidCallbackUrl,
            Self::NewUserCallback => Reason::InvalidNewUserCallbackUrl,
            Self::ErrorCallback => Reason::InvalidErrorCallbackUrl,
        }
    }
}

impl std::fmt::Display for UrlField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Callback => "callbackURL",
            Self::NewUserCallback => "newUserCallbackURL",
            Self::ErrorCallback => "errorCallbackURL",
        })
    }
}

impl From<PasswordLength> for AuthError {
    fn from(error: PasswordLength) -> Self {
        match error {
            PasswordLength::TooShort => Self::PasswordTooShort,
            PasswordLength::TooLong => Self::PasswordTooLong,
        }
    }
}

impl From<sea_orm::DbErr> for AuthError {
    fn from(error: sea_orm::DbErr) -> Self {
        use sea_orm::DbErr;
        match error {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => Self::Unavailable(error.into()),
            _ => Self::Internal(error.into()),
        }
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        if let AuthError::TooManyRequests { retry_after } = error {
            return rate_limited(retry_after);
        }
        if let AuthError::Callback(refusal) = error {
            return refusal.into_status();
        }
        if let AuthError::ApiKey(ApiKeyError::RateLimited { try_again_in_ms }) = error {
            return key_rate_limited(try_again_in_ms);
        }
        let code = error.code();
        let message = match &error {
            AuthError::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), "storage unavailable");
                "Service unavailable".to_owned()
            }
            AuthError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                "Internal Server Error".to_owned()
            }
            other => other.to_string(),
        };
        let reason = error.reason().map(Reason::as_str);
        warden_common::grpc::status(code, message, reason, ERROR_DOMAIN)
    }
}

/// RESOURCE_EXHAUSTED with a `RetryInfo` saying how long to wait and an `ErrorInfo` reason `RATE_LIMITED`.
pub fn rate_limited(retry_after: Duration) -> Status {
    let mut details = ErrorDetails::with_retry_info(Some(retry_after));
    details.set_error_info(Reason::RateLimited.as_str(), ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(Code::ResourceExhausted, TOO_MANY_REQUESTS, details)
}

/// The api-key plugin's refusals, with its messages (`API_KEY_ERROR_CODES`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("metadata must be an object or undefined")]
    InvalidMetadataType,
    #[error("refillAmount is required when refillInterval is provided")]
    RefillAmountAndIntervalRequired,
    #[error("refillInterval is required when refillAmount is provided")]
    RefillIntervalAndAmountRequired,
    #[error("User is banned")]
    UserBanned,
    #[error("Unauthorized or invalid session")]
    UnauthorizedSession,
    #[error("API Key not found")]
    KeyNotFound,
    #[error("API Key is disabled")]
    KeyDisabled,
    #[error("API Key has expired")]
    KeyExpired,
    #[error("API Key has reached its usage limit")]
    UsageExceeded,
    #[error("The expiresIn is smaller than the predefined minimum value.")]
    ExpiresInIsTooSmall,
    #[error("The expiresIn is larger than the predefined maximum value.")]
    ExpiresInIsTooLarge,
    #[error("The prefix length is either too large or too small.")]
    InvalidPrefixLength,
    #[error("The name length is either too large or too small.")]
    InvalidNameLength,
    #[error("Metadata is disabled.")]
    MetadataDisabled,
    /// A key over its per-key rate limit; the package's `details.tryAgainIn`, in milliseconds.
    #[error("Rate limit exceeded.")]
    RateLimited { try_again_in_ms: i64 },
    #[error("No values to update.")]
    NoValuesToUpdate,
    #[error("Invalid API key.")]
    InvalidApiKey,
    #[error(
        "The property you're trying to set can only be set from the server auth instance only."
    )]
    ServerOnlyProperty,
    /// A session opened by an administrator impersonating the user: it acts for them, it does not mint their keys.
    #[error("An impersonation session cannot create API keys")]
    Impersonating,
    /// A server-only operation (verifying a key, deleting expired keys) asked by someone who is not an administrator.
    #[error("Only an administrator may do this")]
    AdminOnly,
    /// A key used for more than its permissions allow.
    #[error("The API key's permissions do not allow this.")]
    InsufficientPermissions,
}

impl ApiKeyError {
    pub fn reason(&self) -> Reason {
        match self {
            Self::InvalidMetadataType => Reason::InvalidMetadataType,
            Self::RefillAmountAndIntervalRequired => Reason::RefillAmountAndIntervalRequired,
            Self::RefillIntervalAndAmountRequired => Reason::RefillIntervalAndAmountRequired,
            Self::UserBanned => Reason::UserBanned,
            Self::UnauthorizedSession => Reason::UnauthorizedSession,
            Self::KeyNotFound => Reason::KeyNotFound,
            Self::KeyDisabled => Reason::KeyDisabled,
            Self::KeyExpired => Reason::KeyExpired,
            Self::UsageExceeded => Reason::UsageExceeded,
            Self::ExpiresInIsTooSmall => Reason::ExpiresInIsTooSmall,
            Self::ExpiresInIsTooLarge => Reason::ExpiresInIsTooLarge,
            Self::InvalidPrefixLength => Reason::InvalidPrefixLength,
            Self::InvalidNameLength => Reason::InvalidNameLength,
            Self::MetadataDisabled => Reason::MetadataDisabled,
            Self::RateLimited { .. } => Reason::RateLimited,
            Self::NoValuesToUpdate => Reason::NoValuesToUpdate,
            Self::InvalidApiKey => Reason::InvalidApiKey,
            Self::ServerOnlyProperty => Reason::ServerOnlyProperty,
            Self::Impersonating | Self::AdminOnly => Reason::Forbidden,
            Self::InsufficientPermissions => Reason::InsufficientApiKeyPermissions,
        }
    }

    fn code(&self) -> Code {
        match self {
            Self::UnauthorizedSession
            | Self::InvalidApiKey
            | Self::KeyDisabled
            | Self::KeyExpired => Code::Unauthenticated,
            Self::KeyNotFound => Code::NotFound,
            Self::UsageExceeded | Self::RateLimited { .. } => Code::ResourceExhausted,
            Self::UserBanned
            | Self::Impersonating
            | Self::AdminOnly
            | Self::InsufficientPermissions => Code::PermissionDenied,
            _ => Code::InvalidArgument,
        }
    }
}

/// A key over its rate limit: RESOURCE_EXHAUSTED with `RetryInfo`, and an `ErrorInfo` reason `RATE_LIMITED` whose
/// metadata `tryAgainIn` is the package's milliseconds.
pub fn key_rate_limited(try_again_in_ms: i64) -> Status {
    let wait = Duration::from_millis(u64::try_from(try_again_in_ms).unwrap_or(0));
    let mut details = ErrorDetails::with_retry_info(Some(wait));
    let metadata = HashMap::from([("tryAgainIn".to_owned(), try_again_in_ms.to_string())]);
    details.set_error_info(Reason::RateLimited.as_str(), ERROR_DOMAIN, metadata);
    Status::with_error_details(
        Code::ResourceExhausted,
        ApiKeyError::RateLimited { try_again_in_ms }.to_string(),
        details,
    )
}

/// True when a database error is a unique-constraint violation.
pub fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_carries_retry_info_and_a_reason() {
        let status = rate_limited(Duration::from_millis(8_500));
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(status.message(), TOO_MANY_REQUESTS);
        let retry = status.get_details_retry_info().expect("RetryInfo");
        assert_eq!(retry.retry_delay, Some(Duration::from_millis(8_500)));
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "RATE_LIMITED");
        assert_eq!(info.domain, ERROR_DOMAIN);
    }

    #[test]
    fn every_error_with_a_reason_carries_it_in_error_info() {
        let errors = [
            AuthError::Validation("[body.email] Invalid email address".into()),
            AuthError::InvalidEmailOrPassword,
            AuthError::NotAllowed(AdminAction::Ban),
            AuthError::TooManyRequests {
                retry_after: Duration::from_secs(1),
            },
        ];
        for error in errors {
            let reason = error.reason().unwrap();
            let status = Status::from(error);
            let info = status.get_details_error_info().expect("ErrorInfo");
            assert_eq!(Reason::parse(&info.reason), Some(reason));
        }
        let status = Status::from(AuthError::EmailIsTheSame);
        assert!(status.get_details_error_info().is_none());
    }

    #[test]
    fn a_callback_refusal_carries_its_code_and_where_to_go() {
        let status = CallbackError::new("access_denied")
            .to(Some("/oops".into()))
            .described(Some("End-User aborted interaction".into()))
            .consumed()
            .into_status();
        assert_eq!(status.code(), Code::FailedPrecondition);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "access_denied");
        assert_eq!(info.metadata["error_url"], "/oops");
        assert_eq!(
            info.metadata["error_description"],
            "End-User aborted interaction"
        );
        assert_eq!(info.metadata["state_consumed"], "true");
    }
}
