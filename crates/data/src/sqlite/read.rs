//! Reading SQLite rows as values.

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::schema::Kind;
use crate::value::Value;

/// A value of a column of `kind` from SQLite's storage class.
pub fn value_of(v: ValueRef<'_>, kind: Kind) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => match kind {
            Kind::Bool => Value::Bool(i != 0),
            _ => Value::Int(i),
        },
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t).into_owned();
            match kind {
                Kind::Json => Value::Json(s),
                Kind::Bool => match s.to_ascii_lowercase().as_str() {
                    "true" | "t" | "1" => Value::Bool(true),
                    "false" | "f" | "0" => Value::Bool(false),
                    _ => Value::Text(s),
                },
                _ => Value::Text(s),
            }
        }
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

/// The SQLite storage value for `v`: dates, timestamps and UUIDs as ISO text, booleans as 0/1.
pub fn to_sqlite(v: Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as S;
    match v {
        Value::Null => S::Null,
        Value::Bool(b) => S::Integer(i64::from(b)),
        Value::Int(i) => S::Integer(i),
        Value::Float(f) => S::Real(f),
        Value::Text(s) | Value::Json(s) | Value::Inet(s) => S::Text(s),
        Value::Decimal(s) => match s.parse::<i64>() {
            Ok(i) => S::Integer(i),
            Err(_) => match s.parse::<f64>() {
                Ok(f) => S::Real(f),
                Err(_) => S::Text(s),
            },
        },
        Value::Bytes(b) => S::Blob(b),
        other => S::Text(other.to_text().unwrap_or_default()),
    }
}

/// Opens a SQLite file read-only.
pub fn open_read_only(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let c = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(c)
}
