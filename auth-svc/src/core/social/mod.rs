//! Better Auth's social sign-in: Google, GitHub and any OpenID Connect or OAuth 2.0 provider, and the provider
//! accounts linked to a user. [`settings`] is which providers a deployment offers.

pub mod oauth;
pub mod settings;
