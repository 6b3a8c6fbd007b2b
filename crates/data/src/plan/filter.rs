//! The plan applied while copying: a [`RowFilter`] per table, testing each row read in the
//! table's column order against the plan's kept key hashes (identity, followed parent, every
//! foreign key toward a parent kept as a subset) or, for tables without identity, against the
//! same keyed sampling hash the planner used. Input: the [`SubsetPlan`]; output: keep or drop.

use std::collections::HashSet;
use std::sync::Arc;

use super::sample::{below_fraction, unit_hash};
use super::{Mode, SubsetPlan, TablePlan};
use crate::row::Row;
use crate::schema::{Schema, Table};
use crate::source::FieldType;
use crate::value::{Value, key_hash};

type KeySet = Arc<HashSet<u128>>;

/// A per-row test applied while copying.
#[derive(Debug, Clone)]
pub struct RowFilter {
    /// Keep everything (no test).
    pub all: bool,
    identity: Option<KeyTest>,
    /// For tables without identity: sampling predicate.
    sample: Option<SampleTest>,
    follow: Option<FollowTest>,
    none: bool,
    fks: Vec<KeyTest>,
}

/// The row's values at `columns` hash to one of `keys`.
#[derive(Debug, Clone)]
struct KeyTest {
    columns: Vec<usize>,
    keys: KeySet,
}

/// The row's keyed hash of `columns` falls below `fraction` (as the planner sampled).
#[derive(Debug, Clone)]
struct SampleTest {
    fraction: f64,
    scope: String,
    columns: Vec<usize>,
    seed: u64,
}

/// The row's followed parent is a core row; rows with no parent are sampled like roots, by the
/// hash of the whole row.
#[derive(Debug, Clone)]
struct FollowTest {
    parent: KeyTest,
    fraction: f64,
    seed: u64,
    scope: String,
}

fn values_at(columns: &[usize], row: &Row, types: &[FieldType]) -> Vec<Value> {
    columns.iter().map(|&i| types[i].value(&row[i])).collect()
}

impl KeyTest {
    fn holds(&self, values: &[Value]) -> bool {
        let r: Vec<&Value> = values.iter().collect();
        self.keys.contains(&key_hash(&r))
    }
}

impl RowFilter {
    pub fn keep_all() -> Self {
        Self {
            all: true,
            ..Self::testing_nothing()
        }
    }

    fn testing_nothing() -> Self {
        Self {
            all: false,
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
        if self.none {
            return false;
        }
        if let Some(id) = &self.identity
            && !id.holds(&values_at(&id.columns, row, types))
        {
            return false;
        }
        if let Some(s) = &self.sample {
            let v = values_at(&s.columns, row, types);
            let r: Vec<&Value> = v.iter().collect();
            if !below_fraction(unit_hash(s.seed, &s.scope, &r), s.fraction) {
                return false;
            }
        }
        if let Some(f) = &self.follow {
            let v = values_at(&f.parent.columns, row, types);
            if v.iter().any(Value::is_null) {
                // No parent: the row is sampled like a root (by the whole row's hash), and
                // that decides alone.
                let all: Vec<Value> = (0..row.len()).map(|i| types[i].value(&row[i])).collect();
                let r: Vec<&Value> = all.iter().collect();
                return below_fraction(unit_hash(f.seed, &f.scope, &r), f.fraction);
            }
            if !f.parent.holds(&v) {
                return false;
            }
        }
        self.fks.iter().all(|fk| {
            let v = values_at(&fk.columns, row, types);
            v.iter().any(Value::is_null) || fk.holds(&v)
        })
    }
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
        let at = |cs: &[String]| -> Vec<usize> {
            cs.iter()
                .map(|c| columns.iter().position(|x| x == c).unwrap_or(0))
                .collect()
        };
        let mut f = RowFilter {
            fks: self.parent_tests(t, &at),
            ..RowFilter::testing_nothing()
        };
        self.own_test(&mut f, tp, t, columns, &at);
        f.all = f.identity.is_none()
            && f.sample.is_none()
            && f.follow.is_none()
            && !f.none
            && f.fks.is_empty();
        f
    }

    /// A key test per foreign key toward a parent kept as a subset (whole parents keep all).
    fn parent_tests(&self, t: &Table, at: &dyn Fn(&[String]) -> Vec<usize>) -> Vec<KeyTest> {
        t.foreign_keys
            .iter()
            .filter_map(|fk| {
                let p = self.tables.get(&fk.ref_table)?;
                if p.mode == Mode::All {
                    return None;
                }
                let keys = p.keys.get(&fk.ref_columns).cloned().unwrap_or_default();
                Some(KeyTest {
                    columns: at(&fk.columns),
                    keys: Arc::new(keys),
                })
            })
            .collect()
    }

    /// The table's own test: its kept identities, else (no identity) its sampling or its
    /// followed parent's core rows, or nothing for `none`.
    fn own_test(
        &self,
        f: &mut RowFilter,
        tp: &TablePlan,
        t: &Table,
        columns: &[String],
        at: &dyn Fn(&[String]) -> Vec<usize>,
    ) {
        match (&tp.mode, &tp.identity) {
            (Mode::All, _) => {}
            (_, Some(id)) => {
                let keys = tp.keys.get(id).cloned().unwrap_or_default();
                f.identity = Some(KeyTest {
                    columns: at(id),
                    keys: Arc::new(keys),
                });
            }
            (Mode::None, None) => f.none = true,
            (
                Mode::Sample {
                    fraction, hash_key, ..
                },
                None,
            ) => {
                let (hashed, scope) = if hash_key.is_empty() {
                    (columns.to_vec(), t.name.clone())
                } else {
                    (hash_key.clone(), String::new())
                };
                f.sample = Some(SampleTest {
                    fraction: *fraction,
                    scope,
                    columns: at(&hashed),
                    seed: self.seed,
                });
            }
            (
                Mode::Follow {
                    parent,
                    columns: fk_columns,
                },
                None,
            ) => {
                let fk = t.foreign_keys.iter().find(|x| &x.columns == fk_columns);
                let keys = fk
                    .and_then(|fk| {
                        self.tables
                            .get(parent)
                            .and_then(|p| p.core.get(&fk.ref_columns))
                            .cloned()
                    })
                    .unwrap_or_default();
                f.follow = Some(FollowTest {
                    parent: KeyTest {
                        columns: at(fk_columns),
                        keys: Arc::new(keys),
                    },
                    fraction: tp.stats.intended_fraction,
                    seed: self.seed,
                    scope: t.name.clone(),
                });
            }
        }
    }
}
