//! The restore's leak check without the source: for every masked column whose mask replaces
//! every value with a free-form pseudonym, the dump keeps a keyed hash (snapshot key) of each
//! row's primary key with its *source* value: never the value. After the restore, the same hash
//! over the target's row finds any value that stayed on its row, which is a leak (the same rule
//! as `verify/leak.rs`'s row leaks). Columns it cannot check are listed with the reason.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::maskplan::BoundMasks;
use crate::row::{Field, Row};
use crate::schema::Schema;
use crate::snapshot::key::SnapshotKey;

/// One checked column: its table's key columns and the sorted hashes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LeakColumn {
    pub table: String,
    pub column: String,
    pub key: Vec<String>,
    pub hashes: Vec<u64>,
}

/// A masked column the restore cannot check, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotChecked {
    pub table: String,
    pub column: String,
    pub reason: String,
}

/// The snapshot's `leaks.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LeakHashes {
    pub columns: Vec<LeakColumn>,
    pub not_checked: Vec<NotChecked>,
}

/// The hash of one row's key fields and value, as the dump and the restore compute it.
pub fn row_hash(key: &SnapshotKey, column: &str, keys: &[&[u8]], value: &[u8]) -> u64 {
    // Keys of up to six columns without an allocation per row.
    const ON_STACK: usize = 8;
    if keys.len() + 2 <= ON_STACK {
        let mut parts: [&[u8]; ON_STACK] = [&[]; ON_STACK];
        parts[0] = column.as_bytes();
        parts[1..=keys.len()].copy_from_slice(keys);
        parts[keys.len() + 1] = value;
        return key.parts_hash(&parts[..keys.len() + 2]);
    }
    let mut parts: Vec<&[u8]> = Vec::with_capacity(keys.len() + 2);
    parts.push(column.as_bytes());
    parts.extend_from_slice(keys);
    parts.push(value);
    key.parts_hash(&parts)
}

impl LeakHashes {
    /// Which masked columns get hashes (`engine`: the source's).
    pub fn plan(schema: &Schema, masks: Option<&BoundMasks>, engine: &str) -> Self {
        let mut out = Self::default();
        let Some(masks) = masks else { return out };
        let mut names: Vec<&String> = masks.tables.keys().collect();
        names.sort();
        for table in names {
            let Some(t) = schema.tables.iter().find(|t| &t.name == table) else {
                continue;
            };
            for m in masks.tables.get(table).into_iter().flatten() {
                let key = t.identity();
                let reason = if engine != "postgres" {
                    Some("the source is not PostgreSQL (the check compares binary fields)")
                } else if !m.replaces_every_value() {
                    Some(
                        "its mask may keep a value by design (shuffle, free text, JSON, a bijection or a closed domain)",
                    )
                } else {
                    match &key {
                        None => Some("the table has no primary key or NOT NULL unique key"),
                        Some(k)
                            if k.iter().any(|c| {
                                masks
                                    .tables
                                    .get(table)
                                    .into_iter()
                                    .flatten()
                                    .any(|o| &o.column == c)
                            }) =>
                        {
                            Some("its row key is masked")
                        }
                        Some(_) => None,
                    }
                };
                match reason {
                    Some(r) => out.not_checked.push(NotChecked {
                        table: table.clone(),
                        column: m.column.clone(),
                        reason: r.into(),
                    }),
                    None => out.columns.push(LeakColumn {
                        table: table.clone(),
                        column: m.column.clone(),
                        key: key.unwrap_or_default(),
                        hashes: Vec::new(),
                    }),
                }
            }
        }
        out
    }

    /// A recorder of `table`'s rows (scanned as `cols`), `None` when no column of it is checked.
    pub fn recorder(
        &self,
        table: &str,
        cols: &[String],
        key: &SnapshotKey,
    ) -> Option<LeakRecorder> {
        let pos = |c: &String| cols.iter().position(|x| x == c);
        let columns: Vec<(usize, Vec<usize>, String, Vec<u64>)> = self
            .columns
            .iter()
            .filter(|c| c.table == table)
            .filter_map(|c| {
                let keys: Option<Vec<usize>> = c.key.iter().map(pos).collect();
                Some((pos(&c.column)?, keys?, c.column.clone(), Vec::new()))
            })
            .collect();
        (!columns.is_empty()).then(|| LeakRecorder {
            table: table.to_owned(),
            columns,
            key: key.clone(),
        })
    }

    /// Adds a table's recorded hashes.
    pub fn add(&mut self, r: LeakRecorder) {
        let mut by_column: HashMap<String, Vec<u64>> =
            r.columns.into_iter().map(|(_, _, c, h)| (c, h)).collect();
        for c in self.columns.iter_mut().filter(|c| c.table == r.table) {
            if let Some(mut h) = by_column.remove(&c.column) {
                c.hashes.append(&mut h);
                c.hashes.sort_unstable();
                c.hashes.dedup();
            }
        }
    }
}

/// Hashes one table's source rows before they are masked.
pub struct LeakRecorder {
    table: String,
    /// (value index, key indexes, column, hashes)
    columns: Vec<(usize, Vec<usize>, String, Vec<u64>)>,
    key: SnapshotKey,
}

impl LeakRecorder {
    pub fn record(&mut self, row: &Row) {
        for (vi, ki, column, hashes) in &mut self.columns {
            let Some(Field::Raw(v)) = row.get(*vi) else {
                continue;
            };
            let keys: Option<Vec<&[u8]>> = ki
                .iter()
                .map(|i| match row.get(*i) {
                    Some(Field::Raw(b)) => Some(&b[..]),
                    _ => None,
                })
                .collect();
            if let Some(keys) = keys {
                hashes.push(row_hash(&self.key, column, &keys, v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_hash_is_the_hash_of_column_keys_and_value_whatever_the_key_width() {
        let key = SnapshotKey::from_secret(b"0123456789abcdef").unwrap_or_else(|e| panic!("{e}"));
        let fields: Vec<Vec<u8>> = (0u8..10).map(|i| vec![i; usize::from(i)]).collect();
        for n in 0..fields.len() {
            let keys: Vec<&[u8]> = fields[..n].iter().map(Vec::as_slice).collect();
            let mut parts: Vec<&[u8]> = vec![b"email"];
            parts.extend_from_slice(&keys);
            parts.push(b"ana@example.com");
            assert_eq!(
                row_hash(&key, "email", &keys, b"ana@example.com"),
                key.parts_hash(&parts),
                "{n} key columns"
            );
        }
    }
}
