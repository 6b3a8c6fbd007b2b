//! The error-ratio judge: is staging's error ratio (5xx over requests, say) worse than
//! production's by more than a margin?
//!
//! - Absolute margin (default 0.01, one percentage point, the common alert's threshold): the
//!   Miettinen–Nurminen score interval for the difference with the Gart–Nam skewness correction
//!   (SCAS, Laud 2017), judged against δ, with the same corrected score test at δ as its
//!   p-value (see `proportion_difference`).
//! - Relative margin ("more than ρ₀ times production's rate"): the exact conditional binomial
//!   test given the total errors (see `conditional`), exact at any volume ratio.
//!
//! Both keep their error rate with 3 errors and with 20:1 volumes, where a normal approximation
//! does not; tests/calibration_error_ratio.rs measures it.

use serde::{Deserialize, Serialize};

use crate::conditional::{ConditionalTest, conditional_test, rate_ratio_interval};
use crate::decision::{
    self, Call, check_alpha, check_margin, margin_clause, needed_by_search, upper_tail, z_one_sided,
};
use crate::error::{Side, StatsError};
use crate::proportion_difference::{corrected_interval, corrected_z};
use crate::reason;
use crate::verdict::{Interval, Judgement, Method, Scale, Verdict};

/// Errors out of requests on one side, over the whole window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorCounts {
    pub errors: u64,
    pub requests: u64,
}

impl ErrorCounts {
    pub fn new(errors: u64, requests: u64) -> Self {
        ErrorCounts { errors, requests }
    }

    fn check(&self, side: Side) -> Result<(), StatsError> {
        if self.errors > self.requests {
            Err(StatsError::ErrorsExceedRequests {
                side,
                errors: self.errors,
                requests: self.requests,
            })
        } else {
            Ok(())
        }
    }
}

/// The margin an error ratio is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorMargin {
    /// Allowed rise of staging's ratio over production's, as a proportion: 0.01 is one point.
    Absolute(f64),
    /// Allowed relative rise: 1.0 means "at most twice production's rate".
    Relative(f64),
}

/// How to judge one error ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ErrorRatioSpec {
    /// What the ratio is called in reasons, e.g. "5xx ratio".
    pub label: String,
    /// The margin; `Absolute(0.01)` by default (../shared/DECISIONS.md).
    pub margin: ErrorMargin,
    /// Error rate of each one-sided verdict; the interval is the two-sided `1 − 2α` one.
    pub alpha: f64,
}

impl Default for ErrorRatioSpec {
    fn default() -> Self {
        ErrorRatioSpec {
            label: "error ratio".into(),
            margin: ErrorMargin::Absolute(0.01),
            alpha: 0.05,
        }
    }
}

impl ErrorRatioSpec {
    pub fn validate(&self) -> Result<(), StatsError> {
        check_alpha(self.alpha)?;
        match self.margin {
            ErrorMargin::Absolute(d) => check_margin(
                "margin.absolute",
                d,
                0.0,
                0.999,
                "a proportion from 0 to 0.999 (0.01 is one percentage point)",
            ),
            ErrorMargin::Relative(r) => check_margin(
                "margin.relative",
                r,
                0.0,
                1e6,
                "a relative rise of at least 0 (1.0 is twice production's rate)",
            ),
        }
    }
}

/// The error-ratio judgement with the rates behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRatioJudgement {
    #[serde(flatten)]
    pub judgement: Judgement,
    pub production: ErrorCounts,
    pub staging: ErrorCounts,
    /// The exact conditional test of "staging's errors exceed its share of the traffic"
    /// (rate ratio 1, or the relative margin's ratio); `None` without requests on a side.
    pub conditional: Option<ConditionalTest>,
}

/// Judge staging's error ratio against production's.
pub fn judge_error_ratio(
    production: ErrorCounts,
    staging: ErrorCounts,
    spec: &ErrorRatioSpec,
) -> Result<ErrorRatioJudgement, StatsError> {
    spec.validate()?;
    production.check(Side::Production)?;
    staging.check(Side::Staging)?;
    let judgement = match spec.margin {
        ErrorMargin::Absolute(delta) => absolute(production, staging, spec, delta),
        ErrorMargin::Relative(rho) => relative(production, staging, spec, rho),
    };
    let conditional = (production.requests > 0 && staging.requests > 0).then(|| {
        let ratio = match spec.margin {
            ErrorMargin::Absolute(_) => 1.0,
            ErrorMargin::Relative(r) => 1.0 + r,
        };
        conditional_test(
            production.errors,
            production.requests,
            staging.errors,
            staging.requests,
            ratio,
        )
    });
    Ok(ErrorRatioJudgement {
        judgement,
        production,
        staging,
        conditional,
    })
}

fn missing(
    production: ErrorCounts,
    staging: ErrorCounts,
    label: &str,
    margin: f64,
    scale: Scale,
    alpha: f64,
    method: Method,
) -> Option<Judgement> {
    let reason = match (production.requests, staging.requests) {
        (0, 0) => {
            format!("neither environment served a request, so there is no {label} to compare")
        }
        (p, 0) => format!(
            "staging served no requests while production served {}: the route is missing in \
             staging, so its {label} cannot be compared",
            reason::count(p)
        ),
        (0, s) => format!(
            "production served no requests while staging served {}, so there is no production \
             {label} to compare against",
            reason::count(s)
        ),
        _ => return None,
    };
    Some(Judgement::no_data(
        margin,
        scale,
        alpha,
        method,
        production.requests,
        staging.requests,
        reason,
    ))
}

fn absolute(p: ErrorCounts, s: ErrorCounts, spec: &ErrorRatioSpec, delta: f64) -> Judgement {
    let method = Method::SkewCorrectedScore;
    if let Some(j) = missing(
        p,
        s,
        &spec.label,
        delta,
        Scale::Difference,
        spec.alpha,
        method,
    ) {
        return j;
    }
    let (x1, n1, x2, n2) = (
        s.errors as f64,
        s.requests as f64,
        p.errors as f64,
        p.requests as f64,
    );
    let z = z_one_sided(spec.alpha);
    let estimate = x1 / n1 - x2 / n2;
    let (lower, upper) = corrected_interval(x1, n1, x2, n2, z);
    let call = decision::call(lower, upper, delta);
    let n_total = p.requests.saturating_add(s.requests);
    let verdict = decision::verdict(call, || {
        let side = call_side(estimate, delta);
        needed_by_search(n_total, |k| {
            let (lo, hi) = corrected_interval(k * x1, k * n1, k * x2, k * n2, z);
            match side {
                Call::Diverged => lo > delta,
                _ => hi < delta,
            }
        })
    });
    let p_value = upper_tail(corrected_z(x1, n1, x2, n2, delta));
    let direction = if estimate >= 0.0 { "above" } else { "below" };
    let mut reason = format!(
        "staging's {} is {} points {direction} production's ({}% against {}%; {:.0}% CI {} to {} \
         points), {}",
        spec.label,
        reason::points(estimate.abs()),
        reason::points(x1 / n1),
        reason::points(x2 / n2),
        (1.0 - 2.0 * spec.alpha) * 100.0,
        reason::points(lower),
        reason::points(upper),
        margin_clause(
            &verdict,
            &format!("{}-point", reason::points(delta)),
            "requests",
            n_total
        ),
    );
    let cond = conditional_test(p.errors, p.requests, s.errors, s.requests, 1.0);
    if verdict != Verdict::Diverged && cond.total_errors > 0 && cond.p_value < spec.alpha {
        reason.push_str(&format!(
            "; staging nonetheless holds {} of the {} errors with {:.1}% of the requests (exact \
             conditional p = {})",
            reason::count(cond.staging_errors),
            reason::count(cond.total_errors),
            cond.staging_traffic_share * 100.0,
            reason::number(cond.p_value)
        ));
    }
    Judgement {
        verdict,
        estimate: Some(estimate),
        interval: Some(Interval {
            lower,
            upper,
            confidence: 1.0 - 2.0 * spec.alpha,
        }),
        margin: delta,
        scale: Scale::Difference,
        alpha: spec.alpha,
        p_value: Some(p_value),
        p_adjusted: None,
        n_production: p.requests,
        n_staging: s.requests,
        method,
        reason,
    }
}

/// Which bound has to move for the comparison to be decided at the observed effect.
fn call_side(estimate: f64, margin: f64) -> Call {
    if estimate > margin {
        Call::Diverged
    } else {
        Call::Pass
    }
}

fn relative(p: ErrorCounts, s: ErrorCounts, spec: &ErrorRatioSpec, rho: f64) -> Judgement {
    let method = Method::ConditionalBinomial;
    if let Some(j) = missing(p, s, &spec.label, rho, Scale::Relative, spec.alpha, method) {
        return j;
    }
    let total = p.errors.saturating_add(s.errors);
    let cond = conditional_test(p.errors, p.requests, s.errors, s.requests, 1.0 + rho);
    let (lo, hi) = rate_ratio_interval(s.errors, total, s.requests, p.requests, spec.alpha);
    let estimate = cond.rate_ratio - 1.0;
    // The exact interval always holds the estimate; min/max only guard rounding at extremes.
    let (lower, upper) = ((lo - 1.0).min(estimate), (hi - 1.0).max(estimate));
    let call = decision::call(lower, upper, rho);
    let n_total = p.requests.saturating_add(s.requests);
    let verdict = decision::verdict(call, || {
        if total == 0 {
            return None;
        }
        let side = call_side(estimate, rho);
        needed_by_search(n_total, |k| {
            let scale = |x: u64| (x as f64 * k).round() as u64;
            let (xs, xp) = (scale(s.errors), scale(p.errors));
            let (lo, hi) = rate_ratio_interval(
                xs,
                xs.saturating_add(xp),
                scale(s.requests),
                scale(p.requests),
                spec.alpha,
            );
            match side {
                Call::Diverged => lo - 1.0 > rho,
                _ => hi - 1.0 < rho,
            }
        })
    });
    let times = |r: f64| format!("{}×", reason::number(r));
    let reason = if total == 0 {
        format!(
            "neither environment had an error in {} requests, so the ratio of their {}s cannot be \
             bounded yet; {}",
            reason::count(n_total),
            spec.label,
            margin_clause(&verdict, &times(1.0 + rho), "requests", n_total)
        )
    } else {
        format!(
            "staging's {} is {} production's ({} of {} against {} of {}; {:.0}% CI {} to {}), {}",
            spec.label,
            times(cond.rate_ratio),
            reason::count(s.errors),
            reason::count(s.requests),
            reason::count(p.errors),
            reason::count(p.requests),
            (1.0 - 2.0 * spec.alpha) * 100.0,
            times(lo),
            times(hi),
            margin_clause(&verdict, &times(1.0 + rho), "requests", n_total)
        )
    };
    Judgement {
        verdict,
        estimate: Some(estimate),
        interval: Some(Interval {
            lower,
            upper,
            confidence: 1.0 - 2.0 * spec.alpha,
        }),
        margin: rho,
        scale: Scale::Relative,
        alpha: spec.alpha,
        p_value: Some(cond.p_value),
        p_adjusted: None,
        n_production: p.requests,
        n_staging: s.requests,
        method,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(xp: u64, np: u64, xs: u64, ns: u64) -> ErrorRatioJudgement {
        judge_error_ratio(
            ErrorCounts::new(xp, np),
            ErrorCounts::new(xs, ns),
            &ErrorRatioSpec::default(),
        )
        .unwrap()
    }

    #[test]
    fn a_clear_rise_diverges_and_says_why() {
        let j = judge(100, 10_000, 300, 10_000);
        assert_eq!(
            j.judgement.verdict,
            Verdict::Diverged,
            "{}",
            j.judgement.reason
        );
        assert!(
            j.judgement.reason.contains("2.0 points above"),
            "{}",
            j.judgement.reason
        );
        assert!(j.judgement.reason.contains("beyond the 1.0-point margin"));
        assert!(j.judgement.p_value.unwrap() < 0.05);
    }

    #[test]
    fn equal_ratios_with_enough_traffic_pass() {
        let j = judge(100, 10_000, 100, 10_000);
        assert_eq!(j.judgement.verdict, Verdict::Pass, "{}", j.judgement.reason);
    }

    #[test]
    fn few_requests_are_inconclusive_with_a_sample_size() {
        let j = judge(1, 100, 4, 100);
        let Verdict::Inconclusive { needed: Some(n) } = j.judgement.verdict else {
            panic!("{:?}", j.judgement)
        };
        assert!(n > 200, "{n}");
        // At that size, with the same rates, the comparison is decided.
        let k = n.div_ceil(200);
        let bigger = judge(k, 100 * k, 4 * k, 100 * k);
        assert!(
            !matches!(bigger.judgement.verdict, Verdict::Inconclusive { .. }),
            "{:?}",
            bigger.judgement
        );
    }

    #[test]
    fn missing_staging_is_no_data_and_named() {
        let j = judge(5, 1000, 0, 0);
        assert_eq!(j.judgement.verdict, Verdict::NoData);
        assert!(j.judgement.reason.contains("missing in staging"));
    }

    #[test]
    fn errors_above_requests_are_refused() {
        let e = judge_error_ratio(
            ErrorCounts::new(5, 4),
            ErrorCounts::new(0, 1),
            &ErrorRatioSpec::default(),
        );
        assert!(matches!(e, Err(StatsError::ErrorsExceedRequests { .. })));
    }

    #[test]
    fn relative_margin_uses_the_conditional_test() {
        let spec = ErrorRatioSpec {
            margin: ErrorMargin::Relative(1.0),
            ..Default::default()
        };
        // 5× the rate with 20:1 traffic: 50 of 2,000 staging against 200 of 40,000 production.
        let j = judge_error_ratio(
            ErrorCounts::new(200, 40_000),
            ErrorCounts::new(50, 2_000),
            &spec,
        )
        .unwrap();
        assert_eq!(j.judgement.method, Method::ConditionalBinomial);
        assert_eq!(
            j.judgement.verdict,
            Verdict::Diverged,
            "{}",
            j.judgement.reason
        );
        let none =
            judge_error_ratio(ErrorCounts::new(0, 1000), ErrorCounts::new(0, 1000), &spec).unwrap();
        assert_eq!(
            none.judgement.verdict,
            Verdict::Inconclusive { needed: None }
        );
    }
}
