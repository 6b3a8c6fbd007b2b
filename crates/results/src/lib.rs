//! The payload types of every prodlike result schema (`prodlike.<command>/<n>`), their JSON
//! Schemas, and the readers that accept every still-supported version.
//!
//! Each command writes its result (`--out FILE`) as a [`prodlike_report::CommandResult`]
//! envelope whose `schema` names the payload layout; docs/results.md documents each one and
//! docs/schemas/ holds their JSON Schemas, generated from these types (tests/schemas_current.rs).
//! Capability crates build these types; readers of results (`compare`, `report`,
//! `load merge`, tests) read them back with [`read`] without depending on any capability crate.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod compare;
pub mod data;
pub mod drift;
pub mod load;
pub mod load_v1;
mod read;
pub mod report;
mod schemas;
pub mod shadow;
pub mod shadow_v1;
pub mod shared;

pub use read::{AnyResult, DocumentError, ReadError, from_slice, read};
pub use schemas::{Published, json_schema, published, schema_file_name};
