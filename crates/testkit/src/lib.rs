//! In-process sample services, fault-injecting staging, and guards for the real services tests
//! drive (PostgreSQL, MariaDB, Chromium, promtool, nginx). Used by tests and by `prodlike demo`.
#![forbid(unsafe_code)]
// Clean of unchecked indexing: keep it so (DEVELOPERS.md, Errors).
#![warn(clippy::indexing_slicing)]

pub mod browser;
pub mod mysql;
pub mod nats;
pub mod pausing_server;
pub mod pg;
pub mod private_mysql;
pub mod private_pg;
pub mod process;
pub mod prometheus;
pub mod realworld;
pub mod require;
pub mod services;
pub mod shopdb;
pub mod slow_routes;
pub mod traffic;
pub mod unique_name;
