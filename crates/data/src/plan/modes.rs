//! Step 1 of the planner: each table's [`Mode`], decided in parents-first order from data.toml
//! (`rows`, `sample`, `where`, `driven_by`) and, for `auto`, the foreign-key graph: a table
//! with a sampled or followed parent follows one (so a sampled order brings all its lines), a
//! *lookup* is copied whole, anything else is a root and sampled. Input: schema, rules,
//! options and table sizes; output: mode and `follow_children` per table.
//!
//! A lookup is a small table (at most `lookup_max_rows`) that other tables reference and that
//! references no other table itself (self-references aside): categories, genres, shippers,
//! countries. A table with foreign keys of its own (orders → customers) is a transaction or
//! part of one, however small: copying it whole while its children are sampled would leave
//! most of its rows without children, so it is sampled (or follows a sampled parent) instead.
//! Peers name the same split: Tonic's subsetter and condenser copy user-listed "lookup" /
//! "passthrough" tables whole and subset the rest from target tables; this rule picks the
//! lookups when no rule does, and `rows = "all"` still makes any table one.

use std::collections::{BTreeMap, HashMap};

use super::{Mode, PlanOptions, plan_order};
use crate::error::{DataError, Result};
use crate::rules::{RowsMode, Rules, TableRules};
use crate::schema::{ForeignKey, Schema, Table};

/// Decides each table's mode.
pub fn modes(
    schema: &Schema,
    rules: &Rules,
    opts: &PlanOptions,
    counts: &HashMap<String, u64>,
) -> Result<BTreeMap<String, (Mode, bool)>> {
    let order = plan_order(schema);
    let mut chooser = ModeChooser {
        schema,
        opts,
        counts,
        order: &order,
        decided: BTreeMap::new(),
        depth: HashMap::new(),
    };
    for name in &order {
        let Some(t) = schema.table(name) else {
            continue;
        };
        let r = rules.tables.get(name).cloned().unwrap_or_default();
        let mode = chooser.mode_of(t, &r)?;
        chooser.decide(name, mode, r.follow_children.unwrap_or(true));
    }
    Ok(chooser.decided)
}

/// The modes decided so far, which the next tables' choices depend on.
struct ModeChooser<'a> {
    schema: &'a Schema,
    opts: &'a PlanOptions,
    counts: &'a HashMap<String, u64>,
    order: &'a [String],
    decided: BTreeMap<String, (Mode, bool)>,
    /// Length of each following table's chain of followed parents.
    depth: HashMap<String, usize>,
}

impl ModeChooser<'_> {
    fn decide(&mut self, name: &str, mode: Mode, follow_children: bool) {
        if let Mode::Follow { parent, .. } = &mode {
            let depth = self.depth.get(parent).copied().unwrap_or(0) + 1;
            self.depth.insert(name.to_owned(), depth);
        }
        self.decided
            .insert(name.to_owned(), (mode, follow_children));
    }

    fn mode_of(&self, t: &Table, r: &TableRules) -> Result<Mode> {
        Ok(match requested_rows(r) {
            RowsMode::All => Mode::All,
            RowsMode::None => Mode::None,
            RowsMode::Sample => sample_mode(r, self.opts),
            RowsMode::Follow => match self.driving_key(t, r) {
                Some(fk) => follow(&fk),
                None => {
                    return Err(DataError::Invalid(format!(
                        "table `{}` has rows = \"follow\" but no sampled parent to follow; give it `driven_by` or sample it",
                        t.name
                    )));
                }
            },
            RowsMode::Auto => self.automatic_mode(t, r),
        })
    }

    /// `auto`: follow a driving parent when one is sampled or followed (also at a fraction of
    /// 1, where only a table's own `sample` rule samples), else whole at a fraction of 1 or
    /// when a lookup, else sampled as a root.
    fn automatic_mode(&self, t: &Table, r: &TableRules) -> Mode {
        let driving = self.driving_key(t, r).filter(|fk| self.can_drive(t, fk));
        if let Some(fk) = driving {
            follow(&fk)
        } else if self.opts.fraction >= 1.0 || self.is_lookup(t) {
            Mode::All
        } else {
            sample_mode(r, self.opts)
        }
    }

    /// A lookup: small, referenced by another table, and referencing none (see the module doc).
    fn is_lookup(&self, t: &Table) -> bool {
        let referenced = self
            .schema
            .children_of(&t.name)
            .any(|(c, _)| c.name != t.name);
        let pure_parent = t.foreign_keys.iter().all(|fk| fk.ref_table == t.name);
        referenced && pure_parent && self.rows(&t.name) <= self.opts.lookup_max_rows
    }

    /// The foreign key a following table follows: `driven_by` when given, else the best
    /// candidate: non-nullable first, then the deepest parent, then the parent fewest tables
    /// reference (an invoice owns its lines; a track, referenced by invoice lines and
    /// playlists alike, does not), then the largest.
    fn driving_key(&self, t: &Table, r: &TableRules) -> Option<ForeignKey> {
        if let Some(d) = &r.driven_by {
            return t.foreign_keys.iter().find(|fk| &fk.columns == d).cloned();
        }
        self.candidates(t)
            .max_by_key(|fk| {
                (
                    !t.fk_nullable(fk),
                    self.depth.get(&fk.ref_table).copied().unwrap_or(0),
                    std::cmp::Reverse(self.referencing_tables(&fk.ref_table)),
                    self.rows(&fk.ref_table),
                )
            })
            .cloned()
    }

    /// How many other tables reference `table`.
    fn referencing_tables(&self, table: &str) -> usize {
        let mut names: Vec<&str> = self
            .schema
            .children_of(table)
            .filter(|(c, _)| c.name != table)
            .map(|(c, _)| c.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    }

    /// Parents that can drive `t`: placed earlier, sampled or followed, and not closed to
    /// followers by `follow_children = false`.
    fn candidates<'t>(&self, t: &'t Table) -> impl Iterator<Item = &'t ForeignKey> {
        t.foreign_keys
            .iter()
            .filter(move |fk| self.can_drive(t, fk))
    }

    fn can_drive(&self, t: &Table, fk: &ForeignKey) -> bool {
        fk.ref_table != t.name
            && self.placed_before(&fk.ref_table, &t.name)
            && matches!(
                self.decided.get(&fk.ref_table),
                Some((Mode::Sample { .. } | Mode::Follow { .. }, true))
            )
    }

    fn placed_before(&self, parent: &str, table: &str) -> bool {
        let at = |name: &str| self.order.iter().position(|x| x == name);
        at(parent) < at(table)
    }

    fn rows(&self, table: &str) -> u64 {
        self.counts.get(table).copied().unwrap_or(0)
    }
}

/// `rows` as written, else `sample` when a share or a `where` is given, else `auto`.
fn requested_rows(r: &TableRules) -> RowsMode {
    r.rows
        .unwrap_or(if r.sample.is_some() || r.where_.is_some() {
            RowsMode::Sample
        } else {
            RowsMode::Auto
        })
}

fn sample_mode(r: &TableRules, opts: &PlanOptions) -> Mode {
    Mode::Sample {
        fraction: r.sample.unwrap_or(opts.fraction),
        where_: r.where_.clone(),
        hash_key: r.hash_key.clone(),
        stratify: r.stratify.clone(),
    }
}

fn follow(fk: &ForeignKey) -> Mode {
    Mode::Follow {
        parent: fk.ref_table.clone(),
        columns: fk.columns.clone(),
    }
}
