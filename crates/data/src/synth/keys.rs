//! How a generated table's key values reach the tables that reference them. A single integer
//! identity is sequential (`start + row index`), so its values are known before the table is
//! written, which also lets a cycle with no nullable column reference rows not generated yet;
//! any other referenced key is stored as generated. The store is shared by the table tasks:
//! a table is ready once every parent it needs is in it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{DataError, Result};
use crate::profile::Profile;
use crate::schema::{Kind, Schema, Table};
use crate::value::Value;

/// How a table's key values are known to children.
#[derive(Clone)]
pub(super) enum Keys {
    /// `start + index` (single integer key).
    Sequential { start: i64 },
    /// Stored tuples.
    Stored(Arc<Vec<Vec<Value>>>),
}

/// (table, key columns) → its keys.
pub(super) type KeyMap = HashMap<(String, Vec<String>), Keys>;
pub(super) type KeyStore = Arc<Mutex<KeyMap>>;

impl Keys {
    /// The key of the parent at `index`.
    pub fn values(&self, index: u64) -> Vec<Value> {
        match self {
            Keys::Sequential { start } => vec![Value::Int(start + index as i64)],
            Keys::Stored(v) => v.get(index as usize).cloned().unwrap_or_default(),
        }
    }

    /// How many parents there are (`planned_rows` for sequential keys, known in advance).
    pub fn count(&self, planned_rows: u64) -> u64 {
        match self {
            Keys::Sequential { .. } => planned_rows,
            Keys::Stored(v) => v.len() as u64,
        }
    }
}

/// The first value of a sequential key: the profiled minimum, at least 1.
pub(super) fn seq_start(profile: &Profile, table: &str, col: &str) -> i64 {
    profile
        .table(table)
        .and_then(|t| t.columns.iter().find(|c| c.name == col))
        .and_then(|c| c.percentiles.first().copied())
        .map_or(1, |x| (x as i64).max(1))
}

/// Whether `cols` is `t`'s identity and a single integer column (generated sequentially).
pub(super) fn sequential_key(t: &Table, cols: &[String]) -> bool {
    cols.len() == 1
        && t.identity().as_deref() == Some(cols)
        && t.column(&cols[0]).is_some_and(|c| c.kind == Kind::Int)
}

/// A store holding every referenced sequential key from the start.
pub(super) fn store_with_sequential_keys(profile: &Profile, schema: &Schema) -> KeyStore {
    let mut keys = KeyMap::new();
    for t in &schema.tables {
        for key in schema.referenced_keys(&t.name) {
            if sequential_key(t, &key) {
                let start = seq_start(profile, &t.name, &key[0]);
                keys.insert((t.name.clone(), key), Keys::Sequential { start });
            }
        }
    }
    Arc::new(Mutex::new(keys))
}

/// A copy of the keys stored so far.
pub(super) fn snapshot(store: &KeyStore) -> KeyMap {
    store.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Refuses a schema whose cycle closes, through a non-nullable foreign key, on a key that is
/// not sequential: its values would be needed before they are generated.
pub(super) fn check_forward_references(schema: &Schema, order: &[String]) -> Result<()> {
    let position = |name: &str| order.iter().position(|x| x == name);
    for t in &schema.tables {
        for fk in &t.foreign_keys {
            let Some(p) = schema.table(&fk.ref_table) else {
                continue;
            };
            let later = position(&fk.ref_table) >= position(&t.name);
            if later
                && fk.ref_table != t.name
                && !sequential_key(p, &fk.ref_columns)
                && !t.fk_nullable(fk)
            {
                return Err(DataError::Invalid(format!(
                    "cannot synthesise `{}`: its foreign key {:?} → {} closes a cycle through a non-integer key",
                    t.name, fk.columns, fk.ref_table
                )));
            }
        }
    }
    Ok(())
}
