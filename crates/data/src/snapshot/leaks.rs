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
    /// Written as one string of 16 hex digits per hash (`packed_hashes`).
    #[serde(with = "packed_hashes")]
    pub hashes: Vec<u64>,
}

/// A column's hashes in `leaks.json`: one string, 16 lowercase hex digits per hash, in order
/// (format `/3`). As a JSON array of numbers (`/1`, `/2`, still read) the 300,000 hashes of the
/// bench database took about 20 ms to write and as long to read, each on the one core the
/// dump's end and the restore's start run on; the string is a third smaller and a plain loop.
/// Read either way, the hashes come back sorted: the restore looks them up by binary search,
/// and an unsorted list would miss leaks rather than fail.
mod packed_hashes {
    use serde::de::{self, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    const HEX: &[u8; 16] = b"0123456789abcdef";

    pub fn serialize<S: Serializer>(hashes: &[u64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(hashes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        let mut hashes = d.deserialize_any(Packed)?;
        if !hashes.is_sorted() {
            hashes.sort_unstable();
        }
        Ok(hashes)
    }

    pub(super) fn encode(hashes: &[u64]) -> String {
        let mut out = Vec::with_capacity(hashes.len() * 16);
        for h in hashes {
            for b in h.to_be_bytes() {
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        // Only ASCII hex digits were pushed.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Each byte's hex value, or 0xff for a byte that is not a lowercase hex digit.
    const VALUE: [u8; 256] = {
        let mut t = [0xffu8; 256];
        let mut i = 0;
        while i < 16 {
            t[HEX[i] as usize] = i as u8;
            i += 1;
        }
        t
    };

    pub(super) fn decode(s: &str) -> Result<Vec<u64>, String> {
        let b = s.as_bytes();
        if b.len() % 16 != 0 {
            return Err(format!(
                "{} hex digits of hashes, not a multiple of 16",
                b.len()
            ));
        }
        // A table lookup per digit and one check per hash: a closure returning a `Result` per
        // digit made this the restore's slowest step before it touched PostgreSQL (17 ms).
        let mut out = Vec::with_capacity(b.len() / 16);
        for chunk in b.chunks_exact(16) {
            let (mut h, mut bad) = (0u64, 0u8);
            for &c in chunk {
                let d = VALUE[usize::from(c)];
                bad |= d;
                h = (h << 4) | u64::from(d & 0x0f);
            }
            if bad & 0xf0 != 0 {
                let c = chunk
                    .iter()
                    .find(|&&c| VALUE[usize::from(c)] == 0xff)
                    .copied()
                    .unwrap_or(b'?');
                return Err(format!(
                    "`{}` in the hashes is not a lowercase hex digit",
                    char::from(c)
                ));
            }
            out.push(h);
        }
        Ok(out)
    }

    struct Packed;

    impl<'de> Visitor<'de> for Packed {
        type Value = Vec<u64>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string of 16 hex digits per hash, or an array of numbers")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u64>, E> {
            decode(v).map_err(E::custom)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u64>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(h) = seq.next_element()? {
                out.push(h);
            }
            Ok(out)
        }
    }
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

impl LeakHashes {
    /// The columns the hashes cannot judge, as results publish them.
    pub fn published_not_checked(&self) -> Vec<prodlike_results::data::snapshot::LeakNotChecked> {
        self.not_checked
            .iter()
            .map(|n| prodlike_results::data::snapshot::LeakNotChecked {
                table: n.table.clone(),
                column: n.column.clone(),
                reason: n.reason.clone(),
            })
            .collect()
    }
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
    use proptest::prelude::*;

    fn column(hashes: Vec<u64>) -> LeakColumn {
        LeakColumn {
            table: "users".into(),
            column: "email".into(),
            key: vec!["id".into()],
            hashes,
        }
    }

    proptest! {
        #[test]
        fn packed_hashes_read_back_sorted(mut hashes in proptest::collection::vec(any::<u64>(), 0..64)) {
            let json = serde_json::to_string(&column(hashes.clone())).unwrap();
            let back: LeakColumn = serde_json::from_str(&json).unwrap();
            hashes.sort_unstable();
            prop_assert_eq!(back.hashes, hashes);
        }

        #[test]
        fn a_packed_string_of_any_text_is_read_or_refused_never_a_panic(s in ".{0,80}") {
            let json = serde_json::json!({"table": "t", "column": "c", "key": [], "hashes": s});
            let r = serde_json::from_value::<LeakColumn>(json);
            if let Ok(c) = r {
                prop_assert_eq!(c.hashes.len() * 16, s.len());
            }
        }
    }

    #[test]
    fn hashes_of_earlier_formats_as_arrays_of_numbers_are_still_read() {
        let old = r#"{"table":"users","column":"email","key":["id"],"hashes":[18446744073709551615,7,3]}"#;
        let c: LeakColumn = serde_json::from_str(old).unwrap();
        assert_eq!(c.hashes, vec![3, 7, u64::MAX]);
    }

    #[test]
    fn packed_hashes_are_sixteen_hex_digits_each_in_order() {
        let json = serde_json::to_value(column(vec![1, 0xfedc_ba98_7654_3210])).unwrap();
        assert_eq!(json["hashes"], "0000000000000001fedcba9876543210");
        for bad in ["000000000000001", "000000000000000G", "00000000000000A1"] {
            let v = serde_json::json!({"table": "t", "column": "c", "key": [], "hashes": bad});
            assert!(serde_json::from_value::<LeakColumn>(v).is_err(), "{bad}");
        }
    }

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
