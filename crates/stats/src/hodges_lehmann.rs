//! Rank statistics of the pairwise differences `x_i − y_j` between two weighted samples: the
//! Mann–Whitney count at any shift, the Hodges–Lehmann shift estimate (their median) and its
//! distribution-free interval (two order statistics of the differences; Hollander & Wolfe,
//! *Nonparametric Statistical Methods*, §4.3).
//!
//! The `m·n` differences are never materialised. Counting the differences at or below a value
//! `t` is one merge-like pass over the two sorted samples (`O(distinct values)`), and the k-th
//! smallest difference is found by bisecting on the value with that count, keeping both ends at
//! actual differences so the search ends on an exact difference. Nothing is subsampled: a pass
//! over a million distinct values costs milliseconds, and HDR histograms hold a few thousand.
//! The search is capped at 200 passes; the cap is only reachable for differences spread over
//! hundreds of binary orders of magnitude, and then returns an upper neighbour of the k-th
//! difference (the interval is at worst slightly wider).

use crate::sample::Sample;

struct PassResult {
    /// Differences `≤ t` (or `< t` when strict).
    count: u128,
    /// Largest difference `≤ t` (strict: `< t`), `-∞` if none.
    max_in: f64,
    /// Smallest difference `> t` (strict: `≥ t`), `+∞` if none.
    min_out: f64,
}

fn pass(x: &Sample, y: &Sample, t: f64, strict: bool) -> PassResult {
    let (xv, xc) = (x.values(), x.counts());
    let (yv, yc) = (y.values(), y.counts());
    // suffix[j] = count of y values at index j or later.
    let mut suffix = vec![0u128; yv.len() + 1];
    for j in (0..yv.len()).rev() {
        suffix[j] = suffix[j + 1] + u128::from(yc[j]);
    }
    let outside = |d: f64| if strict { d >= t } else { d > t };
    let mut j = 0;
    let mut out = PassResult {
        count: 0,
        max_in: f64::NEG_INFINITY,
        min_out: f64::INFINITY,
    };
    for (i, &xi) in xv.iter().enumerate() {
        // x_i − y_j decreases in j: skip the y that leave the difference outside.
        while j < yv.len() && outside(xi - yv[j]) {
            j += 1;
        }
        out.count += u128::from(xc[i]) * suffix[j];
        if j < yv.len() {
            out.max_in = out.max_in.max(xi - yv[j]);
        }
        if j > 0 {
            out.min_out = out.min_out.min(xi - yv[j - 1]);
        }
    }
    out
}

/// Number of pairs `x_i − y_j ≤ t`.
pub(crate) fn count_at_most(x: &Sample, y: &Sample, t: f64) -> u128 {
    pass(x, y, t, false).count
}

/// Number of pairs `x_i − y_j < t`.
pub(crate) fn count_below(x: &Sample, y: &Sample, t: f64) -> u128 {
    pass(x, y, t, true).count
}

/// The `k`-th smallest (1-based) of the pairwise differences; `None` for an empty sample or `k`
/// outside `1..=m·n`.
pub(crate) fn kth_difference(x: &Sample, y: &Sample, k: u128) -> Option<f64> {
    let total = u128::from(x.len()) * u128::from(y.len());
    if k == 0 || k > total {
        return None;
    }
    let mut hi = x.max()? - y.min()?;
    let mut lo_next = x.min()? - y.max()?;
    for _ in 0..200 {
        if lo_next >= hi {
            return Some(hi);
        }
        let mut mid = lo_next + (hi - lo_next) / 2.0;
        if !(mid >= lo_next && mid < hi) {
            mid = lo_next;
        }
        let r = pass(x, y, mid, false);
        if r.count >= k {
            hi = r.max_in;
        } else {
            lo_next = r.min_out;
        }
    }
    Some(hi)
}

/// Median of the pairwise differences.
pub(crate) fn hodges_lehmann(x: &Sample, y: &Sample) -> Option<f64> {
    let total = u128::from(x.len()) * u128::from(y.len());
    if total == 0 {
        return None;
    }
    if total % 2 == 1 {
        kth_difference(x, y, total.div_ceil(2))
    } else {
        let a = kth_difference(x, y, total / 2)?;
        let b = kth_difference(x, y, total / 2 + 1)?;
        Some(a + (b - a) / 2.0)
    }
}

/// `Σ (t³ − t)` over groups of tied values, for the tie-corrected variance of U.
fn tie_term(groups: impl Iterator<Item = u64>) -> f64 {
    groups
        .map(|t| {
            let t = t as f64;
            t * t * t - t
        })
        .sum()
}

/// Variance of the Mann–Whitney U under no shift, corrected for the ties in `groups`.
fn u_variance(m: f64, n: f64, ties: f64) -> f64 {
    let total = m + n;
    if total < 2.0 {
        return 0.0;
    }
    (m * n / 12.0) * ((total + 1.0) - ties / (total * (total - 1.0)))
}

/// Tie groups of `x − c` merged with `y`.
fn merged_ties(x: &Sample, y: &Sample, c: f64) -> f64 {
    let (xv, xc, yv, yc) = (x.values(), x.counts(), y.values(), y.counts());
    let (mut i, mut j) = (0, 0);
    let mut groups = Vec::with_capacity(xv.len() + yv.len());
    while i < xv.len() || j < yv.len() {
        let a = xv.get(i).map(|v| v - c);
        let b = yv.get(j).copied();
        match (a, b) {
            (Some(a), Some(b)) if a == b => {
                groups.push(xc[i] + yc[j]);
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                groups.push(xc[i]);
                i += 1;
            }
            (Some(_), None) => {
                groups.push(xc[i]);
                i += 1;
            }
            _ => {
                groups.push(yc[j]);
                j += 1;
            }
        }
    }
    tie_term(groups.into_iter())
}

/// The Hodges–Lehmann shift of `x` over `y` with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Shift {
    pub estimate: f64,
    /// One-sided bounds at the `z` given; infinite when the samples are too small for one.
    pub lower: f64,
    pub upper: f64,
}

/// The shift estimate with one-sided bounds at normal quantile `z`: the `C`-th smallest and
/// `C`-th largest difference, `C = ⌊mn/2 − z·σ_U + ½⌋` (the continuity-corrected normal
/// approximation of U's null distribution, with the variance corrected for ties within each
/// sample). `None` when a sample is empty.
pub(crate) fn shift(x: &Sample, y: &Sample, z: f64) -> Option<Shift> {
    let estimate = hodges_lehmann(x, y)?;
    let (m, n) = (x.len() as f64, y.len() as f64);
    let ties = tie_term(x.counts().iter().chain(y.counts()).copied());
    let sigma = u_variance(m, n, ties).max(0.0).sqrt();
    let total = u128::from(x.len()) * u128::from(y.len());
    let c = (total as f64 / 2.0 - z * sigma + 0.5).floor();
    if c < 1.0 {
        return Some(Shift {
            estimate,
            lower: f64::NEG_INFINITY,
            upper: f64::INFINITY,
        });
    }
    let c = c as u128;
    let lower = kth_difference(x, y, c).unwrap_or(f64::NEG_INFINITY);
    let upper = kth_difference(x, y, total + 1 - c).unwrap_or(f64::INFINITY);
    Some(Shift {
        estimate,
        lower: lower.min(estimate),
        upper: upper.max(estimate),
    })
}

/// One-sided p-value of "the shift of `x` over `y` is at most `c`": the Mann–Whitney test of
/// `x − c` against `y`, normal approximation with tie and continuity corrections.
pub(crate) fn shift_p_value(x: &Sample, y: &Sample, c: f64) -> f64 {
    let (m, n) = (x.len() as f64, y.len() as f64);
    let total = u128::from(x.len()) * u128::from(y.len());
    if total == 0 {
        return 1.0;
    }
    let at_most = count_at_most(x, y, c);
    let below = count_below(x, y, c);
    let u = (total - at_most) as f64 + 0.5 * (at_most - below) as f64;
    let sigma = u_variance(m, n, merged_ties(x, y, c)).max(0.0).sqrt();
    if sigma == 0.0 {
        return if u > total as f64 / 2.0 { 0.0 } else { 1.0 };
    }
    let z = (u - total as f64 / 2.0 - 0.5) / sigma;
    crate::decision::upper_tail(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(x: &[f64], y: &[f64]) -> Vec<f64> {
        let mut d: Vec<f64> = x
            .iter()
            .flat_map(|a| y.iter().map(move |b| a - b))
            .collect();
        d.sort_by(f64::total_cmp);
        d
    }

    #[test]
    fn kth_difference_matches_brute_force() {
        let mut rng = fastrand::Rng::with_seed(7);
        for round in 0..50 {
            let m = 1 + rng.usize(..30);
            let n = 1 + rng.usize(..30);
            // Rounded values make ties, which the weighted samples must handle.
            let x: Vec<f64> = (0..m).map(|_| (rng.f64() * 20.0).round() / 2.0).collect();
            let y: Vec<f64> = (0..n)
                .map(|_| (rng.f64() * 20.0).round() / 2.0 + 1.0)
                .collect();
            let (sx, sy) = (
                Sample::from_values(&x).unwrap(),
                Sample::from_values(&y).unwrap(),
            );
            let all = brute(&x, &y);
            for k in 1..=all.len() {
                assert_eq!(
                    kth_difference(&sx, &sy, k as u128),
                    Some(all[k - 1]),
                    "round {round} k {k}"
                );
            }
            let t = all[all.len() / 2];
            assert_eq!(
                count_at_most(&sx, &sy, t),
                all.iter().filter(|&&d| d <= t).count() as u128
            );
            assert_eq!(
                count_below(&sx, &sy, t),
                all.iter().filter(|&&d| d < t).count() as u128
            );
        }
    }

    #[test]
    fn hodges_lehmann_of_a_pure_shift_is_the_shift() {
        let y: Vec<f64> = (0..101).map(|i| i as f64).collect();
        let x: Vec<f64> = y.iter().map(|v| v + 20.0).collect();
        let (sx, sy) = (
            Sample::from_values(&x).unwrap(),
            Sample::from_values(&y).unwrap(),
        );
        let s = shift(&sx, &sy, 1.645).unwrap();
        assert_eq!(s.estimate, 20.0);
        assert!(s.lower < 20.0 && s.upper > 20.0 && s.lower > 0.0, "{s:?}");
        assert!(shift_p_value(&sx, &sy, 0.0) < 0.01);
        assert!(shift_p_value(&sx, &sy, 40.0) > 0.99);
    }

    #[test]
    fn tiny_samples_have_unbounded_intervals() {
        let (sx, sy) = (
            Sample::from_values(&[2.0]).unwrap(),
            Sample::from_values(&[1.0]).unwrap(),
        );
        let s = shift(&sx, &sy, 1.645).unwrap();
        assert_eq!(s.estimate, 1.0);
        assert!(s.lower.is_infinite() && s.upper.is_infinite());
    }
}
