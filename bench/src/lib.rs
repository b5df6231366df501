//! Warden's load tool: drives the gateway's REST routes and the gRPC services on loopback and measures them.
//!
//! [`cli`] parses a run (scenario, connections, duration, rate, targets) and [`target`] refuses any address that is
//! not on this machine. A scenario's [`rest`] or [`grpc`] module signs up its own user and seeds its data, then hands
//! one caller per connection to [`load`], which runs them closed-loop or at a fixed rate, bounded in time and
//! request count, into HDR histograms. [`ceiling`] serves the two yardsticks from a child process (a bare axum
//! handler doing one Redis GET, a bare tonic echo), [`hashing`] times one argon2id verify (the sign-in limit) and [`rss`]
//! samples the target's memory; [`run`] puts scenarios together and [`report`] prints the table and writes the JSON.

pub mod ceiling;
pub mod cli;
pub mod echo;
pub mod grpc;
pub mod hashing;
pub mod http_client;
pub mod load;
pub mod report;
pub mod rest;
pub mod rss;
pub mod run;
pub mod target;
