//! Prometheus-style cumulative histogram buckets: validation, the `histogram_quantile`
//! interpolation, and where an order statistic can lie given only its bucket.

use serde::{Deserialize, Serialize};

use crate::error::{Side, StatsError};

/// A cumulative histogram as Prometheus exposes it: `bounds[i]` is bucket `i`'s `le`,
/// ascending and ending with `+Inf`; `cumulative[i]` counts observations `≤ bounds[i]` (read
/// with `increase()` over the window).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buckets {
    pub bounds: Vec<f64>,
    pub cumulative: Vec<u64>,
}

impl Buckets {
    pub fn new(bounds: Vec<f64>, cumulative: Vec<u64>) -> Self {
        Buckets { bounds, cumulative }
    }

    /// Bucketed from raw observations (tests and simulations): each value is counted in the first
    /// bucket whose bound is at least the value. `bounds` must end with `+Inf`.
    pub fn from_values(bounds: &[f64], values: &[f64]) -> Self {
        let mut counts = vec![0u64; bounds.len()];
        for &v in values {
            let i = bounds.partition_point(|&b| b < v);
            if let Some(c) = counts.get_mut(i) {
                *c += 1;
            }
        }
        let mut total = 0;
        let cumulative = counts
            .into_iter()
            .map(|c| {
                total += c;
                total
            })
            .collect();
        Buckets {
            bounds: bounds.to_vec(),
            cumulative,
        }
    }

    /// Observations in all buckets.
    pub fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// Refuse what Prometheus would never produce.
    pub fn check(&self, side: Side) -> Result<(), StatsError> {
        if self.bounds.is_empty() {
            return Err(StatsError::NoBuckets { side });
        }
        if self.bounds.len() != self.cumulative.len() {
            return Err(StatsError::BucketShape {
                side,
                bounds: self.bounds.len(),
                counts: self.cumulative.len(),
            });
        }
        for (i, &b) in self.bounds.iter().enumerate() {
            let increasing = i == 0 || b > self.bounds[i - 1];
            if b.is_nan() || !increasing || b == f64::NEG_INFINITY {
                return Err(StatsError::BucketBoundsNotIncreasing {
                    side,
                    index: i,
                    bound: b,
                });
            }
        }
        if let Some(&last) = self.bounds.last()
            && last != f64::INFINITY
        {
            return Err(StatsError::MissingInfBucket { side, bound: last });
        }
        for i in 1..self.cumulative.len() {
            if self.cumulative[i] < self.cumulative[i - 1] {
                return Err(StatsError::CumulativeDecreasing {
                    side,
                    index: i,
                    previous: self.cumulative[i - 1],
                    count: self.cumulative[i],
                });
            }
        }
        Ok(())
    }

    /// Count in each bucket.
    pub fn counts(&self) -> Vec<u64> {
        let mut prev = 0;
        self.cumulative
            .iter()
            .map(|&c| {
                let d = c.saturating_sub(prev);
                prev = c;
                d
            })
            .collect()
    }

    /// Lower edge of bucket `i`: the previous bound; for the first bucket 0 when its bound is
    /// positive (Prometheus' assumption for latencies), else −∞.
    fn lower_edge(&self, i: usize) -> f64 {
        match i {
            0 => {
                if self.bounds.first().is_some_and(|&b| b > 0.0) {
                    0.0
                } else {
                    f64::NEG_INFINITY
                }
            }
            _ => self.bounds[i - 1],
        }
    }

    /// Index of the bucket holding the `rank`-th observation (1-based).
    fn bucket_of_rank(&self, rank: u64) -> Option<usize> {
        if rank == 0 || rank > self.total() {
            return None;
        }
        Some(self.cumulative.partition_point(|&c| c < rank))
    }

    /// The edges `[lower, upper]` of the bucket that holds the `rank`-th observation: all that
    /// buckets say about it.
    pub(crate) fn rank_edges(&self, rank: u64) -> Option<(f64, f64)> {
        let i = self.bucket_of_rank(rank)?;
        Some((self.lower_edge(i), self.bounds[i]))
    }

    /// The `q`-quantile as Prometheus' `histogram_quantile` computes it: linear interpolation
    /// inside the bucket holding rank `q·total`; the `+Inf` bucket answers with the last finite
    /// bound. `None` without observations or with fewer than two buckets.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.total();
        if total == 0 || self.bounds.len() < 2 || q.is_nan() {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let i = self.cumulative.partition_point(|&c| (c as f64) < rank);
        let i = i.min(self.bounds.len() - 1);
        if i == self.bounds.len() - 1 {
            return Some(self.bounds[i - 1]);
        }
        if i == 0 && self.bounds[0] <= 0.0 {
            return Some(self.bounds[0]);
        }
        let start = self.lower_edge(i);
        let end = self.bounds[i];
        let below = if i == 0 { 0 } else { self.cumulative[i - 1] };
        let count = self.cumulative[i] - below;
        if count == 0 {
            return Some(end);
        }
        Some(start + (end - start) * (rank - below as f64) / count as f64)
    }
}

/// Refuse to compare histograms whose buckets differ: their counts do not measure the same thing.
pub(crate) fn check_same_bounds(production: &Buckets, staging: &Buckets) -> Result<(), StatsError> {
    if production.bounds.len() != staging.bounds.len() {
        return Err(StatsError::BucketCountDiffers {
            production: production.bounds.len(),
            staging: staging.bounds.len(),
        });
    }
    for (i, (&p, &s)) in production.bounds.iter().zip(&staging.bounds).enumerate() {
        if p != s {
            return Err(StatsError::BucketBoundDiffers {
                index: i,
                production: p,
                staging: s,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prom() -> Buckets {
        // le: 0.1, 0.25, 0.5, 1, +Inf with 10, 20, 30, 40, 40 observations below.
        Buckets::new(
            vec![0.1, 0.25, 0.5, 1.0, f64::INFINITY],
            vec![10, 20, 30, 40, 40],
        )
    }

    #[test]
    fn quantiles_interpolate_like_prometheus() {
        let b = prom();
        b.check(Side::Production).unwrap();
        // rank 20 of 40 is the top of the second bucket.
        assert!((b.quantile(0.5).unwrap() - 0.25).abs() < 1e-12);
        // rank 5 is halfway through the first bucket, which starts at 0.
        assert!((b.quantile(0.125).unwrap() - 0.05).abs() < 1e-12);
        // rank 36 is 6/10 of the way through (0.5, 1].
        assert!((b.quantile(0.9).unwrap() - 0.8).abs() < 1e-12);
        assert_eq!(b.rank_edges(11), Some((0.1, 0.25)));
        assert_eq!(b.rank_edges(1), Some((0.0, 0.1)));
        assert_eq!(b.rank_edges(41), None);
        let mut inf = prom();
        inf.cumulative = vec![1, 1, 1, 1, 5];
        assert_eq!(inf.quantile(0.9), Some(1.0));
        assert_eq!(inf.rank_edges(5), Some((1.0, f64::INFINITY)));
    }

    #[test]
    fn malformed_buckets_are_refused() {
        let mut b = prom();
        b.cumulative[2] = 5;
        assert!(matches!(
            b.check(Side::Staging),
            Err(StatsError::CumulativeDecreasing { index: 2, .. })
        ));
        let mut b = prom();
        b.bounds[4] = 2.0;
        assert!(matches!(
            b.check(Side::Staging),
            Err(StatsError::MissingInfBucket { .. })
        ));
        let mut b = prom();
        b.bounds[1] = 0.1;
        assert!(matches!(
            b.check(Side::Staging),
            Err(StatsError::BucketBoundsNotIncreasing { index: 1, .. })
        ));
        let mut other = prom();
        other.bounds[2] = 0.6;
        assert!(matches!(
            check_same_bounds(&prom(), &other),
            Err(StatsError::BucketBoundDiffers { index: 2, .. })
        ));
    }

    #[test]
    fn from_values_counts_on_the_le_side() {
        let b = Buckets::from_values(&[1.0, 2.0, f64::INFINITY], &[0.5, 1.0, 1.5, 9.0]);
        assert_eq!(b.cumulative, vec![2, 3, 4]);
    }
}
