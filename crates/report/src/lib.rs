//! Result envelopes, exit outcomes and output formats shared by every prodlike command.
//!
//! Every command ends by producing a [`CommandResult`]: a versioned JSON envelope around the
//! command's own payload. `prodlike report` combines these envelopes into one fidelity score,
//! so the envelope fields are a stable contract documented in `docs/results.md`.
#![forbid(unsafe_code)]

pub mod chart;
mod envelope;
mod format;
pub mod html;
mod outcome;

pub use envelope::{CommandResult, ResultWriteError, SCHEMA_VERSION, now_rfc3339};
pub use format::{OutputFormat, UnknownFormat};
pub use outcome::Outcome;
