//! MySQL and MariaDB for data: sessions, identifiers and literals, the logical kind of each
//! column type, values read through the text protocol, and the bytes `LOAD DATA LOCAL INFILE`
//! takes. [`read`] scans tables; [`target`] loads a staging database and swaps it in.
//!
//! Every session data opens has the same settings ([`connect`]): UTC (`time_zone = '+00:00'`,
//! so `TIMESTAMP` values read and written are the stored instants), an `sql_mode` without
//! `NO_ZERO_DATE`, `NO_ZERO_IN_DATE` and `NO_BACKSLASH_ESCAPES` (zero dates are data to copy;
//! literals are escaped the one way [`literal`] does) and with `NO_AUTO_VALUE_ON_ZERO` (an
//! AUTO_INCREMENT key 0 is kept), and utf8mb4.
pub mod read;
pub mod target;

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use prodlike_catalog::mysql::url::{self, MysqlUrl};

use crate::error::{DataError, Result};
use crate::schema::Kind;
use crate::value::{Value, parse_date, parse_timestamp, parse_uuid};

/// The session settings of every connection data opens.
const SESSION: &str = "SET SESSION time_zone = '+00:00', \
     sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', \
     NAMES utf8mb4";

/// Opens a connection with data's session settings.
pub async fn connect(url: &MysqlUrl) -> Result<Conn> {
    let mut conn = url::connect(url).await?;
    conn.query_drop(SESSION)
        .await
        .map_err(DataError::mysql(format!(
            "preparing a session on {}",
            url.shown
        )))?;
    Ok(conn)
}

/// `` `name` ``.
pub fn ident(name: &str) -> String {
    prodlike_catalog::mysql::ident(name)
}

/// `` `schema`.`name` ``.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// A string literal for data's sessions (backslash escapes on, see the module's doc).
pub fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The logical kind of a column of MySQL type `sql_type` (`COLUMN_TYPE`: `int(10) unsigned`,
/// `enum('a','b')`); `json` when a `json_valid` check makes a MariaDB LONGTEXT a JSON column.
/// `None`: a type data cannot copy yet (spatial types, BIT).
pub fn kind_of(sql_type: &str, json: bool) -> Option<Kind> {
    let t = sql_type.trim().to_ascii_lowercase();
    let base = t.split(['(', ' ']).next().unwrap_or("");
    let unsigned = t.contains("unsigned");
    Some(match base {
        "bigint" if unsigned => Kind::Decimal,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => Kind::Int,
        "decimal" | "numeric" | "dec" | "fixed" => Kind::Decimal,
        "float" | "double" | "real" => Kind::Float,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" if json => Kind::Json,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => {
            Kind::Text
        }
        "json" => Kind::Json,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => Kind::Bytes,
        "date" => Kind::Date,
        "datetime" | "timestamp" => Kind::Timestamp,
        "time" => Kind::Time,
        "uuid" => Kind::Uuid,
        "inet4" | "inet6" => Kind::Inet,
        _ => return None,
    })
}

/// A text-protocol field of a column of `kind` as a value. What does not parse as its kind
/// (a zero date `0000-00-00`, an out-of-range number) stays text and is written back as it was.
pub fn value_of(bytes: Vec<u8>, kind: Kind) -> Value {
    let text = |b: Vec<u8>| match String::from_utf8(b) {
        Ok(s) => Value::Text(s),
        Err(e) => Value::Bytes(e.into_bytes()),
    };
    match kind {
        Kind::Bytes => Value::Bytes(bytes),
        Kind::Bool => match bytes.as_slice() {
            b"1" => Value::Bool(true),
            b"0" => Value::Bool(false),
            _ => text(bytes),
        },
        Kind::Int => match std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
        {
            Some(i) => Value::Int(i),
            None => text(bytes),
        },
        Kind::Float => match std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
        {
            Some(f) => Value::Float(f),
            None => text(bytes),
        },
        Kind::Decimal => match String::from_utf8(bytes) {
            Ok(s) => Value::Decimal(s),
            Err(e) => Value::Bytes(e.into_bytes()),
        },
        Kind::Date => match std::str::from_utf8(&bytes).ok().and_then(parse_date) {
            Some(d) => Value::Date(d),
            None => text(bytes),
        },
        Kind::Timestamp | Kind::TimestampTz => {
            match std::str::from_utf8(&bytes).ok().and_then(parse_timestamp) {
                Some(t) => Value::Timestamp(t),
                None => text(bytes),
            }
        }
        Kind::Uuid => match std::str::from_utf8(&bytes).ok().and_then(parse_uuid) {
            Some(u) => Value::Uuid(u),
            None => text(bytes),
        },
        Kind::Json => match String::from_utf8(bytes) {
            Ok(s) => Value::Json(s),
            Err(e) => Value::Bytes(e.into_bytes()),
        },
        Kind::Inet => match String::from_utf8(bytes) {
            Ok(s) => Value::Inet(s),
            Err(e) => Value::Bytes(e.into_bytes()),
        },
        Kind::Text | Kind::Time | Kind::Other => text(bytes),
    }
}

/// Appends `v` as one field of `LOAD DATA … FIELDS TERMINATED BY '\t' ESCAPED BY '\\'`
/// (NULL as `\N`; backslash, tab, newline, carriage return and NUL escaped).
pub fn write_field(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"\\N"),
        Value::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
        Value::Bytes(b) => escape(b, out),
        Value::TimestampTz(_) => {
            let mut s = String::new();
            v.write_text(&mut s);
            escape(s.trim_end_matches("+00").as_bytes(), out);
        }
        Value::Text(s) | Value::Json(s) | Value::Decimal(s) | Value::Inet(s) => {
            escape(s.as_bytes(), out)
        }
        other => {
            let mut s = String::new();
            other.write_text(&mut s);
            escape(s.as_bytes(), out);
        }
    }
}

fn escape(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0 => out.extend_from_slice(b"\\0"),
            b => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reader `LOAD DATA` is: split on tabs, unescape.
    fn unescape(field: &[u8]) -> Option<Vec<u8>> {
        if field == b"\\N" {
            return None;
        }
        let mut out = Vec::new();
        let mut it = field.iter();
        while let Some(&b) = it.next() {
            if b == b'\\' {
                match it.next() {
                    Some(b't') => out.push(b'\t'),
                    Some(b'n') => out.push(b'\n'),
                    Some(b'r') => out.push(b'\r'),
                    Some(b'0') => out.push(0),
                    Some(&o) => out.push(o),
                    None => {}
                }
            } else {
                out.push(b);
            }
        }
        Some(out)
    }

    #[test]
    fn kinds_of_mysql_types() {
        assert_eq!(kind_of("int(10) unsigned", false), Some(Kind::Int));
        assert_eq!(kind_of("bigint(20) unsigned", false), Some(Kind::Decimal));
        assert_eq!(kind_of("enum('a','b')", false), Some(Kind::Text));
        assert_eq!(kind_of("set('a','b')", false), Some(Kind::Text));
        assert_eq!(kind_of("longtext", true), Some(Kind::Json));
        assert_eq!(kind_of("json", false), Some(Kind::Json));
        assert_eq!(kind_of("datetime(6)", false), Some(Kind::Timestamp));
        assert_eq!(kind_of("point", false), None);
        assert_eq!(kind_of("bit(1)", false), None);
    }

    #[test]
    fn zero_dates_stay_as_they_were() {
        assert_eq!(
            value_of(b"0000-00-00".to_vec(), Kind::Date),
            Value::Text("0000-00-00".into())
        );
        let mut out = Vec::new();
        write_field(
            &value_of(b"0000-00-00 00:00:00".to_vec(), Kind::Timestamp),
            &mut out,
        );
        assert_eq!(out, b"0000-00-00 00:00:00");
        let mut out = Vec::new();
        write_field(
            &value_of(b"2024-02-29 10:11:12.5".to_vec(), Kind::Timestamp),
            &mut out,
        );
        assert_eq!(out, b"2024-02-29 10:11:12.500000");
        assert_eq!(
            value_of(b"18446744073709551615".to_vec(), Kind::Decimal),
            Value::Decimal("18446744073709551615".into())
        );
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(literal("it's a \\ test"), "'it''s a \\\\ test'");
    }

    proptest! {
        #[test]
        fn fields_round_trip_through_load_data_escaping(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut out = Vec::new();
            write_field(&Value::Bytes(b.clone()), &mut out);
            prop_assert!(!out.contains(&b'\t') && !out.contains(&b'\n'));
            prop_assert_eq!(unescape(&out), Some(b));
        }

        #[test]
        fn text_round_trips(s in ".{0,40}") {
            let mut out = Vec::new();
            write_field(&Value::Text(s.clone()), &mut out);
            prop_assert_eq!(unescape(&out), Some(s.into_bytes()));
        }
    }
}
