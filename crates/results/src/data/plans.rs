//! `prodlike.data.plans/1`: whether staging's query plans are production's, per query, with
//! the causes behind a different plan and the fix each suggests. Built by `crates/data`
//! (plans/). Only plans and catalog statistics are read from production, never rows.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "prodlike.data.plans/1";

/// The whole comparison.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PlansReport {
    /// Production's and staging's databases, passwords removed.
    pub source: String,
    pub target: String,
    /// Staging's size over production's, as the estimates are scaled: declared
    /// (`--volume-ratio`) or measured (the rows of every table the queries read, both sides).
    pub volume_ratio: f64,
    /// `declared` or `measured`.
    pub volume_ratio_from: String,
    /// `ANALYZE` was run on staging first (`--analyze-staging`). Production is never analyzed.
    pub analyzed_staging: bool,
    pub queries: Vec<QueryPlan>,
    /// Planner settings that differ between the two servers (any query may feel them).
    pub settings: Vec<SettingDifference>,
    /// Every table a query reads, with its size on both sides.
    pub tables: Vec<TableSizes>,
    pub counts: PlanCounts,
    /// Input errors of the run rather than of one query (`pg_stat_statements` absent on
    /// production for `--from-stat-statements`): exit 2, the queries that could be read still
    /// compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// `postgresql` or `sqlite` (`EXPLAIN QUERY PLAN`, run on a copy of each side after
    /// `ANALYZE`).
    #[serde(default = "postgresql")]
    pub engine: String,
}

fn postgresql() -> String {
    "postgresql".into()
}

/// Queries by verdict.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct PlanCounts {
    pub same_plan: u64,
    pub same_shape_scaled: u64,
    pub different_plan: u64,
    pub not_comparable: u64,
    /// Different plans a rule accepts (counted in `different_plan` too).
    pub accepted: u64,
    /// Queries that could not be explained on production (their SQL is at fault, or their
    /// parameters cannot be bound): input errors, exit 2.
    pub failed: u64,
}

/// One query.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct QueryPlan {
    /// The name from its comment, or `q<N>`.
    pub name: String,
    /// Its line in the queries file.
    pub line: usize,
    pub sql: String,
    /// `same_plan`, `same_shape_scaled`, `different_plan` or `not_comparable`.
    pub verdict: String,
    /// Why, in a sentence.
    pub why: String,
    /// Each side's plan, as node shapes in pre-order (indented by depth); absent when it
    /// could not be explained.
    pub production: Option<PlanSummary>,
    pub staging: Option<PlanSummary>,
    /// The first node (pre-order) where the plans part.
    pub first_difference: Option<NodeDifference>,
    /// Staging's estimated rows over production's at each node, divided by the volume ratio
    /// (1.0: scaled as the data is), for plans of the same shape.
    pub row_ratios: Vec<f64>,
    /// What likely makes the plans differ, each with the fix it suggests.
    pub causes: Vec<Cause>,
    /// The rule that accepts a different plan: its number and reason.
    pub accepted_by: Option<AcceptedBy>,
    /// Production's (or staging's) error for a query that could not be explained.
    pub error: Option<String>,
    /// The values bound to `$1`, `$2`, …: the queries file's `-- param:` lines, or values
    /// sampled from staging's own data for a statement of `pg_stat_statements`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
    /// Planned as a generic plan (the placeholders' values unknown): statements of
    /// `pg_stat_statements`. Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generic_plan: bool,
    /// The statement's entry in production's `pg_stat_statements`, when it came from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat_statement: Option<StatStatement>,
}

/// A statement of `pg_stat_statements` (its normalized text is the query's `sql`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StatStatement {
    pub queryid: i64,
    pub calls: i64,
    /// Its total execution time on production, in milliseconds (what ranks it).
    pub total_exec_time_ms: f64,
}

/// A plan in brief.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PlanSummary {
    /// `Hash Join (Inner)`, `  Seq Scan on orders`, … indented two spaces per level.
    pub nodes: Vec<String>,
    /// The root's estimates.
    pub total_cost: f64,
    pub rows: f64,
}

/// Where two plans part.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NodeDifference {
    /// Pre-order index of the node.
    pub node: usize,
    /// Each side's node there; null when one plan has no node there.
    pub production: Option<String>,
    pub staging: Option<String>,
}

/// One likely cause of a different plan.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Cause {
    /// `table_size` (rows apart, or as many rows on pages ×1.5 apart per row), `missing_index`,
    /// `statistics` (never analyzed), `column_statistics`
    /// (`pg_stats` of a column the query names differ: correlation, null share, distinct
    /// values, the most common value's frequency), `setting`, or `unexplained` (none of those
    /// differs).
    pub kind: String,
    pub detail: String,
    /// What to do: sync a larger share, synthesise ×N, ANALYZE staging, create the index,
    /// align the setting.
    pub fix: String,
}

/// A rule accepting a difference.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AcceptedBy {
    /// 1-based, as in the rules file.
    pub rule: usize,
    pub reason: String,
    pub owner: Option<String>,
}

/// A planner setting that differs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SettingDifference {
    pub name: String,
    pub production: String,
    pub staging: String,
}

/// One table's size on both sides, from the catalog (`pg_class.reltuples`, `relpages`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TableSizes {
    pub table: String,
    /// Estimated rows; null when the table was never analyzed or vacuumed on that side.
    pub production_rows: Option<f64>,
    pub staging_rows: Option<f64>,
    pub production_pages: i64,
    pub staging_pages: i64,
    /// Staging's rows over production's; null without both.
    pub ratio: Option<f64>,
}
