//! The AuthService's behaviour as plain async functions: no tonic here, only domain types and [`AuthError`].

use crate::{
    core::account::{Emails, UNIFORM_ANSWER_FLOOR},
    core::jwt::{Keys, PublicKey},
    core::sessions::throttle::SignInThrottle,
    core::sessions::{ClientInfo, Proof, Resolved, Sessions},
    core::two_factor::{SignInChallenge, TrustedDevice, TwoFactor},
    domain::{
        Email, Password, SessionRecord, SessionRef, SessionToken, UserRecord, generate_id, now,
    },
    error::{AuthError, is_unique_violation},
    passwords::{Hasher, Verdict},
    store::{NewUser, Store},
};

/// No `Debug`: it holds a password.
pub struct SignUp {
    pub name: String,
    pub email: Email,
    pub password: Password,
    pub image: Option<String>,
    pub remember: bool,
    /// Where the verification link returns to, when the address must be verified first.
    pub callback_url: Option<String>,
}

/// No `Debug`: it holds a password.
pub struct SignIn {
    pub email: Email,
    pub password: Password,
    pub remember: bool,
    /// Where a re-sent verification link returns to.
    pub callback_url: Option<String>,
    /// A trusted device's token, from an earlier second-factor check.
    pub trust_device: Option<String>,
}

/// What a password sign-in gives.
pub enum SignedIn {
    /// A session; for a user with a second factor on a trusted device, that device's renewed token too.
    Opened(Box<Opened>, Option<TrustedDevice>),
    /// The user has a second factor: no session until the challenge is met (`TwoFactor`).
    SecondFactor {
        challenge: String,
        methods: Vec<&'static str>,
        trust_refused: bool,
    },
}

/// What a sign-up gives: a session, or (with `REQUIRE_EMAIL_VERIFICATION`) a user who must verify first.
pub enum SignedUp {
    Opened(Box<Opened>),
    /// No session. For an address that already had an account this is a stand-in that was never stored, so the
    /// answer does not tell the address is taken.
    Unverified(UserRecord),
}

pub use crate::core::sessions::Opened;

#[derive(Clone)]
pub struct AuthCore {
    store: Store,
    sessions: Sessions,
    hasher: Hasher,
    keys: Keys,
    emails: Emails,
    throttle: SignInThrottle,
    /// The two-factor plugin, when served: it decides what a password sign-in of a user with a second factor gets.
    two_factor: Option<TwoFactor>,
}

impl AuthCore {
    pub fn new(
        store: Store,
        sessions: Sessions,
        hasher: Hasher,
        keys: Keys,
        emails: Emails,
    ) -> Self {
        Self {
            store,
            sessions,
            hasher,
            keys,
            emails,
            throttle: SignInThrottle::default(),
            two_factor: None,
        }
    }

    /// Serves the two-factor plugin: password sign-ins of users with a second factor are challenged.
    pub fn with_two_factor(mut self, two_factor: TwoFactor) -> Self {
        self.two_factor = Some(two_factor);
        self
    }

    /// Replaces the failed sign-in back-off (by default ASVS's, counted in process).
    pub fn with_throttle(mut self, throttle: SignInThrottle) -> Self {
        self.throttle = throttle;
        self
    }

    pub async fn sign_up(&self, input: SignUp, client: ClientInfo) -> Result<SignedUp, AuthError> {
        let SignUp {
            name,
            email,
            password,
            image,
            remember,
            callback_url,
        } = input;
        password.check_new()?;
        if self.emails.verification_required() {
            return crate::core::account::at_least(
                UNIFORM_ANSWER_FLOOR,
                self.sign_up_unverified(name, email, image, password, callback_url),
            )
            .await;
        }
        if self
            .store
            .find_user_by_email(email.as_str())
            .await?
            .is_some()
        {
            return Err(AuthError::UserAlreadyExists);
        }
        let hash = self
            .hasher
            .hash(&password)
            .await
            .map_err(AuthError::Internal)?;
        let now = now();
        let new = NewUser {
            id: generate_id(),
            name,
            email: email.as_str().to_owned(),
            image,
        };
        let user = self
            .store
            .create_user(new, hash, now)
            .await
            .map_err(|error| {
                if is_unique_violation(&error) {
                    AuthError::UserAlreadyExists
                } else {
                    error.into()
                }
            })?;
        let opened = self
            .sessions
            .open(user, Proof::Password, remember, client)
            .await?;
        Ok(SignedUp::Opened(Box::new(opened)))
    }

    /// Sign-up under `REQUIRE_EMAIL_VERIFICATION`: the user is created without a session and mailed a verification
    /// link. A taken address gets the same answer (a stand-in user) after the same work, and no account changes.
    async fn sign_up_unverified(
        &self,
        name: String,
        email: Email,
        image: Option<String>,
        password: Password,
        callback_url: Option<String>,
    ) -> Result<SignedUp, AuthError> {
        let taken = self
            .store
            .find_user_by_email(email.as_str())
            .await?
            .is_some();
        let hash = self
            .hasher
            .hash(&password)
            .await
            .map_err(AuthError::Internal)?;
        let now = now();
        let new = NewUser {
            id: generate_id(),
            name,
            email: email.as_str().to_owned(),
            image,
        };
        let stand_in = UserRecord {
            id: new.id.clone(),
            name: new.name.clone(),
            email: new.email.clone(),
            email_verified: false,
            image: new.image.clone(),
            created_at: now,
            updated_at: now,
            role: Some("user".into()),
            banned: Some(false),
            ban_reason: None,
            ban_expires: None,
            two_factor_enabled: Some(false),
        };
        if taken {
            tracing::info!("sign-up for an address that has an account");
            return Ok(SignedUp::Unverified(stand_in));
        }
        match self.store.create_user(new, hash, now).await {
            Ok(user) => {
                self.emails
                    .send_verification(&user, callback_url.as_deref())?;
                Ok(SignedUp::Unverified(user))
            }
            Err(error) if is_unique_violation(&error) => Ok(SignedUp::Unverified(stand_in)),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn sign_in(&self, input: SignIn, client: ClientInfo) -> Result<SignedIn, AuthError> {
        let SignIn {
            email, password, ..
        } = &input;
        password.check_candidate()?;
        self.throttle.attempt(email).await?;
        let Some(user) = self.store.find_user_by_email(email.as_str()).await? else {
            self.hasher
                .dummy_verify(password)
                .await
                .map_err(AuthError::Internal)?;
            return Err(AuthError::InvalidEmailOrPassword);
        };
        let Some((account_id, stored)) = self.store.find_credential(&user.id).await? else {
            self.hasher
                .dummy_verify(password)
                .await
                .map_err(AuthError::Internal)?;
            return Err(AuthError::InvalidEmailOrPassword);
        };
        match self
            .hasher
            .verify(password, &stored)
            .await
            .map_err(AuthError::Internal)?
        {
            Verdict::Mismatch => return Err(AuthError::InvalidEmailOrPassword),
            Verdict::Match { rehash: true } => self.upgrade_hash(&account_id, password).await,
            Verdict::Match { rehash: false } => {}
        }
        self.throttle.succeeded(email).await;
        let unverified = (!user.email_verified).then(|| user.clone());
        let mut trusted = None;
        if let Some(two_factor) = &self.two_factor
            && user.two_factor_enabled == Some(true)
        {
            // Refused now if the session would be (a ban, an unverified address), before any challenge is made.
            let user = match self.sessions.admit(user.clone(), Proof::Password).await {
                Err(AuthError::EmailNotVerified) => {
                    if let Some(user) = &unverified {
                        self.emails
                            .send_verification(user, input.callback_url.as_deref())?;
                    }
                    return Err(AuthError::EmailNotVerified);
                }
                admitted => admitted?,
            };
            match two_factor
                .sign_in(user, input.trust_device.as_deref())
                .await?
            {
                SignInChallenge::Required {
                    challenge,
                    methods,
                    trust_refused,
                } => {
                    return Ok(SignedIn::SecondFactor {
                        challenge,
                        methods,
                        trust_refused,
                    });
                }
                SignInChallenge::Trusted(device) => trusted = Some(device),
            }
        }
        match self
            .sessions
            .open(user, Proof::Password, input.remember, client)
            .await
            .map(|opened| SignedIn::Opened(Box::new(opened), trusted))
        {
            Err(AuthError::EmailNotVerified) => {
                // Better Auth's `sendOnSignIn`: the right password earns a fresh link, not a session.
                if let Some(user) = unverified {
                    self.emails
                        .send_verification(&user, input.callback_url.as_deref())?;
                }
                Err(AuthError::EmailNotVerified)
            }
            opened => opened,
        }
    }

    /// Replaces a legacy scrypt hash by argon2id; a failure here must not fail the sign-in.
    async fn upgrade_hash(&self, account_id: &str, password: &Password) {
        let upgraded = match self.hasher.hash(password).await {
            Ok(hash) => self
                .store
                .set_password_hash(account_id, &hash)
                .await
                .map_err(anyhow::Error::from),
            Err(error) => Err(error),
        };
        if let Err(error) = upgraded {
            tracing::warn!(
                error = format!("{error:#}"),
                "could not rehash a legacy password"
            );
        }
    }

    /// Ends the presented session if there is one; never fails for lack of one.
    pub async fn sign_out(&self, token: Option<&SessionToken>) -> Result<(), AuthError> {
        if let Some(token) = token {
            let hash = token.hash();
            self.store.delete_session(&hash, None).await?;
            self.sessions.forget(&[hash]).await;
        }
        Ok(())
    }

    pub async fn current(
        &self,
        token: Option<&SessionToken>,
        disable_refresh: bool,
    ) -> Result<Resolved, AuthError> {
        let token = token.ok_or(AuthError::Unauthorized)?;
        self.sessions
            .resolve(token, disable_refresh)
            .await?
            .ok_or(AuthError::Unauthorized)
    }

    /// The caller's active sessions; each carries its stored hash as its token.
    pub async fn list_sessions(
        &self,
        token: Option<&SessionToken>,
    ) -> Result<Vec<SessionRecord>, AuthError> {
        let current = self.current(token, false).await?;
        self.sessions.require_fresh(&current)?;
        Ok(self.store.list_sessions(&current.user.id, now()).await?)
    }

    /// Revokes one of the caller's sessions. Returns whether it was the caller's own.
    pub async fn revoke_session(
        &self,
        token: Option<&SessionToken>,
        target: &SessionRef,
    ) -> Result<bool, AuthError> {
        let current = self.current(token, false).await?;
        let target_hash = target.hash();
        if self
            .store
            .delete_session(target_hash, Some(&current.user.id))
            .await?
        {
            self.sessions.forget(&[target_hash.to_owned()]).await;
            return Ok(target_hash == current.session.token_hash);
        }
        Ok(false)
    }

    /// Revokes all of the caller's sessions, or all but the current one.
    pub async fn revoke_sessions(
        &self,
        token: Option<&SessionToken>,
        keep_current: bool,
    ) -> Result<(), AuthError> {
        let current = self.current(token, false).await?;
        let keep = keep_current.then_some(current.session.token_hash.as_str());
        let hashes = self
            .store
            .delete_user_sessions(&current.user.id, keep)
            .await?;
        self.sessions.forget(&hashes).await;
        Ok(())
    }

    /// A JWT for the caller's session's user (Better Auth's `GET /token`).
    pub async fn issue_token(&self, token: Option<&SessionToken>) -> Result<String, AuthError> {
        let current = self.current(token, false).await?;
        Ok(self.keys.issue(&current.user).await?)
    }

    /// The JWT that accompanies a session read; none (rather than a failed read) when no key can sign.
    pub async fn session_jwt(&self, user: &UserRecord) -> Option<String> {
        match self.keys.issue_for_session(user).await {
            Ok(jwt) => Some(jwt.to_string()),
            Err(error) => {
                let error = anyhow::Error::from(error);
                tracing::warn!(error = format!("{error:#}"), "no JWT for this session read");
                None
            }
        }
    }

    /// The public keys that verify issued JWTs, newest first.
    pub async fn jwks(&self) -> Result<Vec<PublicKey>, AuthError> {
        Ok(self.keys.jwks().await?)
    }
}
