//! Exact tests conditional on a total: Clopper–Pearson intervals for a binomial proportion, and
//! the conditional test for a ratio of two error rates.
//!
//! When errors are rare, each side's error count is (nearly) Poisson with mean `requests × rate`.
//! Given the total `T` of errors on both sides, staging's count is then exactly
//! `Binomial(T, π)` with `π = ρ·n_s / (ρ·n_s + n_p)`, where `ρ` is the ratio of the two error
//! rates (../shared/BRIEF.md: "condition on the total"). The unknown common rate drops out, so the
//! test is exact however unequal the volumes and however few the errors: it is the better tool for
//! a *relative* margin ("staging's error rate is more than ρ₀ times production's"). For an
//! absolute margin the nuisance rate does not drop out, and the score interval of
//! `proportion_difference` is used instead.

use serde::{Deserialize, Serialize};

/// Clopper–Pearson ("exact") interval for `successes` out of `trials` at two-sided `confidence`
/// (e.g. 0.95). `(0, 1)` without trials; `successes` above `trials` is read as `trials`.
pub fn clopper_pearson(successes: u64, trials: u64, confidence: f64) -> (f64, f64) {
    let tail = ((1.0 - confidence) / 2.0).clamp(1e-15, 0.5);
    clopper_pearson_one_sided(successes, trials, tail)
}

/// Each bound at one-sided level `1 − tail`.
pub(crate) fn clopper_pearson_one_sided(successes: u64, trials: u64, tail: f64) -> (f64, f64) {
    crate::binomial::clopper_pearson_bounds(successes, trials, tail)
}

/// `P(X ≥ x)` for `X ~ Binomial(n, p)`.
pub(crate) fn binomial_upper_tail(x: u64, n: u64, p: f64) -> f64 {
    crate::binomial::sf(x, n, p)
}

/// The conditional test of staging's share of the errors against its share of the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConditionalTest {
    /// Errors on each side and in total.
    pub staging_errors: u64,
    pub total_errors: u64,
    /// Staging's share of the requests, `n_s / (n_s + n_p)`.
    pub staging_traffic_share: f64,
    /// The hypothesised rate ratio tested (1 for "no more errors than its traffic share").
    pub ratio_tested: f64,
    /// One-sided exact p-value of "staging's error rate is at most `ratio_tested` times
    /// production's".
    pub p_value: f64,
    /// Observed rate ratio (staging / production); +∞ when production has no errors.
    #[serde(with = "crate::serde_bound::upper")]
    pub rate_ratio: f64,
}

/// Conditional exact test of `H: rate_s ≤ ratio × rate_p` from error and request counts
/// (callers have checked `errors ≤ requests` and that both sides have requests).
pub(crate) fn conditional_test(
    production_errors: u64,
    production_requests: u64,
    staging_errors: u64,
    staging_requests: u64,
    ratio: f64,
) -> ConditionalTest {
    let total = production_errors.saturating_add(staging_errors);
    let (ns, np) = (staging_requests as f64, production_requests as f64);
    let pi0 = ratio * ns / (ratio * ns + np);
    let rate_s = staging_errors as f64 / ns;
    let rate_p = production_errors as f64 / np;
    let rate_ratio = if production_errors == 0 {
        if staging_errors == 0 {
            1.0
        } else {
            f64::INFINITY
        }
    } else {
        rate_s / rate_p
    };
    ConditionalTest {
        staging_errors,
        total_errors: total,
        staging_traffic_share: ns / (ns + np),
        ratio_tested: ratio,
        p_value: binomial_upper_tail(staging_errors, total, pi0),
        rate_ratio,
    }
}

/// Interval for the rate ratio from the Clopper–Pearson interval of staging's share of errors,
/// each end at one-sided `1 − alpha`. The share's odds are computed from the bounds of both the
/// share and its complement, so a share within 10⁻¹⁶ of 1 (staging holds all but one of 10¹⁶
/// errors) still gives a finite ratio.
pub(crate) fn rate_ratio_interval(
    staging_errors: u64,
    total_errors: u64,
    staging_requests: u64,
    production_requests: u64,
    alpha: f64,
) -> (f64, f64) {
    let x = staging_errors.min(total_errors);
    let (lo, hi) = clopper_pearson_one_sided(x, total_errors, alpha);
    // Bounds of production's share: its lower is 1 − (staging's upper), its upper 1 − lower.
    let (c_lo, c_hi) = clopper_pearson_one_sided(total_errors - x, total_errors, alpha);
    let scale = production_requests as f64 / staging_requests as f64;
    let odds = |share: f64, complement: f64| {
        if complement <= 0.0 {
            f64::INFINITY
        } else {
            share / complement * scale
        }
    };
    (odds(lo, c_hi), odds(hi, c_lo))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clopper_pearson_known_values() {
        // 0 of 10 at 95%: upper 1 − 0.025^(1/10) = 0.3085.
        let (lo, hi) = clopper_pearson(0, 10, 0.95);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.308_5).abs() < 1e-3, "{hi}");
        // 5 of 10: 0.1871–0.8129.
        let (lo, hi) = clopper_pearson(5, 10, 0.95);
        assert!((lo - 0.187_1).abs() < 1e-3 && (hi - 0.812_9).abs() < 1e-3);
        assert_eq!(clopper_pearson(1, 0, 0.95), (0.0, 1.0));
    }

    #[test]
    fn huge_trials_return_sensible_bounds() {
        let (lo, hi) = clopper_pearson(5, u64::MAX, 0.95);
        assert!(lo > 0.0 && hi < 1e-17, "{lo} {hi}");
        let (lo, hi) = clopper_pearson(u64::MAX / 3, u64::MAX, 0.95);
        assert!(lo < 1.0 / 3.0 && hi > 1.0 / 3.0 && hi - lo < 1e-6);
    }

    #[test]
    fn conditional_test_of_four_errors_against_none() {
        // Kayenta #426 as counts: all 4 errors in staging, half the traffic: p = 0.5^4.
        let t = conditional_test(0, 600, 4, 600, 1.0);
        assert!((t.p_value - 0.0625).abs() < 1e-9, "{t:?}");
        assert!(t.rate_ratio.is_infinite());
        let (lo, hi) = rate_ratio_interval(4, 4, 600, 600, 0.05);
        // 4 of 4: the share's lower bound is 0.05^(1/4) = 0.47, a ratio of 0.90.
        assert!((lo - 0.897).abs() < 0.01 && hi.is_infinite(), "{lo} {hi}");
    }
}
