//! The subset planner: which rows of every table a sampled sync keeps.
//!
//! 1. **Modes** from the foreign-key graph and data.toml: root tables are *sampled* (by a keyed
//!    hash of their key, so the same seed keeps the same rows), each other table *follows* one
//!    parent (its rows are kept when that parent row was sampled or followed: cluster sampling,
//!    so child tables keep their distributions), small referenced tables are copied *whole*.
//! 2. **Core rows** table by table, parents first; stratified sampling and the rare-value
//!    guarantee (at least one row per value of low-cardinality columns) act here.
//! 3. **Closure**: every kept row's parents are kept, whatever the edge (self-references,
//!    composite keys, cycles with or without nullable columns): parent keys still missing are
//!    looked up in batches until nothing is missing. Rows pulled in this way do not bring their
//!    children (that would snowball).
//!
//! Only key hashes are held in memory (16 bytes per kept row), never rows.

mod sample;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::row::Row;
use crate::rules::{RowsMode, Rules};
use crate::schema::{Kind, Schema, Table};
use crate::source::{FieldType, Scan, Source};
use crate::value::{Value, key_hash};

pub use sample::{below_fraction, unit_hash};

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

type KeySet = Arc<HashSet<u128>>;

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

/// A per-row test applied while copying.
#[derive(Debug, Clone)]
pub struct RowFilter {
    /// Keep everything (no test).
    pub all: bool,
    identity: Option<(Vec<usize>, KeySet)>,
    /// For tables without identity: sampling predicate.
    sample: Option<(f64, String, Vec<usize>, u64)>,
    follow: Option<(Vec<usize>, KeySet, f64, u64, String)>,
    none: bool,
    fks: Vec<(Vec<usize>, KeySet)>,
}

impl RowFilter {
    pub fn keep_all() -> Self {
        Self {
            all: true,
            identity: None,
            sample: None,
            follow: None,
            none: false,
            fks: vec![],
        }
    }

    /// Whether to keep `row` (fields in table column order, decoded with `types`).
    pub fn keep(&self, row: &Row, types: &[FieldType]) -> bool {
        if self.all {
            return true;
        }
        let vals = |idx: &[usize]| -> Vec<Value> {
            idx.iter().map(|&i| types[i].value(&row[i])).collect()
        };
        if self.none {
            return false;
        }
        if let Some((idx, set)) = &self.identity {
            let v = vals(idx);
            let r: Vec<&Value> = v.iter().collect();
            if !set.contains(&key_hash(&r)) {
                return false;
            }
        }
        if let Some((fraction, scope, idx, seed)) = &self.sample {
            let v = vals(idx);
            let r: Vec<&Value> = v.iter().collect();
            if !below_fraction(unit_hash(*seed, scope, &r), *fraction) {
                return false;
            }
        }
        if let Some((idx, set, fraction, seed, scope)) = &self.follow {
            let v = vals(idx);
            if v.iter().any(Value::is_null) {
                let all: Vec<Value> = (0..row.len()).map(|i| types[i].value(&row[i])).collect();
                let r: Vec<&Value> = all.iter().collect();
                return below_fraction(unit_hash(*seed, scope, &r), *fraction);
            }
            let r: Vec<&Value> = v.iter().collect();
            if !set.contains(&key_hash(&r)) {
                return false;
            }
        }
        for (idx, set) in &self.fks {
            let v = vals(idx);
            if v.iter().any(Value::is_null) {
                continue;
            }
            let r: Vec<&Value> = v.iter().collect();
            if !set.contains(&key_hash(&r)) {
                return false;
            }
        }
        true
    }
}

/// Decides each table's mode.
pub fn modes(
    schema: &Schema,
    rules: &Rules,
    opts: &PlanOptions,
    counts: &HashMap<String, u64>,
) -> Result<BTreeMap<String, (Mode, bool)>> {
    let mut out: BTreeMap<String, (Mode, bool)> = BTreeMap::new();
    let order = plan_order(schema);
    let mut depth: HashMap<String, usize> = HashMap::new();
    for name in &order {
        let Some(t) = schema.table(name) else {
            continue;
        };
        let r = rules.tables.get(name).cloned().unwrap_or_default();
        let follow_children = r.follow_children.unwrap_or(true);
        let referenced = schema.children_of(name).any(|(c, _)| c.name != *name);
        let explicit = r
            .rows
            .unwrap_or(if r.sample.is_some() || r.where_.is_some() {
                RowsMode::Sample
            } else {
                RowsMode::Auto
            });
        let sample_mode = || Mode::Sample {
            fraction: r.sample.unwrap_or(opts.fraction),
            where_: r.where_.clone(),
            hash_key: r.hash_key.clone(),
            stratify: r.stratify.clone(),
        };
        // Parents that can drive this table: placed earlier, sampled or followed.
        let placed_before =
            |p: &str| order.iter().position(|x| x == p) < order.iter().position(|x| x == name);
        let candidates: Vec<&crate::schema::ForeignKey> = t
            .foreign_keys
            .iter()
            .filter(|fk| fk.ref_table != *name && placed_before(&fk.ref_table))
            .filter(|fk| {
                matches!(
                    out.get(&fk.ref_table),
                    Some((Mode::Sample { .. } | Mode::Follow { .. }, true))
                )
            })
            .collect();
        let pick = |fks: &[&crate::schema::ForeignKey]| -> Option<crate::schema::ForeignKey> {
            if let Some(d) = &r.driven_by {
                return t.foreign_keys.iter().find(|fk| &fk.columns == d).cloned();
            }
            fks.iter()
                .max_by_key(|fk| {
                    (
                        !t.fk_nullable(fk),
                        depth.get(&fk.ref_table).copied().unwrap_or(0),
                        counts.get(&fk.ref_table).copied().unwrap_or(0),
                    )
                })
                .map(|fk| (*fk).clone())
        };
        let mode = match explicit {
            RowsMode::All => Mode::All,
            RowsMode::None => Mode::None,
            RowsMode::Sample => sample_mode(),
            RowsMode::Follow => match pick(&candidates) {
                Some(fk) => Mode::Follow {
                    parent: fk.ref_table.clone(),
                    columns: fk.columns.clone(),
                },
                None => {
                    return Err(DataError::Invalid(format!(
                        "table `{name}` has rows = \"follow\" but no sampled parent to follow; give it `driven_by` or sample it"
                    )));
                }
            },
            RowsMode::Auto => {
                if opts.fraction >= 1.0 {
                    Mode::All
                } else if let Some(fk) = pick(&candidates) {
                    Mode::Follow {
                        parent: fk.ref_table.clone(),
                        columns: fk.columns.clone(),
                    }
                } else if referenced
                    && counts.get(name).copied().unwrap_or(0) <= opts.lookup_max_rows
                {
                    Mode::All
                } else {
                    sample_mode()
                }
            }
        };
        if let Mode::Follow { parent, .. } = &mode {
            depth.insert(name.clone(), depth.get(parent).copied().unwrap_or(0) + 1);
        }
        out.insert(name.clone(), (mode, follow_children));
    }
    Ok(out)
}

/// Parents first; inside a cycle, the table the others depend on most comes first.
pub fn plan_order(schema: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for comp in schema.fk_components() {
        if comp.len() == 1 {
            out.extend(comp);
            continue;
        }
        let inside: HashSet<&String> = comp.iter().collect();
        let mut rest: Vec<String> = comp.clone();
        rest.sort();
        // Head: most non-nullable references from inside the cycle, then most from outside.
        let score = |n: &String| -> (usize, usize) {
            let mut into = 0;
            let mut outside = 0;
            for (c, fk) in schema.children_of(n) {
                if c.name == *n {
                    continue;
                }
                if inside.contains(&c.name) {
                    if !c.fk_nullable(fk) {
                        into += 1;
                    }
                } else {
                    outside += 1;
                }
            }
            (into, outside)
        };
        rest.sort_by(|a, b| score(b).cmp(&score(a)).then(a.cmp(b)));
        out.extend(rest);
    }
    out
}

struct RowInfo {
    id: Option<u128>,
    refs: Vec<(usize, u128)>,
    reqs: Vec<(usize, Vec<Value>)>,
}

/// Missing parents of one table: referenced columns → key hash → (values, requesting table).
type Pending = HashMap<Vec<String>, HashMap<u128, (Vec<Value>, String)>>;

struct Work<'a> {
    schema: &'a Schema,
    tables: BTreeMap<String, TablePlan>,
    /// parent → refcols → hash → (values, requesting table)
    pending: HashMap<String, Pending>,
}

impl Work<'_> {
    /// Keeps a row; returns false when it was kept already.
    fn add(&mut self, t: &Table, key_sets: &[Vec<String>], info: &RowInfo, core: bool) -> bool {
        let Some(plan) = self.tables.get_mut(&t.name) else {
            return false;
        };
        let mut new = true;
        if let (Some(id), Some(idc)) = (info.id, &plan.identity) {
            new = plan.keys.entry(idc.clone()).or_default().insert(id);
        }
        for (k, h) in &info.refs {
            plan.keys
                .entry(key_sets[*k].clone())
                .or_default()
                .insert(*h);
            if core && plan.follow_children {
                plan.core
                    .entry(key_sets[*k].clone())
                    .or_default()
                    .insert(*h);
            }
        }
        if !new {
            return false;
        }
        for (fi, vals) in &info.reqs {
            let fk = &t.foreign_keys[*fi];
            let Some(parent) = self.tables.get(&fk.ref_table) else {
                continue;
            };
            if parent.mode == Mode::All {
                continue;
            }
            let refs: Vec<&Value> = vals.iter().collect();
            let h = key_hash(&refs);
            if parent
                .keys
                .get(&fk.ref_columns)
                .is_some_and(|s| s.contains(&h))
            {
                continue;
            }
            self.pending
                .entry(fk.ref_table.clone())
                .or_default()
                .entry(fk.ref_columns.clone())
                .or_default()
                .entry(h)
                .or_insert_with(|| (vals.clone(), t.name.clone()));
        }
        true
    }
}

/// Columns the planner reads for `t`, and the key sets it records.
fn planner_columns(
    schema: &Schema,
    t: &Table,
    extra: &[String],
) -> (Vec<String>, Vec<Vec<String>>) {
    let mut cols: Vec<String> = Vec::new();
    let mut push = |c: &String| {
        if !cols.contains(c) {
            cols.push(c.clone());
        }
    };
    let mut key_sets: Vec<Vec<String>> = Vec::new();
    if let Some(id) = t.identity() {
        key_sets.push(id);
    }
    for k in schema.referenced_keys(&t.name) {
        if !key_sets.contains(&k) {
            key_sets.push(k);
        }
    }
    for k in &key_sets {
        k.iter().for_each(&mut push);
    }
    for fk in &t.foreign_keys {
        fk.columns.iter().for_each(&mut push);
    }
    extra.iter().for_each(&mut push);
    (cols, key_sets)
}

fn row_info(t: &Table, cols: &[String], key_sets: &[Vec<String>], vals: &[Value]) -> RowInfo {
    let idx = |c: &String| cols.iter().position(|x| x == c).unwrap_or(0);
    let pick = |set: &[String]| -> Vec<&Value> { set.iter().map(|c| &vals[idx(c)]).collect() };
    let identity = t.identity();
    let id = identity.as_ref().map(|s| key_hash(&pick(s)));
    let refs = key_sets
        .iter()
        .enumerate()
        .map(|(i, k)| (i, key_hash(&pick(k))))
        .collect();
    let reqs = t
        .foreign_keys
        .iter()
        .enumerate()
        .filter_map(|(i, fk)| {
            let v: Vec<Value> = fk.columns.iter().map(|c| vals[idx(c)].clone()).collect();
            (!v.iter().any(Value::is_null)).then_some((i, v))
        })
        .collect();
    RowInfo { id, refs, reqs }
}

fn rare_candidates(t: &Table, explicit: &[String]) -> Vec<String> {
    let mut out: Vec<String> = explicit.to_vec();
    for c in &t.columns {
        if out.len() >= 16 {
            break;
        }
        if t.is_key_column(&c.name)
            || t.is_unique_member(&c.name)
            || out.contains(&c.name)
            || c.generated.is_some()
        {
            continue;
        }
        if matches!(c.kind, Kind::Bool | Kind::Text | Kind::Int) {
            out.push(c.name.clone());
        }
    }
    out
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
    let mut work = Work {
        schema,
        tables: BTreeMap::new(),
        pending: HashMap::new(),
    };
    for name in &order {
        let Some(t) = schema.table(name) else {
            continue;
        };
        let (mode, follow_children) = modes.get(name).cloned().unwrap_or((Mode::All, true));
        let rows = counts.get(name).copied().unwrap_or(0);
        work.tables.insert(
            name.clone(),
            TablePlan {
                table: name.clone(),
                identity: t.identity(),
                follow_children: follow_children && !matches!(mode, Mode::All | Mode::None),
                stats: TableSelection {
                    table: name.clone(),
                    mode_json: serde_json::to_value(&mode).unwrap_or_default(),
                    source_rows: rows,
                    intended_fraction: match &mode {
                        Mode::All => 1.0,
                        Mode::None => 0.0,
                        Mode::Sample { fraction, .. } => *fraction,
                        Mode::Follow { .. } => opts.fraction,
                    },
                    ..Default::default()
                },
                mode,
                keys: HashMap::new(),
                core: HashMap::new(),
            },
        );
    }

    for name in &order {
        let Some(t) = schema.table(name) else {
            continue;
        };
        let mode = work.tables[name].mode.clone();
        let explicit_rare = rules
            .tables
            .get(name)
            .map(|r| r.keep_rare.clone())
            .unwrap_or_default();
        let needs_scan = match &mode {
            Mode::All => {
                // Keys (for children's checks) and requirements toward kept-subset parents.
                !schema.referenced_keys(name).is_empty()
                    || t.foreign_keys.iter().any(|fk| {
                        work.tables
                            .get(&fk.ref_table)
                            .is_some_and(|p| p.mode != Mode::All)
                    })
            }
            Mode::None => false,
            _ => true,
        };
        if !needs_scan {
            continue;
        }
        let sampling = matches!(mode, Mode::Sample { .. } | Mode::Follow { .. });
        let rare_cols = if sampling && t.identity().is_some() {
            rare_candidates(t, &explicit_rare)
        } else {
            vec![]
        };
        let (hash_key, stratify, where_, fraction) = match &mode {
            Mode::Sample {
                hash_key,
                stratify,
                where_,
                fraction,
            } => (
                hash_key.clone(),
                stratify.clone(),
                where_.clone(),
                *fraction,
            ),
            _ => (vec![], None, None, 1.0),
        };
        let mut extra = hash_key.clone();
        extra.extend(stratify.iter().cloned());
        extra.extend(rare_cols.iter().cloned());
        let (cols, key_sets) = planner_columns(schema, t, &extra);
        let scan = Scan {
            columns: cols.clone(),
            flag: where_.clone(),
            ..Default::default()
        };
        let (types, mut rx) = source.scan(t, &scan).await?;
        let idx = |c: &String| cols.iter().position(|x| x == c).unwrap_or(0);
        let hk_idx: Vec<usize> = if hash_key.is_empty() {
            t.identity().unwrap_or_default().iter().map(idx).collect()
        } else {
            hash_key.iter().map(idx).collect()
        };
        let scope = if hash_key.is_empty() {
            t.name.clone()
        } else {
            String::new()
        };
        let strat_idx = stratify.as_ref().map(idx);
        let rare_idx: Vec<usize> = rare_cols.iter().map(idx).collect();
        let mut rare = sample::RareTracker::new(rare_idx.len(), opts.rare_max_distinct);
        let mut strata = sample::Strata::default();
        let follow = match &mode {
            Mode::Follow { parent, columns } => {
                let fk = t.foreign_keys.iter().find(|f| &f.columns == columns);
                let set = fk.and_then(|fk| {
                    work.tables
                        .get(parent)
                        .and_then(|p| p.core.get(&fk.ref_columns))
                        .cloned()
                });
                Some((
                    columns.iter().map(idx).collect::<Vec<_>>(),
                    set.unwrap_or_default(),
                ))
            }
            _ => None,
        };
        while let Some(batch) = rx.recv().await {
            for row in batch? {
                let vals: Vec<Value> = row
                    .iter()
                    .enumerate()
                    .map(|(i, f)| types[i].value(f))
                    .collect();
                let info = row_info(t, &cols, &key_sets, &vals);
                let flag_ok = where_.is_none() || matches!(vals.last(), Some(Value::Bool(true)));
                let u = {
                    let r: Vec<&Value> = hk_idx.iter().map(|&i| &vals[i]).collect();
                    unit_hash(opts.seed, &scope, &r)
                };
                let selected = match &mode {
                    Mode::All => true,
                    Mode::Sample { .. } => {
                        if !flag_ok {
                            false
                        } else if let Some(si) = strat_idx {
                            strata.offer(
                                vals[si].to_text().unwrap_or_default(),
                                u,
                                info.id.unwrap_or(0),
                            );
                            false
                        } else {
                            below_fraction(u, fraction)
                        }
                    }
                    // Rows with no parent on the followed key are sampled like roots, so
                    // that they keep their share.
                    Mode::Follow { .. } => follow.as_ref().is_some_and(|(fi, set)| {
                        let v: Vec<&Value> = fi.iter().map(|&i| &vals[i]).collect();
                        if v.iter().any(|x| x.is_null()) {
                            below_fraction(u, opts.fraction)
                        } else {
                            set.contains(&key_hash(&v))
                        }
                    }),
                    Mode::None => false,
                };
                if !rare_idx.is_empty() && flag_ok {
                    let rv: Vec<Option<String>> =
                        rare_idx.iter().map(|&i| vals[i].to_text()).collect();
                    rare.offer(&rv, u, selected, &info.id);
                }
                if selected {
                    let core = !matches!(mode, Mode::All);
                    if work.add(t, &key_sets, &info, core) {
                        let s = &mut work
                            .tables
                            .get_mut(name)
                            .unwrap_or_else(|| unreachable!())
                            .stats;
                        match &mode {
                            Mode::Sample { .. } => s.sampled += 1,
                            Mode::Follow { .. } => s.followed += 1,
                            _ => {}
                        }
                    }
                }
            }
        }
        // Strata quotas and rare values name rows by identity; read them again to keep them.
        let strat_ids = if stratify.is_some() {
            strata.settle(fraction)
        } else {
            HashSet::new()
        };
        let rare_ids = rare.missing();
        let rare_names: Vec<String> = rare
            .kept_columns()
            .into_iter()
            .map(|i| rare_cols[i].clone())
            .collect();
        work.tables
            .get_mut(name)
            .unwrap_or_else(|| unreachable!())
            .stats
            .rare_columns = rare_names;
        if !strat_ids.is_empty() || !rare_ids.is_empty() {
            let (types, mut rx) = source
                .scan(
                    t,
                    &Scan {
                        columns: cols.clone(),
                        ..Default::default()
                    },
                )
                .await?;
            while let Some(batch) = rx.recv().await {
                for row in batch? {
                    let vals: Vec<Value> = row
                        .iter()
                        .enumerate()
                        .map(|(i, f)| types[i].value(f))
                        .collect();
                    let info = row_info(t, &cols, &key_sets, &vals);
                    let Some(id) = info.id else { continue };
                    let strat = strat_ids.contains(&id);
                    if (strat || rare_ids.contains(&id)) && work.add(t, &key_sets, &info, true) {
                        let s = &mut work
                            .tables
                            .get_mut(name)
                            .unwrap_or_else(|| unreachable!())
                            .stats;
                        if strat {
                            s.sampled += 1;
                        } else {
                            s.rare_values_added += 1;
                        }
                    }
                }
            }
        }
    }

    closure(source, &mut work).await?;

    for tp in work.tables.values_mut() {
        let s = &mut tp.stats;
        s.selected_rows = match (&tp.mode, &tp.identity) {
            (Mode::All, _) => s.source_rows,
            (_, Some(id)) => tp.keys.get(id).map_or(0, |k| k.len() as u64),
            _ => s.sampled + s.followed,
        };
        s.actual_fraction = if s.source_rows == 0 {
            0.0
        } else {
            s.selected_rows as f64 / s.source_rows as f64
        };
        s.oversampling =
            (s.intended_fraction > 0.0).then(|| s.actual_fraction / s.intended_fraction);
    }
    Ok(SubsetPlan {
        tables: work.tables,
        seed: opts.seed,
        order,
    })
}

async fn closure(source: &Source, work: &mut Work<'_>) -> Result<()> {
    const BATCH: usize = 500;
    let mut guard = 0u64;
    loop {
        let next = work
            .pending
            .iter()
            .find(|(_, m)| m.values().any(|x| !x.is_empty()))
            .map(|(k, _)| k.clone());
        let Some(parent) = next else { break };
        guard += 1;
        if guard > 1_000_000 {
            return Err(DataError::Invalid(
                "the foreign-key closure did not settle".into(),
            ));
        }
        let pending = work.pending.remove(&parent).unwrap_or_default();
        let schema = work.schema;
        let Some(t) = schema.table(&parent) else {
            continue;
        };
        let (cols, key_sets) = planner_columns(schema, t, &[]);
        for (refcols, wanted) in pending {
            let have = work.tables.get(&parent).and_then(|p| p.keys.get(&refcols));
            let wanted: Vec<(u128, (Vec<Value>, String))> = wanted
                .into_iter()
                .filter(|(h, _)| !have.is_some_and(|s| s.contains(h)))
                .collect();
            let types_of: Vec<String> = refcols
                .iter()
                .map(|c| t.column(c).map(|c| c.sql_type.clone()).unwrap_or_default())
                .collect();
            for chunk in wanted.chunks(BATCH) {
                let tuples: Vec<String> = chunk
                    .iter()
                    .map(|(_, (vals, _))| {
                        let lits: Vec<String> = vals
                            .iter()
                            .zip(&types_of)
                            .map(|(v, ty)| source.literal(v, ty))
                            .collect();
                        if lits.len() == 1 {
                            lits[0].clone()
                        } else {
                            format!("({})", lits.join(", "))
                        }
                    })
                    .collect();
                let lhs: Vec<String> = refcols.iter().map(|c| source.ident(c)).collect();
                let filter = if refcols.len() == 1 {
                    format!("{} IN ({})", lhs[0], tuples.join(", "))
                } else {
                    format!("({}) IN (VALUES {})", lhs.join(", "), tuples.join(", "))
                };
                let (types, mut rx) = source
                    .scan(
                        t,
                        &Scan {
                            columns: cols.clone(),
                            filter: Some(filter),
                            ..Default::default()
                        },
                    )
                    .await?;
                let mut found: HashSet<u128> = HashSet::new();
                let requester: HashMap<u128, &String> =
                    chunk.iter().map(|(h, (_, r))| (*h, r)).collect();
                while let Some(batch) = rx.recv().await {
                    for row in batch? {
                        let vals: Vec<Value> = row
                            .iter()
                            .enumerate()
                            .map(|(i, f)| types[i].value(f))
                            .collect();
                        let info = row_info(t, &cols, &key_sets, &vals);
                        let refv: Vec<&Value> = refcols
                            .iter()
                            .map(|c| &vals[cols.iter().position(|x| x == c).unwrap_or(0)])
                            .collect();
                        let h = key_hash(&refv);
                        found.insert(h);
                        if work.add(t, &key_sets, &info, false) {
                            let s = &mut work
                                .tables
                                .get_mut(&parent)
                                .unwrap_or_else(|| unreachable!())
                                .stats;
                            s.pulled_as_parents += 1;
                            if let Some(r) = requester.get(&h) {
                                *s.pulled_by.entry((*r).clone()).or_default() += 1;
                            }
                        } else if t.identity().is_none() {
                            // Keyless parents cannot be tracked; count them as kept by key set.
                            work.tables
                                .get_mut(&parent)
                                .unwrap_or_else(|| unreachable!())
                                .stats
                                .pulled_as_parents += 1;
                        }
                    }
                }
                let missing = chunk.iter().filter(|(h, _)| !found.contains(h)).count() as u64;
                work.tables
                    .get_mut(&parent)
                    .unwrap_or_else(|| unreachable!())
                    .stats
                    .source_orphans += missing;
            }
        }
    }
    Ok(())
}

impl SubsetPlan {
    /// The copy-time filter of `table`, for rows read in the table's column order (`columns`).
    pub fn filter(&self, schema: &Schema, table: &str, columns: &[String]) -> RowFilter {
        let Some(tp) = self.tables.get(table) else {
            return RowFilter::keep_all();
        };
        let Some(t) = schema.table(table) else {
            return RowFilter::keep_all();
        };
        let idx = |cs: &[String]| -> Vec<usize> {
            cs.iter()
                .map(|c| columns.iter().position(|x| x == c).unwrap_or(0))
                .collect()
        };
        let mut f = RowFilter {
            all: false,
            identity: None,
            sample: None,
            follow: None,
            none: false,
            fks: vec![],
        };
        for fk in &t.foreign_keys {
            let Some(p) = self.tables.get(&fk.ref_table) else {
                continue;
            };
            if p.mode == Mode::All {
                continue;
            }
            if let Some(set) = p.keys.get(&fk.ref_columns) {
                f.fks.push((idx(&fk.columns), Arc::new(set.clone())));
            } else {
                f.fks.push((idx(&fk.columns), Arc::new(HashSet::new())));
            }
        }
        match (&tp.mode, &tp.identity) {
            (Mode::All, _) => {}
            (_, Some(id)) => {
                let set = tp.keys.get(id).cloned().unwrap_or_default();
                f.identity = Some((idx(id), Arc::new(set)));
            }
            (Mode::None, None) => f.none = true,
            (
                Mode::Sample {
                    fraction, hash_key, ..
                },
                None,
            ) => {
                let cols: Vec<String> = if hash_key.is_empty() {
                    columns.to_vec()
                } else {
                    hash_key.clone()
                };
                let scope = if hash_key.is_empty() {
                    table.to_owned()
                } else {
                    String::new()
                };
                f.sample = Some((*fraction, scope, idx(&cols), self.seed));
            }
            (
                Mode::Follow {
                    parent,
                    columns: fc,
                },
                None,
            ) => {
                let fk = t.foreign_keys.iter().find(|x| &x.columns == fc);
                let set = fk
                    .and_then(|fk| {
                        self.tables
                            .get(parent)
                            .and_then(|p| p.core.get(&fk.ref_columns))
                            .cloned()
                    })
                    .unwrap_or_default();
                let fraction = tp.stats.intended_fraction;
                f.follow = Some((
                    idx(fc),
                    Arc::new(set),
                    fraction,
                    self.seed,
                    table.to_owned(),
                ));
            }
        }
        f.all = f.identity.is_none()
            && f.sample.is_none()
            && f.follow.is_none()
            && !f.none
            && f.fks.is_empty();
        f
    }

    /// The bias report, one entry per table in plan order.
    pub fn selections(&self) -> Vec<TableSelection> {
        self.order
            .iter()
            .filter_map(|n| self.tables.get(n).map(|t| t.stats.clone()))
            .collect()
    }
}
