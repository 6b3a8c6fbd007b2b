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

/// The pairwise differences `x_i − y_j` of two samples, ready for counting passes.
pub(crate) struct Differences<'a> {
    x: &'a Sample,
    y: &'a Sample,
    /// `suffix[j]` = count of y values at index j or later.
    suffix: Vec<u128>,
    total: u128,
}

impl<'a> Differences<'a> {
    pub(crate) fn new(x: &'a Sample, y: &'a Sample) -> Self {
        let yc = y.counts();
        let mut suffix = vec![0u128; yc.len() + 1];
        for j in (0..yc.len()).rev() {
            suffix[j] = suffix[j + 1] + u128::from(yc[j]);
        }
        Differences {
            x,
            y,
            suffix,
            total: u128::from(x.len()) * u128::from(y.len()),
        }
    }

    fn pass(&self, t: f64, strict: bool) -> PassResult {
        let (xv, xc) = (self.x.values(), self.x.counts());
        let yv = self.y.values();
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
            out.count += u128::from(xc[i]) * self.suffix[j];
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
    pub(crate) fn count_at_most(&self, t: f64) -> u128 {
        self.pass(t, false).count
    }

    /// Number of pairs `x_i − y_j < t`.
    pub(crate) fn count_below(&self, t: f64) -> u128 {
        self.pass(t, true).count
    }

    /// The `k`-th smallest (1-based) difference; `None` for an empty sample or `k` outside
    /// `1..=m·n`.
    ///
    /// Both ends of the search are kept at actual differences: `hi` (count ≥ k) and `lo_next`,
    /// the smallest difference above the last value with count < k; they meet at the answer.
    /// Steps interpolate on the counts (the count grows smoothly with the value for continuous
    /// data, so a few steps suffice), alternating with plain bisection so that lumpy counts
    /// (ties, gaps) cannot slow it down.
    pub(crate) fn kth(&self, k: u128) -> Option<f64> {
        if k == 0 || k > self.total {
            return None;
        }
        let mut hi = self.x.max()? - self.y.min()?;
        let mut lo_next = self.x.min()? - self.y.max()?;
        let (mut count_lo, mut count_hi) = (0u128, self.total);
        // Which end moved last, and how often in a row: interpolation that keeps moving the same
        // end is stalling, and the next step bisects instead.
        let mut same_side = 0u32;
        let mut last_moved_hi = false;
        for _ in 0..200 {
            if lo_next >= hi {
                return Some(hi);
            }
            let span = hi - lo_next;
            let mut mid = if same_side < 2 && count_hi > count_lo {
                // Aim a little past k so that the step lands on the far side of the answer.
                let target = (k - count_lo) as f64 + 0.5;
                lo_next + span * (target / (count_hi - count_lo) as f64).min(1.0)
            } else {
                lo_next + span / 2.0
            };
            if !(mid >= lo_next && mid < hi) {
                mid = lo_next + span / 2.0;
                if !(mid >= lo_next && mid < hi) {
                    mid = lo_next;
                }
            }
            let r = self.pass(mid, false);
            let moved_hi = r.count >= k;
            if moved_hi {
                hi = r.max_in;
                count_hi = r.count;
            } else {
                lo_next = r.min_out;
                count_lo = r.count;
            }
            same_side = if moved_hi == last_moved_hi {
                same_side + 1
            } else {
                0
            };
            last_moved_hi = moved_hi;
        }
        Some(hi)
    }
}

/// Number of pairs `x_i − y_j ≤ t`.
#[cfg(test)]
pub(crate) fn count_at_most(x: &Sample, y: &Sample, t: f64) -> u128 {
    Differences::new(x, y).count_at_most(t)
}

/// Number of pairs `x_i − y_j < t`.
#[cfg(test)]
pub(crate) fn count_below(x: &Sample, y: &Sample, t: f64) -> u128 {
    Differences::new(x, y).count_below(t)
}

/// The `k`-th smallest (1-based) of the pairwise differences.
#[cfg(test)]
pub(crate) fn kth_difference(x: &Sample, y: &Sample, k: u128) -> Option<f64> {
    Differences::new(x, y).kth(k)
}

/// Median of the pairwise differences.
fn hodges_lehmann(d: &Differences<'_>) -> Option<f64> {
    let total = d.total;
    if total == 0 {
        return None;
    }
    if total % 2 == 1 {
        d.kth(total.div_ceil(2))
    } else {
        let a = d.kth(total / 2)?;
        let b = d.kth(total / 2 + 1)?;
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
    let d = Differences::new(x, y);
    let estimate = hodges_lehmann(&d)?;
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
    let lower = d.kth(c).unwrap_or(f64::NEG_INFINITY);
    let upper = d.kth(total + 1 - c).unwrap_or(f64::INFINITY);
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
    let d = Differences::new(x, y);
    let at_most = d.count_at_most(c);
    let below = d.count_below(c);
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
