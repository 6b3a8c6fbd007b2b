//! What the planner reads of a table and takes from each row: the columns it scans (keys,
//! foreign keys, and the columns a mode samples on), the key column sets it records, and per
//! row the hashes of those keys plus the parent values the row needs kept.

use crate::row::Row;
use crate::schema::{Schema, Table};
use crate::source::FieldType;
use crate::value::{Value, key_hash};

/// One row as the planner sees it.
pub(super) struct RowKeys {
    /// Hash of the row's identity (primary key, else a NOT NULL unique key).
    pub id: Option<u128>,
    /// Hash of each recorded key set, by its index in the key sets.
    pub refs: Vec<(usize, u128)>,
    /// Values of each non-null foreign key, by its index in the table's foreign keys.
    pub reqs: Vec<(usize, Vec<Value>)>,
}

/// The columns the planner reads of one table, and the key sets it records.
pub(super) struct PlannerColumns {
    /// Scanned columns: key sets, foreign keys, then `extra`, each once.
    pub cols: Vec<String>,
    /// Identity first, then every key other tables reference.
    pub key_sets: Vec<Vec<String>>,
}

impl PlannerColumns {
    pub fn of(schema: &Schema, t: &Table, extra: &[String]) -> Self {
        let mut key_sets: Vec<Vec<String>> = Vec::new();
        if let Some(id) = t.identity() {
            key_sets.push(id);
        }
        for k in schema.referenced_keys(&t.name) {
            if !key_sets.contains(&k) {
                key_sets.push(k);
            }
        }
        let mut cols: Vec<String> = Vec::new();
        let mut push = |c: &String| {
            if !cols.contains(c) {
                cols.push(c.clone());
            }
        };
        for k in &key_sets {
            k.iter().for_each(&mut push);
        }
        for fk in &t.foreign_keys {
            fk.columns.iter().for_each(&mut push);
        }
        extra.iter().for_each(&mut push);
        PlannerColumns { cols, key_sets }
    }

    /// Position of `column` among the scanned columns (0 when absent).
    pub fn index(&self, column: &String) -> usize {
        self.cols.iter().position(|x| x == column).unwrap_or(0)
    }

    /// The key hashes and parent values of one decoded row.
    pub fn row_keys(&self, t: &Table, vals: &[Value]) -> RowKeys {
        let pick =
            |set: &[String]| -> Vec<&Value> { set.iter().map(|c| &vals[self.index(c)]).collect() };
        let id = t.identity().as_ref().map(|s| key_hash(&pick(s)));
        let refs = self
            .key_sets
            .iter()
            .enumerate()
            .map(|(i, k)| (i, key_hash(&pick(k))))
            .collect();
        let reqs = t
            .foreign_keys
            .iter()
            .enumerate()
            .filter_map(|(i, fk)| {
                let v: Vec<Value> = fk
                    .columns
                    .iter()
                    .map(|c| vals[self.index(c)].clone())
                    .collect();
                (!v.iter().any(Value::is_null)).then_some((i, v))
            })
            .collect();
        RowKeys { id, refs, reqs }
    }
}

/// A scanned row's fields as values, in scan order.
pub(super) fn decode(types: &[FieldType], row: &Row) -> Vec<Value> {
    row.iter().zip(types).map(|(f, ty)| ty.value(f)).collect()
}
