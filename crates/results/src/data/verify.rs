//! `prodlike.data.verify/1`: how a target compares with its source — integrity, row counts,
//! per-column fidelity and PII leaks — and the verdict. Built by `crates/data` (verify/).
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "prodlike.data.verify/1";

/// Row counts of one table.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RowCount {
    pub table: String,
    pub source_rows: u64,
    pub target_rows: u64,
    pub ratio: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_rows: Option<u64>,
    /// False only when exact expectations (a sync result) were given and not met.
    pub ok: bool,
}

/// Fidelity of one column.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ColumnFidelity {
    pub table: String,
    pub column: String,
    /// `ks`, `tvd`, `shape_tvd`, or `null_rate` (masked text, JSON).
    pub metric: String,
    pub statistic: f64,
    pub null_rate_source: f64,
    pub null_rate_target: f64,
    pub null_delta: f64,
    /// 1 − max(statistic, |null_delta|).
    pub score: f64,
    pub masked: bool,
    /// Over `--max-ks` / `--max-tvd`.
    pub over_tolerance: bool,
    pub n_source: u64,
    pub n_target: u64,
}

/// The verdict of a verify (`prodlike.data.verify/1`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VerifyReport {
    pub source: String,
    pub target: String,
    pub integrity: Integrity,
    pub row_counts: Vec<RowCount>,
    pub columns: Vec<ColumnFidelity>,
    /// Foreign-key fan-out (children per parent) of the target against the source's, one entry
    /// per foreign key. Absent in results made before it was measured (and when the source
    /// has no foreign keys).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fan_out: Vec<FanOutCheck>,
    /// Key columns left out of fidelity (`table.column`).
    pub skipped_keys: Vec<String>,
    /// Mean column score, 0..1.
    pub score: f64,
    pub min_score: f64,
    pub max_ks: f64,
    pub max_tvd: f64,
    /// Worst columns, worst first (`users.plan: tvd 0.031`).
    pub worst: Vec<String>,
    pub leaks: LeakCheck,
    pub passed: bool,
    /// Why it failed (empty when it passed).
    pub failures: Vec<String>,
    /// Objects of the schema that differ between source and target (PostgreSQL), those the
    /// sync lists as not copied left out. Any fails verify. Added in a later release of
    /// `prodlike.data.verify/1`: absent in older results, read as empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema_differences: Vec<SchemaDifference>,
    /// What the schema check compared, for these two engines: `tables, views, functions, …`
    /// (PostgreSQL), `tables, views, triggers, routines, AUTO_INCREMENT positions` (MySQL),
    /// `tables and views (present, definitions not compared across engines)`. An empty
    /// `schema_differences` means no difference among these, nothing more. Absent in results
    /// made before it was stated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub schema_checked: String,
    /// Set when the source's side came from a snapshot (`verify --snapshot`: the profile that
    /// `data dump` stored), not from the source itself. Absent otherwise, and in older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<VerifiedSnapshot>,
}

/// The snapshot a verify compared the target with, and what its profile could not compare.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VerifiedSnapshot {
    /// The snapshot directory, as given.
    pub snapshot: String,
    /// When it was dumped (RFC 3339).
    pub created: String,
    /// Rows read at most per table, on each side, for the distributions.
    pub profile_rows: u64,
    /// Masked numeric columns (`table.column`) compared through the percentiles 0..=100 of
    /// their source values made coarse (dates to the month, timestamps to the day, other numbers
    /// to two significant digits), the target's numbers made coarse alike: the snapshot holds no
    /// masked value.
    pub distribution_coarsened: Vec<String>,
    /// Unmasked columns whose distribution is not compared, only their share of NULLs, and
    /// why (`table.column: reason`): their type is one the dump does not decode, so its profile
    /// holds no statistics of their values (`data verify` against the source compares them as
    /// text).
    #[serde(default)]
    pub distribution_not_compared: Vec<String>,
    /// Masked columns the leak check of the snapshot's hashes cannot judge, and why.
    pub leak_not_checked: Vec<super::snapshot::LeakNotChecked>,
    /// What the schema check could not compare without the source (its grants: the restore
    /// keeps the target's own).
    pub schema_not_compared: String,
}

/// One object of the schema that differs between source and target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SchemaDifference {
    /// `table`, `view`, `materialized view`, `function`, `procedure`, `aggregate`, `trigger`,
    /// `type`, `domain`, `sequence`.
    pub kind: String,
    /// The object: `active_users`, `f(integer)`, `film.film_fulltext_trigger`.
    pub name: String,
    /// `missing in the target`, `definition differs`, `behind its keys: next value 1, column
    /// max 200`…
    pub difference: String,
}

/// The fan-out of one foreign key, target against source: the distribution of children per
/// parent row (parents without children included) and the share of parents without children.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FanOutCheck {
    /// The child table and its key's columns.
    pub child: String,
    pub columns: Vec<String>,
    pub parent: String,
    /// Whether the sync keeps every kept parent's children on this key (whole tables, or a
    /// child that follows this parent), so that the fan-out is held to the tolerance.
    pub compared: bool,
    /// Why it is not compared (a parent copied whole while its children are sampled, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_compared: Option<String>,
    /// Parent rows in the source and in the target.
    pub source_parents: u64,
    pub target_parents: u64,
    /// Mean children per parent.
    pub source_mean: f64,
    pub target_mean: f64,
    /// Share of parent rows without children.
    pub source_childless: f64,
    pub target_childless: f64,
    /// Largest allowed |target − source| childless share at these sizes.
    pub childless_tolerance: f64,
    /// Kolmogorov–Smirnov distance between the two children-per-parent distributions.
    pub ks: f64,
    /// Largest allowed KS distance at these sizes.
    pub ks_tolerance: f64,
    /// Compared and beyond a tolerance: verify fails.
    pub over_tolerance: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrphanCheck {
    pub table: String,
    pub columns: Vec<String>,
    pub parent: String,
    pub orphans: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UniqueCheck {
    pub table: String,
    pub columns: Vec<String>,
    /// Values held by more than one row.
    pub duplicate_values: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NotNullCheck {
    pub table: String,
    pub column: String,
    pub nulls: u64,
}

/// Every check run; violations are the non-zero counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Integrity {
    pub orphans: Vec<OrphanCheck>,
    pub unique: Vec<UniqueCheck>,
    /// Only columns with NULLs are listed.
    pub not_null_violations: Vec<NotNullCheck>,
    pub checks: u64,
    pub total_violations: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LeakColumn {
    pub table: String,
    pub column: String,
    /// `identifying` or `quasi`.
    pub class: String,
    pub transform: String,
    /// Distinct source values looked for (identifying columns).
    pub source_values: u64,
    /// Target values of this column equal to a source value of it.
    pub target_hits: u64,
    /// Rows compared with their source row (quasi-identifiers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_rows: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchanged_rows: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_unchanged: Option<f64>,
    /// Target values equal to a *different* source row's value at a rate no higher than
    /// coincidence (pseudonyms landing on real values of small spaces, e.g. IPv4): reported,
    /// not counted as leaks.
    #[serde(default)]
    pub chance_matches: u64,
    /// Values counted as leaked for this column.
    pub leaked: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CrossColumnHit {
    pub table: String,
    pub column: String,
    /// Values equal to a source value of an identifying masked column.
    pub hits: u64,
    /// Values of this column looked at.
    pub scanned: u64,
    /// Whether the hits count as a leak: a piece still on its own row, or (tables without a
    /// primary key) a rate above coincidence.
    pub leaked: bool,
    /// Pieces (a whole identifying value, an email, a phone, a person's name inside the text)
    /// found on the same row of the source: leaks. Absent in results of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_leaks: Option<u64>,
    /// Pieces equal to a source piece of the same class on another row: chance matches
    /// between fakes and unrelated real values, not counted. Absent in older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_matches: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct LeakCheck {
    pub columns: Vec<LeakColumn>,
    pub cross_column: Vec<CrossColumnHit>,
    /// Detected PII columns kept raw on purpose (`keep` rules): not checked.
    pub kept_raw: Vec<String>,
    pub leaked_values: u64,
    /// True when the source had more identifying values than the check holds.
    pub truncated: bool,
    /// Values still equal to their own source row's value (identifying columns) and personal
    /// pieces of text still on their own row, over every text column. Absent in older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_leaks: Option<u64>,
    /// Matches with a source value of the same class on another row (chance), over every
    /// column. Absent in older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_matches: Option<u64>,
}
