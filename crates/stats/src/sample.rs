//! A sample as sorted distinct values with counts: raw latencies and HDR histogram buckets in one
//! shape, so rank statistics run in time proportional to the distinct values, not the requests
//! (a million requests in an HDR histogram are a few thousand distinct values).

use crate::error::StatsError;
use crate::histogram::LatencyHistogram;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sample {
    values: Vec<f64>,
    counts: Vec<u64>,
    /// Running totals: `cumulative[i]` = counts of values `0..=i`.
    cumulative: Vec<u64>,
}

impl Sample {
    /// From raw values; NaN or infinity is refused.
    pub fn from_values(values: &[f64]) -> Result<Self, StatsError> {
        Self::from_counts(values.iter().map(|&v| (v, 1)))
    }

    /// From `(value, count)` pairs in any order; duplicates are merged, zero counts dropped,
    /// NaN or infinity refused.
    pub fn from_counts(pairs: impl IntoIterator<Item = (f64, u64)>) -> Result<Self, StatsError> {
        let mut pairs: Vec<(f64, u64)> = pairs.into_iter().filter(|p| p.1 > 0).collect();
        if pairs.iter().any(|p| !p.0.is_finite()) {
            return Err(StatsError::NonFinite);
        }
        pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut values: Vec<f64> = Vec::with_capacity(pairs.len());
        let mut counts: Vec<u64> = Vec::with_capacity(pairs.len());
        for (v, c) in pairs {
            // -0.0 and 0.0 are one value.
            match (values.last(), counts.last_mut()) {
                (Some(&last), Some(n)) if last == v => *n = n.saturating_add(c),
                _ => {
                    values.push(v);
                    counts.push(c);
                }
            }
        }
        let mut total = 0u64;
        let cumulative = counts
            .iter()
            .map(|&c| {
                total = total.saturating_add(c);
                total
            })
            .collect();
        Ok(Sample {
            values,
            counts,
            cumulative,
        })
    }

    /// A latency histogram's recorded values, in milliseconds.
    pub fn from_histogram(h: &LatencyHistogram) -> Self {
        // Histogram values are finite by construction.
        Self::from_counts(h.buckets_ms()).unwrap_or_default()
    }

    /// Number of observations.
    pub fn len(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Distinct values, ascending.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Count of each distinct value.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    pub fn min(&self) -> Option<f64> {
        self.values.first().copied()
    }

    pub fn max(&self) -> Option<f64> {
        self.values.last().copied()
    }

    /// The `rank`-th smallest observation (1-based), `None` outside `1..=len`.
    pub fn value_at_rank(&self, rank: u64) -> Option<f64> {
        if rank == 0 || rank > self.len() {
            return None;
        }
        let i = self.cumulative.partition_point(|&c| c < rank);
        self.values.get(i).copied()
    }

    /// Quantile `q` by linear interpolation between closest ranks (type 7, as `quantile_sorted`).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.len();
        if n == 0 || q.is_nan() {
            return None;
        }
        let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
        let lo = h.floor();
        let a = self.value_at_rank(lo as u64 + 1)?;
        let b = self.value_at_rank((lo as u64 + 2).min(n))?;
        Some(a + (b - a) * (h - lo))
    }

    /// The same counts under an increasing map (used for the log scale).
    pub(crate) fn map_increasing(&self, f: impl Fn(f64) -> f64) -> Sample {
        Sample {
            values: self.values.iter().map(|&v| f(v)).collect(),
            counts: self.counts.clone(),
            cumulative: self.cumulative.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_ranks() {
        let s = Sample::from_counts([(3.0, 2), (1.0, 1), (3.0, 1), (2.0, 0)]).unwrap();
        assert_eq!(s.values(), &[1.0, 3.0]);
        assert_eq!(s.counts(), &[1, 3]);
        assert_eq!(s.len(), 4);
        assert_eq!(s.value_at_rank(1), Some(1.0));
        assert_eq!(s.value_at_rank(2), Some(3.0));
        assert_eq!(s.value_at_rank(5), None);
        assert_eq!(s.value_at_rank(0), None);
        assert!(Sample::from_values(&[1.0, f64::NAN]).is_err());
    }

    #[test]
    fn quantiles_match_the_sorted_slice_version() {
        let raw = [5.0, 1.0, 4.0, 4.0, 2.0, 9.0, 7.0];
        let s = Sample::from_values(&raw).unwrap();
        let mut sorted = raw.to_vec();
        sorted.sort_by(f64::total_cmp);
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(s.quantile(q), crate::quantile_sorted(&sorted, q), "{q}");
        }
        assert_eq!(Sample::default().quantile(0.5), None);
    }
}
