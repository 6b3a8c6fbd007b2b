//! The planner's state between steps 2 and 3: every table's plan with the key hashes of the
//! rows kept so far, and the parent keys kept rows need but that are not kept yet (the
//! closure's work list). Keeping a row records its keys and queues its missing parents.

use std::collections::{BTreeMap, HashMap};

use super::row_keys::RowKeys;
use super::{Mode, TablePlan, TableSelection};
use crate::schema::{Schema, Table};
use crate::value::{Value, key_hash};

/// Missing parents of one table: referenced columns → key hash → (values, requesting table).
pub(super) type Pending = HashMap<Vec<String>, HashMap<u128, (Vec<Value>, String)>>;

pub(super) struct Kept<'a> {
    pub schema: &'a Schema,
    pub tables: BTreeMap<String, TablePlan>,
    /// Parent table → its missing rows. Only tables with a plan appear here.
    pending: HashMap<String, Pending>,
}

impl<'a> Kept<'a> {
    pub fn new(schema: &'a Schema, tables: BTreeMap<String, TablePlan>) -> Self {
        Kept {
            schema,
            tables,
            pending: HashMap::new(),
        }
    }

    pub fn into_tables(self) -> BTreeMap<String, TablePlan> {
        self.tables
    }

    /// Keeps a row of `t` (`core`: sampled or followed, which its children may follow) and
    /// queues its parents that are not kept yet. Returns the table's report to count the row
    /// in when the row is new, `None` when it was kept already (or `t` is not planned).
    pub fn add(
        &mut self,
        t: &Table,
        key_sets: &[Vec<String>],
        row: &RowKeys,
        core: bool,
    ) -> Option<&mut TableSelection> {
        let plan = self.tables.get_mut(&t.name)?;
        if !plan.remember(key_sets, row, core) {
            return None;
        }
        self.require_parents(t, row);
        self.tables.get_mut(&t.name).map(|p| &mut p.stats)
    }

    /// Queues the parents `row` references that are not kept yet (whole parents always are).
    fn require_parents(&mut self, t: &Table, row: &RowKeys) {
        for (fi, vals) in &row.reqs {
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
    }

    /// Takes the missing rows of one parent, if any table still misses some.
    pub fn next_missing(&mut self) -> Option<(String, Pending)> {
        let parent = self
            .pending
            .iter()
            .find(|(_, m)| m.values().any(|x| !x.is_empty()))
            .map(|(k, _)| k.clone())?;
        let pending = self.pending.remove(&parent).unwrap_or_default();
        Some((parent, pending))
    }

    /// The report of a planned table.
    pub fn selection_mut(&mut self, table: &str) -> Option<&mut TableSelection> {
        self.tables.get_mut(table).map(|p| &mut p.stats)
    }
}

impl TablePlan {
    /// Records a kept row's key hashes; false when its identity was kept already.
    fn remember(&mut self, key_sets: &[Vec<String>], row: &RowKeys, core: bool) -> bool {
        let mut new = true;
        if let (Some(id), Some(idc)) = (row.id, &self.identity) {
            new = self.keys.entry(idc.clone()).or_default().insert(id);
        }
        for (k, h) in &row.refs {
            self.keys
                .entry(key_sets[*k].clone())
                .or_default()
                .insert(*h);
            if core && self.follow_children {
                self.core
                    .entry(key_sets[*k].clone())
                    .or_default()
                    .insert(*h);
            }
        }
        new
    }
}
