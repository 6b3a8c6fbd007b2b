//! One owned value, whatever the engine: what masking, sampling keys, profiles and SQLite rows
//! work on. PostgreSQL rows stay in their binary form until a column needs decoding.

use std::fmt::Write as _;

use prodlike_common::date;

/// A column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since 1970-01-01T00:00:00 (local time, no zone).
    Timestamp(i64),
    /// Microseconds since 1970-01-01T00:00:00Z.
    TimestampTz(i64),
    Uuid([u8; 16]),
    /// JSON text.
    Json(String),
    /// Exact decimal as text.
    Decimal(String),
    /// IP address or network as text (`10.0.0.1`, `10.0.0.0/8`).
    Inet(String),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A number for distribution statistics (KS, quantiles): numbers, dates (days), timestamps
    /// (seconds), booleans (0/1). Text that is an ISO date or a number counts too (SQLite).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) if f.is_finite() => Some(*f),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Date(d) => Some(f64::from(*d)),
            Value::Timestamp(t) | Value::TimestampTz(t) => Some(*t as f64 / 1e6),
            Value::Decimal(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// Text form used for categories, shapes, leak checks and writing to SQLite.
    pub fn to_text(&self) -> Option<String> {
        let mut s = String::new();
        self.write_text(&mut s).then_some(s)
    }

    /// Appends the text form; false for NULL.
    pub fn write_text(&self, out: &mut String) -> bool {
        match self {
            Value::Null => return false,
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => {
                let _ = write!(out, "{f}");
            }
            Value::Text(s) | Value::Json(s) | Value::Decimal(s) | Value::Inet(s) => out.push_str(s),
            Value::Bytes(b) => {
                out.push_str("\\x");
                for x in b {
                    let _ = write!(out, "{x:02x}");
                }
            }
            Value::Date(d) => push_date(*d, out),
            Value::Timestamp(t) => push_timestamp(*t, out),
            Value::TimestampTz(t) => {
                push_timestamp(*t, out);
                out.push_str("+00");
            }
            Value::Uuid(u) => push_uuid(u, out),
        }
        true
    }

    /// Appends a canonical, type-tagged encoding used to hash keys: an `int4` foreign key and
    /// the `int8` key it references encode the same.
    pub fn write_key(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.push(0),
            Value::Int(i) => {
                out.push(1);
                out.extend_from_slice(&i.to_le_bytes());
            }
            Value::Uuid(u) => {
                out.push(2);
                out.extend_from_slice(u);
            }
            Value::Bytes(b) => {
                out.push(3);
                out.extend_from_slice(&(b.len() as u64).to_le_bytes());
                out.extend_from_slice(b);
            }
            other => {
                let mut s = String::new();
                other.write_text(&mut s);
                // Integers stored as text (SQLite) hash like integers.
                if let Ok(i) = s.parse::<i64>()
                    && i.to_string() == s
                {
                    out.push(1);
                    out.extend_from_slice(&i.to_le_bytes());
                    return;
                }
                out.push(4);
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
}

/// 128-bit hash of a key tuple (collisions are not a practical concern at 2^-128).
pub fn key_hash(values: &[&Value]) -> u128 {
    let mut buf = Vec::with_capacity(32);
    for v in values {
        v.write_key(&mut buf);
    }
    let h = blake3::hash(&buf);
    let mut w = [0u8; 16];
    w.copy_from_slice(&h.as_bytes()[..16]);
    u128::from_le_bytes(w)
}

fn push_date(days: i32, out: &mut String) {
    date::write_ymd(i64::from(days), out);
}

fn push_timestamp(micros: i64, out: &mut String) {
    let days = micros.div_euclid(86_400_000_000);
    let rem = micros.rem_euclid(86_400_000_000);
    push_date(days as i32, out);
    // `rem` is in 0..86_400_000_000: every field below fits its width.
    let secs = rem.unsigned_abs() / 1_000_000;
    let frac = rem.unsigned_abs() % 1_000_000;
    out.push(' ');
    date::push_digits(out, secs / 3600, 2);
    out.push(':');
    date::push_digits(out, (secs / 60) % 60, 2);
    out.push(':');
    date::push_digits(out, secs % 60, 2);
    if frac != 0 {
        out.push('.');
        date::push_digits(out, frac, 6);
    }
}

fn push_uuid(u: &[u8; 16], out: &mut String) {
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{b:02x}");
    }
}

/// Parses `YYYY-MM-DD` (anything after the date is ignored) into days since 1970.
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    let d: u32 = s.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    i32::try_from(date::days_from_civil(y, m, d)).ok()
}

/// Parses `YYYY-MM-DD[ T]HH:MM:SS[.ffffff]` (zone suffix ignored) into microseconds since 1970.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let days = i64::from(parse_date(s)?);
    let rest = s.get(10..).unwrap_or("");
    let rest = rest.strip_prefix([' ', 'T']).unwrap_or("");
    let mut micros = 0i64;
    if rest.len() >= 8 {
        let h: i64 = rest.get(0..2)?.parse().ok()?;
        let mi: i64 = rest.get(3..5)?.parse().ok()?;
        let se: i64 = rest.get(6..8)?.parse().ok()?;
        micros = ((h * 60 + mi) * 60 + se) * 1_000_000;
        if let Some(frac) = rest.get(8..).and_then(|f| f.strip_prefix('.')) {
            let digits: String = frac
                .chars()
                .take_while(char::is_ascii_digit)
                .take(6)
                .collect();
            if !digits.is_empty() {
                let scale = 10i64.pow(6 - digits.len() as u32);
                micros += digits.parse::<i64>().ok()? * scale;
            }
        }
    }
    Some(days * 86_400_000_000 + micros)
}

/// Parses a UUID in its usual hyphenated or plain hex form.
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = s.bytes().filter(|b| *b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// The number statistics use for `v` in a column of `kind`: like [`Value::as_f64`], plus ISO
/// dates and timestamps and numbers stored as text (SQLite keeps those as text).
pub fn stat_number(v: &Value, kind: crate::schema::Kind) -> Option<f64> {
    use crate::schema::Kind;
    if let Some(x) = v.as_f64() {
        return Some(x);
    }
    let Value::Text(s) = v else { return None };
    match kind {
        Kind::Date => parse_date(s).map(f64::from),
        Kind::Timestamp | Kind::TimestampTz => parse_timestamp(s).map(|m| m as f64 / 1e6),
        Kind::Int | Kind::Float | Kind::Decimal => {
            s.trim().parse::<f64>().ok().filter(|f| f.is_finite())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_round_trip_through_text() {
        for d in [-719_468, -1, 0, 1, 10_957, 19_000, 2_932_896] {
            let t = Value::Date(d).to_text().unwrap();
            assert_eq!(parse_date(&t), Some(d), "{t}");
        }
        assert_eq!(Value::Date(0).to_text().unwrap(), "1970-01-01");
        assert_eq!(
            Value::Timestamp(86_400_000_000 + 3_723_000_001)
                .to_text()
                .unwrap(),
            "1970-01-02 01:02:03.000001"
        );
    }

    #[test]
    fn int_keys_hash_alike_across_widths_and_text() {
        assert_eq!(
            key_hash(&[&Value::Int(42)]),
            key_hash(&[&Value::Text("42".into())])
        );
        assert_ne!(
            key_hash(&[&Value::Int(42)]),
            key_hash(&[&Value::Text("042".into())])
        );
        assert_ne!(
            key_hash(&[&Value::Int(1), &Value::Int(23)]),
            key_hash(&[&Value::Int(12), &Value::Int(3)])
        );
    }

    proptest! {
        #[test]
        fn timestamps_round_trip(m in -62_135_596_800_000_000i64..253_402_300_799_000_000i64) {
            let t = Value::Timestamp(m).to_text().unwrap();
            prop_assert_eq!(parse_timestamp(&t), Some(m));
        }

        #[test]
        fn timestamps_are_written_as_formatting_writes_them(m in -62_135_596_800_000_000i64..253_402_300_799_000_000i64) {
            let (days, rem) = (m.div_euclid(86_400_000_000), m.rem_euclid(86_400_000_000));
            let (secs, frac) = (rem / 1_000_000, rem % 1_000_000);
            let mut want = String::new();
            date::write_ymd(days, &mut want);
            let _ = write!(want, " {:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60);
            if frac != 0 {
                let _ = write!(want, ".{frac:06}");
            }
            prop_assert_eq!(Value::Timestamp(m).to_text(), Some(want));
        }

        #[test]
        fn uuid_round_trips(b in proptest::array::uniform16(any::<u8>())) {
            let t = Value::Uuid(b).to_text().unwrap();
            prop_assert_eq!(parse_uuid(&t), Some(b));
        }

        #[test]
        fn date_parser_never_panics(s in ".{0,30}") {
            let _ = parse_timestamp(&s);
            let _ = parse_uuid(&s);
        }
    }
}
