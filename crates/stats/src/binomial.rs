//! Binomial tail probabilities and Clopper–Pearson bounds that stay accurate and terminate for
//! any count a `u64` can hold.
//!
//! statrs' binomial CDF goes through its incomplete beta function, whose continued fraction is
//! capped at 140 terms: accurate up to about 10⁵ trials, drifting beyond (0.365 instead of 0.5
//! for the median of 10⁷ trials), and its beta quantile function does not return for
//! `Beta(1, 10⁷)`. So: statrs up to `STATRS_LIMIT` trials; beyond, when the count or its
//! complement is small, an exact sum of terms in log space; when both are large, the normal
//! approximation with continuity correction, whose error there is far below anything a verdict
//! reads. Clopper–Pearson bounds are found by bisection on these tails.

use statrs::distribution::{Binomial, DiscreteCDF};

use crate::bisect::{Steps, first_true};
use crate::decision::upper_tail;

/// Up to this many trials statrs' binomial is accurate.
const STATRS_LIMIT: u64 = 100_000;
/// Beyond `STATRS_LIMIT`, counts (or complements) up to this are summed exactly.
const SMALL: u64 = 5_000;

/// `ln` of the probability of exactly `i` successes (for `i ≤ SMALL`).
fn ln_term(i: u64, n: u64, p: f64) -> f64 {
    let nf = n as f64;
    let mut ln_choose = 0.0;
    for j in 1..=i {
        ln_choose += ((nf - i as f64 + j as f64) / j as f64).ln();
    }
    ln_choose + i as f64 * p.ln() + (nf - i as f64) * (-p).ln_1p()
}

/// `Σ_{i ≥ x} P(X = i)` for `x` above the mean: the terms fall from the first one on.
fn upper_sum(x: u64, n: u64, p: f64) -> f64 {
    let ratio_odds = p / (1.0 - p);
    let mut ln_t = ln_term(x, n, p);
    let mut sum = 0.0f64;
    // The terms past the first fall at least geometrically; a million is a generous cap.
    for i in x..x.saturating_add(1_000_000) {
        let t = ln_t.exp();
        sum += t;
        if i >= n || t <= sum * 1e-18 {
            break;
        }
        ln_t += ((n - i) as f64 / (i + 1) as f64).ln() + ratio_odds.ln();
    }
    sum.min(1.0)
}

/// `Σ_{i ≤ k} P(X = i)` for `k` below the mean: the terms fall going down.
fn lower_sum(k: u64, n: u64, p: f64) -> f64 {
    let odds_inv = ((1.0 - p) / p).ln();
    let mut ln_t = ln_term(k, n, p);
    let mut sum = 0.0f64;
    let mut i = k;
    loop {
        let t = ln_t.exp();
        sum += t;
        if i == 0 || t <= sum * 1e-18 {
            break;
        }
        ln_t += (i as f64 / (n - i + 1) as f64).ln() + odds_inv;
        i -= 1;
    }
    sum.min(1.0)
}

fn normal_cdf(k: u64, n: u64, p: f64) -> f64 {
    let mean = n as f64 * p;
    let sd = (mean * (1.0 - p)).sqrt();
    1.0 - upper_tail((k as f64 + 0.5 - mean) / sd)
}

/// `P(X ≤ k)` for `X ~ Binomial(n, p)`.
pub(crate) fn cdf(k: u64, n: u64, p: f64) -> f64 {
    let p = if p.is_nan() { 0.5 } else { p.clamp(0.0, 1.0) };
    if k >= n || p == 0.0 {
        return 1.0;
    }
    if p == 1.0 {
        return 0.0;
    }
    if n <= STATRS_LIMIT {
        return Binomial::new(p, n)
            .map(|b| b.cdf(k))
            .unwrap_or(0.5)
            .clamp(0.0, 1.0);
    }
    if k <= SMALL {
        let mean = n as f64 * p;
        return if (k as f64) < mean {
            lower_sum(k, n, p)
        } else {
            1.0 - upper_sum(k + 1, n, p)
        };
    }
    if n - k <= SMALL {
        // P(X ≤ k) = P(n − X ≥ n − k), and n − X ~ Binomial(n, 1 − p).
        return sf(n - k, n, 1.0 - p);
    }
    normal_cdf(k, n, p)
}

/// `P(X ≥ x)` for `X ~ Binomial(n, p)`.
pub(crate) fn sf(x: u64, n: u64, p: f64) -> f64 {
    let p = if p.is_nan() { 0.5 } else { p.clamp(0.0, 1.0) };
    if x == 0 || p == 1.0 {
        return 1.0;
    }
    if x > n || p == 0.0 {
        return 0.0;
    }
    if n <= STATRS_LIMIT {
        return Binomial::new(p, n)
            .map(|b| b.sf(x - 1))
            .unwrap_or(0.5)
            .clamp(0.0, 1.0);
    }
    if x <= SMALL {
        let mean = n as f64 * p;
        return if (x as f64) > mean {
            upper_sum(x, n, p)
        } else {
            1.0 - lower_sum(x - 1, n, p)
        };
    }
    if n - x <= SMALL {
        // P(X ≥ x) = P(n − X ≤ n − x).
        return cdf(n - x, n, 1.0 - p);
    }
    1.0 - normal_cdf(x - 1, n, p)
}

/// Clopper–Pearson bounds for `x` successes in `n` trials, each at one-sided `1 − tail`:
/// the lower solves `P(X ≥ x | p) = tail`, the upper `P(X ≤ x | p) = tail`.
pub(crate) fn clopper_pearson_bounds(x: u64, n: u64, tail: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let x = x.min(n);
    let lower = if x == 0 {
        0.0
    } else {
        // sf(x | p) rises with p: the smallest p with sf ≥ tail.
        bisect(|p| sf(x, n, p) >= tail)
    };
    let upper = if x == n {
        1.0
    } else {
        // cdf(x | p) falls with p: the largest p with cdf ≥ tail.
        bisect(|p| cdf(x, n, p) < tail)
    };
    (lower, upper.max(lower))
}

/// Smallest `p` in [0, 1] with `ok(p)`, for `ok` false then true; bisected to 2⁻¹¹⁰.
fn bisect(ok: impl Fn(f64) -> bool) -> f64 {
    first_true(
        0.0,
        1.0,
        Steps {
            tolerance: 0.0,
            max: 110,
        },
        ok,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regimes_agree_where_they_meet() {
        // Summation against statrs just below its limit, for counts small and large.
        let n = STATRS_LIMIT;
        for (k, p) in [(3, 2e-5), (40, 3e-4), (2000, 0.0205), (n - 30, 0.9997)] {
            let exact = Binomial::new(p, n).unwrap().cdf(k);
            let summed = if k <= SMALL {
                if (k as f64) < n as f64 * p {
                    lower_sum(k, n, p)
                } else {
                    1.0 - upper_sum(k + 1, n, p)
                }
            } else {
                sf(n - k, n + 1, 1.0 - p) // near-identical n, mirrored path
            };
            assert!((exact - summed).abs() < 2e-3, "{k} {p}: {exact} {summed}");
        }
        // The median of ten million fair trials.
        let c = cdf(5_000_000, 10_000_000, 0.5);
        assert!((c - 0.500_126).abs() < 1e-3, "{c}");
    }

    #[test]
    fn clopper_pearson_known_and_huge() {
        // 0 of 10 at one-sided 0.025: upper 1 − 0.025^(1/10) = 0.3085.
        let (lo, hi) = clopper_pearson_bounds(0, 10, 0.025);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.308_5).abs() < 1e-4, "{hi}");
        // 1 of ten million: the Poisson limits 0.0253/n and 5.572/n.
        let n = 10_000_000u64;
        let (lo, hi) = clopper_pearson_bounds(1, n, 0.025);
        assert!((lo * n as f64 - 0.025_32).abs() < 1e-3, "{lo}");
        assert!((hi * n as f64 - 5.571_6).abs() < 1e-2, "{hi}");
        let (lo, hi) = clopper_pearson_bounds(5, u64::MAX, 0.025);
        assert!(lo > 0.0 && hi < 1e-17 && lo < hi, "{lo} {hi}");
        let (lo, hi) = clopper_pearson_bounds(u64::MAX / 3, u64::MAX, 0.025);
        assert!(
            lo < 1.0 / 3.0 && hi > 1.0 / 3.0 && hi - lo < 1e-6,
            "{lo} {hi}"
        );
    }
}
