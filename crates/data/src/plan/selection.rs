//! The bias report of one table: what its mode intended, what each step kept (sampled,
//! followed, pulled in as parents, added for rare values) and the resulting shares. Filled as
//! the planner runs; `settle` computes the shares at the end. Serialised into sync's result.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Mode;

/// What the plan did to one table, for the bias report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
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

impl TableSelection {
    /// The report of a table before any row is kept: its mode and the share it intends
    /// (`root_fraction` for tables that follow a parent, which inherit the roots' share).
    pub(super) fn planned(table: &str, mode: &Mode, source_rows: u64, root_fraction: f64) -> Self {
        TableSelection {
            table: table.to_owned(),
            mode_json: serde_json::to_value(mode).unwrap_or_default(),
            source_rows,
            intended_fraction: match mode {
                Mode::All => 1.0,
                Mode::None => 0.0,
                Mode::Sample { fraction, .. } => *fraction,
                Mode::Follow { .. } => root_fraction,
            },
            ..Default::default()
        }
    }

    /// Records the rows kept in all and the shares that follow from them.
    pub(super) fn settle(&mut self, selected_rows: u64) {
        self.selected_rows = selected_rows;
        self.actual_fraction = if self.source_rows == 0 {
            0.0
        } else {
            selected_rows as f64 / self.source_rows as f64
        };
        self.oversampling =
            (self.intended_fraction > 0.0).then(|| self.actual_fraction / self.intended_fraction);
    }
}
