//! Distribution-free intervals for a quantile from order statistics: for `n` independent draws,
//! the number of them below the true `q`-quantile is `Binomial(n, q)`, so the `l`-th smallest
//! lies below the quantile with probability `P(B ≥ l)` whatever the distribution (David &
//! Nagaraja, *Order Statistics*, §7.1). Ranks come from the exact binomial up to 100,000 draws
//! and beyond from its normal approximation with continuity and skewness (Cornish–Fisher)
//! corrections, off by well under one rank there. (statrs' binomial CDF drifts above a million
//! draws: its incomplete beta function caps its continued fraction at 140 terms.)

use crate::decision::z_one_sided;

/// Above this many draws the binomial is replaced by its normal approximation.
pub(crate) const EXACT_LIMIT: u64 = 100_000;

/// 1-based ranks `(l, u)` of the one-sided bounds at level `1 − tail` for the `q`-quantile of
/// `n` draws: `P(X_(l) ≤ ξ_q) ≥ 1 − tail` and `P(X_(u) ≥ ξ_q) ≥ 1 − tail`. `None` where no rank
/// in `1..=n` is far enough out (too few draws for that quantile).
pub(crate) fn quantile_ranks(n: u64, q: f64, tail: f64) -> (Option<u64>, Option<u64>) {
    if n == 0 || q.is_nan() {
        return (None, None);
    }
    let q = q.clamp(0.0, 1.0);
    let nf = n as f64;
    let s = (nf * q * (1.0 - q)).sqrt();
    let z = z_one_sided(tail);
    // Cornish–Fisher: the binomial's skewness moves its quantiles by (z² − 1)·γ/6 sd.
    let skew = if s > 0.0 { (1.0 - 2.0 * q) / s } else { 0.0 };
    let shift = (z * z - 1.0) * skew / 6.0;
    let l_guess = (nf * q + (-z + shift) * s + 0.5).floor();
    let u_guess = (nf * q + (z + shift) * s + 0.5).ceil();
    if n > EXACT_LIMIT {
        let l = (l_guess >= 1.0).then_some(l_guess as u64);
        let u = (u_guess <= nf).then_some(u_guess as u64);
        return (l, u);
    }
    // The exact ranks, searched from the approximation (a step or two away).
    let cdf = |k: u64| crate::binomial::cdf(k, n, q);
    let to_index = |g: f64| g.clamp(1.0, nf) as u64 - 1;
    // l = max{l ≥ 1 : P(B ≤ l − 1) ≤ tail}.
    let l = last_true_near(0, n - 1, to_index(l_guess), |k| cdf(k) <= tail).map(|k| k + 1);
    // u = min{u ≤ n : P(B ≤ u − 1) ≥ 1 − tail}.
    let u = last_true_near(0, n - 1, to_index(u_guess), |k| cdf(k) < 1.0 - tail)
        .map_or(Some(1), |k| (k + 1 < n).then_some(k + 2));
    (l, u)
}

/// Largest `k` in `[lo, hi]` with `ok(k)` for `ok` true then false, searched outwards from
/// `guess` with doubling steps, then by bisection; `None` when `ok(lo)` is false.
fn last_true_near(lo: u64, hi: u64, guess: u64, ok: impl Fn(u64) -> bool) -> Option<u64> {
    let g = guess.clamp(lo, hi);
    let (good, bad) = if ok(g) {
        let (mut good, mut step) = (g, 1u64);
        loop {
            if good == hi {
                return Some(hi);
            }
            let next = good.saturating_add(step).min(hi);
            if ok(next) {
                good = next;
                step = step.saturating_mul(2);
            } else {
                break (good, next);
            }
        }
    } else {
        let (mut bad, mut step) = (g, 1u64);
        loop {
            if bad == lo {
                return None;
            }
            let next = bad.saturating_sub(step).max(lo);
            if ok(next) {
                break (next, bad);
            }
            bad = next;
            step = step.saturating_mul(2);
        }
    };
    Some(last_true(good, bad - 1, ok))
}

/// Largest `k` in `[lo, hi]` with `ok(k)`, given `ok(lo)` and `ok` true then false.
fn last_true(lo: u64, hi: u64, ok: impl Fn(u64) -> bool) -> u64 {
    let (mut good, mut bad) = (lo, hi + 1);
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if ok(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    good
}

/// Smallest `k` in `[lo, hi]` with `ok(k)`, given `ok(hi)` and `ok` false then true.
fn first_true(lo: u64, hi: u64, ok: impl Fn(u64) -> bool) -> u64 {
    if ok(lo) {
        return lo;
    }
    let (mut bad, mut good) = (lo, hi);
    while good - bad > 1 {
        let mid = bad + (good - bad) / 2;
        if ok(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    good
}

/// The fewest draws for which both ranks of the `q`-quantile exist.
pub(crate) fn min_draws(q: f64, tail: f64) -> Option<u64> {
    let mut n = 1u64;
    while n < 1 << 40 {
        if let (Some(_), Some(_)) = quantile_ranks(n, q, tail) {
            // Refine downwards: the condition is monotone in n.
            let lo = n / 2;
            return Some(first_true(lo.max(1), n, |m| {
                matches!(quantile_ranks(m, q, tail), (Some(_), Some(_)))
            }));
        }
        n *= 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_ranks_match_the_textbook() {
        // n = 10, one-sided 0.05: P(B ≤ 1) = 0.0107, P(B ≤ 2) = 0.0547, so l = 2 and u = 9.
        assert_eq!(quantile_ranks(10, 0.5, 0.05), (Some(2), Some(9)));
        // p99 of 50 draws has no upper rank.
        assert_eq!(quantile_ranks(50, 0.99, 0.05).1, None);
        assert_eq!(quantile_ranks(0, 0.5, 0.05), (None, None));
    }

    #[test]
    fn normal_approximation_agrees_at_the_switch() {
        let n = EXACT_LIMIT;
        let (l, u) = quantile_ranks(n, 0.99, 0.05);
        let (la, ua) = quantile_ranks(n + 1, 0.99, 0.05);
        assert!(la.unwrap().abs_diff(l.unwrap()) <= 2, "{l:?} {la:?}");
        assert!(ua.unwrap().abs_diff(u.unwrap()) <= 2, "{u:?} {ua:?}");
    }

    #[test]
    fn minimum_draws_for_p99() {
        // The largest of n draws bounds p99 from above once 0.99^n ≤ 0.05: n ≥ 299.
        assert_eq!(min_draws(0.99, 0.05), Some(299));
    }
}
