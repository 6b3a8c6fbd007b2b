//! The foreign-key values of a generated table's rows. The main foreign key (part of the
//! primary key, else the first non-nullable one) is dealt parent by parent: each parent gets
//! its drawn number of children, in order, leaving the profiled share of rows without a parent;
//! when production's rows do not follow that key (its profiled correlation), the dealt rows are
//! then laid out as production's (`scatter.rs`).
//! Every other foreign key picks a weighted random parent per row, or, for a self-reference,
//! an earlier row; each leaves its profiled share of nulls. Input: the parents' keys so far;
//! output: values written into each row.

use std::collections::HashMap;

use super::fan::{cumulative_weights, fan_counts, pick_weighted};
use super::keys::{KeyMap, Keys};
use super::scatter::{self, Layout, SeqIdentity};
use crate::profile::{FanOut, Profile, TableProfile};
use crate::schema::{ForeignKey, Table};
use crate::value::Value;

/// The main foreign key, dealt out parent by parent.
pub(super) struct MainParent {
    keys: Keys,
    /// Scan positions of the key's columns.
    columns: Vec<usize>,
    /// Children per parent.
    children: Vec<u64>,
    /// Rows that get a parent (the rest keep a null key).
    with_parent: u64,
    cursor: usize,
    left_in_parent: u64,
    /// The rows laid out as production's, when its order is not the parents' order.
    scattered: Option<Scattered>,
}

/// The main key's rows in production's order: each row's parent, and the children each parent
/// has had so far (a composite key's counter).
struct Scattered {
    parent_of: Vec<u64>,
    seen: Vec<i64>,
}

/// A row of `parent_of` left without a parent.
const NO_PARENT: u64 = u64::MAX;

/// Another foreign key: a weighted random parent per row.
pub(super) struct OtherParent {
    columns: Vec<usize>,
    /// `None` for a self-reference, or a parent whose keys are not known.
    keys: Option<Keys>,
    weights: Vec<f64>,
    self_ref: bool,
    null_rate: f64,
}

/// Where a table's foreign-key values come from.
pub(super) struct Parents {
    pub main: Option<MainParent>,
    pub others: Vec<OtherParent>,
    /// Scan positions of every foreign-key column (no value generator fills them).
    pub fk_columns: Vec<usize>,
}

/// What `Parents::plan` reads: the table, its profile, the parents' keys and row counts.
pub(super) struct ParentsInput<'a> {
    pub profile: &'a Profile,
    pub t: &'a Table,
    pub cols: &'a [String],
    /// Rows to generate.
    pub n: u64,
    pub counts: &'a HashMap<String, u64>,
    pub have: &'a KeyMap,
    /// The run's seed (the layout's own stream derives from it).
    pub seed: u64,
}

impl ParentsInput<'_> {
    fn positions(&self, names: &[String]) -> Vec<usize> {
        names
            .iter()
            .filter_map(|c| self.cols.iter().position(|x| x == c))
            .collect()
    }

    fn fan_of(&self, fk: &ForeignKey) -> Option<&FanOut> {
        self.profile
            .fan_out
            .iter()
            .find(|f| f.child == self.t.name && f.columns == fk.columns)
    }

    fn keys_of(&self, fk: &ForeignKey) -> Option<&Keys> {
        self.have
            .get(&(fk.ref_table.clone(), fk.ref_columns.clone()))
    }

    fn parent_count(&self, keys: &Keys, fk: &ForeignKey) -> u64 {
        keys.count(self.counts.get(&fk.ref_table).copied().unwrap_or(0))
    }
}

impl Parents {
    /// Deals the main foreign key's children and weighs the others' parents (drawing from
    /// `rng` in that order, so a seed gives the same data).
    pub fn plan(input: &ParentsInput<'_>, rng: &mut fastrand::Rng) -> Self {
        let t = input.t;
        let main_fk = main_foreign_key(t);
        let main = main_fk.and_then(|fk| MainParent::plan(input, fk, rng));
        let mut others = Vec::new();
        for fk in &t.foreign_keys {
            if main.is_some() && main_fk.is_some_and(|m| std::ptr::eq(m, fk)) {
                continue;
            }
            others.push(OtherParent::plan(input, fk, rng));
        }
        let fk_columns = t
            .foreign_keys
            .iter()
            .flat_map(|fk| input.positions(&fk.columns))
            .collect();
        Parents {
            main,
            others,
            fk_columns,
        }
    }
}

/// Part of the primary key first, then non-nullable; the last of equals.
fn main_foreign_key(t: &Table) -> Option<&ForeignKey> {
    t.foreign_keys
        .iter()
        .filter(|fk| fk.ref_table != t.name)
        .max_by_key(|fk| {
            (
                t.primary_key
                    .as_ref()
                    .is_some_and(|pk| fk.columns.iter().all(|c| pk.columns.contains(c))),
                !t.fk_nullable(fk),
            )
        })
}

impl MainParent {
    /// `None` when the parent's keys are not known (yet).
    fn plan(input: &ParentsInput<'_>, fk: &ForeignKey, rng: &mut fastrand::Rng) -> Option<Self> {
        let keys = input.keys_of(fk)?;
        let parents = input.parent_count(keys, fk);
        let fan = input.fan_of(fk);
        let null_share = fan.map_or(0.0, |f| {
            let total = input.profile.table(&input.t.name).map_or(0, |x| x.rows);
            if total == 0 {
                0.0
            } else {
                f.null_children as f64 / total as f64
            }
        });
        let with_parent = ((input.n as f64) * (1.0 - null_share)).round() as u64;
        let children = fan_counts(fan, parents, with_parent, rng);
        let layout = fk
            .columns
            .first()
            .and_then(|c| Layout::of(scatter::correlation(input.profile, &input.t.name, c)));
        let scattered = layout.map(|l| {
            let mut layout_rng = scatter::rng(input.seed, &input.t.name, &fk.columns.join(","));
            Scattered::new(&children, input.n, l, &mut layout_rng)
        });
        Some(MainParent {
            keys: keys.clone(),
            columns: input.positions(&fk.columns),
            left_in_parent: children.first().copied().unwrap_or(0),
            with_parent: children.iter().sum(),
            children,
            cursor: 0,
            scattered,
        })
    }

    /// Writes row `i`'s parent key; `in_group` restarts when the row starts a new parent (laid
    /// out as production's, it continues that parent's count).
    pub fn fill(&mut self, i: u64, row: &mut [Value], in_group: &mut i64) {
        if let Some(s) = &mut self.scattered {
            let p = s.parent_of.get(i as usize).copied().unwrap_or(NO_PARENT);
            let Some(seen) = s.seen.get_mut(p as usize) else {
                return;
            };
            *in_group = *seen;
            *seen += 1;
            for (j, v) in self.columns.iter().zip(self.keys.values(p)) {
                row[*j] = v;
            }
            return;
        }
        if i >= self.with_parent {
            return;
        }
        while self.left_in_parent == 0 && self.cursor + 1 < self.children.len() {
            self.cursor += 1;
            self.left_in_parent = self.children[self.cursor];
            *in_group = 0;
        }
        self.left_in_parent = self.left_in_parent.saturating_sub(1);
        for (j, v) in self
            .columns
            .iter()
            .zip(self.keys.values(self.cursor as u64))
        {
            row[*j] = v;
        }
    }
}

impl Scattered {
    /// The dealt rows (each parent's children, then the rows without one, `n` in all) laid out
    /// by `layout`.
    fn new(children: &[u64], n: u64, layout: Layout, rng: &mut fastrand::Rng) -> Self {
        let mut parent_of: Vec<u64> = children
            .iter()
            .enumerate()
            .flat_map(|(p, k)| std::iter::repeat_n(p as u64, *k as usize))
            .take(n as usize)
            .collect();
        parent_of.resize(n as usize, NO_PARENT);
        layout.apply(&mut parent_of, rng);
        Scattered {
            parent_of,
            seen: vec![0; children.len()],
        }
    }
}

impl OtherParent {
    fn plan(input: &ParentsInput<'_>, fk: &ForeignKey, rng: &mut fastrand::Rng) -> Self {
        let columns = input.positions(&fk.columns);
        let null_rate = null_rate(input.profile.table(&input.t.name), fk);
        if fk.ref_table == input.t.name {
            return OtherParent {
                columns,
                keys: None,
                weights: vec![],
                self_ref: true,
                null_rate,
            };
        }
        let keys = input.keys_of(fk).cloned();
        let parents = keys.as_ref().map_or(0, |k| input.parent_count(k, fk));
        OtherParent {
            columns,
            weights: cumulative_weights(input.fan_of(fk), parents, rng),
            keys,
            self_ref: false,
            null_rate,
        }
    }

    /// Writes row `i`'s parent key, unless it stays null. A self-reference points to an
    /// earlier row, so it needs the sequential identity `seq`.
    pub fn fill(
        &self,
        i: u64,
        row: &mut [Value],
        seq: Option<&SeqIdentity>,
        rng: &mut fastrand::Rng,
    ) {
        if self.null_rate > 0.0 && rng.f64() < self.null_rate {
            return;
        }
        let vals = if self.self_ref {
            let Some(seq) = seq else {
                return;
            };
            let j = if i == 0 { 0 } else { rng.u64(..i) };
            vec![Value::Int(seq.key(j))]
        } else if let Some(keys) = &self.keys {
            let Some(p) = pick_weighted(&self.weights, rng) else {
                return;
            };
            keys.values(p)
        } else {
            return;
        };
        for (j, v) in self.columns.iter().zip(vals) {
            row[*j] = v;
        }
    }
}

/// The profiled null share of the key's first column.
fn null_rate(profile: Option<&TableProfile>, fk: &ForeignKey) -> f64 {
    profile
        .and_then(|p| {
            let first = fk.columns.first()?;
            p.columns.iter().find(|c| &c.name == first)
        })
        .map_or(0.0, |c| c.null_fraction)
}
