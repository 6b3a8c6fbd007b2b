//! `prodlike.data.sync/1`: what `prodlike data sync` copied, how each table's rows were chosen
//! (and the bias following foreign keys added), what it masked and why. Built by
//! `crates/data` (sync.rs).
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::profile::{DetectedColumn, DetectedJson, VetoedColumn};
use crate::shared::PiiKind;

pub const SCHEMA: &str = "prodlike.data.sync/1";

/// Rows copied for one table.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TableCopy {
    pub table: String,
    pub source_rows: u64,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
    pub masked_columns: Vec<String>,
}

/// The result of a sync (`prodlike.data.sync/1`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SyncReport {
    pub source: String,
    pub target: String,
    /// Share of root rows asked for (1 = full copy).
    pub sample: f64,
    pub seed: u64,
    pub dry_run: bool,
    pub tables: Vec<TableCopy>,
    /// How each table's rows were chosen, and the bias following foreign keys added.
    pub selection: Vec<TableSelection>,
    pub masked: Vec<MaskedColumn>,
    pub detected: Vec<DetectedColumn>,
    pub detected_json: Vec<DetectedJson>,
    /// Columns named like people (a bare `name`) that detection left alone because their
    /// sampled values are not people, with the evidence. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vetoed: Vec<VetoedColumn>,
    /// Detected PII columns kept raw by an explicit `keep` rule.
    pub kept_raw: Vec<String>,
    /// Fingerprint of the mask key (not the key).
    pub key_fingerprint: Option<String>,
    pub total_rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
    /// Every object the source's catalog holds that the sync does not recreate in the target,
    /// with the reason (tables of kinds not copied, triggers on them, aggregates that cannot be
    /// written, comments on objects not copied, …). Added in a later release of
    /// `prodlike.data.sync/1`: absent in older results, read as empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_copied: Vec<NotCopied>,
    /// Objects made again in the target after the swap rather than swapped in with the tables
    /// (MySQL and MariaDB: views, triggers and routines, which `RENAME TABLE` cannot move
    /// between databases; for a moment after the swap they are missing), as `kind name`
    /// (`view big_orders`, `trigger orders_bi`, `procedure touch`). Added in a later release of
    /// `prodlike.data.sync/1`: absent in older results, read as empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recreated_after_swap: Vec<String>,
}

/// An object of the source that the sync did not recreate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NotCopied {
    /// `table`, `foreign table`, `view`, `materialized view`, `function`, `procedure`,
    /// `aggregate`, `trigger`, `comment`, `extension`, `grants` (a role's privileges the target
    /// will not hold: named by the role, or `PUBLIC`).
    pub kind: String,
    /// The object: `orders`, `orders.audit` (a trigger), `f(integer)`, `comment on column
    /// t.c`.
    pub name: String,
    pub reason: String,
}

/// What the plan did to one table, for the bias report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TableSelection {
    pub table: String,
    #[serde(flatten)]
    pub mode_json: serde_json::Value,
    pub source_rows: u64,
    /// Rows kept in all.
    pub selected_rows: u64,
    /// Sampled directly.
    pub sampled: u64,
    /// Kept because their parent was.
    pub followed: u64,
    /// Added as parents of other kept rows (the bias of following foreign keys).
    pub pulled_as_parents: u64,
    /// Added so that a rare value keeps a row.
    pub rare_values_added: u64,
    /// Share the rules asked for (1 for whole tables, 0 for `none`).
    pub intended_fraction: f64,
    pub actual_fraction: f64,
    /// actual / intended (1 = unbiased count); null when nothing was intended.
    pub oversampling: Option<f64>,
    /// Which tables' rows pulled parents in, with counts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pulled_by: BTreeMap<String, u64>,
    /// Foreign-key values with no parent row in the source itself (their rows are dropped).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub source_orphans: u64,
    /// Columns given the rare-value guarantee.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rare_columns: Vec<String>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Why a column is masked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum Origin {
    /// A rule in data.toml.
    Rule,
    /// Detected as PII, masked by default.
    Detected { kind: PiiKind },
    /// Linked by a foreign key to a masked column (`table.column`).
    ForeignKey { linked_to: String },
}

/// One masked column, as reported.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct MaskedColumn {
    pub table: String,
    pub column: String,
    /// Transform name (`email`, `format_preserving`…).
    pub transform: String,
    #[serde(flatten)]
    pub origin: Origin,
    /// Kept unique with a uniqueness scope.
    pub unique: bool,
    /// JSON paths masked inside the column (JSON rules and detections).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_paths: Vec<String>,
}
