//! PostgreSQL binary wire format of the types the data engine decodes, masks and encodes.
//! Columns of other types travel as raw bytes.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::schema::Kind;
use crate::value::{Value, parse_date, parse_timestamp, parse_uuid};

/// Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch).
pub const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days between 1970-01-01 and 2000-01-01.
pub const PG_EPOCH_DAYS: i32 = 10_957;

pub mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const CIDR: u32 = 650;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const INET: u32 = 869;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// The logical kind of a PostgreSQL type. `text_like` covers enums and citext, whose binary
/// form is their text.
pub fn kind_of(type_oid: u32, text_like: bool) -> Kind {
    match type_oid {
        oid::BOOL => Kind::Bool,
        oid::INT2 | oid::INT4 | oid::INT8 | oid::OID => Kind::Int,
        oid::FLOAT4 | oid::FLOAT8 => Kind::Float,
        oid::NUMERIC => Kind::Decimal,
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::CHAR => Kind::Text,
        oid::BYTEA => Kind::Bytes,
        oid::DATE => Kind::Date,
        oid::TIME => Kind::Time,
        oid::TIMESTAMP => Kind::Timestamp,
        oid::TIMESTAMPTZ => Kind::TimestampTz,
        oid::UUID => Kind::Uuid,
        oid::JSON | oid::JSONB => Kind::Json,
        oid::INET | oid::CIDR => Kind::Inet,
        _ if text_like => Kind::Text,
        _ => Kind::Other,
    }
}

fn be_i64(b: &[u8]) -> Option<i64> {
    Some(i64::from_be_bytes(b.try_into().ok()?))
}

/// Decodes one non-NULL binary field of a column of type `type_oid` and `kind`. `None` when the
/// bytes do not fit the type (or the type is not decoded: `Kind::Other`).
pub fn decode(type_oid: u32, kind: Kind, b: &[u8]) -> Option<Value> {
    Some(match kind {
        Kind::Bool => Value::Bool(*b.first()? != 0),
        Kind::Int => Value::Int(match b.len() {
            2 => i64::from(i16::from_be_bytes(b.try_into().ok()?)),
            4 if type_oid == oid::OID => i64::from(u32::from_be_bytes(b.try_into().ok()?)),
            4 => i64::from(i32::from_be_bytes(b.try_into().ok()?)),
            8 => be_i64(b)?,
            _ => return None,
        }),
        Kind::Float => Value::Float(match b.len() {
            4 => f64::from(f32::from_be_bytes(b.try_into().ok()?)),
            8 => f64::from_be_bytes(b.try_into().ok()?),
            _ => return None,
        }),
        Kind::Decimal => Value::Decimal(decode_numeric(b)?),
        Kind::Text => Value::Text(std::str::from_utf8(b).ok()?.to_owned()),
        Kind::Bytes => Value::Bytes(b.to_vec()),
        Kind::Date => {
            Value::Date(i32::from_be_bytes(b.try_into().ok()?).saturating_add(PG_EPOCH_DAYS))
        }
        Kind::Timestamp => Value::Timestamp(be_i64(b)?.saturating_add(PG_EPOCH_MICROS)),
        Kind::TimestampTz => Value::TimestampTz(be_i64(b)?.saturating_add(PG_EPOCH_MICROS)),
        Kind::Time => {
            let us = be_i64(b)?;
            let s = us / 1_000_000;
            let mut t = format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
            if us % 1_000_000 != 0 {
                let _ = write!(t, ".{:06}", us % 1_000_000);
            }
            Value::Text(t)
        }
        Kind::Uuid => Value::Uuid(b.try_into().ok()?),
        Kind::Json => {
            let text = if type_oid == oid::JSONB {
                b.split_first().filter(|(v, _)| **v == 1)?.1
            } else {
                b
            };
            Value::Json(std::str::from_utf8(text).ok()?.to_owned())
        }
        Kind::Inet => Value::Inet(decode_inet(type_oid, b)?),
        Kind::Other => return None,
    })
}

/// Why a value could not be encoded for a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    pub expected: &'static str,
}

/// Appends the binary form of `v` (not NULL) for a column of `type_oid`/`kind`, converting text
/// (from SQLite) to the column's type where it parses.
// Long: one short match arm per PostgreSQL column type.
#[allow(clippy::too_many_lines)]
pub fn encode(type_oid: u32, kind: Kind, v: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let err = |expected| EncodeError { expected };
    match kind {
        Kind::Bool => {
            let b = match v {
                Value::Bool(b) => *b,
                Value::Int(i) => *i != 0,
                Value::Text(s) => matches!(
                    s.to_ascii_lowercase().as_str(),
                    "t" | "true" | "1" | "yes" | "y" | "on"
                ),
                _ => return Err(err("a boolean")),
            };
            out.push(u8::from(b));
        }
        Kind::Int => {
            let i = match v {
                Value::Int(i) => *i,
                Value::Bool(b) => i64::from(*b),
                Value::Float(f) if f.fract() == 0.0 => *f as i64,
                Value::Text(s) | Value::Decimal(s) => {
                    s.trim().parse().map_err(|_| err("an integer"))?
                }
                _ => return Err(err("an integer")),
            };
            match type_oid {
                oid::INT2 => out.extend_from_slice(
                    &i16::try_from(i)
                        .map_err(|_| err("a 16-bit integer"))?
                        .to_be_bytes(),
                ),
                oid::INT4 => out.extend_from_slice(
                    &i32::try_from(i)
                        .map_err(|_| err("a 32-bit integer"))?
                        .to_be_bytes(),
                ),
                oid::OID => out
                    .extend_from_slice(&u32::try_from(i).map_err(|_| err("an oid"))?.to_be_bytes()),
                _ => out.extend_from_slice(&i.to_be_bytes()),
            }
        }
        Kind::Float => {
            let f = match v {
                Value::Float(f) => *f,
                Value::Int(i) => *i as f64,
                Value::Text(s) | Value::Decimal(s) => {
                    s.trim().parse().map_err(|_| err("a number"))?
                }
                _ => return Err(err("a number")),
            };
            if type_oid == oid::FLOAT4 {
                out.extend_from_slice(&(f as f32).to_be_bytes());
            } else {
                out.extend_from_slice(&f.to_be_bytes());
            }
        }
        Kind::Decimal => {
            let s = match v {
                Value::Decimal(s) | Value::Text(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                _ => return Err(err("a decimal number")),
            };
            encode_numeric(&s, out).ok_or(err("a decimal number"))?;
        }
        Kind::Text => match v {
            Value::Text(s) => out.extend_from_slice(s.as_bytes()),
            other => {
                let mut s = String::new();
                other.write_text(&mut s);
                out.extend_from_slice(s.as_bytes());
            }
        },
        Kind::Bytes => match v {
            Value::Bytes(b) => out.extend_from_slice(b),
            Value::Text(s) => out.extend_from_slice(s.as_bytes()),
            _ => return Err(err("bytes")),
        },
        Kind::Date => {
            let d = match v {
                Value::Date(d) => *d,
                Value::Timestamp(t) | Value::TimestampTz(t) => t.div_euclid(86_400_000_000) as i32,
                Value::Text(s) => parse_date(s).ok_or(err("a YYYY-MM-DD date"))?,
                _ => return Err(err("a date")),
            };
            out.extend_from_slice(&(d - PG_EPOCH_DAYS).to_be_bytes());
        }
        Kind::Timestamp | Kind::TimestampTz => {
            let t = match v {
                Value::Timestamp(t) | Value::TimestampTz(t) => *t,
                Value::Date(d) => i64::from(*d) * 86_400_000_000,
                Value::Text(s) => parse_timestamp(s).ok_or(err("a timestamp"))?,
                _ => return Err(err("a timestamp")),
            };
            out.extend_from_slice(&(t - PG_EPOCH_MICROS).to_be_bytes());
        }
        Kind::Time => {
            let Value::Text(s) = v else {
                return Err(err("a time of day"));
            };
            let ts = parse_timestamp(&format!("1970-01-01 {s}")).ok_or(err("a time of day"))?;
            out.extend_from_slice(&ts.to_be_bytes());
        }
        Kind::Uuid => {
            let u = match v {
                Value::Uuid(u) => *u,
                Value::Text(s) => parse_uuid(s).ok_or(err("a UUID"))?,
                _ => return Err(err("a UUID")),
            };
            out.extend_from_slice(&u);
        }
        Kind::Json => {
            let s = match v {
                Value::Json(s) | Value::Text(s) => s.as_str(),
                _ => return Err(err("JSON text")),
            };
            if type_oid == oid::JSONB {
                out.push(1);
            }
            out.extend_from_slice(s.as_bytes());
        }
        Kind::Inet => {
            let s = match v {
                Value::Inet(s) | Value::Text(s) => s.as_str(),
                _ => return Err(err("an IP address")),
            };
            encode_inet(type_oid, s, out).ok_or(err("an IP address"))?;
        }
        Kind::Other => match v {
            Value::Bytes(b) => out.extend_from_slice(b),
            _ => return Err(err("the column's own binary form")),
        },
    }
    Ok(())
}

/// Decimal text of a binary `numeric`.
pub fn decode_numeric(b: &[u8]) -> Option<String> {
    let rd =
        |i: usize| -> Option<u16> { Some(u16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?)) };
    let ndigits = usize::from(rd(0)?);
    let weight = rd(2)? as i16 as i32;
    let sign = rd(4)?;
    let dscale = usize::from(rd(6)?);
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        0x0000 | 0x4000 => {}
        _ => return None,
    }
    let mut digits = Vec::with_capacity(ndigits);
    for i in 0..ndigits {
        let d = rd(8 + 2 * i)?;
        if d > 9999 {
            return None;
        }
        digits.push(d);
    }
    let digit = |i: i32| -> u16 {
        if i < 0 {
            0
        } else {
            digits.get(i as usize).copied().unwrap_or(0)
        }
    };
    let mut s = String::new();
    if sign == 0x4000 && digits.iter().any(|d| *d != 0) {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                let _ = write!(s, "{}", digit(i));
            } else {
                let _ = write!(s, "{:04}", digit(i));
            }
        }
    }
    if dscale > 0 {
        s.push('.');
        let mut frac = String::new();
        let mut k = 1;
        while frac.len() < dscale {
            let _ = write!(frac, "{:04}", digit(weight + k));
            k += 1;
        }
        frac.truncate(dscale);
        s.push_str(&frac);
    }
    Some(s)
}

/// Binary `numeric` of decimal text (`-12.3400`, `1e3` is not accepted).
pub fn encode_numeric(text: &str, out: &mut Vec<u8>) -> Option<()> {
    let t = text.trim();
    let special = match t {
        "NaN" => Some(0xC000u16),
        "Infinity" | "inf" => Some(0xD000),
        "-Infinity" | "-inf" => Some(0xF000),
        _ => None,
    };
    if let Some(sign) = special {
        for v in [0u16, 0, sign, 0] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        return Some(());
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let dscale = u16::try_from(frac_part.len()).ok()?;
    let int_part = int_part.trim_start_matches('0');
    let pad_left = (4 - int_part.len() % 4) % 4;
    let int_padded = format!("{}{int_part}", "0".repeat(pad_left));
    let pad_right = (4 - frac_part.len() % 4) % 4;
    let frac_padded = format!("{frac_part}{}", "0".repeat(pad_right));
    let mut groups: Vec<u16> = Vec::new();
    for chunk in int_padded
        .as_bytes()
        .chunks(4)
        .chain(frac_padded.as_bytes().chunks(4))
    {
        groups.push(std::str::from_utf8(chunk).ok()?.parse().ok()?);
    }
    let mut weight = (int_padded.len() / 4) as i32 - 1;
    // Strip leading zero groups (each lowers the weight) and trailing zero groups.
    let mut start = 0;
    while start < groups.len() && groups[start] == 0 {
        start += 1;
        weight -= 1;
    }
    let mut end = groups.len();
    while end > start && groups[end - 1] == 0 {
        end -= 1;
    }
    let digits = &groups[start..end];
    if digits.is_empty() {
        weight = 0;
    }
    let sign: u16 = if neg && !digits.is_empty() { 0x4000 } else { 0 };
    out.extend_from_slice(&u16::try_from(digits.len()).ok()?.to_be_bytes());
    out.extend_from_slice(&(i16::try_from(weight).ok()?).to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&dscale.to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
    Some(())
}

fn decode_inet(type_oid: u32, b: &[u8]) -> Option<String> {
    let (&family, rest) = b.split_first()?;
    let (&bits, rest) = rest.split_first()?;
    let (_is_cidr, rest) = rest.split_first()?;
    let (&nb, addr) = rest.split_first()?;
    let ip: IpAddr = match (family, nb) {
        (2, 4) => IpAddr::from(<[u8; 4]>::try_from(addr).ok()?),
        (3, 16) => IpAddr::from(<[u8; 16]>::try_from(addr).ok()?),
        _ => return None,
    };
    let full = if family == 2 { 32 } else { 128 };
    Some(if bits == full && type_oid != oid::CIDR {
        ip.to_string()
    } else {
        format!("{ip}/{bits}")
    })
}

fn encode_inet(type_oid: u32, s: &str, out: &mut Vec<u8>) -> Option<()> {
    let (addr, bits) = match s.trim().split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (s.trim(), None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let (family, full, bytes): (u8, u8, Vec<u8>) = match ip {
        IpAddr::V4(v) => (2, 32, v.octets().to_vec()),
        IpAddr::V6(v) => (3, 128, v.octets().to_vec()),
    };
    let bits = bits.unwrap_or(full);
    if bits > full {
        return None;
    }
    out.extend_from_slice(&[
        family,
        bits,
        u8::from(type_oid == oid::CIDR),
        bytes.len() as u8,
    ]);
    out.extend_from_slice(&bytes);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn numeric_round_trip(s: &str) -> String {
        let mut b = Vec::new();
        encode_numeric(s, &mut b).unwrap();
        decode_numeric(&b).unwrap()
    }

    #[test]
    fn numerics_round_trip() {
        for s in [
            "0",
            "1",
            "-1",
            "12.50",
            "0.0001",
            "123456789.987654321",
            "-0.5",
            "10000",
            "NaN",
            "0.00",
        ] {
            assert_eq!(numeric_round_trip(s), s);
        }
        assert_eq!(numeric_round_trip("007.10"), "7.10");
    }

    #[test]
    fn inet_round_trips() {
        for s in ["10.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32"] {
            let mut b = Vec::new();
            encode_inet(oid::INET, s, &mut b).unwrap();
            assert_eq!(decode_inet(oid::INET, &b).unwrap(), s);
        }
    }

    #[test]
    fn scalars_round_trip() {
        let cases = [
            (oid::INT2, Kind::Int, Value::Int(-7)),
            (oid::INT4, Kind::Int, Value::Int(70_000)),
            (oid::INT8, Kind::Int, Value::Int(i64::MIN)),
            (oid::FLOAT8, Kind::Float, Value::Float(2.5)),
            (oid::DATE, Kind::Date, Value::Date(19_000)),
            (
                oid::TIMESTAMPTZ,
                Kind::TimestampTz,
                Value::TimestampTz(1_700_000_000_123_456),
            ),
            (oid::JSONB, Kind::Json, Value::Json("{\"a\":1}".into())),
            (oid::BOOL, Kind::Bool, Value::Bool(true)),
            (oid::UUID, Kind::Uuid, Value::Uuid([7; 16])),
        ];
        for (o, k, v) in cases {
            let mut b = Vec::new();
            encode(o, k, &v, &mut b).unwrap();
            assert_eq!(decode(o, k, &b).unwrap(), v);
        }
        let mut b = Vec::new();
        assert!(encode(oid::INT2, Kind::Int, &Value::Int(1 << 20), &mut b).is_err());
    }

    proptest! {
        #[test]
        fn numeric_text_round_trips(int in "[1-9][0-9]{0,20}|0", frac in "[0-9]{0,12}", neg in any::<bool>()) {
            let s = if frac.is_empty() { int.clone() } else { format!("{int}.{frac}") };
            let s = if neg && s.bytes().any(|b| b != b'0' && b != b'.') { format!("-{s}") } else { s };
            prop_assert_eq!(numeric_round_trip(&s), s);
        }

        #[test]
        fn decoders_never_panic(b in proptest::collection::vec(any::<u8>(), 0..40), o in prop::sample::select(vec![oid::NUMERIC, oid::INET, oid::JSONB, oid::INT4, oid::DATE, oid::UUID, oid::TEXT])) {
            let _ = decode(o, kind_of(o, false), &b);
        }
    }
}
