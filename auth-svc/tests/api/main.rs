//! AuthService over real gRPC, against real PostgreSQL and Redis: one database and key prefix per test.

mod account_support;
mod helpers;

mod account_deletion;
mod account_mail;
mod account_password;
mod account_profile;
mod account_verification;
mod admin;
mod api_keys;
mod cache_failures;
mod cleanup;
mod core_extras;
mod credentials;
mod healthcheck;
mod jwt;
mod legacy;
mod limits;
mod metrics;
mod nul_text;
mod passkey;
mod plugins;
mod protocol;
mod sessions;
mod sign_in;
mod sign_up;
mod social_grpc;
mod social_oauth;
mod social_providers;
mod tls;
mod two_factor;
