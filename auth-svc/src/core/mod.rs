//! The service's behaviour as plain async functions, one folder per Better Auth area: [`sessions`] (the session
//! cache in front of the store, lifetimes, the sign-in back-off), [`auth`] (the core routes: email and password
//! sign-up and sign-in, sign-out, the caller's own sessions), [`account`] (the account lifecycle and its mails),
//! [`admin`] (the admin plugin), [`jwt`] (the jwt plugin's keys, tokens and JWKS), [`social`] (sign-in with other providers, linked accounts), [`two_factor`] (the two-factor plugin), [`passkey`] (the passkey plugin). [`cleanup`] is the background
//! job that deletes expired rows. Nothing here knows of tonic: functions take domain types and return them, or an
//! [`crate::error::AuthError`].
//!
//! Areas depend one way: everything builds on `sessions`; `auth` also on `account` (its verification mails) and
//! `jwt` and `two_factor` (the sign-in challenge); `two_factor` on `account` (its password check and mailer); no area on
//! `auth` or `admin`. All of them sit on the store, the cache, the hasher and the mailer below.

pub mod account;
pub mod admin;
pub mod api_key;
pub mod auth;
pub mod cleanup;
pub mod jwt;
pub mod passkey;
pub mod sealed;
pub mod sessions;
pub mod social;
pub mod two_factor;
