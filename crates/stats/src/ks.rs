use serde::{Deserialize, Serialize};

use crate::StatsError;

/// Result of a Kolmogorov–Smirnov test: the statistic D (largest gap between the two CDFs, in
/// 0..=1), the asymptotic p-value, and the sample sizes it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KsResult {
    pub statistic: f64,
    pub p_value: f64,
    pub n1: usize,
    /// Size of the second sample; 0 for a one-sample test against a distribution.
    pub n2: usize,
}

fn sorted_finite(sample: &[f64]) -> Result<Vec<f64>, StatsError> {
    if sample.iter().any(|v| !v.is_finite()) {
        return Err(StatsError::NonFinite);
    }
    let mut v = sample.to_vec();
    v.sort_by(f64::total_cmp);
    Ok(v)
}

/// Two-sample KS test. Ties are handled by advancing both samples past equal values together, so
/// identical samples give D = 0.
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> Result<KsResult, StatsError> {
    if a.is_empty() || b.is_empty() {
        return Err(StatsError::EmptySample("the two-sample KS test"));
    }
    let a = sorted_finite(a)?;
    let b = sorted_finite(b)?;
    let (n1, n2) = (a.len(), b.len());
    let (mut i, mut j) = (0usize, 0usize);
    let mut d: f64 = 0.0;
    while i < n1 && j < n2 {
        let x = a[i].min(b[j]);
        while i < n1 && a[i] <= x {
            i += 1;
        }
        while j < n2 && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n1 as f64 - j as f64 / n2 as f64).abs());
    }
    let ne = (n1 as f64 * n2 as f64) / (n1 + n2) as f64;
    Ok(KsResult {
        statistic: d,
        p_value: kolmogorov_p_value(d, ne),
        n1,
        n2,
    })
}

/// One-sample KS test of `sample` against the continuous CDF `cdf`.
pub fn ks_one_sample(sample: &[f64], cdf: impl Fn(f64) -> f64) -> Result<KsResult, StatsError> {
    if sample.is_empty() {
        return Err(StatsError::EmptySample("the one-sample KS test"));
    }
    let s = sorted_finite(sample)?;
    let n = s.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in s.iter().enumerate() {
        let f = cdf(x).clamp(0.0, 1.0);
        d = d.max((i as f64 + 1.0) / n - f).max(f - i as f64 / n);
    }
    Ok(KsResult {
        statistic: d,
        p_value: kolmogorov_p_value(d, n),
        n1: s.len(),
        n2: 0,
    })
}

/// P(D > d) for effective sample size `ne`, with the Stephens small-sample correction
/// (Numerical Recipes' `probks`).
pub fn kolmogorov_p_value(d: f64, ne: f64) -> f64 {
    let sqrt_ne = ne.sqrt();
    let lambda = (sqrt_ne + 0.12 + 0.11 / sqrt_ne) * d;
    if lambda < 1e-3 {
        return 1.0;
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    let mut prev_term: f64 = 0.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = sign * 2.0 * (-2.0 * kf * kf * lambda * lambda).exp();
        sum += term;
        if term.abs() <= 1e-10 * prev_term.abs() || term.abs() <= 1e-16 * sum.abs() {
            return sum.clamp(0.0, 1.0);
        }
        prev_term = term;
        sign = -sign;
    }
    // The series did not converge: only happens for tiny lambda, where p is 1.
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn identical_samples_have_zero_distance() {
        let a: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let r = ks_two_sample(&a, &a).unwrap();
        assert_eq!(r.statistic, 0.0);
        assert!(r.p_value > 0.99);
    }

    #[test]
    fn disjoint_samples_have_distance_one() {
        let a: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let b: Vec<f64> = (100..150).map(|i| i as f64).collect();
        let r = ks_two_sample(&a, &b).unwrap();
        assert_eq!(r.statistic, 1.0);
        assert!(r.p_value < 1e-10);
    }

    #[test]
    fn uniform_sample_fits_uniform_cdf_and_not_exponential() {
        let mut rng = fastrand::Rng::with_seed(7);
        let s: Vec<f64> = (0..5000).map(|_| rng.f64()).collect();
        let uniform = ks_one_sample(&s, |x| x.clamp(0.0, 1.0)).unwrap();
        assert!(uniform.p_value > 0.01, "{uniform:?}");
        let expo = ks_one_sample(&s, |x| 1.0 - (-3.0 * x).exp()).unwrap();
        assert!(expo.p_value < 1e-6, "{expo:?}");
    }

    #[test]
    fn known_p_values() {
        // Kolmogorov distribution: P(K > 1.36) ≈ 0.049 for large n.
        let p = kolmogorov_p_value(1.36 / 10_000f64.sqrt(), 10_000.0);
        assert!((p - 0.049).abs() < 0.003, "{p}");
    }

    #[test]
    fn rejects_empty_and_nan() {
        assert_eq!(
            ks_two_sample(&[], &[1.0]),
            Err(StatsError::EmptySample("the two-sample KS test"))
        );
        assert_eq!(
            ks_two_sample(&[f64::NAN], &[1.0]),
            Err(StatsError::NonFinite)
        );
    }

    proptest! {
        #[test]
        fn statistic_is_a_distance(a in prop::collection::vec(-1e6f64..1e6, 1..60),
                                   b in prop::collection::vec(-1e6f64..1e6, 1..60)) {
            let ab = ks_two_sample(&a, &b).unwrap();
            let ba = ks_two_sample(&b, &a).unwrap();
            prop_assert!((0.0..=1.0).contains(&ab.statistic));
            prop_assert!((ab.statistic - ba.statistic).abs() < 1e-12);
            prop_assert!((0.0..=1.0).contains(&ab.p_value));
        }
    }
}
