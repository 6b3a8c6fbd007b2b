//! HyperLogLog: distinct-count estimates in fixed memory (2^precision one-byte registers),
//! standard error about 1.04 / sqrt(2^precision) (0.8% at the default precision 14).

use serde::{Deserialize, Serialize};

/// A HyperLogLog sketch over 64-bit hashes (the caller hashes values; hashes must be uniform).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HyperLogLog {
    precision: u8,
    registers: Vec<u8>,
}

impl Default for HyperLogLog {
    fn default() -> Self {
        Self::new(14)
    }
}

impl HyperLogLog {
    /// A sketch with 2^`precision` registers; precision is clamped to 4..=18.
    pub fn new(precision: u8) -> Self {
        let p = precision.clamp(4, 18);
        Self {
            precision: p,
            registers: vec![0; 1 << p],
        }
    }

    /// Adds one hashed value.
    pub fn add_hash(&mut self, hash: u64) {
        let p = u32::from(self.precision);
        let idx = (hash >> (64 - p)) as usize;
        let rest = hash << p;
        let rank = if rest == 0 {
            64 - p + 1
        } else {
            rest.leading_zeros() + 1
        };
        let r = rank.min(255) as u8;
        if r > self.registers[idx] {
            self.registers[idx] = r;
        }
    }

    /// Merges another sketch of the same precision (others are ignored).
    pub fn merge(&mut self, other: &HyperLogLog) {
        if other.precision != self.precision {
            return;
        }
        for (a, b) in self.registers.iter_mut().zip(&other.registers) {
            *a = (*a).max(*b);
        }
    }

    /// The estimated number of distinct hashes added.
    pub fn estimate(&self) -> f64 {
        let m = self.registers.len() as f64;
        let alpha = match self.registers.len() {
            16 => 0.673,
            32 => 0.697,
            64 => 0.709,
            _ => 0.7213 / (1.0 + 1.079 / m),
        };
        let sum: f64 = self
            .registers
            .iter()
            .map(|&r| 2f64.powi(-i32::from(r)))
            .sum();
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        if raw <= 2.5 * m && zeros > 0 {
            // Small range: linear counting is exact enough and unbiased there.
            m * (m / zeros as f64).ln()
        } else {
            raw
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mix(mut x: u64) -> u64 {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    #[test]
    fn estimates_within_a_few_percent() {
        for n in [10u64, 1_000, 100_000] {
            let mut h = HyperLogLog::default();
            for i in 0..n {
                h.add_hash(mix(i));
                h.add_hash(mix(i)); // duplicates do not count
            }
            let e = h.estimate();
            assert!(
                (e - n as f64).abs() / (n as f64) < 0.05,
                "n={n} estimate={e}"
            );
        }
    }

    #[test]
    fn merge_is_a_union() {
        let (mut a, mut b) = (HyperLogLog::default(), HyperLogLog::default());
        for i in 0..5_000 {
            a.add_hash(mix(i));
            b.add_hash(mix(i + 2_500));
        }
        a.merge(&b);
        let e = a.estimate();
        assert!((e - 7_500.0).abs() / 7_500.0 < 0.05, "{e}");
        assert_eq!(HyperLogLog::new(14).estimate(), 0.0);
    }
}
