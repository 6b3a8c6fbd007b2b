//! Step 2 of the planner, for one table: its core rows. A first read of the planner's columns
//! keeps whole tables' rows, samples rows by their keyed hash (or offers them to strata), keeps
//! the rows whose followed parent is a core row, and watches low-cardinality columns for rare
//! values. Strata quotas and rare values name rows by identity only once the table has been
//! read, so a second read keeps those. Input: the table, its mode and the parents' kept keys in
//! [`Kept`]; output: the table's kept keys and counts in [`Kept`].

use std::collections::HashSet;

use super::kept::Kept;
use super::row_keys::{PlannerColumns, RowKeys, decode};
use super::sample::{RareTracker, Strata, below_fraction, unit_hash};
use super::{Mode, PlanOptions};
use crate::error::Result;
use crate::schema::{Kind, Table};
use crate::source::{Scan, Source};
use crate::value::{Value, key_hash};

/// At most this many columns get the rare-value guarantee per table.
const MAX_RARE_COLUMNS: usize = 16;

/// Keeps the core rows of `t` (`keep_rare`: columns data.toml asks the guarantee for).
pub(super) async fn keep_core_rows(
    source: &Source,
    kept: &mut Kept<'_>,
    t: &Table,
    keep_rare: &[String],
    opts: &PlanOptions,
) -> Result<()> {
    let Some(mode) = kept.tables.get(&t.name).map(|p| p.mode.clone()) else {
        return Ok(());
    };
    if !needs_scan(kept, t, &mode) {
        return Ok(());
    }
    let scan = CoreScan::new(kept, t, mode, keep_rare, opts);
    let mut offers = scan.first_read(source, kept).await?;
    let strata_ids = if scan.stratified {
        offers.strata.settle(scan.fraction)
    } else {
        HashSet::new()
    };
    let rare_ids = offers.rare.missing();
    let rare_columns: Vec<String> = offers
        .rare
        .kept_columns()
        .into_iter()
        .filter_map(|i| scan.rare_columns.get(i).cloned())
        .collect();
    if let Some(s) = kept.selection_mut(&t.name) {
        s.rare_columns = rare_columns;
    }
    if !strata_ids.is_empty() || !rare_ids.is_empty() {
        scan.second_read(source, kept, &strata_ids, &rare_ids)
            .await?;
    }
    Ok(())
}

/// Whether `t` must be read: a whole table only for its keys (children check them) or for its
/// rows' requirements toward parents kept as a subset; a `none` table never.
fn needs_scan(kept: &Kept<'_>, t: &Table, mode: &Mode) -> bool {
    match mode {
        Mode::All => {
            !kept.schema.referenced_keys(&t.name).is_empty()
                || t.foreign_keys.iter().any(|fk| {
                    kept.tables
                        .get(&fk.ref_table)
                        .is_some_and(|p| p.mode != Mode::All)
                })
        }
        Mode::None => false,
        _ => true,
    }
}

/// The columns a sampled or following table gets the rare-value guarantee on: data.toml's,
/// then (up to [`MAX_RARE_COLUMNS`]) every boolean, text or integer column that is no key.
fn rare_candidates(t: &Table, explicit: &[String]) -> Vec<String> {
    let mut out: Vec<String> = explicit.to_vec();
    for c in &t.columns {
        if out.len() >= MAX_RARE_COLUMNS {
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

/// The parent a following table follows: where its key sits in the scan, and the parent's
/// core rows on the referenced key.
struct FollowedParent {
    columns: Vec<usize>,
    core_keys: HashSet<u128>,
}

/// What the first read leaves for the settling: strata and rare-value candidates.
struct Offers {
    strata: Strata,
    rare: RareTracker,
}

/// How one table is read and its rows chosen.
struct CoreScan<'t> {
    t: &'t Table,
    mode: Mode,
    columns: PlannerColumns,
    /// The sample's `where`, read as the scan's last field.
    where_: Option<String>,
    /// The sample's share (1 when not sampling).
    fraction: f64,
    stratified: bool,
    /// Scan positions of the columns hashed for sampling (`hash_key`, else the identity).
    hash_columns: Vec<usize>,
    /// The hash's scope: the table, or nothing when sampling by a shared `hash_key`.
    scope: String,
    stratum_column: Option<usize>,
    rare_columns: Vec<String>,
    rare_positions: Vec<usize>,
    follow: Option<FollowedParent>,
    seed: u64,
    root_fraction: f64,
    rare_max_distinct: usize,
}

impl<'t> CoreScan<'t> {
    fn new(
        kept: &Kept<'_>,
        t: &'t Table,
        mode: Mode,
        keep_rare: &[String],
        opts: &PlanOptions,
    ) -> Self {
        let sampling = matches!(mode, Mode::Sample { .. } | Mode::Follow { .. });
        let rare_columns = if sampling && t.identity().is_some() {
            rare_candidates(t, keep_rare)
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
        extra.extend(rare_columns.iter().cloned());
        let columns = PlannerColumns::of(kept.schema, t, &extra);
        let positions =
            |cs: &[String]| -> Vec<usize> { cs.iter().map(|c| columns.index(c)).collect() };
        let (hash_columns, scope) = if hash_key.is_empty() {
            (positions(&t.identity().unwrap_or_default()), t.name.clone())
        } else {
            (positions(&hash_key), String::new())
        };
        CoreScan {
            t,
            stratum_column: stratify.as_ref().map(|c| columns.index(c)),
            rare_positions: positions(&rare_columns),
            follow: followed_parent(kept, t, &mode, &columns),
            mode,
            where_,
            fraction,
            stratified: stratify.is_some(),
            hash_columns,
            scope,
            rare_columns,
            seed: opts.seed,
            root_fraction: opts.fraction,
            rare_max_distinct: opts.rare_max_distinct,
            columns,
        }
    }

    /// Reads the table once, keeping every row chosen directly.
    async fn first_read(&self, source: &Source, kept: &mut Kept<'_>) -> Result<Offers> {
        let scan = Scan {
            columns: self.columns.cols.clone(),
            flag: self.where_.clone(),
            ..Default::default()
        };
        let (types, mut rx) = source.scan(self.t, &scan).await?;
        let mut offers = Offers {
            strata: Strata::default(),
            rare: RareTracker::new(self.rare_positions.len(), self.rare_max_distinct),
        };
        while let Some(batch) = rx.recv().await {
            for row in batch? {
                self.offer(&decode(&types, &row), kept, &mut offers);
            }
        }
        Ok(offers)
    }

    /// One row of the first read: chosen (and kept), offered to strata, watched for rare values.
    fn offer(&self, vals: &[Value], kept: &mut Kept<'_>, offers: &mut Offers) {
        let keys = self.columns.row_keys(self.t, vals);
        // Rows outside a sample's `where` are neither kept nor count toward rare values.
        let in_where = self.where_.is_none() || matches!(vals.last(), Some(Value::Bool(true)));
        let u = {
            let hashed: Vec<&Value> = self.hash_columns.iter().map(|&i| &vals[i]).collect();
            unit_hash(self.seed, &self.scope, &hashed)
        };
        let selected = self.chosen(vals, &keys, u, in_where, &mut offers.strata);
        if !self.rare_positions.is_empty() && in_where {
            let values: Vec<Option<String>> = self
                .rare_positions
                .iter()
                .map(|&i| vals[i].to_text())
                .collect();
            offers.rare.offer(&values, u, selected, &keys.id);
        }
        if !selected {
            return;
        }
        let core = !matches!(self.mode, Mode::All);
        if let Some(s) = kept.add(self.t, &self.columns.key_sets, &keys, core) {
            match &self.mode {
                Mode::Sample { .. } => s.sampled += 1,
                Mode::Follow { .. } => s.followed += 1,
                _ => {}
            }
        }
    }

    /// Whether the first read keeps this row (a stratified sample decides later).
    fn chosen(
        &self,
        vals: &[Value],
        keys: &RowKeys,
        u: u64,
        in_where: bool,
        strata: &mut Strata,
    ) -> bool {
        match &self.mode {
            Mode::All => true,
            Mode::Sample { .. } => {
                if !in_where {
                    false
                } else if let Some(si) = self.stratum_column {
                    strata.offer(
                        vals[si].to_text().unwrap_or_default(),
                        u,
                        keys.id.unwrap_or(0),
                    );
                    false
                } else {
                    below_fraction(u, self.fraction)
                }
            }
            // Rows with no parent on the followed key are sampled like roots, so that they
            // keep their share.
            Mode::Follow { .. } => self.follow.as_ref().is_some_and(|f| {
                let v: Vec<&Value> = f.columns.iter().map(|&i| &vals[i]).collect();
                if v.iter().any(|x| x.is_null()) {
                    below_fraction(u, self.root_fraction)
                } else {
                    f.core_keys.contains(&key_hash(&v))
                }
            }),
            Mode::None => false,
        }
    }

    /// Reads the table again to keep the rows strata quotas and rare values named.
    async fn second_read(
        &self,
        source: &Source,
        kept: &mut Kept<'_>,
        strata_ids: &HashSet<u128>,
        rare_ids: &HashSet<u128>,
    ) -> Result<()> {
        let scan = Scan {
            columns: self.columns.cols.clone(),
            ..Default::default()
        };
        let (types, mut rx) = source.scan(self.t, &scan).await?;
        while let Some(batch) = rx.recv().await {
            for row in batch? {
                let keys = self.columns.row_keys(self.t, &decode(&types, &row));
                let Some(id) = keys.id else { continue };
                let in_stratum = strata_ids.contains(&id);
                if !in_stratum && !rare_ids.contains(&id) {
                    continue;
                }
                if let Some(s) = kept.add(self.t, &self.columns.key_sets, &keys, true) {
                    if in_stratum {
                        s.sampled += 1;
                    } else {
                        s.rare_values_added += 1;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The followed parent of a following table, with the parent's core keys as planned so far
/// (parents are planned first).
fn followed_parent(
    kept: &Kept<'_>,
    t: &Table,
    mode: &Mode,
    columns: &PlannerColumns,
) -> Option<FollowedParent> {
    let Mode::Follow {
        parent,
        columns: fk_columns,
    } = mode
    else {
        return None;
    };
    let fk = t.foreign_keys.iter().find(|f| &f.columns == fk_columns);
    let core_keys = fk
        .and_then(|fk| {
            kept.tables
                .get(parent)
                .and_then(|p| p.core.get(&fk.ref_columns))
                .cloned()
        })
        .unwrap_or_default();
    Some(FollowedParent {
        columns: fk_columns.iter().map(|c| columns.index(c)).collect(),
        core_keys,
    })
}
