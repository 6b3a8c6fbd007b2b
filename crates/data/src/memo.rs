//! A per-column memo of masked values for one table copy.
//!
//! Masks are deterministic (same key, same input, same output), and real columns repeat: names,
//! cities, streets, statuses, product names. Remembering the masked form of a repeated raw field
//! skips decoding, keyed hashing and re-encoding. The memo decides early whether it pays: a
//! column whose first values barely repeat (e-mails, card numbers, ids) stops using it, so unique
//! columns cost one hash per value for the probe window only. Memory is bounded by entry count and
//! bytes; once full, the memo keeps what it has (the most frequent values tend to arrive early).

use std::collections::HashMap;

use bytes::Bytes;

use crate::row::Field;
use crate::value::Value;

/// Lookups after which a memo with too few hits turns itself off.
const PROBE_LOOKUPS: u64 = 4096;
/// Share of hits in the probe window below which memoising is not worth its hashing.
const MIN_HIT_RATE: f64 = 0.2;
/// Bounds on what one column's memo holds.
const MAX_ENTRIES: usize = 65_536;
const MAX_BYTES: usize = 16 << 20;
/// Raw values longer than this are not memoised (JSON documents, long text).
const MAX_KEY_BYTES: usize = 256;

/// Memo of one column's masked values, keyed by the raw (undecoded) field bytes.
#[derive(Debug, Default)]
pub struct MaskMemo {
    map: HashMap<Bytes, Field>,
    bytes: usize,
    lookups: u64,
    hits: u64,
    off: bool,
}

impl MaskMemo {
    /// A memo; `enabled` false gives one that never stores (unique or shuffled columns).
    pub fn new(enabled: bool) -> Self {
        Self {
            off: !enabled,
            ..Self::default()
        }
    }

    /// The key of a field worth memoising, if any.
    fn key(f: &Field) -> Option<&Bytes> {
        match f {
            Field::Raw(b) if b.len() <= MAX_KEY_BYTES => Some(b),
            _ => None,
        }
    }

    /// The masked form of `f` remembered from an earlier row.
    pub fn get(&mut self, f: &Field) -> Option<Field> {
        if self.off {
            return None;
        }
        let k = Self::key(f)?;
        self.lookups += 1;
        let found = self.map.get(k).cloned();
        if found.is_some() {
            self.hits += 1;
        } else if self.lookups == PROBE_LOOKUPS
            && (self.hits as f64) < MIN_HIT_RATE * PROBE_LOOKUPS as f64
        {
            self.off = true;
            self.map = HashMap::new();
            self.bytes = 0;
        }
        found
    }

    /// Remembers that `f` masks to `out`.
    pub fn put(&mut self, f: &Field, out: &Field) {
        if self.off || self.map.len() >= MAX_ENTRIES {
            return;
        }
        let Some(k) = Self::key(f) else { return };
        let size = k.len() + field_bytes(out) + 64;
        if self.bytes + size > MAX_BYTES {
            return;
        }
        self.bytes += size;
        self.map.insert(k.clone(), out.clone());
    }

    /// Share of lookups answered from the memo.
    pub fn hit_rate(&self) -> f64 {
        if self.lookups == 0 {
            0.0
        } else {
            self.hits as f64 / self.lookups as f64
        }
    }

    /// True once the memo stopped (too few repeats, or never enabled).
    pub fn is_off(&self) -> bool {
        self.off
    }
}

fn field_bytes(f: &Field) -> usize {
    match f {
        Field::Null => 0,
        Field::Raw(b) => b.len(),
        Field::Val(v) => match v {
            Value::Text(s) | Value::Json(s) | Value::Decimal(s) | Value::Inet(s) => s.len(),
            Value::Bytes(b) => b.len(),
            _ => 16,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Field {
        Field::Raw(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn remembers_repeated_values() {
        let mut m = MaskMemo::new(true);
        assert_eq!(m.get(&raw("Paris")), None);
        m.put(&raw("Paris"), &Field::Val(Value::Text("Lyon".into())));
        assert_eq!(
            m.get(&raw("Paris")),
            Some(Field::Val(Value::Text("Lyon".into())))
        );
        assert_eq!(m.get(&raw("Rome")), None);
        assert!((m.hit_rate() - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn turns_off_when_values_do_not_repeat() {
        let mut m = MaskMemo::new(true);
        for i in 0..PROBE_LOOKUPS {
            let f = raw(&format!("user{i}@example.com"));
            assert!(m.get(&f).is_none());
            m.put(&f, &Field::Null);
        }
        assert!(m.is_off());
        // Once off it neither answers nor stores.
        let f = raw("user1@example.com");
        m.put(&f, &Field::Null);
        assert_eq!(m.get(&f), None);
    }

    #[test]
    fn stays_on_when_values_repeat() {
        let mut m = MaskMemo::new(true);
        for i in 0..PROBE_LOOKUPS * 2 {
            let f = raw(&format!("city{}", i % 10));
            if m.get(&f).is_none() {
                m.put(&f, &Field::Val(Value::Text("x".into())));
            }
        }
        assert!(!m.is_off());
        assert!(m.hit_rate() > 0.99);
    }

    #[test]
    fn disabled_memo_and_long_values_are_never_stored() {
        let mut m = MaskMemo::new(false);
        m.put(&raw("a"), &Field::Null);
        assert_eq!(m.get(&raw("a")), None);
        let mut m = MaskMemo::new(true);
        let long = raw(&"x".repeat(MAX_KEY_BYTES + 1));
        m.put(&long, &Field::Null);
        assert_eq!(m.get(&long), None);
    }
}
