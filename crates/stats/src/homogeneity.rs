//! Chi-square test of homogeneity for two histograms' bucket counts, with sparse buckets merged.
//!
//! The chi-square approximation needs expected counts of about 5 or more in every cell (Cochran
//! 1954); latency tails are sparse, so adjacent buckets are merged from the left until each
//! group expects at least 5 on both sides, and a short remainder joins the last group. This is an
//! *equality* test: with a million requests it finds any difference, however small, so verdicts
//! come from the quantile margins and this result says only whether the shapes differ at all.

use serde::{Deserialize, Serialize};

use crate::proportions::chi_square_homogeneity;

/// Minimum expected count per merged group and side.
const MIN_EXPECTED: f64 = 5.0;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Homogeneity {
    pub statistic: f64,
    pub df: usize,
    /// p-value of "both histograms come from the same distribution".
    pub p_value: f64,
    /// Groups left after merging sparse buckets.
    pub groups: usize,
    /// Total variation distance between the two bucket distributions, unmerged (0 same, 1
    /// disjoint).
    pub total_variation: f64,
}

/// Sum of counts without overflow.
fn total(v: &[u64]) -> f64 {
    v.iter().map(|&c| c as f64).sum()
}

/// Merge adjacent buckets until each group's smaller expected count reaches `MIN_EXPECTED`.
fn merge(a: &[u64], b: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let (ta, tb) = (total(a), total(b));
    let share = ta.min(tb) / (ta + tb).max(1.0);
    let (mut ga, mut gb) = (Vec::new(), Vec::new());
    let (mut ca, mut cb) = (0u64, 0u64);
    for (&x, &y) in a.iter().zip(b) {
        ca = ca.saturating_add(x);
        cb = cb.saturating_add(y);
        if (ca as f64 + cb as f64) * share >= MIN_EXPECTED {
            ga.push(ca);
            gb.push(cb);
            ca = 0;
            cb = 0;
        }
    }
    if ca > 0 || cb > 0 {
        match (ga.last_mut(), gb.last_mut()) {
            (Some(la), Some(lb)) => {
                *la = la.saturating_add(ca);
                *lb = lb.saturating_add(cb);
            }
            _ => {
                ga.push(ca);
                gb.push(cb);
            }
        }
    }
    (ga, gb)
}

/// Compare two rows of bucket counts (same buckets, same order).
pub fn bucket_homogeneity(a: &[u64], b: &[u64]) -> Homogeneity {
    let (ga, gb) = merge(a, b);
    let (statistic, df, p_value) = chi_square_homogeneity(&ga, &gb);
    let (ta, tb) = (total(a), total(b));
    let total_variation = if ta == 0.0 || tb == 0.0 {
        if ta == tb { 0.0 } else { 1.0 }
    } else {
        0.5 * a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (x as f64 / ta - y as f64 / tb).abs())
            .sum::<f64>()
    };
    Homogeneity {
        statistic,
        df,
        p_value,
        groups: ga.len(),
        total_variation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_tails_are_merged() {
        let a = [500, 300, 150, 40, 6, 3, 1, 0];
        let b = [50, 30, 15, 4, 1, 0, 0, 0];
        let h = bucket_homogeneity(&a, &b);
        assert!(h.groups < a.len(), "{h:?}");
        assert!(h.p_value > 0.5, "{h:?}");
        assert!(h.total_variation < 0.02);
        let shifted = bucket_homogeneity(&a, &[5, 30, 60, 4, 1, 0, 0, 0]);
        assert!(shifted.p_value < 1e-6, "{shifted:?}");
        assert_eq!(bucket_homogeneity(&[0, 0], &[0, 0]).p_value, 1.0);
    }
}
