//! Rows in flight into binary COPY tuples, in the target's column types: a raw PostgreSQL
//! field of the same type is copied byte for byte, anything else (a masked value, a SQLite
//! value) is encoded by `pg/codec.rs`. Used by the PostgreSQL writer (`target.rs`) and by the
//! data snapshot's writer (`snapshot/sink.rs`), so a snapshot holds the very bytes a sync sends.

use crate::error::{DataError, Result};
use crate::pg::codec;
use crate::pg::copy::CopyBuf;
use crate::pg::ddl::PgColumnType;
use crate::row::{Batch, Field};
use crate::schema::Kind;
use crate::source::FieldType;
use crate::value::Value;

/// Encodes one table's rows.
pub struct RowEncoder {
    types: Vec<PgColumnType>,
    source: Vec<FieldType>,
    same: Vec<bool>,
    buf: Vec<u8>,
    table: String,
}

impl RowEncoder {
    /// `types`: the target's column types; `source`: the types of the fields it will receive.
    pub fn new(table: &str, types: Vec<PgColumnType>, source: &[FieldType]) -> Self {
        let same = types
            .iter()
            .zip(source)
            .map(|(t, s)| s.oid != 0 && t.oid == s.oid)
            .collect();
        Self {
            types,
            source: source.to_vec(),
            same,
            buf: Vec::with_capacity(256),
            table: table.to_owned(),
        }
    }

    /// Appends `batch` to `out`.
    pub fn encode(&mut self, batch: Batch, out: &mut CopyBuf) -> Result<()> {
        out.make_room();
        for row in batch {
            out.begin_row(row.len());
            for (i, f) in row.into_iter().enumerate() {
                match f {
                    Field::Null => out.null(),
                    Field::Raw(b) if self.same.get(i).copied().unwrap_or(false) => out.field(&b),
                    other => {
                        // A decoded value (a masked one) is encoded as it is, not cloned first.
                        let decoded;
                        let v = match (&other, self.source.get(i)) {
                            (Field::Val(v), Some(_)) => v,
                            (_, s) => {
                                decoded = s.map_or(Value::Null, |s| s.value(&other));
                                &decoded
                            }
                        };
                        if v.is_null() {
                            out.null();
                            continue;
                        }
                        let t = self.types.get(i).copied().unwrap_or(PgColumnType {
                            oid: codec::oid::TEXT,
                            kind: Kind::Text,
                        });
                        self.buf.clear();
                        codec::encode(t.oid, t.kind, v, &mut self.buf).map_err(|e| {
                            DataError::Invalid(format!(
                                "table {}: a value of column #{} is not {} (the target column type)",
                                self.table,
                                i + 1,
                                e.expected
                            ))
                        })?;
                        out.field(&self.buf);
                    }
                }
            }
        }
        Ok(())
    }
}
