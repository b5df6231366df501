//! Better Auth's two-factor plugin: an authenticator app (TOTP), a code by email (OTP) and backup codes, the sign-in
//! challenge a password sign-in answers when the user has a second factor, and trusted devices.
//!
//! Rows and cookies are Better Auth's, so a database moves between the two either way: the `twoFactor` row holds
//! the secret and the backup codes sealed under the secret ([`crate::core::sealed`]), a challenge is a `2fa-…` row of
//! `verification` naming the user with its `2fa-attempts-…` counter, a mailed code is a `2fa-otp-…` row, and a trusted
//! device a `trust-device-…` row named by an HMAC the browser keeps. Stronger than Better Auth, on purpose: each
//! authenticator code is accepted once ([`Codes::spend_step`]); a mailed code is kept as its SHA-256, not as sent;
//! disabling two-factor forgets every trusted device of the user, not only the current browser.

mod backup_codes;
mod challenge;
mod totp;

use chrono::{DateTime, TimeDelta, Utc};
use subtle::ConstantTimeEq;
use warden_common::AuthSecret;

pub use backup_codes::BackupCodes;
pub use challenge::{SignInChallenge, TrustedDevice};
pub use totp::TotpSecret;

use crate::{
    core::account::{Account, Emails},
    core::sealed,
    core::sessions::{ClientInfo, Opened, Proof, Resolved, Sessions},
    domain::{Password, SessionToken, UserRecord, now, random_string_from},
    error::AuthError,
    mail::Mail,
    store::{Store, TwoFactorRow, Verification},
};

/// How long a mailed code works (Better Auth's `period`: three minutes).
const OTP_LIFETIME: TimeDelta = TimeDelta::minutes(3);
/// Wrong tries of one mailed code before a new one is needed.
const OTP_ATTEMPTS: u32 = 5;
/// Wrong codes in a row, across challenges and factors, before the account's second factor locks.
const LOCKOUT_FAILURES: i32 = 10;
/// How long that lock lasts.
const LOCKOUT: TimeDelta = TimeDelta::minutes(15);
/// Who the authenticator app says the code is for when the request names no issuer.
pub const DEFAULT_ISSUER: &str = "Warden";

/// The two ways a second factor is checked: for a sign-in challenge, or for a signed-in caller (enrolment, or an
/// app asking again).
enum Subject {
    Challenge {
        id: String,
        user: UserRecord,
    },
    Session {
        current: Resolved,
        token: SessionToken,
    },
}

impl Subject {
    fn user(&self) -> &UserRecord {
        match self {
            Self::Challenge { user, .. } => user,
            Self::Session { current, .. } => &current.user,
        }
    }

    /// The key a mailed code is kept under: the challenge, or the user and session (Better Auth's).
    fn otp_key(&self) -> String {
        match self {
            Self::Challenge { id, .. } => id.clone(),
            Self::Session { current, .. } => {
                format!("{}!{}", current.user.id, current.session.id)
            }
        }
    }
}

/// A code check: the code, and for a sign-in challenge whether to trust the device and remember the session.
/// No `Debug`: it holds a code.
pub struct CodeCheck {
    pub code: String,
    pub challenge: Option<String>,
    pub trust_device: bool,
    pub dont_remember: bool,
}

/// A code accepted.
pub struct Verified {
    pub user: UserRecord,
    /// The session a completed challenge opened, or that replaced the caller's.
    pub opened: Option<Opened>,
    /// The caller's own token, when no session was opened.
    pub token: Option<SessionToken>,
    pub remember: bool,
    /// A trusted device's token, when asked for.
    pub trusted: Option<String>,
    /// A sign-in challenge was met (and is now spent).
    pub challenge_completed: bool,
}

/// What `enable` answers.
pub struct Enabled {
    pub totp_uri: Option<String>,
    pub backup_codes: Vec<String>,
    /// The caller's replacement session (method "otp", which turns two-factor on at once).
    pub replaced: Option<Opened>,
}

/// Which second factor `enable` sets up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Totp,
    Otp,
}

#[derive(Clone)]
pub struct TwoFactor {
    store: Store,
    sessions: Sessions,
    account: Account,
    emails: Emails,
    secret: AuthSecret,
    issuer: String,
}

impl TwoFactor {
    pub fn new(
        store: Store,
        sessions: Sessions,
        account: Account,
        emails: Emails,
        secret: AuthSecret,
    ) -> Self {
        Self {
            store,
            sessions,
            account,
            emails,
            secret,
            issuer: DEFAULT_ISSUER.to_owned(),
        }
    }

    /// The issuer authenticator apps show (Better Auth's `appName`, or the plugin's `issuer`).
    pub fn with_issuer(mut self, issuer: String) -> Self {
        self.issuer = issuer;
        self
    }

    /// Starts enrolment: a new secret and backup codes (on after the first good code), or email codes at once.
    pub async fn enable(
        &self,
        token: Option<&SessionToken>,
        password: Password,
        method: Method,
        issuer: Option<String>,
    ) -> Result<Enabled, AuthError> {
        let current = self.sessions.signed_in(token).await?;
        self.account
            .confirm_password(&current.user, &password)
            .await?;
        if method == Method::Otp {
            let user = self.set_enabled(&current.user.id, true).await?;
            let replaced = self.sessions.replace(&current, user).await?;
            return Ok(Enabled {
                totp_uri: None,
                backup_codes: Vec::new(),
                replaced: Some(replaced),
            });
        }
        let existing = self.store.find_two_factor(&current.user.id).await?;
        if existing.as_ref().is_some_and(|row| row.verified) {
            return Err(AuthError::TotpAlreadyEnabled);
        }
        let codes = BackupCodes::generate();
        let (secret, text) = TotpSecret::generate();
        self.store
            .enrol_two_factor(
                &current.user.id,
                existing.as_ref().map(|row| row.id.as_str()),
                &sealed::seal(&self.secret, &text),
                &codes.seal(&self.secret),
            )
            .await?;
        let issuer = issuer.unwrap_or_else(|| self.issuer.clone());
        Ok(Enabled {
            totp_uri: Some(secret.uri(&issuer, &current.user.email)),
            backup_codes: codes.into_vec(),
            replaced: None,
        })
    }

    /// Turns two-factor off: the row goes, every trusted device is forgotten, and the caller's session is replaced.
    pub async fn disable(
        &self,
        token: Option<&SessionToken>,
        password: Password,
    ) -> Result<Opened, AuthError> {
        let current = self.sessions.signed_in(token).await?;
        self.account
            .confirm_password(&current.user, &password)
            .await?;
        let user = self.turn_off(&current.user.id).await?;
        self.sessions.replace(&current, user).await
    }

    /// Turns a user's second factor off and forgets their trusted devices (disable, and the admin's reset).
    pub async fn turn_off(&self, user_id: &str) -> Result<UserRecord, AuthError> {
        let user = self.set_enabled(user_id, false).await?;
        self.store.delete_two_factor(user_id).await?;
        let forgotten = self.store.forget_trusted_devices(user_id).await?;
        tracing::info!(forgotten, "two-factor turned off");
        Ok(user)
    }

    async fn set_enabled(&self, user_id: &str, on: bool) -> Result<UserRecord, AuthError> {
        let user = self
            .store
            .set_two_factor_enabled(user_id, on, now())
            .await?
            .ok_or(AuthError::Unauthorized)?;
        self.sessions.refresh_user(&user).await?;
        Ok(user)
    }

    /// The authenticator URI again.
    pub async fn totp_uri(
        &self,
        token: Option<&SessionToken>,
        password: Password,
    ) -> Result<String, AuthError> {
        let current = self.sessions.signed_in(token).await?;
        let row = self
            .store
            .find_two_factor(&current.user.id)
            .await?
            .ok_or(AuthError::TotpNotEnabled)?;
        let secret = self.open_secret(&row)?;
        self.account
            .confirm_password(&current.user, &password)
            .await?;
        Ok(secret.uri(&self.issuer, &current.user.email))
    }

    fn open_secret(&self, row: &TwoFactorRow) -> Result<TotpSecret, AuthError> {
        sealed::open(&self.secret, &row.secret)
            .and_then(|text| TotpSecret::from_stored(&text))
            .ok_or_else(|| AuthError::Internal(anyhow::anyhow!("a TOTP secret that does not open")))
    }

    /// Who a code is checked for: the caller's live session first (as Better Auth), else the sign-in challenge.
    async fn subject(
        &self,
        token: Option<&SessionToken>,
        challenge: Option<&str>,
    ) -> Result<Subject, AuthError> {
        if let Some(token) = token
            && let Some(current) = self.sessions.resolve(token, false).await?
        {
            return Ok(Subject::Session {
                current,
                token: token.clone(),
            });
        }
        let id = challenge.ok_or(AuthError::InvalidTwoFactorCookie)?;
        let user = self.challenges().user_of(id).await?;
        Ok(Subject::Challenge {
            id: id.to_owned(),
            user,
        })
    }

    fn challenges(&self) -> challenge::Challenges<'_> {
        challenge::Challenges::new(&self.store, &self.secret)
    }

    /// A sign-in's refusal while the account's second factor is locked; a lock that has run out is cleared.
    async fn check_lock(&self, row: &TwoFactorRow) -> Result<(), AuthError> {
        let Some(until) = row.locked_until else {
            return Ok(());
        };
        let now = now();
        if until > now {
            return Err(AuthError::AccountTemporarilyLocked);
        }
        self.store
            .reset_two_factor_failures(&row.id, Some(now))
            .await?;
        Ok(())
    }

    async fn record_failure(&self, row: &TwoFactorRow) -> Result<(), AuthError> {
        let failures = self
            .store
            .record_two_factor_failure(&row.id, LOCKOUT_FAILURES, now() + LOCKOUT)
            .await?;
        if failures >= LOCKOUT_FAILURES {
            tracing::warn!(failures, "second factor locked after repeated wrong codes");
        }
        Ok(())
    }

    /// For a sign-in, before a code is looked at: the account not locked, and one of the challenge's tries taken.
    /// A signed-in caller's check takes none.
    async fn take_try(
        &self,
        subject: &Subject,
        row: &TwoFactorRow,
    ) -> Result<Option<challenge::Attempt<'_>>, AuthError> {
        let Subject::Challenge { id, .. } = subject else {
            return Ok(None);
        };
        self.check_lock(row).await?;
        Ok(Some(self.challenges().begin_attempt(id).await?))
    }

    /// A wrong code in a sign-in: counted against the challenge and against the account.
    async fn wrong_code(
        &self,
        attempt: Option<challenge::Attempt<'_>>,
        row: &TwoFactorRow,
    ) -> Result<(), AuthError> {
        if let Some(attempt) = attempt {
            attempt.failed().await;
            self.record_failure(row).await?;
        }
        Ok(())
    }

    /// Checks an authenticator code.
    pub async fn verify_totp(
        &self,
        token: Option<&SessionToken>,
        check: CodeCheck,
        client: ClientInfo,
    ) -> Result<Verified, AuthError> {
        let subject = self.subject(token, check.challenge.as_deref()).await?;
        let signing_in = matches!(subject, Subject::Challenge { .. });
        let user = subject.user().clone();
        let row = self
            .store
            .find_two_factor(&user.id)
            .await?
            .ok_or(AuthError::TotpNotEnabled)?;
        if signing_in && !row.verified {
            return Err(AuthError::TotpNotEnabled);
        }
        let attempt = self.take_try(&subject, &row).await?;
        let secret = match self.open_secret(&row) {
            Ok(secret) => secret,
            Err(error) => {
                if let Some(attempt) = attempt {
                    attempt.restore().await;
                }
                return Err(error);
            }
        };
        let unix = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
        let accepted = match secret.matching_step(&check.code, unix) {
            Some(step) => self.spend_step(&user.id, &secret, step).await?,
            None => false,
        };
        if !accepted {
            self.wrong_code(attempt, &row).await?;
            return Err(AuthError::InvalidCode);
        }
        if signing_in {
            self.store.reset_two_factor_failures(&row.id, None).await?;
        }
        let mut replaced = None;
        if !row.verified {
            if let Subject::Session { current, .. } = &subject
                && current.user.two_factor_enabled != Some(true)
            {
                let user = self.set_enabled(&user.id, true).await?;
                replaced = Some(self.sessions.replace(current, user).await?);
            }
            self.store.mark_two_factor_verified(&row.id).await?;
        }
        self.complete(subject, &check, client, replaced).await
    }

    /// Accepts the code of time step `step` once: a second use within its window is refused. Stronger than Better
    /// Auth, which accepts a code as often as it is presented while it is valid. The primary key of a
    /// `verification` row makes "first use only" atomic when two requests race.
    async fn spend_step(
        &self,
        user_id: &str,
        secret: &TotpSecret,
        step: u64,
    ) -> Result<bool, AuthError> {
        // Keyed by the secret too: after a new enrolment the new authenticator's code of the same step is new.
        let identifier = format!("2fa-totp-used-{user_id}-{}-{step}", secret.fingerprint());
        let valid_until = DateTime::from_timestamp(
            i64::try_from((step + 2) * totp::PERIOD).unwrap_or(i64::MAX),
            0,
        )
        .unwrap_or_else(|| now() + TimeDelta::minutes(2));
        let row = Verification {
            identifier,
            value: "spent".to_owned(),
            expires_at: valid_until + TimeDelta::seconds(1),
        };
        Ok(self.store.insert_verification_once(&row, now()).await?)
    }

    /// The answer to a good code: for a challenge the session it opens (and the trusted device asked for), for a
    /// signed-in caller their session as it is (or its replacement).
    async fn complete(
        &self,
        subject: Subject,
        check: &CodeCheck,
        client: ClientInfo,
        replaced: Option<Opened>,
    ) -> Result<Verified, AuthError> {
        match subject {
            Subject::Session { current, token } => Ok(match replaced {
                Some(opened) => Verified {
                    user: opened.user.clone(),
                    remember: current.remember,
                    opened: Some(opened),
                    token: None,
                    trusted: None,
                    challenge_completed: false,
                },
                None => Verified {
                    user: current.user,
                    remember: current.remember,
                    opened: None,
                    token: Some(token),
                    trusted: None,
                    challenge_completed: false,
                },
            }),
            Subject::Challenge { id, user } => {
                self.challenges().consume(&id, &user.id).await?;
                let remember = !check.dont_remember;
                let opened = self
                    .sessions
                    .open(user, Proof::SecondFactor, remember, client)
                    .await?;
                let trusted = if check.trust_device {
                    Some(self.challenges().trust(&opened.user.id).await?)
                } else {
                    None
                };
                Ok(Verified {
                    user: opened.user.clone(),
                    opened: Some(opened),
                    token: None,
                    remember,
                    trusted,
                    challenge_completed: true,
                })
            }
        }
    }

    /// Mails a one-time code, valid three minutes, to the challenge's user or the caller.
    pub async fn send_otp(
        &self,
        token: Option<&SessionToken>,
        challenge: Option<&str>,
    ) -> Result<(), AuthError> {
        let subject = self.subject(token, challenge).await?;
        let code = random_string_from(6, b"0123456789");
        let row = Verification {
            identifier: format!("2fa-otp-{}", subject.otp_key()),
            value: format!("{}:0", otp_digest(&code)),
            expires_at: now() + OTP_LIFETIME,
        };
        self.store.insert_verification(&row, now()).await?;
        let user = subject.user();
        self.emails.mailer().send(Mail {
            to: user.email.clone(),
            subject: "Your sign-in code".into(),
            text: format!(
                "Hello {},\n\nYour sign-in code is {code}. It works once, for three minutes.\n\nIf you did not \
                 try to sign in, someone may know your password: change it.\n",
                user.name
            ),
            link: None,
        });
        Ok(())
    }

    /// Checks a mailed code: completes a challenge, or (signed in) turns email codes on.
    pub async fn verify_otp(
        &self,
        token: Option<&SessionToken>,
        check: CodeCheck,
        client: ClientInfo,
    ) -> Result<Verified, AuthError> {
        let subject = self.subject(token, check.challenge.as_deref()).await?;
        let user = subject.user().clone();
        let row = match &subject {
            Subject::Challenge { .. } => self.store.find_two_factor(&user.id).await?,
            Subject::Session { .. } => None,
        };
        if let Some(row) = &row {
            self.check_lock(row).await?;
        }
        let identifier = format!("2fa-otp-{}", subject.otp_key());
        let consumed = self
            .store
            .consume_verification(&identifier)
            .await?
            .filter(|row| row.expires_at > now())
            .ok_or(AuthError::OtpHasExpired)?;
        let (digest, tries) = consumed
            .value
            .rsplit_once(':')
            .unwrap_or((&consumed.value, "0"));
        let tries: u32 = tries.parse().unwrap_or(0);
        if tries >= OTP_ATTEMPTS {
            return Err(AuthError::TooManyAttemptsRequestNewCode);
        }
        if !bool::from(otp_digest(&check.code).as_bytes().ct_eq(digest.as_bytes())) {
            let again = Verification {
                identifier,
                value: format!("{digest}:{}", tries + 1),
                expires_at: consumed.expires_at,
            };
            self.store.insert_verification(&again, now()).await?;
            if let Some(row) = &row {
                self.record_failure(row).await?;
            }
            return Err(AuthError::InvalidCode);
        }
        if let Some(row) = &row {
            self.store.reset_two_factor_failures(&row.id, None).await?;
        }
        let mut replaced = None;
        if user.two_factor_enabled != Some(true) {
            let Subject::Session { current, .. } = &subject else {
                // A challenge is only made for a user with two-factor on; it was turned off since.
                return Err(AuthError::InvalidTwoFactorCookie);
            };
            let user = self.set_enabled(&user.id, true).await?;
            replaced = Some(self.sessions.replace(current, user).await?);
        }
        self.complete(subject, &check, client, replaced).await
    }

    /// Spends one backup code. With `disable_session` (Better Auth's `disableSession`) a challenge is checked but
    /// not completed: no session opens.
    pub async fn verify_backup_code(
        &self,
        token: Option<&SessionToken>,
        check: CodeCheck,
        disable_session: bool,
        client: ClientInfo,
    ) -> Result<Verified, AuthError> {
        let subject = self.subject(token, check.challenge.as_deref()).await?;
        let signing_in = matches!(subject, Subject::Challenge { .. });
        let user = subject.user().clone();
        let row = self
            .store
            .find_two_factor(&user.id)
            .await?
            .ok_or(AuthError::BackupCodesNotEnabled)?;
        let attempt = self.take_try(&subject, &row).await?;
        let left = BackupCodes::open(&self.secret, &row.backup_codes)
            .and_then(|codes| codes.spend(&check.code));
        let Some(left) = left else {
            self.wrong_code(attempt, &row).await?;
            return Err(AuthError::InvalidBackupCode);
        };
        if !self
            .store
            .swap_backup_codes(&row.id, &row.backup_codes, &left.seal(&self.secret))
            .await?
        {
            // Another request spent a code of this user at the same moment; this one did not count.
            return Err(AuthError::InvalidBackupCode);
        }
        if signing_in {
            self.store.reset_two_factor_failures(&row.id, None).await?;
        }
        if disable_session {
            let (token, remember) = match subject {
                Subject::Session { current, token } => (Some(token), current.remember),
                Subject::Challenge { .. } => (None, !check.dont_remember),
            };
            return Ok(Verified {
                user,
                opened: None,
                token,
                remember,
                trusted: None,
                challenge_completed: false,
            });
        }
        self.complete(subject, &check, client, None).await
    }

    /// Ten new backup codes in place of the old ones.
    pub async fn generate_backup_codes(
        &self,
        token: Option<&SessionToken>,
        password: Password,
    ) -> Result<Vec<String>, AuthError> {
        let current = self.sessions.signed_in(token).await?;
        if current.user.two_factor_enabled != Some(true) {
            return Err(AuthError::TwoFactorNotEnabled);
        }
        self.account
            .confirm_password(&current.user, &password)
            .await?;
        let row = self
            .store
            .find_two_factor(&current.user.id)
            .await?
            .ok_or(AuthError::TwoFactorNotEnabled)?;
        let codes = BackupCodes::generate();
        self.store
            .set_backup_codes(&row.id, &codes.seal(&self.secret))
            .await?;
        Ok(codes.into_vec())
    }

    /// What a password sign-in of `user` (password already checked) gets: a session at once when the device is
    /// trusted, else a challenge.
    pub async fn sign_in(
        &self,
        user: UserRecord,
        trust_device: Option<&str>,
    ) -> Result<SignInChallenge, AuthError> {
        let challenges = self.challenges();
        if let Some(presented) = trust_device
            && challenges.is_trusted(presented, &user.id).await?
        {
            let renewed = challenges.renew_trust(presented, &user.id).await?;
            return Ok(SignInChallenge::Trusted(TrustedDevice { token: renewed }));
        }
        let mut methods = Vec::new();
        if self
            .store
            .find_two_factor(&user.id)
            .await?
            .is_some_and(|row| row.verified)
        {
            methods.push("totp");
        }
        methods.push("otp");
        let id = challenges.open(&user.id).await?;
        Ok(SignInChallenge::Required {
            challenge: id,
            methods,
            trust_refused: trust_device.is_some(),
        })
    }
}

/// A mailed code as it is kept: its SHA-256, as session tokens are kept, so the row does not hold it.
fn otp_digest(code: &str) -> String {
    warden_common::token::hash_token(code)
}
