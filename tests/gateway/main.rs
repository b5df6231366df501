//! The gateway end to end, as a browser and the official Better Auth client see it: HTTP + cookies in front of the
//! real auth-svc. Every case runs twice: on the separate services over PostgreSQL + Redis, and on the all-in-one over
//! SQLite with the in-process cache.

mod helpers;

mod account;
mod admin;
mod api_keys;
mod auth_flow;
mod cookies;
mod errors;
mod limits;
mod mail;
mod metrics;
mod origins;
mod passkey;
mod plugins;
mod providers;
mod sessions;
mod settings;
mod social;
mod social_flow;
mod social_link;
mod tasks;
mod transcode;
mod two_factor;
mod wire;
