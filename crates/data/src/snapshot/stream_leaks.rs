//! The restore's leak check, on each table's rows as they stream from the snapshot's file into
//! COPY: every masked value's keyed row hash (`leaks.rs` [`row_hash`]) looked up among the
//! hashes of its own source row's value.
//!
//! Why on the stream and not on the loaded rows: PostgreSQL takes the stream's tuples as they
//! are (binary COPY into new tables, no triggers yet, the row count checked against the
//! manifest), so the bytes hashed are the bytes it holds; reading them back cost a `COPY … TO`
//! per checked table on the restore's connections (about 0.17 s of PostgreSQL's time on the
//! bench database, the last of it on the restore's tail). `data verify --snapshot` still reads
//! the target (`restore::check_leaks`): staging may have changed it since.

use std::ops::Range;

use crate::pg::copy::{CopyParser, tuple_fields};
use crate::schema::Table;
use crate::snapshot::key::SnapshotKey;
use crate::snapshot::leaks::{LeakColumn, row_hash};
use crate::target::copy_columns;

pub use prodlike_results::data::snapshot::RestoreLeak;

/// Key columns of one row hashed without an allocation, up to this many.
const KEYS_ON_STACK: usize = 8;

/// One checked column: its hashes, and where its key columns and itself are in the stream.
struct Checked {
    column: LeakColumn,
    keys: Vec<usize>,
    value: usize,
    leaked: u64,
    checked: u64,
}

/// The leak check of one table's COPY stream.
pub(crate) struct StreamLeaks {
    key: SnapshotKey,
    columns: Vec<Checked>,
    parser: CopyParser,
    fields: Vec<Option<Range<usize>>>,
}

impl StreamLeaks {
    /// The check of `columns` (one table's) in `table`'s stream, whose fields are its copied
    /// columns in order; an error names a column the stream does not carry.
    pub(crate) fn new(
        table: &Table,
        columns: Vec<LeakColumn>,
        key: SnapshotKey,
    ) -> std::result::Result<Self, String> {
        let copied = copy_columns(table);
        let at = |c: &str| {
            copied
                .iter()
                .position(|x| x == c)
                .ok_or_else(|| format!("column {}.{c} of the leak check is not copied", table.name))
        };
        let columns = columns
            .into_iter()
            .map(|c| {
                Ok(Checked {
                    keys: c.key.iter().map(|k| at(k)).collect::<Result<_, String>>()?,
                    value: at(&c.column)?,
                    column: c,
                    leaked: 0,
                    checked: 0,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            key,
            columns,
            parser: CopyParser::new(),
            fields: Vec::new(),
        })
    }

    /// Checks every whole tuple of the stream so far; `chunk` is the stream's next bytes.
    pub(crate) fn push(&mut self, chunk: bytes::Bytes) -> std::result::Result<(), String> {
        let Self {
            key,
            columns,
            parser,
            fields,
        } = self;
        parser.push_bytes(chunk);
        parser.for_each_tuple(|tuple| {
            fields.clear();
            fields.extend(tuple_fields(tuple));
            for c in columns.iter_mut() {
                c.check(key, tuple, fields);
            }
        })
    }

    /// Rows checked and leaked per column; an error when the stream ended mid-tuple (which
    /// PostgreSQL would have refused).
    pub(crate) fn finish(self) -> std::result::Result<Vec<RestoreLeak>, String> {
        if !self.parser.finished() {
            return Err("the table's COPY stream ended before its end marker".into());
        }
        Ok(self
            .columns
            .into_iter()
            .map(|c| RestoreLeak {
                table: c.column.table,
                column: c.column.column,
                leaked_rows: c.leaked,
                rows_checked: c.checked,
            })
            .collect())
    }
}

impl Checked {
    /// One row: a NULL value is not checked, nor a row with a NULL key (as the read-back's
    /// `WHERE … IS NOT NULL` and its key test leave them out).
    fn check(&mut self, key: &SnapshotKey, tuple: &[u8], fields: &[Option<Range<usize>>]) {
        let Some(Some(v)) = fields.get(self.value) else {
            return;
        };
        let field = |i: &usize| fields.get(*i).cloned().flatten().map(|r| &tuple[r]);
        let hash = if self.keys.len() <= KEYS_ON_STACK {
            let mut keys: [&[u8]; KEYS_ON_STACK] = [&[]; KEYS_ON_STACK];
            for (slot, i) in keys.iter_mut().zip(&self.keys) {
                let Some(k) = field(i) else {
                    return;
                };
                *slot = k;
            }
            row_hash(
                key,
                &self.column.column,
                &keys[..self.keys.len()],
                &tuple[v.clone()],
            )
        } else {
            let Some(keys) = self.keys.iter().map(field).collect::<Option<Vec<&[u8]>>>() else {
                return;
            };
            row_hash(key, &self.column.column, &keys, &tuple[v.clone()])
        };
        self.checked += 1;
        if self.column.hashes.binary_search(&hash).is_ok() {
            self.leaked += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table() -> Table {
        serde_json::from_value(serde_json::json!({
            "name": "users",
            "columns": [
                {"name": "id", "sql_type": "bigint", "kind": "int", "nullable": false, "pg_oid": 20},
                {"name": "email", "sql_type": "text", "kind": "text", "nullable": true, "pg_oid": 25},
                {"name": "plan", "sql_type": "text", "kind": "text", "nullable": true, "pg_oid": 25}
            ],
            "primary_key": {"name": "pk", "columns": ["id"]}
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A binary COPY stream of (id, email, plan) rows.
    fn stream(rows: &[(i64, Option<String>)]) -> Vec<u8> {
        let mut b = b"PGCOPY\n\xff\r\n\0".to_vec();
        b.extend_from_slice(&[0; 8]);
        for (id, email) in rows {
            b.extend_from_slice(&3i16.to_be_bytes());
            b.extend_from_slice(&8i32.to_be_bytes());
            b.extend_from_slice(&id.to_be_bytes());
            match email {
                Some(e) => {
                    b.extend_from_slice(&(e.len() as i32).to_be_bytes());
                    b.extend_from_slice(e.as_bytes());
                }
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
            }
            b.extend_from_slice(&4i32.to_be_bytes());
            b.extend_from_slice(b"free");
        }
        b.extend_from_slice(&(-1i16).to_be_bytes());
        b
    }

    proptest! {
        /// Whatever the chunks, every row whose value is its own source row's is counted as
        /// leaked, every non-NULL value as checked, and a NULL value not at all; a stream cut
        /// before its end marker is an error.
        #[test]
        fn leaks_are_counted_in_any_chunking(
            emails in proptest::collection::vec(proptest::option::of("[a-z]{1,12}"), 0..60),
            leaked_every in 1usize..7,
            cut in 1usize..80,
        ) {
            let key = SnapshotKey::from_secret(b"0123456789abcdef").unwrap_or_else(|e| panic!("{e}"));
            // Source values: `src<i>`; the snapshot keeps it on every `leaked_every`th row.
            let rows: Vec<(i64, Option<String>)> = emails
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let v = e.as_ref().map(|e| if i % leaked_every == 0 { format!("src{i}") } else { e.clone() });
                    (i as i64, v)
                })
                .collect();
            let mut hashes: Vec<u64> = (0..emails.len())
                .map(|i| row_hash(&key, "email", &[&(i as i64).to_be_bytes()], format!("src{i}").as_bytes()))
                .collect();
            hashes.sort_unstable();
            let column = LeakColumn { table: "users".into(), column: "email".into(), key: vec!["id".into()], hashes };
            let mut check = StreamLeaks::new(&table(), vec![column.clone()], key.clone()).unwrap_or_else(|e| panic!("{e}"));
            let bytes = stream(&rows);
            for chunk in bytes.chunks(cut) {
                check.push(bytes::Bytes::copy_from_slice(chunk)).unwrap_or_else(|e| panic!("{e}"));
            }
            let got = check.finish().unwrap_or_else(|e| panic!("{e}"));
            let want_leaked = rows.iter().enumerate().filter(|(i, (_, e))| e.is_some() && i % leaked_every == 0).count() as u64;
            let want_checked = rows.iter().filter(|(_, e)| e.is_some()).count() as u64;
            prop_assert_eq!(got.len(), 1);
            prop_assert_eq!(got[0].leaked_rows, want_leaked);
            prop_assert_eq!(got[0].rows_checked, want_checked);

            let mut cut_short = StreamLeaks::new(&table(), vec![column], key).unwrap_or_else(|e| panic!("{e}"));
            cut_short.push(bytes::Bytes::copy_from_slice(&bytes[..bytes.len() - 2])).unwrap_or_else(|e| panic!("{e}"));
            prop_assert!(cut_short.finish().is_err());
        }
    }

    /// A column the stream does not carry is refused by name, before anything is read.
    #[test]
    fn a_column_not_copied_is_refused() {
        let key = SnapshotKey::from_secret(b"0123456789abcdef").unwrap_or_else(|e| panic!("{e}"));
        let column = LeakColumn {
            table: "users".into(),
            column: "phone".into(),
            key: vec!["id".into()],
            hashes: Vec::new(),
        };
        let e = StreamLeaks::new(&table(), vec![column], key)
            .err()
            .unwrap_or_default();
        assert!(e.contains("users.phone"), "{e}");
    }
}
