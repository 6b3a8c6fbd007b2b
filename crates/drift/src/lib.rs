//! prodlike drift: configuration and schema drift with declared intentional differences.
//!
//! Data flow: files → [`formats`] (YAML, JSON, TOML, .env, properties, Terraform HCL and tfvars)
//! → [`tree::Node`] documents → [`source`] (Kubernetes objects keyed by identity, Terraform
//! blocks and plan resources by address in [`terraform`], secrets masked) →
//! [`diff`] (structural, identity-matched lists) → [`classify`] (the rules of [`rules`], an
//! engine of its own in prodlike-rules) → [`report::DriftReport`]
//! → [`render`] (text, Markdown, SARIF; JSON through the `prodlike.drift/1` envelope).
//! Live databases enter through [`schema`], which snapshots PostgreSQL or SQLite into the same
//! objects.
#![forbid(unsafe_code)]

pub mod classify;
pub mod compare;
pub mod diff;
pub mod error;
pub mod formats;
pub mod kustomize;
pub mod layers;
pub mod locate;
pub mod pairing;
pub mod position;
pub mod render;
pub mod report;
pub mod rules;
pub mod samples;
pub mod schema;
pub mod secrets;
pub mod source;
pub mod terraform;
pub mod tree;

/// Calendar dates for rule expiry, paths and globs, quantities with units: prodlike-rules'.
pub use prodlike_rules::{date, path, quantity};

pub use compare::{compare_paths, compare_sources};
pub use date::Date;
pub use error::DriftError;
pub use layers::compare_layers;
pub use report::{Change, DriftReport, Finding, Mode, RuleState, SCHEMA, Status};
pub use rules::RuleSet;
pub use schema::compare_schemas;
