//! The migrations against real PostgreSQL (a fresh database per test) and SQLite.

mod expiry_indexes;
mod helpers;
mod postgres;
mod sqlite;
mod task;
