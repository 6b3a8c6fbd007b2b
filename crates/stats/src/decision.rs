//! Reading a verdict off an interval, and estimating the sample size that would decide an
//! undecided one. Shared by every judge so that they all apply the margin the same way.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::StatsError;
use crate::verdict::Verdict;

/// The largest `needed` we report: beyond it "more data" is not advice anyone can follow.
const MAX_NEEDED: f64 = 1e15;

/// Refuse an α outside (0, 0.5): each verdict's error rate must be a probability below a coin flip.
pub(crate) fn check_alpha(alpha: f64) -> Result<(), StatsError> {
    if alpha.is_finite() && alpha > 0.0 && alpha < 0.5 {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter {
            field: "alpha",
            value: alpha,
            expected: "a number above 0 and below 0.5 (0.05 by default)",
        })
    }
}

/// Refuse a margin that is not finite or lies outside `range`.
pub(crate) fn check_margin(
    field: &'static str,
    value: f64,
    min: f64,
    max: f64,
    expected: &'static str,
) -> Result<(), StatsError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter {
            field,
            value,
            expected,
        })
    }
}

/// The one-sided standard normal quantile `Φ⁻¹(1 − α)`.
pub(crate) fn z_one_sided(alpha: f64) -> f64 {
    Normal::standard().inverse_cdf(1.0 - alpha)
}

/// `1 − Φ(z)`, the upper tail, accurate far out in the tail.
pub(crate) fn upper_tail(z: f64) -> f64 {
    if z.is_nan() {
        return 1.0;
    }
    Normal::standard().sf(z).clamp(0.0, 1.0)
}

/// What an interval says about the margin, before a sample size is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Diverged,
    Pass,
    Straddles,
}

pub(crate) fn call(lower: f64, upper: f64, margin: f64) -> Call {
    if lower > margin {
        Call::Diverged
    } else if upper < margin {
        Call::Pass
    } else {
        Call::Straddles
    }
}

/// Turn a call into a verdict, attaching `needed` to a straddling one.
pub(crate) fn verdict(call: Call, needed: impl FnOnce() -> Option<u64>) -> Verdict {
    match call {
        Call::Diverged => Verdict::Diverged,
        Call::Pass => Verdict::Pass,
        Call::Straddles => Verdict::Inconclusive { needed: needed() },
    }
}

/// Sample size that would decide a straddling interval if its half-width shrank like 1/√n (the
/// usual rate) while the estimate stayed put: the half-width on the side facing the margin must
/// fall below the estimate's distance to the margin.
pub(crate) fn needed_by_sqrt(
    n_total: u64,
    estimate: f64,
    lower: f64,
    upper: f64,
    margin: f64,
) -> Option<u64> {
    let gap = (estimate - margin).abs();
    let half = if estimate > margin {
        estimate - lower
    } else {
        upper - estimate
    };
    if gap.is_nan() || gap <= 0.0 || !half.is_finite() || n_total == 0 {
        return None;
    }
    let factor = (half / gap).powi(2);
    scaled(n_total, factor.max(1.0))
}

/// Sample size that would decide a comparison, found by re-judging the same rates at scaled-up
/// counts: `decided(k)` says whether `k` times the data would decide. Used where the interval's
/// width does not shrink like 1/√n (proportions near 0, whose score intervals shrink like 1/n).
pub(crate) fn needed_by_search(n_total: u64, decided: impl Fn(f64) -> bool) -> Option<u64> {
    if n_total == 0 {
        return None;
    }
    let limit = MAX_NEEDED / n_total as f64;
    let mut hi = 2.0;
    while !decided(hi) {
        hi *= 2.0;
        if hi > limit {
            return None;
        }
    }
    let mut lo = hi / 2.0;
    // 1% precision is plenty for "about N requests".
    while hi / lo > 1.01 {
        let mid = (lo * hi).sqrt();
        if decided(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    scaled(n_total, hi)
}

fn scaled(n_total: u64, factor: f64) -> Option<u64> {
    let n = (n_total as f64 * factor).ceil();
    if n.is_finite() && n <= MAX_NEEDED {
        Some(n as u64)
    } else {
        None
    }
}

/// The clause after the effect: how the interval stands against the margin.
pub(crate) fn margin_clause(verdict: &Verdict, margin: &str, unit: &str, n_total: u64) -> String {
    match verdict {
        Verdict::Diverged => format!("beyond the {margin} margin"),
        Verdict::Pass => format!("within the {margin} margin"),
        Verdict::Inconclusive { needed: Some(n) } => format!(
            "the interval straddles the {margin} margin; about {} {unit} in all (now {}) at this \
             volume ratio would decide it",
            crate::reason::count(*n),
            crate::reason::count(n_total)
        ),
        Verdict::Inconclusive { needed: None } => format!(
            "the interval straddles the {margin} margin, and no sample size decides it at this effect"
        ),
        Verdict::NoData => "nothing to compare".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_read_the_interval_against_the_margin() {
        assert_eq!(call(0.02, 0.03, 0.01), Call::Diverged);
        assert_eq!(call(-0.01, 0.005, 0.01), Call::Pass);
        assert_eq!(call(0.0, 0.02, 0.01), Call::Straddles);
        // An interval touching the margin does not prove either side.
        assert_eq!(call(0.01, 0.02, 0.01), Call::Straddles);
    }

    #[test]
    fn needed_grows_as_the_effect_nears_the_margin() {
        let far = needed_by_sqrt(1000, 0.05, 0.0, 0.1, 0.01).unwrap();
        let near = needed_by_sqrt(1000, 0.02, -0.03, 0.07, 0.01).unwrap();
        assert!(near > far, "{near} {far}");
        assert_eq!(needed_by_sqrt(1000, 0.01, 0.0, 0.02, 0.01), None);
        assert_eq!(
            needed_by_search(100, |k| k >= 10.0).map(|n| n / 10),
            Some(100)
        );
        assert_eq!(needed_by_search(100, |_| false), None);
    }

    #[test]
    fn alpha_and_margins_are_checked() {
        assert!(check_alpha(0.05).is_ok());
        for bad in [0.0, 0.5, -1.0, f64::NAN, f64::INFINITY] {
            assert!(check_alpha(bad).is_err(), "{bad}");
        }
        assert!(check_margin("m", f64::NAN, 0.0, 1.0, "x").is_err());
    }
}
