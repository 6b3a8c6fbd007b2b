//! Sampling primitives: keyed uniform hashes, strata with exact quotas, and the rare-value
//! tracker.

use std::collections::{HashMap, HashSet};

use crate::value::Value;

/// A uniform 64-bit number for a row, from the seed, a scope (table name, or empty when
/// sampling by a shared key column) and the hashed values. Same inputs, same number.
pub fn unit_hash(seed: u64, scope: &str, vals: &[&Value]) -> u64 {
    let mut buf = Vec::with_capacity(48);
    buf.extend_from_slice(&seed.to_le_bytes());
    buf.extend_from_slice(scope.as_bytes());
    buf.push(0);
    for v in vals {
        v.write_key(&mut buf);
    }
    let h = blake3::hash(&buf);
    let mut w = [0u8; 8];
    w.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(w)
}

/// True when `u` falls in the lowest `fraction` of the 64-bit range.
pub fn below_fraction(u: u64, fraction: f64) -> bool {
    if fraction >= 1.0 {
        return true;
    }
    if fraction <= 0.0 {
        return false;
    }
    (u as f64) < fraction * 18_446_744_073_709_551_616.0
}

/// Stratified sampling with exact quotas: in every stratum, the `round(fraction · n)` rows with
/// the smallest hashes (at least one row per non-empty stratum).
#[derive(Default)]
pub struct Strata {
    by: HashMap<String, Vec<(u64, u128)>>,
}

impl Strata {
    pub fn offer(&mut self, stratum: String, u: u64, id: u128) {
        self.by.entry(stratum).or_default().push((u, id));
    }

    /// Ids of the kept rows.
    pub fn settle(&mut self, fraction: f64) -> HashSet<u128> {
        let mut out = HashSet::new();
        for rows in self.by.values_mut() {
            let k = ((rows.len() as f64 * fraction).round() as usize).clamp(1, rows.len());
            rows.select_nth_unstable_by_key(k - 1, |r| r.0);
            out.extend(rows[..k].iter().map(|r| r.1));
        }
        out
    }
}

struct RareColumn {
    /// value → (kept rows with it, best candidate (u, id))
    values: HashMap<String, (u64, (u64, u128))>,
}

/// Watches low-cardinality columns while rows stream by; a column with more than
/// `max_distinct` values is dropped. At the end, every value with no kept row names the row
/// (smallest hash) to add.
pub struct RareTracker {
    cols: Vec<Option<RareColumn>>,
    max_distinct: usize,
}

impl RareTracker {
    pub fn new(n: usize, max_distinct: usize) -> Self {
        Self {
            cols: (0..n)
                .map(|_| {
                    Some(RareColumn {
                        values: HashMap::new(),
                    })
                })
                .collect(),
            max_distinct,
        }
    }

    pub fn offer(&mut self, values: &[Option<String>], u: u64, kept: bool, id: &Option<u128>) {
        let Some(id) = *id else { return };
        for (slot, v) in self.cols.iter_mut().zip(values) {
            let (Some(col), Some(v)) = (slot.as_mut(), v) else {
                continue;
            };
            if v.len() > 64 {
                *slot = None;
                continue;
            }
            if !col.values.contains_key(v) && col.values.len() >= self.max_distinct {
                *slot = None;
                continue;
            }
            let e = col.values.entry(v.clone()).or_insert((0, (u, id)));
            if kept {
                e.0 += 1;
            }
            if u < e.1.0 {
                e.1 = (u, id);
            }
        }
    }

    /// Ids of rows to add so that every value keeps a row.
    pub fn missing(&self) -> HashSet<u128> {
        self.cols
            .iter()
            .flatten()
            .flat_map(|c| {
                c.values
                    .values()
                    .filter(|(n, _)| *n == 0)
                    .map(|(_, (_, id))| *id)
            })
            .collect()
    }

    /// Indices of the columns still tracked (low cardinality).
    pub fn kept_columns(&self) -> Vec<usize> {
        self.cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_some())
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fraction_sampling_is_deterministic_and_close_to_the_share(seed in any::<u64>(), f in 0.05f64..0.95) {
            let n = 4000;
            let kept: Vec<bool> = (0..n).map(|i| below_fraction(unit_hash(seed, "t", &[&Value::Int(i)]), f)).collect();
            let again: Vec<bool> = (0..n).map(|i| below_fraction(unit_hash(seed, "t", &[&Value::Int(i)]), f)).collect();
            prop_assert_eq!(&kept, &again);
            let share = kept.iter().filter(|k| **k).count() as f64 / n as f64;
            // 6 standard deviations: fails by chance about once in 10^9 runs.
            let sd = (f * (1.0 - f) / n as f64).sqrt();
            prop_assert!((share - f).abs() < 6.0 * sd, "share {share} for {f}");
        }

        #[test]
        fn strata_get_exact_quotas(sizes in proptest::collection::vec(1usize..300, 1..8), f in 0.01f64..1.0) {
            let mut s = Strata::default();
            let mut id = 0u128;
            for (k, n) in sizes.iter().enumerate() {
                for _ in 0..*n {
                    id += 1;
                    s.offer(k.to_string(), unit_hash(1, "s", &[&Value::Int(id as i64)]), id);
                }
            }
            let kept = s.settle(f);
            let want: usize = sizes.iter().map(|n| ((*n as f64 * f).round() as usize).clamp(1, *n)).sum();
            prop_assert_eq!(kept.len(), want);
        }

        #[test]
        fn every_rare_value_gets_a_row(values in proptest::collection::vec(0u8..6, 1..400)) {
            let mut r = RareTracker::new(1, 32);
            let mut kept_vals = std::collections::HashSet::new();
            for (i, v) in values.iter().enumerate() {
                let kept = i % 7 == 0;
                if kept { kept_vals.insert(*v); }
                r.offer(&[Some(v.to_string())], unit_hash(0, "r", &[&Value::Int(i as i64)]), kept, &Some(i as u128));
            }
            let added = r.missing();
            let distinct: std::collections::HashSet<u8> = values.iter().copied().collect();
            prop_assert_eq!(added.len(), distinct.len() - kept_vals.len());
        }
    }

    #[test]
    fn high_cardinality_columns_are_dropped() {
        let mut r = RareTracker::new(1, 4);
        for i in 0..10 {
            r.offer(&[Some(i.to_string())], i, false, &Some(i as u128));
        }
        assert!(r.kept_columns().is_empty());
        assert!(r.missing().is_empty());
    }
}
