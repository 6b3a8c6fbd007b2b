//! Why a glob or a rule was refused. A [`RuleError`] names the field by its place
//! (`rule[3].factor`); what is wrong with it is its [`Problem`], the error's source, so that
//! `{:#}` prints `rule[3].factor: -1 must be a positive number` and no layer says it twice.

/// A glob that cannot be compiled: `prodlike_common::glob`'s error (empty, too many segments).
pub use prodlike_common::glob::GlobError;

/// One rule refused by [`crate::RuleSpec::validate`]: the field, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{field}")]
pub struct RuleError {
    /// The field by its place in the file, rules numbered from 1: `rule[3].factor`.
    pub field: String,
    /// What is wrong with the field, and the fix.
    #[source]
    pub problem: Problem,
}

/// What is wrong with a rule's field. Each message says what to write instead.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("missing; use one of ignore, scale, map, must_equal, pattern, rename")]
    MissingKind,
    #[error("missing; every rule says why the difference is intended")]
    MissingReason,
    #[error(
        "missing; a {kind} rule needs the path it applies to, e.g. `spec.replicas` or `**.image`"
    )]
    MissingPath {
        /// The rule's kind, as written in the file.
        kind: &'static str,
    },
    /// A `path`, `file` or `object` glob that does not compile.
    #[error(transparent)]
    Glob(#[from] GlobError),
    #[error("`{text}` is not a date; write YYYY-MM-DD")]
    NotADate {
        /// The value as written.
        text: String,
    },
    /// A field that belongs to another kind of rule: a mistake worth naming.
    #[error("only {owner} rules take `{field}`; this rule is {kind}")]
    StrayField {
        field: &'static str,
        /// The kind the field belongs to.
        owner: &'static str,
        /// The rule's own kind.
        kind: &'static str,
    },
    #[error("missing; e.g. `factor = 0.5` for half of production")]
    MissingFactor,
    #[error("{factor} must be a positive number")]
    BadFactor { factor: f64 },
    #[error("{tolerance} must be a fraction in [0, 1), e.g. 0.1 for ±10%")]
    BadTolerance { tolerance: f64 },
    #[error("missing or empty; e.g. `values = {{ \"t3.xlarge\" = \"t3.large\" }}`")]
    MissingValues,
    #[error("missing; e.g. `regex = \"staging\"`")]
    MissingRegex,
    #[error("`{text}`")]
    BadRegex {
        /// The expression as written.
        text: String,
        #[source]
        source: regex::Error,
    },
    #[error("missing or empty; e.g. `from = \"prod-db\"`")]
    MissingFrom,
    #[error("missing; e.g. `to = \"staging-db\"`")]
    MissingTo,
    #[error("equals `from`; a rename must change something")]
    RenameUnchanged,
}
