//! Score statistics for the difference of two independent proportions `p₁ − p₂` (group 1 is
//! staging, group 2 production): the Farrington–Manning restricted maximum likelihood, the
//! Miettinen–Nurminen score statistic, its test against a margin and its inverted interval.
//!
//! Why a score interval: Newcombe (1998, Statistics in Medicine 17:873) compared eleven intervals
//! for a difference of proportions; the Wald interval (a normal approximation with the observed
//! rates) collapses to zero width at 0 errors and undercovers badly with 3 errors, while the
//! score intervals — Miettinen–Nurminen and Newcombe's hybrid — stay near nominal coverage with
//! sparse counts and unequal group sizes. The score statistic takes its variance from the rates
//! that are most likely *under the hypothesised difference*, so it stays defined at 0 errors and
//! its test against the margin is the same computation as its interval, which keeps the p-value
//! (used by Benjamini–Hochberg) consistent with the interval (used by the verdict).
//!
//! Counts are `f64` so that callers can ask "what would k times this data say" (sample sizes).

use std::f64::consts::PI;

use crate::bisect::{Steps, first_true, last_true};

/// The restricted MLE `(p̃₁, p̃₂)` under `p₁ − p₂ = delta`, from Farrington & Manning (1990)'s
/// closed-form cubic solution, with a bisection fallback when rounding pushes the closed form
/// outside the feasible range.
pub(crate) fn restricted_mle(x1: f64, n1: f64, x2: f64, n2: f64, delta: f64) -> (f64, f64) {
    let (p1, p2) = (x1 / n1, x2 / n2);
    let theta = n2 / n1;
    let a = 1.0 + theta;
    let b = -(1.0 + theta + p1 + theta * p2 + delta * (theta + 2.0));
    let c = delta * delta + delta * (2.0 * p1 + theta + 1.0) + p1 + theta * p2;
    let d = -p1 * delta * (1.0 + delta);
    let v = b.powi(3) / (27.0 * a.powi(3)) - b * c / (6.0 * a * a) + d / (2.0 * a);
    let inner = b * b / (9.0 * a * a) - c / (3.0 * a);
    let u = v.signum() * inner.max(0.0).sqrt();
    let lo2 = (-delta).max(0.0);
    let hi2 = (1.0 - delta).min(1.0);
    if u != 0.0 {
        let cos_arg = (v / u.powi(3)).clamp(-1.0, 1.0);
        let w = (PI + cos_arg.acos()) / 3.0;
        let t1 = 2.0 * u * w.cos() - b / (3.0 * a);
        let t2 = t1 - delta;
        let eps = 1e-9;
        if t1.is_finite() && t2 >= lo2 - eps && t2 <= hi2 + eps {
            let t2 = t2.clamp(lo2, hi2);
            return ((t2 + delta).clamp(0.0, 1.0), t2);
        }
    }
    let t2 = maximise(x1, n1, x2, n2, delta, lo2, hi2);
    ((t2 + delta).clamp(0.0, 1.0), t2)
}

/// Bisection on the derivative of the (concave) restricted log-likelihood in `p₂`.
fn maximise(x1: f64, n1: f64, x2: f64, n2: f64, delta: f64, lo: f64, hi: f64) -> f64 {
    let slope = |p2: f64| {
        let p1 = p2 + delta;
        let term = |x: f64, n: f64, p: f64| {
            let mut s = 0.0;
            if x > 0.0 {
                s += x / p;
            }
            if n - x > 0.0 {
                s -= (n - x) / (1.0 - p);
            }
            s
        };
        term(x1, n1, p1) + term(x2, n2, p2)
    };
    let (mut lo, mut hi) = (lo, hi);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        let s = slope(mid);
        if s.is_nan() {
            break;
        }
        if s > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Variance of `p̂₁ − p̂₂` under the restricted MLE at `delta`; `mn_factor` applies
/// Miettinen–Nurminen's `N/(N−1)`.
pub(crate) fn restricted_variance(
    x1: f64,
    n1: f64,
    x2: f64,
    n2: f64,
    delta: f64,
    mn_factor: bool,
) -> f64 {
    let (t1, t2) = restricted_mle(x1, n1, x2, n2, delta);
    let v = t1 * (1.0 - t1) / n1 + t2 * (1.0 - t2) / n2;
    let total = n1 + n2;
    if mn_factor && total > 1.0 {
        v * total / (total - 1.0)
    } else {
        v
    }
}

#[cfg(test)]
/// The Miettinen–Nurminen score statistic for `H: p₁ − p₂ = delta`; large and positive when the
/// observed difference lies above `delta`. Decreasing in `delta`.
pub(crate) fn score_z(x1: f64, n1: f64, x2: f64, n2: f64, delta: f64) -> f64 {
    let diff = x1 / n1 - x2 / n2 - delta;
    let var = restricted_variance(x1, n1, x2, n2, delta, true);
    if var > 0.0 {
        diff / var.sqrt()
    } else if diff > 1e-15 {
        f64::INFINITY
    } else if diff < -1e-15 {
        f64::NEG_INFINITY
    } else {
        0.0
    }
}

/// The score statistic with its skewness: `(Z, γ)`, where `γ = μ₃/V^{3/2}` is the skewness of
/// `p̂₁ − p̂₂` under the restricted MLE (Gart & Nam 1990).
fn score_and_skew(x1: f64, n1: f64, x2: f64, n2: f64, delta: f64) -> (f64, f64) {
    let (t1, t2) = restricted_mle(x1, n1, x2, n2, delta);
    let total = n1 + n2;
    let factor = if total > 1.0 {
        total / (total - 1.0)
    } else {
        1.0
    };
    let var = (t1 * (1.0 - t1) / n1 + t2 * (1.0 - t2) / n2) * factor;
    let mu3 = t1 * (1.0 - t1) * (1.0 - 2.0 * t1) / (n1 * n1)
        - t2 * (1.0 - t2) * (1.0 - 2.0 * t2) / (n2 * n2);
    let diff = x1 / n1 - x2 / n2 - delta;
    if var > 0.0 {
        (diff / var.sqrt(), mu3 / var.powf(1.5))
    } else if diff > 1e-15 {
        (f64::INFINITY, 0.0)
    } else if diff < -1e-15 {
        (f64::NEG_INFINITY, 0.0)
    } else {
        (0.0, 0.0)
    }
}

/// The skewness-corrected score (SCAS, Laud 2017, after Gart & Nam 1990) at `delta`, as the
/// normal deviate it corresponds to: the `z` solving `Z = z + (γ/6)(z² − 1)`. Large and positive
/// when the observed difference lies above `delta`; decreasing in `delta`.
///
/// Why the correction: with a few errors, `p̂₁ − p̂₂` is right-skewed, and the plain score
/// statistic of Miettinen–Nurminen crosses an upper bound too often — 9% instead of 5% for a
/// true difference of exactly one point with 300 requests a side and ~3 staging errors
/// (tests/calibration_error_ratio.rs). The Cornish–Fisher term removes that first-order skew.
pub(crate) fn corrected_z(x1: f64, n1: f64, x2: f64, n2: f64, delta: f64) -> f64 {
    let (z_obs, gamma) = score_and_skew(x1, n1, x2, n2, delta);
    let g = gamma / 6.0;
    if !z_obs.is_finite() || g.abs() < 1e-12 {
        return z_obs;
    }
    let disc = 1.0 + 4.0 * g * (g + z_obs);
    if disc < 0.0 {
        // Beyond the quadratic's turning point: the largest deviate the skew allows.
        return -1.0 / (2.0 * g);
    }
    (-1.0 + disc.sqrt()) / (2.0 * g)
}

/// One-sided bounds of the skewness-corrected score interval, each at normal quantile `z`:
/// the differences whose corrected deviate lies within `±z`.
pub(crate) fn corrected_interval(x1: f64, n1: f64, x2: f64, n2: f64, z: f64) -> (f64, f64) {
    let est = x1 / n1 - x2 / n2;
    let g_term = |d: f64| {
        let (zz, gamma) = score_and_skew(x1, n1, x2, n2, d);
        (zz, gamma / 6.0 * (z * z - 1.0))
    };
    // Lower: the smallest delta with Z(delta) − (γ/6)(z² − 1) ≤ z.
    let lower = bisect(-1.0, est, |d| {
        let (zz, t) = g_term(d);
        zz - t <= z
    });
    // Upper: the largest delta with Z(delta) − (γ/6)(z² − 1) ≥ −z.
    let upper = bisect_rev(est, 1.0, |d| {
        let (zz, t) = g_term(d);
        zz - t >= -z
    });
    (lower.min(est), upper.max(est))
}

#[cfg(test)]
/// One-sided bounds `(lower, upper)` for `p₁ − p₂`, each at level `1 − alpha`: the differences
/// the score test at `z` does not reject. Found by bisection: the statistic is monotone.
pub(crate) fn score_interval(x1: f64, n1: f64, x2: f64, n2: f64, z: f64) -> (f64, f64) {
    let est = x1 / n1 - x2 / n2;
    // Lower: the smallest delta with score_z(delta) <= z, searched in [-1, est].
    let lower = bisect(-1.0, est, |d| score_z(x1, n1, x2, n2, d) <= z);
    // Upper: the largest delta with score_z(delta) >= -z, searched in [est, 1].
    let upper = bisect_rev(est, 1.0, |d| score_z(x1, n1, x2, n2, d) >= -z);
    (lower.min(est), upper.max(est))
}

/// Bisection to 1e-13 or 100 halvings, whichever comes first.
const STEPS: Steps = Steps {
    tolerance: 1e-13,
    max: 100,
};

fn bisect(lo: f64, hi: f64, ok: impl Fn(f64) -> bool) -> f64 {
    first_true(lo, hi, STEPS, ok)
}

fn bisect_rev(lo: f64, hi: f64, ok: impl Fn(f64) -> bool) -> f64 {
    last_true(lo, hi, STEPS, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loglik(x1: f64, n1: f64, x2: f64, n2: f64, p1: f64, p2: f64) -> f64 {
        let t = |x: f64, n: f64, p: f64| {
            let mut s = 0.0;
            if x > 0.0 {
                s += x * p.ln();
            }
            if n - x > 0.0 {
                s += (n - x) * (1.0 - p).ln();
            }
            s
        };
        t(x1, n1, p1) + t(x2, n2, p2)
    }

    #[test]
    fn closed_form_matches_brute_force() {
        for &(x1, n1, x2, n2, d) in &[
            (3.0, 300.0, 6.0, 6000.0, 0.01),
            (0.0, 50.0, 0.0, 1000.0, 0.01),
            (40.0, 100.0, 10.0, 100.0, -0.2),
            (5.0, 20.0, 1.0, 400.0, 0.05),
            (100.0, 100.0, 0.0, 10.0, 0.5),
        ] {
            let (t1, t2) = restricted_mle(x1, n1, x2, n2, d);
            assert!((t1 - t2 - d).abs() < 1e-9);
            let best = loglik(x1, n1, x2, n2, t1, t2);
            // No point on a fine grid does better.
            let lo = (-d).max(0.0);
            let hi = (1.0 - d).min(1.0);
            for i in 1..2000 {
                let p2 = lo + (hi - lo) * i as f64 / 2000.0;
                let l = loglik(x1, n1, x2, n2, p2 + d, p2);
                assert!(
                    l <= best + 1e-6,
                    "{x1} {n1} {x2} {n2} {d}: {p2} {l} > {best}"
                );
            }
        }
    }

    #[test]
    fn interval_matches_a_published_example() {
        // Newcombe (1998), Table II example (a): 56/70 vs 48/80; MN 95% interval 0.0528–0.3382.
        let z = crate::decision::z_one_sided(0.025);
        let (lo, hi) = score_interval(56.0, 70.0, 48.0, 80.0, z);
        assert!((lo - 0.0528).abs() < 5e-4, "{lo}");
        assert!((hi - 0.3382).abs() < 5e-4, "{hi}");
        // 0/10 against 0/20 has a closed form: at a hypothesised Δ < 0 the restricted MLE is
        // p̃₁ = 0, p̃₂ = −Δ, so Δ² = z²·(−Δ)(1+Δ)/20·30/29, i.e. −Δ = c/(1+c), c = 1.96²·1.5/29;
        // above, p̃₂ = 0, p̃₁ = Δ and Δ = c'/(1+c'), c' = 1.96²·3/29.
        let (lo, hi) = score_interval(0.0, 10.0, 0.0, 20.0, z);
        let c = z * z * 1.5 / 29.0;
        let c2 = z * z * 3.0 / 29.0;
        assert!((lo + c / (1.0 + c)).abs() < 1e-6, "{lo}");
        assert!((hi - c2 / (1.0 + c2)).abs() < 1e-6, "{hi}");
    }

    #[test]
    fn skew_correction_vanishes_for_symmetric_data_and_matches_its_deviate() {
        // Around rates of one half the skewness is small and the corrected interval stays close
        // to the Miettinen–Nurminen one, and symmetric.
        let z = crate::decision::z_one_sided(0.025);
        let (a, b) = score_interval(50.0, 100.0, 50.0, 100.0, z);
        let (c, d) = corrected_interval(50.0, 100.0, 50.0, 100.0, z);
        assert!(
            (a - c).abs() < 2e-3 && (b - d).abs() < 2e-3,
            "{a} {b} {c} {d}"
        );
        assert!((c + d).abs() < 1e-9, "{c} {d}");
        // Sparse: the corrected lower bound sits where the corrected deviate equals z.
        let (lo, _) = corrected_interval(7.0, 300.0, 0.0, 300.0, z);
        assert!((corrected_z(7.0, 300.0, 0.0, 300.0, lo) - z).abs() < 1e-6);
        let (plain_lo, _) = score_interval(7.0, 300.0, 0.0, 300.0, z);
        assert!(lo < plain_lo, "{lo} {plain_lo}");
    }

    #[test]
    fn score_is_defined_at_zero_errors() {
        assert_eq!(score_z(0.0, 100.0, 0.0, 100.0, 0.0), 0.0);
        assert!(score_z(0.0, 100.0, 0.0, 100.0, 0.01) < 0.0);
        assert!(score_z(5.0, 100.0, 0.0, 100.0, 0.0) > 0.0);
    }
}
