//! prodlike rules: declared intentional differences between a baseline and a candidate, each
//! with a reason and optionally an owner and an expiry date.
//!
//! A rule matches a *path of a tree of values* (`spec.containers[name=web].image`), written
//! with the globs of [`path::Glob`], optionally narrowed to files and objects. What it does is
//! its [`Action`]: ignore, scale (units understood, [`quantity`]), map, must_equal, pattern or
//! rename. After its expiry ([`date::Date`]) a rule accepts nothing.
//!
//! The tree stays its owner's: a consumer (drift today; data plans, compare specs and report
//! weights later) prints its paths with [`path::Path`] and lets rules see its values through
//! the [`Value`] trait. Rules are written as [`RuleSpec`]s (serde; `[[rule]]` tables in TOML,
//! documented in docs/drift.md) and validated into [`Rules`] by [`Rules::from_specs`], whose
//! errors name the field (`rule[3].factor`).
#![forbid(unsafe_code)]
// Clean of unchecked indexing: keep it so (DEVELOPERS.md, Errors).
#![warn(clippy::indexing_slicing)]

pub mod date;
pub mod error;
pub mod path;
pub mod quantity;
pub mod rule;
pub mod set;
pub mod spec;
pub mod value;

pub use date::Date;
pub use error::{GlobError, Problem, RuleError};
pub use path::{Glob, Path, Seg};
pub use rule::{Action, Rule};
pub use set::{Judgement, Rules};
pub use spec::{ExpiryText, RuleKind, RuleSpec};
pub use value::Value;
