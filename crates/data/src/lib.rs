//! prodlike data: profile production data, take a referentially intact sample, mask PII on the
//! way, synthesise data from a profile, load staging atomically, and verify fidelity and that no
//! PII leaked. PostgreSQL (binary COPY) and SQLite (embedded default).
#![forbid(unsafe_code)]

pub mod catalog;
pub mod error;
pub mod identity;
pub mod mysql;
pub mod pg;
pub mod row;
pub mod schema;
pub mod source;
pub mod sqlite;
pub mod url;
pub mod value;

pub use error::{DataError, Result};
pub use url::DbUrl;
pub mod fit;
pub mod fixture;
pub mod maskplan;
pub mod memo;
pub mod plan;
pub mod profile;
pub mod progress;
pub mod published;
pub mod query_plans;
pub mod render;
pub mod rules;
pub mod snapshot;
pub mod sync;
pub mod synth;
pub mod target;
pub mod verify;
