use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::StatsError;

/// Mann–Whitney U test (Wilcoxon rank-sum): are values from `a` systematically larger or smaller
/// than values from `b`? Robust to latency's long tails where a t-test is not.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U statistic of the first sample.
    pub u: f64,
    /// Normal approximation with tie and continuity correction.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Probability that a random value of `a` exceeds one of `b` (ties count half): 0.5 means
    /// no difference; the common-language effect size.
    pub prob_a_greater: f64,
    pub n1: usize,
    pub n2: usize,
}

pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> Result<MannWhitney, StatsError> {
    if a.is_empty() || b.is_empty() {
        return Err(StatsError::EmptySample("the Mann-Whitney U test"));
    }
    if a.iter().chain(b).any(|v| !v.is_finite()) {
        return Err(StatsError::NonFinite);
    }
    let (n1, n2) = (a.len(), b.len());
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, true))
        .chain(b.iter().map(|&v| (v, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1..=j+1 share their average.
        let avg_rank = (i + j + 2) as f64 / 2.0;
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        rank_sum_a += avg_rank * all[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let u = rank_sum_a - n1f * (n1f + 1.0) / 2.0;
    let mean = n1f * n2f / 2.0;
    let var = n1f * n2f / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)).max(1.0));
    let (z, p) = if var <= 0.0 {
        (0.0, 1.0)
    } else {
        let diff = u - mean;
        let corrected = (diff.abs() - 0.5).max(0.0) * diff.signum();
        let z = corrected / var.sqrt();
        let normal = Normal::standard();
        (z, (2.0 * (1.0 - normal.cdf(z.abs()))).clamp(0.0, 1.0))
    };
    Ok(MannWhitney {
        u,
        z,
        p_value: p,
        prob_a_greater: u / (n1f * n2f),
        n1,
        n2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_samples_differ() {
        let a: Vec<f64> = (0..200).map(|i| i as f64 + 50.0).collect();
        let b: Vec<f64> = (0..200).map(|i| i as f64).collect();
        let r = mann_whitney_u(&a, &b).unwrap();
        assert!(r.p_value < 1e-6, "{r:?}");
        assert!(r.prob_a_greater > 0.6);
    }

    #[test]
    fn same_distribution_does_not_differ() {
        let mut rng = fastrand::Rng::with_seed(3);
        let a: Vec<f64> = (0..500).map(|_| rng.f64()).collect();
        let b: Vec<f64> = (0..500).map(|_| rng.f64()).collect();
        let r = mann_whitney_u(&a, &b).unwrap();
        assert!(r.p_value > 0.01, "{r:?}");
        assert!((r.prob_a_greater - 0.5).abs() < 0.06);
    }

    #[test]
    fn textbook_example() {
        // Two small samples with a known U (computed by hand): a ranks 1,2,4 → R=7, U=1.
        let r = mann_whitney_u(&[1.0, 2.0, 4.0], &[3.0, 5.0, 6.0]).unwrap();
        assert_eq!(r.u, 1.0);
        let all_tied = mann_whitney_u(&[1.0, 1.0], &[1.0, 1.0]).unwrap();
        assert_eq!(all_tied.p_value, 1.0);
    }
}
