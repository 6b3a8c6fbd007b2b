//! Bisection for monotone predicates: the one search behind Clopper–Pearson bounds
//! (binomial.rs) and score intervals (proportion_difference.rs).

/// How far a bisection goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Steps {
    /// Stop once the bracket is narrower than this (0: until the midpoint is an end).
    pub tolerance: f64,
    /// At most this many halvings.
    pub max: u32,
}

/// Smallest `x` in `[lo, hi]` with `ok(x)`, for `ok` false then true along the range.
pub(crate) fn first_true(lo: f64, hi: f64, steps: Steps, ok: impl Fn(f64) -> bool) -> f64 {
    if ok(lo) {
        return lo;
    }
    let (mut bad, mut good) = (lo, hi);
    for _ in 0..steps.max {
        let mid = 0.5 * (bad + good);
        if mid <= bad || mid >= good || good - bad < steps.tolerance {
            break;
        }
        if ok(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    good
}

/// Largest `x` in `[lo, hi]` with `ok(x)`, for `ok` true then false along the range.
pub(crate) fn last_true(lo: f64, hi: f64, steps: Steps, ok: impl Fn(f64) -> bool) -> f64 {
    if ok(hi) {
        return hi;
    }
    let (mut good, mut bad) = (lo, hi);
    for _ in 0..steps.max {
        let mid = 0.5 * (bad + good);
        if mid <= good || mid >= bad || bad - good < steps.tolerance {
            break;
        }
        if ok(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    good
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: Steps = Steps {
        tolerance: 0.0,
        max: 200,
    };

    #[test]
    fn finds_the_edge_from_either_side() {
        let edge = 0.3;
        assert!((first_true(0.0, 1.0, FULL, |x| x >= edge) - edge).abs() < 1e-15);
        assert!((last_true(0.0, 1.0, FULL, |x| x <= edge) - edge).abs() < 1e-15);
        // Already true (or still true) at the near end.
        assert_eq!(first_true(0.0, 1.0, FULL, |_| true), 0.0);
        assert_eq!(last_true(0.0, 1.0, FULL, |_| true), 1.0);
        // A tolerance stops early, still on the right side of the edge.
        let coarse = Steps {
            tolerance: 1e-3,
            max: 200,
        };
        let x = first_true(0.0, 1.0, coarse, |x| x >= edge);
        assert!(x >= edge && x - edge < 1e-3, "{x}");
    }
}
