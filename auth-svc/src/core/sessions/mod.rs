//! Sessions: PostgreSQL is the truth, the cache (Redis or in-process) sits in front of it.
//!
//! Reads go cache → database → refill (SET NX, so a refill cannot overwrite a revocation's tombstone). Writes go to
//! the database first, then the cache. Expiry slides as Better Auth's does: [`SessionLifetimes`] (7 days, extended at
//! most once a day, by default), and a `rememberMe=false` session lives one day and is never extended.
//!
//! [`Sessions::open`] is the one place a session is created, whatever proved who the user is (a password, a
//! provider, later a passkey or a second factor): it applies bans and the email-verification rule the same way for
//! REST, gRPC and gRPC-web.

pub mod throttle;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    cache::{Lookup, SessionCache},
    domain::{SessionRecord, SessionToken, UserRecord, generate_id, now},
    error::AuthError,
    store::Store,
};

/// A `rememberMe=false` session's whole life, whatever the lifetimes (as in Better Auth).
pub const SHORT_EXPIRES_IN: TimeDelta = TimeDelta::days(1);

/// Better Auth's `session.expiresIn`, `updateAge` and `freshAge` (`SESSION_EXPIRES_IN`, `SESSION_UPDATE_AGE`,
/// `SESSION_FRESH_AGE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLifetimes {
    /// How long a remembered session lives from its last refresh.
    pub expires_in: TimeDelta,
    /// How long after a refresh the next one is due; the expiry slides at most this often.
    pub update_age: TimeDelta,
    /// How recent a sign-in must be for sensitive requests (listing sessions, deleting the account without a
    /// password); zero turns the check off, as in Better Auth.
    pub fresh_age: TimeDelta,
}

impl Default for SessionLifetimes {
    /// Better Auth's defaults: 7 days, 1 day, 1 day.
    fn default() -> Self {
        Self {
            expires_in: TimeDelta::days(7),
            update_age: TimeDelta::days(1),
            fresh_age: TimeDelta::days(1),
        }
    }
}

impl SessionLifetimes {
    /// From seconds, as the settings give them; `expires_in` must be positive.
    pub fn from_secs(expires_in: u64, update_age: u64, fresh_age: u64) -> Option<Self> {
        let seconds = |value: u64| i64::try_from(value).ok().and_then(TimeDelta::try_seconds);
        let lifetimes = Self {
            expires_in: seconds(expires_in)?,
            update_age: seconds(update_age)?,
            fresh_age: seconds(fresh_age)?,
        };
        (expires_in > 0).then_some(lifetimes)
    }

    /// Whether a session created at `created_at` counts as a fresh sign-in at `now`.
    pub fn is_fresh(&self, created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.fresh_age.is_zero() || now - created_at < self.fresh_age
    }

    /// Whether a session was opened with rememberMe. Better Auth gives the others exactly one day, give or take the
    /// milliseconds between its two clock reads. A deployment whose own lifetime is about a day cannot tell them
    /// apart by length, and relies on the `dont_remember` cookie alone, as Better Auth does.
    fn remembered(&self, session: &SessionRecord) -> bool {
        let about_a_day =
            |span: TimeDelta| (span - SHORT_EXPIRES_IN).abs() < TimeDelta::seconds(10);
        !about_a_day(session.expires_at - session.created_at) || about_a_day(self.expires_in)
    }
}

/// What proved who the user is; decides what [`Sessions::open`] checks before a session opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// Email and password: sign-in, sign-up, the fresh session of a password change.
    Password,
    /// A social provider vouched for the user: its sign-in flow, or an ID token it issued.
    Provider,
    /// A password sign-in completed with a second factor (authenticator, mailed or backup code).
    SecondFactor,
    /// A passkey's assertion, with user verification.
    Passkey,
}

/// A session just opened: the raw token goes back to the caller once and is never stored.
pub struct Opened {
    pub token: SessionToken,
    pub session: SessionRecord,
    pub user: UserRecord,
}

/// Where a request came from, as far as it can be believed.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// A live session resolved from a presented token.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub session: SessionRecord,
    pub user: UserRecord,
    /// This lookup extended the session.
    pub refreshed: bool,
    pub remember: bool,
}

#[derive(Serialize, Deserialize)]
struct Cached {
    session: SessionRecord,
    user: UserRecord,
}

#[derive(Clone)]
pub struct Sessions {
    store: Store,
    cache: SessionCache,
    lifetimes: SessionLifetimes,
    /// Better Auth's `requireEmailVerification`: no session for an unverified address.
    require_verified_email: bool,
}

impl Sessions {
    /// Sessions with Better Auth's default lifetimes; see [`Self::with_lifetimes`].
    pub fn new(store: Store, cache: SessionCache) -> Self {
        Self {
            store,
            cache,
            lifetimes: SessionLifetimes::default(),
            require_verified_email: false,
        }
    }

    pub fn with_lifetimes(mut self, lifetimes: SessionLifetimes) -> Self {
        self.lifetimes = lifetimes;
        self
    }

    /// `REQUIRE_EMAIL_VERIFICATION`: [`Self::open`] refuses users whose address is not verified.
    pub fn with_verified_email_required(mut self, required: bool) -> Self {
        self.require_verified_email = required;
        self
    }

    /// Opens and stores a session for `user`, whom `proof` has just identified. Refuses a banned user (lifting a ban
    /// whose time has passed first) and, under `REQUIRE_EMAIL_VERIFICATION`, a password user's unverified address.
    pub async fn open(
        &self,
        user: UserRecord,
        proof: Proof,
        remember: bool,
        client: ClientInfo,
    ) -> Result<Opened, AuthError> {
        let user = self.admit(user, proof).await?;
        let (token, session) = self.start(&user.id, remember, client, now());
        self.store.insert_session(&session).await?;
        Ok(Opened {
            token,
            session,
            user,
        })
    }

    /// What [`Self::open`] checks before a session opens, without opening one: for a sign-in that still needs a
    /// second factor, which must be refused now as the session would be. Returns the user, a lapsed ban lifted.
    pub async fn admit(&self, user: UserRecord, proof: Proof) -> Result<UserRecord, AuthError> {
        let now = now();
        let user = if user.banned == Some(true) {
            if user.is_banned(now) {
                return Err(AuthError::BannedUser);
            }
            self.store.lift_ban(&user.id, now).await?.unwrap_or(user)
        } else {
            user
        };
        // As in Better Auth, REQUIRE_EMAIL_VERIFICATION (its emailAndPassword option) guards passwords only; a
        // provider's user is judged by the provider.
        if matches!(proof, Proof::Password | Proof::SecondFactor)
            && self.require_verified_email
            && !user.email_verified
        {
            tracing::info!(?proof, "no session for an unverified address");
            return Err(AuthError::EmailNotVerified);
        }
        Ok(user)
    }

    /// Replaces the caller's session by a new one for `user` (just changed), as Better Auth does when a user's
    /// security settings change: same client, same rememberMe, a fresh token; the old session ends.
    pub async fn replace(&self, current: &Resolved, user: UserRecord) -> Result<Opened, AuthError> {
        let client = ClientInfo {
            ip_address: current.session.ip_address.clone(),
            user_agent: current.session.user_agent.clone(),
        };
        let (token, mut session) = self.start(&user.id, current.remember, client, now());
        session.impersonated_by = current.session.impersonated_by.clone();
        self.store.insert_session(&session).await?;
        let old = current.session.token_hash.clone();
        self.store.delete_session(&old, None).await?;
        self.forget(&[old]).await;
        self.refresh_user(&user).await?;
        Ok(Opened {
            token,
            session,
            user,
        })
    }

    /// The caller's live session, or `Unauthorized`: how every route that needs a session begins.
    pub async fn signed_in(&self, token: Option<&SessionToken>) -> Result<Resolved, AuthError> {
        let token = token.ok_or(AuthError::Unauthorized)?;
        self.resolve(token, false)
            .await?
            .ok_or(AuthError::Unauthorized)
    }

    /// `SessionNotFresh` unless `current` was signed in within `SESSION_FRESH_AGE`: Better Auth's rule for the
    /// sensitive routes (listing sessions, unlinking an account, adding a passkey).
    pub fn require_fresh(&self, current: &Resolved) -> Result<(), AuthError> {
        if self.lifetimes.is_fresh(current.session.created_at, now()) {
            Ok(())
        } else {
            Err(AuthError::SessionNotFresh)
        }
    }

    pub fn lifetimes(&self) -> &SessionLifetimes {
        &self.lifetimes
    }

    pub fn cache(&self) -> &SessionCache {
        &self.cache
    }

    /// A new session for `user_id` with this deployment's lifetimes, not yet stored.
    fn start(
        &self,
        user_id: &str,
        remember: bool,
        client: ClientInfo,
        now: DateTime<Utc>,
    ) -> (SessionToken, SessionRecord) {
        Self::open_for(&self.lifetimes, user_id, remember, client, now)
    }

    fn open_for(
        lifetimes: &SessionLifetimes,
        user_id: &str,
        remember: bool,
        client: ClientInfo,
        now: DateTime<Utc>,
    ) -> (SessionToken, SessionRecord) {
        let token = SessionToken::generate();
        let lifetime = if remember {
            lifetimes.expires_in
        } else {
            SHORT_EXPIRES_IN
        };
        let record = SessionRecord {
            id: generate_id(),
            token_hash: token.hash(),
            user_id: user_id.to_owned(),
            expires_at: now + lifetime,
            ip_address: client.ip_address,
            user_agent: client.user_agent,
            created_at: now,
            updated_at: now,
            impersonated_by: None,
        };
        (token, record)
    }

    /// Resolves a presented token. The presented value is always hashed first, so a stored hash never authenticates.
    pub async fn resolve(
        &self,
        token: &SessionToken,
        disable_refresh: bool,
    ) -> Result<Option<Resolved>, AuthError> {
        let hash = token.hash();
        let now = now();
        let (mut session, user) = match self.cache.get(&hash).await {
            Lookup::Revoked => return Ok(None),
            Lookup::Hit(json) => match serde_json::from_str::<Cached>(&json) {
                Ok(cached) => (cached.session, cached.user),
                Err(_) => match self.load(&hash, now).await? {
                    Some(row) => row,
                    None => return Ok(None),
                },
            },
            Lookup::Miss => match self.load(&hash, now).await? {
                Some(row) => row,
                None => return Ok(None),
            },
        };
        if session.expires_at <= now {
            self.expire(&hash).await;
            return Ok(None);
        }
        // A ban revokes every session; one that slipped past (opened while the ban was being written) goes now.
        if user.is_banned(now) {
            self.expire(&hash).await;
            return Ok(None);
        }
        let lifetimes = &self.lifetimes;
        let remember = lifetimes.remembered(&session);
        let due = session.expires_at - lifetimes.expires_in + lifetimes.update_age <= now;
        let mut refreshed = false;
        if remember && due && !disable_refresh {
            let expires_at = now + lifetimes.expires_in;
            match self
                .store
                .extend_session(&session.id, expires_at, now)
                .await
            {
                Ok(true) => {
                    session.expires_at = expires_at;
                    session.updated_at = now;
                    self.cache
                        .update(&hash, &encode(&session, &user), expires_at)
                        .await;
                    refreshed = true;
                }
                Ok(false) => return Ok(None),
                // The database being down must not log anyone out; the refresh waits for the next request.
                Err(error) => tracing::warn!(%error, "session refresh skipped"),
            }
        }
        Ok(Some(Resolved {
            session,
            user,
            refreshed,
            remember,
        }))
    }

    async fn load(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(SessionRecord, UserRecord)>, AuthError> {
        let Some(row) = self.read_truth(hash).await? else {
            return Ok(None);
        };
        if row.0.expires_at > now {
            self.refill(hash, &row).await;
        }
        Ok(Some(row))
    }

    /// The database's view of a session (the first half of a cache miss).
    pub async fn read_truth(
        &self,
        hash: &str,
    ) -> Result<Option<(SessionRecord, UserRecord)>, AuthError> {
        Ok(self.store.find_session(hash).await?)
    }

    /// Puts what the database said back into the cache (the second half of a cache miss). It uses SET NX, so when a
    /// revocation landed in between, its tombstone stays and the revoked session is not brought back.
    pub async fn refill(&self, hash: &str, (session, user): &(SessionRecord, UserRecord)) {
        self.cache
            .fill(hash, &encode(session, user), session.expires_at)
            .await;
    }

    /// An expired session is deleted, as Better Auth does when it meets one.
    async fn expire(&self, hash: &str) {
        if let Err(error) = self.store.delete_session(hash, None).await {
            tracing::warn!(%error, "could not delete an expired session");
        }
        self.cache.revoke(&[hash.to_owned()]).await;
    }

    /// Rewrites the cached copies of a user's live sessions after the user row changed, so reads see it at once.
    pub async fn refresh_user(&self, user: &UserRecord) -> Result<(), AuthError> {
        for session in self.store.list_sessions(&user.id, now()).await? {
            self.cache
                .update(
                    &session.token_hash,
                    &encode(&session, user),
                    session.expires_at,
                )
                .await;
        }
        Ok(())
    }

    /// Tombstones sessions that were just deleted from the database.
    pub async fn forget(&self, hashes: &[String]) {
        if !hashes.is_empty() {
            self.cache.revoke(hashes).await;
        }
    }
}

fn encode(session: &SessionRecord, user: &UserRecord) -> String {
    serde_json::to_string(&Cached {
        session: session.clone(),
        user: user.clone(),
    })
    .expect("session records serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(lifetimes: &SessionLifetimes, remember: bool) -> SessionRecord {
        Sessions::open_for(lifetimes, "u1", remember, ClientInfo::default(), Utc::now()).1
    }

    #[test]
    fn lifetimes_default_to_better_auths() {
        let lifetimes = SessionLifetimes::default();
        assert_eq!(
            Some(lifetimes),
            SessionLifetimes::from_secs(604_800, 86_400, 86_400)
        );
        assert_eq!(SessionLifetimes::from_secs(0, 1, 1), None);
    }

    #[test]
    fn a_remembered_session_lives_expires_in_and_another_one_day() {
        let short = SessionLifetimes::from_secs(3600, 60, 60).unwrap();
        let session = opened(&short, true);
        assert_eq!(session.expires_at - session.created_at, TimeDelta::hours(1));
        assert!(short.remembered(&session));
        let session = opened(&short, false);
        assert_eq!(session.expires_at - session.created_at, SHORT_EXPIRES_IN);
        assert!(!short.remembered(&session));
        let default = SessionLifetimes::default();
        assert!(default.remembered(&opened(&default, true)));
        assert!(!default.remembered(&opened(&default, false)));
    }

    #[test]
    fn a_session_written_by_better_auth_a_few_milliseconds_off_a_day_is_not_remembered() {
        let mut session = opened(&SessionLifetimes::default(), false);
        session.expires_at += TimeDelta::milliseconds(3);
        assert!(!SessionLifetimes::default().remembered(&session));
    }

    #[test]
    fn freshness_follows_fresh_age_and_zero_turns_it_off() {
        let now = Utc::now();
        let lifetimes = SessionLifetimes::from_secs(604_800, 86_400, 60).unwrap();
        assert!(lifetimes.is_fresh(now - TimeDelta::seconds(59), now));
        assert!(!lifetimes.is_fresh(now - TimeDelta::seconds(60), now));
        let off = SessionLifetimes::from_secs(604_800, 86_400, 0).unwrap();
        assert!(off.is_fresh(now - TimeDelta::days(30), now));
    }
}
