//! `prodlike compare`: does staging predict production? Per route and metric, a calibrated
//! margin verdict — `pass`, `diverged`, `inconclusive` (with the sample size that would decide
//! it) or `no_data` — from prodlike-stats' judges, after checking that both environments are
//! observed alike.
//!
//! Shared by every source: [`spec`] (the `--spec` file), [`input`] (the neutral per-route input
//! every source reduces its data to), [`judge`] (stats' judges, Benjamini–Hochberg and the
//! behaviour score over that input), [`report`] (the `prodlike.compare/1` payload and envelope,
//! types in prodlike-results) and [`render`] (text and Markdown). Sources: [`prometheus`]. [`watch`]: `--watch`, one
//! anytime-valid error-ratio watch per route.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod error;
pub mod input;
pub mod judge;
pub mod prometheus;
pub mod render;
pub mod report;
pub mod results;
pub mod spec;
pub mod watch;

pub use error::{CompareError, SpecError};
pub use spec::CompareSpec;
