//! A row in flight between a source and a target.

use bytes::Bytes;

use crate::value::Value;

/// One field: NULL, PostgreSQL binary bytes not decoded (copied as they are when the target is
/// PostgreSQL too), or a decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Null,
    Raw(Bytes),
    Val(Value),
}

impl Field {
    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null | Field::Val(Value::Null))
    }
}

/// A row: one field per selected column, in order.
pub type Row = Vec<Field>;

/// Rows are moved in batches to keep channel overhead low.
pub type Batch = Vec<Row>;

/// Rows per batch between tasks.
pub const BATCH_ROWS: usize = 1024;
