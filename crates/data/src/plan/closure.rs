//! Step 3 of the planner: the parent closure. Every kept row's parents must be kept too, so
//! parent keys still missing are looked up in the source, in batches of [`BATCH`] keys per
//! query (`key IN (…)`, or `(a, b) IN (VALUES …)` for composite keys), and kept; a parent so
//! kept may miss parents of its own, so this runs until nothing is missing. Rows pulled in this
//! way do not bring their children (that would snowball). Keys with no row in the source are
//! counted as the source's own orphans.

use std::collections::{HashMap, HashSet};

use super::kept::{Kept, Pending};
use super::row_keys::{PlannerColumns, decode};
use crate::error::{DataError, Result};
use crate::schema::Table;
use crate::source::{Scan, Source};
use crate::value::{Value, key_hash};

/// Parent keys looked up per query.
const BATCH: usize = 500;
/// A closure still missing parents after this many rounds is taken to be looping.
const MAX_ROUNDS: u64 = 1_000_000;

/// A missing parent key: its hash, then its values and the table whose row needs it.
type Wanted = (u128, (Vec<Value>, String));

/// Keeps the parents of every kept row, until none is missing.
pub(super) async fn keep_parents(source: &Source, kept: &mut Kept<'_>) -> Result<()> {
    let mut rounds = 0u64;
    while let Some((parent, pending)) = kept.next_missing() {
        rounds += 1;
        if rounds > MAX_ROUNDS {
            return Err(DataError::Invalid(
                "the foreign-key closure did not settle".into(),
            ));
        }
        let schema = kept.schema;
        let Some(t) = schema.table(&parent) else {
            continue;
        };
        keep_missing_rows(source, kept, t, pending).await?;
    }
    Ok(())
}

/// Looks up and keeps the missing rows of parent table `t`, key set by key set.
async fn keep_missing_rows(
    source: &Source,
    kept: &mut Kept<'_>,
    t: &Table,
    pending: Pending,
) -> Result<()> {
    let columns = PlannerColumns::of(kept.schema, t, &[]);
    for (key, wanted) in pending {
        let lookup = ParentLookup::new(t, &columns, &key);
        let wanted = lookup.not_kept_yet(kept, wanted);
        for chunk in wanted.chunks(BATCH) {
            lookup.fetch(source, kept, chunk).await?;
        }
    }
    Ok(())
}

/// Lookups of one parent table's rows by one of its keys.
struct ParentLookup<'a> {
    t: &'a Table,
    columns: &'a PlannerColumns,
    /// The referenced key's columns.
    key: &'a [String],
    /// Their SQL types, for literals.
    key_types: Vec<String>,
}

impl<'a> ParentLookup<'a> {
    fn new(t: &'a Table, columns: &'a PlannerColumns, key: &'a [String]) -> Self {
        let key_types = key
            .iter()
            .map(|c| t.column(c).map(|c| c.sql_type.clone()).unwrap_or_default())
            .collect();
        ParentLookup {
            t,
            columns,
            key,
            key_types,
        }
    }

    /// The wanted keys not kept since they were queued (by another table's request, say).
    fn not_kept_yet(
        &self,
        kept: &Kept<'_>,
        wanted: HashMap<u128, (Vec<Value>, String)>,
    ) -> Vec<Wanted> {
        let have = kept
            .tables
            .get(&self.t.name)
            .and_then(|p| p.keys.get(self.key));
        wanted
            .into_iter()
            .filter(|(h, _)| !have.is_some_and(|s| s.contains(h)))
            .collect()
    }

    /// Reads the rows of one batch of keys and keeps them, counting who pulled them in and
    /// which keys have no row at all.
    async fn fetch(&self, source: &Source, kept: &mut Kept<'_>, chunk: &[Wanted]) -> Result<()> {
        let scan = Scan {
            columns: self.columns.cols.clone(),
            filter: Some(self.key_filter(source, chunk)),
            ..Default::default()
        };
        let (types, mut rx) = source.scan(self.t, &scan).await?;
        let mut found: HashSet<u128> = HashSet::new();
        let requester: HashMap<u128, &String> = chunk.iter().map(|(h, (_, r))| (*h, r)).collect();
        while let Some(batch) = rx.recv().await {
            for row in batch? {
                let vals = decode(&types, &row);
                let keys = self.columns.row_keys(self.t, &vals);
                let key: Vec<&Value> = self
                    .key
                    .iter()
                    .map(|c| &vals[self.columns.index(c)])
                    .collect();
                let h = key_hash(&key);
                found.insert(h);
                if let Some(s) = kept.add(self.t, &self.columns.key_sets, &keys, false) {
                    s.pulled_as_parents += 1;
                    if let Some(r) = requester.get(&h) {
                        *s.pulled_by.entry((*r).clone()).or_default() += 1;
                    }
                }
            }
        }
        let orphans = chunk.iter().filter(|(h, _)| !found.contains(h)).count() as u64;
        if let Some(s) = kept.selection_mut(&self.t.name) {
            s.source_orphans += orphans;
        }
        Ok(())
    }

    /// `key IN (v, …)`, or `(a, b) IN (VALUES (v, w), …)` for a composite key.
    fn key_filter(&self, source: &Source, chunk: &[Wanted]) -> String {
        let tuples: Vec<String> = chunk
            .iter()
            .map(|(_, (vals, _))| {
                let literals: Vec<String> = vals
                    .iter()
                    .zip(&self.key_types)
                    .map(|(v, ty)| source.literal(v, ty))
                    .collect();
                match literals.as_slice() {
                    [one] => one.clone(),
                    _ => format!("({})", literals.join(", ")),
                }
            })
            .collect();
        let lhs: Vec<String> = self.key.iter().map(|c| source.ident(c)).collect();
        match lhs.as_slice() {
            [one] => format!("{one} IN ({})", tuples.join(", ")),
            _ => format!("({}) IN (VALUES {})", lhs.join(", "), tuples.join(", ")),
        }
    }
}
