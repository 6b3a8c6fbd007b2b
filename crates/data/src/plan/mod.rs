//! The subset planner: which rows of every table a sampled sync keeps. Input: the source, its
//! schema, data.toml's rules and the table sizes; output: a [`SubsetPlan`] holding, per table,
//! the key hashes of the kept rows (16 bytes per row, never the rows themselves), the bias
//! report, and a [`RowFilter`] for the copy. The steps, one file each:
//!
//! 1. **Modes** (`modes.rs`, in `order.rs`'s parents-first order) from the foreign-key graph and
//!    data.toml: root tables are *sampled* (by a keyed hash of their key, so the same seed keeps
//!    the same rows), each other table *follows* one parent (its rows are kept when that parent
//!    row was sampled or followed: cluster sampling, so child tables keep their distributions),
//!    lookups (small tables that others reference and that reference none) are copied *whole*.
//! 2. **Core rows** (`core_rows.rs`) table by table, parents first; stratified sampling and the
//!    rare-value guarantee (at least one row per value of low-cardinality columns) act here
//!    (`sample.rs` holds the primitives, `row_keys.rs` reads a row's key hashes, `kept.rs`
//!    records them).
//! 3. **Closure** (`closure.rs`): every kept row's parents are kept, whatever the edge
//!    (self-references, composite keys, cycles with or without nullable columns): parent keys
//!    still missing are looked up in batches until nothing is missing. Rows pulled in this way
//!    do not bring their children (that would snowball).
//! 4. **Bias report** (`selection.rs`): kept and intended shares per table.
//!
//! `edges.rs` tells, from the modes alone, along which foreign keys every kept parent keeps all
//! its children; `verify` compares those keys' fan-out with the source's.
//!
//! The copy then tests each row against the plan (`filter.rs`).

mod closure;
mod core_rows;
mod edges;
mod filter;
mod kept;
mod modes;
mod order;
mod row_keys;
mod sample;
mod selection;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::rules::Rules;
use crate::schema::Schema;
use crate::source::Source;
use kept::Kept;

pub use edges::{FanOutKept, fan_out_kept};
pub use filter::RowFilter;
pub use modes::modes;
pub use order::plan_order;
pub use sample::{below_fraction, unit_hash};
pub use selection::TableSelection;

/// How a table's rows are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Mode {
    /// Every row.
    All,
    /// Sampled directly.
    Sample {
        fraction: f64,
        #[serde(default, skip_serializing_if = "Option::is_none", rename = "where")]
        where_: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        hash_key: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stratify: Option<String>,
    },
    /// Rows whose parent on `columns` is kept.
    Follow {
        parent: String,
        columns: Vec<String>,
    },
    /// Only rows needed as parents.
    None,
}

/// Planner settings.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Share of root rows kept.
    pub fraction: f64,
    pub seed: u64,
    pub rare_max_distinct: usize,
    pub lookup_max_rows: u64,
}

/// One table's plan and selection.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub table: String,
    pub mode: Mode,
    pub follow_children: bool,
    pub identity: Option<Vec<String>>,
    /// Kept rows by key hash, per key column set (identity and referenced keys).
    keys: HashMap<Vec<String>, HashSet<u128>>,
    /// Core rows (sampled/followed) by referenced key, for children that follow.
    core: HashMap<Vec<String>, HashSet<u128>>,
    pub stats: TableSelection,
}

/// The plan of a whole sync.
#[derive(Debug, Clone)]
pub struct SubsetPlan {
    pub tables: BTreeMap<String, TablePlan>,
    pub seed: u64,
    pub order: Vec<String>,
}

/// Builds the plan: modes, core rows, rare values, then the parent closure.
pub async fn build(
    source: &Source,
    schema: &Schema,
    rules: &Rules,
    opts: &PlanOptions,
    counts: &HashMap<String, u64>,
) -> Result<SubsetPlan> {
    let modes = modes(schema, rules, opts, counts)?;
    let order = plan_order(schema);
    let mut kept = Kept::new(schema, empty_plans(schema, &order, &modes, opts, counts));
    for name in &order {
        let Some(t) = schema.table(name) else {
            continue;
        };
        let keep_rare = rules
            .tables
            .get(name)
            .map(|r| r.keep_rare.clone())
            .unwrap_or_default();
        core_rows::keep_core_rows(source, &mut kept, t, &keep_rare, opts).await?;
    }
    closure::keep_parents(source, &mut kept).await?;
    let mut tables = kept.into_tables();
    for tp in tables.values_mut() {
        tp.settle_selection();
    }
    Ok(SubsetPlan {
        tables,
        seed: opts.seed,
        order,
    })
}

/// Step 1's result as plans with nothing kept yet, one per table of `order`.
fn empty_plans(
    schema: &Schema,
    order: &[String],
    modes: &BTreeMap<String, (Mode, bool)>,
    opts: &PlanOptions,
    counts: &HashMap<String, u64>,
) -> BTreeMap<String, TablePlan> {
    let mut tables = BTreeMap::new();
    for name in order {
        let Some(t) = schema.table(name) else {
            continue;
        };
        let (mode, follow_children) = modes.get(name).cloned().unwrap_or((Mode::All, true));
        let rows = counts.get(name).copied().unwrap_or(0);
        tables.insert(
            name.clone(),
            TablePlan {
                table: name.clone(),
                identity: t.identity(),
                // Whole and empty tables have no core rows for children to follow.
                follow_children: follow_children && !matches!(mode, Mode::All | Mode::None),
                stats: TableSelection::planned(name, &mode, rows, root_share(modes, name, opts)),
                mode,
                keys: HashMap::new(),
                core: HashMap::new(),
            },
        );
    }
    tables
}

/// The share of the root a following table descends from (its chain of followed parents ends
/// at a sampled table), else the run's share.
fn root_share(modes: &BTreeMap<String, (Mode, bool)>, table: &str, opts: &PlanOptions) -> f64 {
    let mut at = table;
    for _ in 0..modes.len() {
        match modes.get(at).map(|(m, _)| m) {
            Some(Mode::Follow { parent, .. }) => at = parent,
            Some(Mode::Sample { fraction, .. }) => return *fraction,
            _ => break,
        }
    }
    opts.fraction
}

impl TablePlan {
    /// Kept rows and shares once every step has run.
    fn settle_selection(&mut self) {
        let selected = match (&self.mode, &self.identity) {
            (Mode::All, _) => self.stats.source_rows,
            (_, Some(id)) => self.keys.get(id).map_or(0, |k| k.len() as u64),
            _ => self.stats.sampled + self.stats.followed,
        };
        self.stats.settle(selected);
    }
}

impl SubsetPlan {
    /// The bias report, one entry per table in plan order.
    pub fn selections(&self) -> Vec<TableSelection> {
        self.order
            .iter()
            .filter_map(|n| self.tables.get(n).map(|t| t.stats.clone()))
            .collect()
    }
}
