//! Every error code Warden sends: Better Auth's (`INVALID_EMAIL_OR_PASSWORD`, …) and the task API's own.
//!
//! The same list serves both sides of the wire. The services put a [`Reason`] in `google.rpc.ErrorInfo.reason`;
//! the gateway reads it back with [`Reason::parse`] and keys its status table by it, and uses it as the `code` of
//! the errors it answers itself. A misspelt code does not compile, and a code the gateway does not know (a newer
//! service) still reaches the client as the service spelt it, through the gRPC code's fallback.

use std::fmt;

macro_rules! reasons {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// An error code: `as_str` is the exact string on the wire.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Reason {
            $($(#[$doc])* $variant,)*
        }

        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            /// The code as Better Auth spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $code,)*
                }
            }

            /// The reason a code names; `None` for a code this build does not know.
            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $($code => Some(Reason::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

reasons! {
    // Requests the gateway or a service refuses before any account is looked at.
    /// A field is missing or has the wrong shape; the message is zod's `[body.field] …`.
    ValidationError = "VALIDATION_ERROR",
    BadRequest = "BAD_REQUEST",
    UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE",
    PayloadTooLarge = "PAYLOAD_TOO_LARGE",
    FieldNotAllowed = "FIELD_NOT_ALLOWED",
    EmailCanNotBeUpdated = "EMAIL_CAN_NOT_BE_UPDATED",
    RateLimited = "RATE_LIMITED",
    InternalServerError = "INTERNAL_SERVER_ERROR",
    ServiceUnavailable = "SERVICE_UNAVAILABLE",

    // Better Auth's origin and CSRF checks.
    InvalidOrigin = "INVALID_ORIGIN",
    MissingOrNullOrigin = "MISSING_OR_NULL_ORIGIN",
    CrossSiteNavigationLoginBlocked = "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
    InvalidCallbackUrl = "INVALID_CALLBACK_URL",
    InvalidRedirectUrl = "INVALID_REDIRECT_URL",
    InvalidNewUserCallbackUrl = "INVALID_NEW_USER_CALLBACK_URL",
    InvalidErrorCallbackUrl = "INVALID_ERROR_CALLBACK_URL",
    MethodNotAllowedDeferSessionRequired = "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",

    // Sign-up, sign-in and sessions.
    InvalidEmail = "INVALID_EMAIL",
    PasswordTooShort = "PASSWORD_TOO_SHORT",
    PasswordTooLong = "PASSWORD_TOO_LONG",
    UserAlreadyExistsUseAnotherEmail = "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    InvalidEmailOrPassword = "INVALID_EMAIL_OR_PASSWORD",
    Unauthorized = "UNAUTHORIZED",
    Forbidden = "FORBIDDEN",
    SessionNotFresh = "SESSION_NOT_FRESH",
    SessionExpired = "SESSION_EXPIRED",
    BannedUser = "BANNED_USER",
    EmailNotVerified = "EMAIL_NOT_VERIFIED",

    // The account lifecycle: passwords, email changes and verification, deletion.
    InvalidPassword = "INVALID_PASSWORD",
    CredentialAccountNotFound = "CREDENTIAL_ACCOUNT_NOT_FOUND",
    InvalidToken = "INVALID_TOKEN",
    TokenExpired = "TOKEN_EXPIRED",
    EmailMismatch = "EMAIL_MISMATCH",
    EmailAlreadyVerified = "EMAIL_ALREADY_VERIFIED",
    UserNotFound = "USER_NOT_FOUND",
    /// delete-user/callback without a session.
    FailedToGetUserInfo = "FAILED_TO_GET_USER_INFO",

    // Social sign-in and linked accounts.
    ProviderNotFound = "PROVIDER_NOT_FOUND",
    AccountNotFound = "ACCOUNT_NOT_FOUND",
    FailedToUnlinkLastAccount = "FAILED_TO_UNLINK_LAST_ACCOUNT",
    IdTokenNotSupported = "ID_TOKEN_NOT_SUPPORTED",
    UserEmailNotFound = "USER_EMAIL_NOT_FOUND",
    /// An ID-token sign-in the account-linking rules refused; the message says which (`account not linked`).
    OauthLinkError = "OAUTH_LINK_ERROR",
    SocialAccountAlreadyLinked = "SOCIAL_ACCOUNT_ALREADY_LINKED",
    LinkingNotAllowed = "LINKING_NOT_ALLOWED",
    LinkingDifferentEmailsNotAllowed = "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED",
    LinkingFailed = "LINKING_FAILED",
    /// get-access-token or refresh-token on an account whose provider is not configured (`credential` included).
    ProviderNotSupported = "PROVIDER_NOT_SUPPORTED",
    /// account-info on an account whose provider is not configured.
    ProviderNotConfigured = "PROVIDER_NOT_CONFIGURED",
    FailedToGetAccessToken = "FAILED_TO_GET_ACCESS_TOKEN",
    RefreshTokenNotFound = "REFRESH_TOKEN_NOT_FOUND",
    FailedToRefreshAccessToken = "FAILED_TO_REFRESH_ACCESS_TOKEN",
    AccessTokenNotFound = "ACCESS_TOKEN_NOT_FOUND",

    // Better Auth's two-factor plugin.
    OtpHasExpired = "OTP_HAS_EXPIRED",
    TotpNotEnabled = "TOTP_NOT_ENABLED",
    TotpAlreadyEnabled = "TOTP_ALREADY_ENABLED",
    TwoFactorNotEnabled = "TWO_FACTOR_NOT_ENABLED",
    BackupCodesNotEnabled = "BACKUP_CODES_NOT_ENABLED",
    InvalidBackupCode = "INVALID_BACKUP_CODE",
    InvalidCode = "INVALID_CODE",
    TooManyAttemptsRequestNewCode = "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
    /// Ten wrong second-factor codes in a row: the account's second factor is locked for a while (429).
    AccountTemporarilyLocked = "ACCOUNT_TEMPORARILY_LOCKED",
    /// A sign-in challenge that is missing, tampered with, expired or used up.
    InvalidTwoFactorCookie = "INVALID_TWO_FACTOR_COOKIE",

    // Better Auth's passkey plugin (`@better-auth/passkey`).
    /// A passkey ceremony that is missing, expired, used up or of the other kind.
    ChallengeNotFound = "CHALLENGE_NOT_FOUND",
    YouAreNotAllowedToRegisterThisPasskey = "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY",
    FailedToVerifyRegistration = "FAILED_TO_VERIFY_REGISTRATION",
    PasskeyNotFound = "PASSKEY_NOT_FOUND",
    AuthenticationFailed = "AUTHENTICATION_FAILED",

    // Better Auth's api-key plugin (`@better-auth/api-key`).
    InvalidMetadataType = "INVALID_METADATA_TYPE",
    RefillAmountAndIntervalRequired = "REFILL_AMOUNT_AND_INTERVAL_REQUIRED",
    RefillIntervalAndAmountRequired = "REFILL_INTERVAL_AND_AMOUNT_REQUIRED",
    UserBanned = "USER_BANNED",
    /// No session, or a server-only owner that is not the caller.
    UnauthorizedSession = "UNAUTHORIZED_SESSION",
    KeyNotFound = "KEY_NOT_FOUND",
    KeyDisabled = "KEY_DISABLED",
    KeyExpired = "KEY_EXPIRED",
    /// A key whose `remaining` uses are spent.
    UsageExceeded = "USAGE_EXCEEDED",
    ExpiresInIsTooSmall = "EXPIRES_IN_IS_TOO_SMALL",
    ExpiresInIsTooLarge = "EXPIRES_IN_IS_TOO_LARGE",
    InvalidPrefixLength = "INVALID_PREFIX_LENGTH",
    InvalidNameLength = "INVALID_NAME_LENGTH",
    MetadataDisabled = "METADATA_DISABLED",
    NoValuesToUpdate = "NO_VALUES_TO_UPDATE",
    KeyDisabledExpiration = "KEY_DISABLED_EXPIRATION",
    InvalidApiKey = "INVALID_API_KEY",
    /// Permissions, remaining uses, refills or rate limits set over HTTP.
    ServerOnlyProperty = "SERVER_ONLY_PROPERTY",
    NameRequired = "NAME_REQUIRED",
    /// A key used beyond its permissions (Warden's own: the package has no such check outside `verifyApiKey`).
    InsufficientApiKeyPermissions = "INSUFFICIENT_API_KEY_PERMISSIONS",

    // Better Auth's admin plugin.
    YouAreNotAllowedToListUsers = "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS",
    YouAreNotAllowedToCreateUsers = "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS",
    YouAreNotAllowedToChangeUsersRole = "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
    YouAreNotAllowedToBanUsers = "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
    YouAreNotAllowedToListUsersSessions = "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS",
    YouAreNotAllowedToRevokeUsersSessions = "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
    YouAreNotAllowedToDeleteUsers = "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS",
    YouAreNotAllowedToSetUsersPassword = "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD",
    YouAreNotAllowedToGetUser = "YOU_ARE_NOT_ALLOWED_TO_GET_USER",
    YouCannotBanYourself = "YOU_CANNOT_BAN_YOURSELF",
    YouCannotRemoveYourself = "YOU_CANNOT_REMOVE_YOURSELF",
    /// Warden's own admin action (the two-factor reset), refused to a caller who is not an administrator.
    YouAreNotAllowedToResetTwoFactor = "YOU_ARE_NOT_ALLOWED_TO_RESET_TWO_FACTOR",

    // The task API (Warden's own).
    TaskNotFound = "TASK_NOT_FOUND",
    EtagMismatch = "ETAG_MISMATCH",
    InvalidPageToken = "INVALID_PAGE_TOKEN",
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Reason {
    type Err = UnknownReason;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code).ok_or(UnknownReason)
    }
}

/// A code that no [`Reason`] spells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownReason;

impl fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown error code")
    }
}

impl std::error::Error for UnknownReason {}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_reason_reads_back_as_itself() {
        for &reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(reason));
            assert_eq!(reason.to_string().parse::<Reason>(), Ok(reason));
        }
    }

    #[test]
    fn codes_are_distinct_and_shouted_with_underscores() {
        let codes: HashSet<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(codes.len(), Reason::ALL.len());
        for code in codes {
            assert!(
                code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{code}"
            );
            assert!(!code.starts_with('_') && !code.ends_with('_'), "{code}");
        }
    }

    #[test]
    fn an_unknown_or_differently_cased_code_is_not_a_reason() {
        assert_eq!(Reason::parse("NO_SUCH_CODE"), None);
        assert_eq!(Reason::parse("invalid_token"), None);
        assert_eq!(Reason::parse(""), None);
        assert_eq!("nope".parse::<Reason>(), Err(UnknownReason));
    }
}
