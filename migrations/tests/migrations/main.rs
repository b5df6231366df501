//! The migrations against real PostgreSQL (a fresh database per test) and SQLite.

mod helpers;
mod postgres;
mod sqlite;
mod task;
