//! Anytime-valid watching of the error-ratio difference, for `prodlike compare --watch`.
//!
//! Re-running a fixed-sample test at every look inflates its false-positive rate: each look is
//! another chance to cross the line by noise (Spotify measured up to 2×; with a hundred looks it
//! is several times α). A *confidence sequence* (Howard et al. 2021; Lindon et al., KDD 2022, as
//! used at Netflix) is a sequence of intervals that holds at every look simultaneously with
//! probability `1 − α`, so looking after every interval, forever, and stopping at the first
//! crossing keeps the error rate at α. Its tests are mixture sequential probability ratio tests
//! (mSPRT, Johari et al. 2015).
//!
//! Construction. For a hypothesised difference θ, the score `Z = (θ̂ − θ)/v` with information
//! `V = 1/v` (v the variance of θ̂ at the restricted MLE under θ, as in the
//! Miettinen–Nurminen interval, so it stays defined at zero errors) behaves like a Gaussian
//! random walk, and `exp(λZ − λ²V/2)` is a (super)martingale when the true difference is at most
//! θ and λ ≥ 0. Mixing λ over a half-normal with scale τ gives, in closed form,
//! `M⁺(θ) = 2·√(c/(V+c))·exp(Z²/(2(V+c)))·Φ(Z/√(V+c))`, `c = 1/τ²`; by Ville's inequality
//! `P(M⁺ ever ≥ 1/α) ≤ α`. The lower end of the sequence is the smallest θ not rejected by
//! `M⁺`, the upper end the mirror image; each one-sided claim (diverged: lower end above δ; pass:
//! upper end below δ) errs with probability at most α over the whole watch. Ends are intersected
//! over looks (the running intersection of a confidence sequence is one too). τ defaults to the
//! margin δ: the mixture spends its power on effects of the margin's size. The Gaussian
//! behaviour is asymptotic (Waudby-Smith et al. 2021, "time-uniform central limit theory"), so
//! a look only counts once staging expects at least 5 errors and 5 successes under the
//! hypothesis at the margin (Cochran's rule, on the restricted MLE): before that, with a handful
//! of staging requests, five errors in fifty would cross the boundary far more often than the
//! Gaussian predicts (5.8% of sparse boundary streams flagged without this rule, against the
//! 5% bound; tests/watch_calibration.rs measures it).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::decision::{self, Call, check_alpha, check_margin, margin_clause, needed_by_search};
use crate::error::{Side, StatsError};
use crate::error_ratio::ErrorCounts;
use crate::proportion_difference::{restricted_mle, restricted_variance};
use crate::reason;
use crate::verdict::{Interval, Judgement, Method, Scale, Verdict};

/// How to watch an error-ratio difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchSpec {
    /// Absolute margin on staging's ratio minus production's (0.01 is one point).
    pub margin: f64,
    /// Error rate of each one-sided verdict over the whole watch, however many looks.
    pub alpha: f64,
    /// Scale τ of the mixture over effect sizes; `None` uses the margin (0.01 if it is 0).
    pub mixing_scale: Option<f64>,
    /// What the ratio is called in reasons.
    pub label: String,
}

impl Default for WatchSpec {
    fn default() -> Self {
        WatchSpec {
            margin: 0.01,
            alpha: 0.05,
            mixing_scale: None,
            label: "error ratio".into(),
        }
    }
}

impl WatchSpec {
    pub fn validate(&self) -> Result<(), StatsError> {
        check_alpha(self.alpha)?;
        check_margin(
            "margin",
            self.margin,
            0.0,
            0.999,
            "a proportion from 0 to 0.999 (0.01 is one point)",
        )?;
        if let Some(t) = self.mixing_scale {
            check_margin(
                "mixing_scale",
                t,
                1e-9,
                1.0,
                "a positive effect scale up to 1 (the margin by default)",
            )?;
        }
        Ok(())
    }

    fn tau(&self) -> f64 {
        self.mixing_scale
            .unwrap_or(if self.margin > 0.0 { self.margin } else { 0.01 })
    }
}

/// Where a watch stands after its latest look.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WatchState {
    pub looks: u64,
    /// Diverged, passed or still open, from the running bounds.
    pub verdict: Verdict,
    /// The running confidence sequence for staging − production (intersection over looks).
    #[serde(with = "crate::serde_bound::lower")]
    pub lower: f64,
    #[serde(with = "crate::serde_bound::upper")]
    pub upper: f64,
    /// The first look at which the verdict was decided.
    pub decided_at: Option<u64>,
    /// Anytime-valid p-value of "the difference is at most the margin": `1 / max M⁺(δ)`.
    pub p_value: f64,
}

/// A watch over cumulative error counts.
#[derive(Debug, Clone)]
pub struct ErrorRatioWatch {
    spec: WatchSpec,
    last: Option<(ErrorCounts, ErrorCounts)>,
    state: WatchState,
}

/// Expected staging errors (and successes) under the margin below which a look does not count.
const MIN_EXPECTED: f64 = 5.0;

/// `ln Φ(x)`, accurate far into the lower tail.
fn ln_phi(x: f64) -> f64 {
    if x > -30.0 {
        Normal::standard().cdf(x).max(f64::MIN_POSITIVE).ln()
    } else {
        -x * x / 2.0 - (-x).ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
    }
}

/// `ln M` of the one-sided half-normal mixture for a score `diff/v` with information `1/v`.
fn log_mixture(diff: f64, v: f64, c: f64) -> f64 {
    let v = v.max(1e-300);
    let cv = c * v;
    let spread = v * (1.0 + cv);
    std::f64::consts::LN_2
        + 0.5 * (cv / (1.0 + cv)).ln()
        + diff * diff / (2.0 * spread)
        + ln_phi(diff / spread.sqrt())
}

struct Data {
    x1: f64,
    n1: f64,
    x2: f64,
    n2: f64,
}

impl Data {
    fn estimate(&self) -> f64 {
        self.x1 / self.n1 - self.x2 / self.n2
    }

    /// Evidence that the true difference exceeds `theta` (`up`) or falls below it.
    fn log_evidence(&self, theta: f64, up: bool, c: f64) -> f64 {
        let v = restricted_variance(self.x1, self.n1, self.x2, self.n2, theta, false);
        let diff = self.estimate() - theta;
        log_mixture(if up { diff } else { -diff }, v, c)
    }

    /// The confidence sequence's ends at this look.
    fn bounds(&self, threshold: f64, c: f64) -> (f64, f64) {
        let est = self.estimate();
        let lower = search(
            -1.0,
            est,
            |t| self.log_evidence(t, true, c) < threshold,
            true,
        );
        let upper = search(
            est,
            1.0,
            |t| self.log_evidence(t, false, c) < threshold,
            false,
        );
        (lower.min(est), upper.max(est))
    }
}

/// The end of the set where `kept` holds: its smallest point (`from_left`) or its largest.
fn search(lo: f64, hi: f64, kept: impl Fn(f64) -> bool, from_left: bool) -> f64 {
    let (edge, inner) = if from_left { (lo, hi) } else { (hi, lo) };
    if kept(edge) {
        return edge;
    }
    let (mut out, mut inn) = (edge, inner);
    // 1e-10 is far below any difference of proportions a verdict reads.
    for _ in 0..80 {
        let mid = 0.5 * (out + inn);
        if (out - inn).abs() < 1e-10 {
            break;
        }
        if kept(mid) {
            inn = mid;
        } else {
            out = mid;
        }
    }
    inn
}

impl ErrorRatioWatch {
    pub fn new(spec: WatchSpec) -> Result<Self, StatsError> {
        spec.validate()?;
        Ok(ErrorRatioWatch {
            spec,
            last: None,
            state: WatchState {
                looks: 0,
                verdict: Verdict::NoData,
                lower: f64::NEG_INFINITY,
                upper: f64::INFINITY,
                decided_at: None,
                p_value: 1.0,
            },
        })
    }

    pub fn state(&self) -> WatchState {
        self.state
    }

    /// Take one look at the cumulative counts since the watch began.
    pub fn observe(
        &mut self,
        production: ErrorCounts,
        staging: ErrorCounts,
    ) -> Result<WatchState, StatsError> {
        for (c, side) in [(production, Side::Production), (staging, Side::Staging)] {
            if c.errors > c.requests {
                return Err(StatsError::ErrorsExceedRequests {
                    side,
                    errors: c.errors,
                    requests: c.requests,
                });
            }
        }
        if let Some((lp, ls)) = self.last {
            for (prev, now, side) in [
                (lp, production, Side::Production),
                (ls, staging, Side::Staging),
            ] {
                if now.requests < prev.requests {
                    return Err(went_down(side, "requests", prev.requests, now.requests));
                }
                if now.errors < prev.errors {
                    return Err(went_down(side, "errors", prev.errors, now.errors));
                }
            }
        }
        self.last = Some((production, staging));
        self.state.looks += 1;
        if production.requests == 0 || staging.requests == 0 {
            return Ok(self.state);
        }
        let data = Data {
            x1: staging.errors as f64,
            n1: staging.requests as f64,
            x2: production.errors as f64,
            n2: production.requests as f64,
        };
        let (t1, _) = restricted_mle(data.x1, data.n1, data.x2, data.n2, self.spec.margin);
        if data.n1 * t1 < MIN_EXPECTED || data.n1 * (1.0 - t1) < MIN_EXPECTED {
            // Too early for the Gaussian approximation: this look neither decides nor narrows.
            if self.state.verdict == Verdict::NoData {
                self.state.verdict = Verdict::Inconclusive { needed: None };
            }
            return Ok(self.state);
        }
        let c = 1.0 / self.spec.tau().powi(2);
        let threshold = (1.0 / self.spec.alpha).ln();
        let (lower, upper) = data.bounds(threshold, c);
        self.state.lower = self.state.lower.max(lower);
        self.state.upper = self.state.upper.min(upper);
        let at_margin = data.log_evidence(self.spec.margin, true, c);
        self.state.p_value = self.state.p_value.min((-at_margin).exp().min(1.0));
        let call = decision::call(self.state.lower, self.state.upper, self.spec.margin);
        // Once decided, a verdict stays: the watch stops at its first crossing. A later
        // divergence still overrides a pass (a finding wins); if the running ends cross, the
        // difference moved during the watch, and the first crossing stands.
        let verdict = match (self.state.verdict, call) {
            (Verdict::Diverged, _) | (_, Call::Diverged) => Verdict::Diverged,
            (Verdict::Pass, _) | (_, Call::Pass) => Verdict::Pass,
            _ => Verdict::Inconclusive { needed: None },
        };
        if self.state.decided_at.is_none() && matches!(verdict, Verdict::Diverged | Verdict::Pass) {
            self.state.decided_at = Some(self.state.looks);
        }
        self.state.verdict = verdict;
        Ok(self.state)
    }

    /// The watch's current judgement, with the sample size that would decide an open one and
    /// a sentence.
    pub fn judgement(&self) -> Judgement {
        let s = self.state;
        let spec = &self.spec;
        let (p, st) = self.last.unwrap_or_default();
        let (np, ns) = (p.requests, st.requests);
        if np == 0 || ns == 0 {
            return Judgement::no_data(
                spec.margin,
                Scale::Difference,
                spec.alpha,
                Method::ConfidenceSequence,
                np,
                ns,
                format!(
                    "after {} looks an environment has served no requests, so the {} cannot be \
                     watched yet",
                    s.looks, spec.label
                ),
            );
        }
        let data = Data {
            x1: st.errors as f64,
            n1: ns as f64,
            x2: p.errors as f64,
            n2: np as f64,
        };
        let estimate = data.estimate();
        let n_total = np.saturating_add(ns);
        let verdict = match s.verdict {
            Verdict::Inconclusive { .. } => {
                let c = 1.0 / spec.tau().powi(2);
                let threshold = (1.0 / spec.alpha).ln();
                let toward_diverged = estimate > spec.margin;
                let needed = needed_by_search(n_total, |k| {
                    let scaled = Data {
                        x1: k * data.x1,
                        n1: k * data.n1,
                        x2: k * data.x2,
                        n2: k * data.n2,
                    };
                    let (lo, hi) = scaled.bounds(threshold, c);
                    if toward_diverged {
                        lo > spec.margin
                    } else {
                        hi < spec.margin
                    }
                });
                Verdict::Inconclusive { needed }
            }
            v => v,
        };
        let decided = s
            .decided_at
            .map(|l| format!("; decided at look {l}"))
            .unwrap_or_default();
        let reason = format!(
            "after {} looks, staging's {} is {} points {} production's (anytime-valid {:.0}% \
             confidence sequence {} to {} points), {}{decided}",
            s.looks,
            spec.label,
            reason::points(estimate.abs()),
            if estimate >= 0.0 { "above" } else { "below" },
            (1.0 - 2.0 * spec.alpha) * 100.0,
            reason::points(s.lower),
            reason::points(s.upper),
            margin_clause(
                &verdict,
                &format!("{}-point", reason::points(spec.margin)),
                "requests",
                n_total
            ),
        );
        Judgement {
            verdict,
            estimate: Some(estimate),
            interval: Some(Interval {
                lower: s.lower,
                upper: s.upper,
                confidence: 1.0 - 2.0 * spec.alpha,
            }),
            margin: spec.margin,
            scale: Scale::Difference,
            alpha: spec.alpha,
            p_value: Some(s.p_value),
            p_adjusted: None,
            n_production: np,
            n_staging: ns,
            method: Method::ConfidenceSequence,
            reason,
        }
    }
}

fn went_down(side: Side, what: &'static str, previous: u64, now: u64) -> StatsError {
    StatsError::CountWentDown {
        side,
        what,
        previous,
        now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_rise_is_flagged_and_stays_flagged() {
        let mut w = ErrorRatioWatch::new(WatchSpec::default()).unwrap();
        let mut flagged = None;
        for look in 1..=50u64 {
            let s = w
                .observe(
                    ErrorCounts::new(10 * look, 1000 * look),
                    ErrorCounts::new(5 * look, 100 * look),
                )
                .unwrap();
            if s.verdict == Verdict::Diverged && flagged.is_none() {
                flagged = Some(look);
            }
            if flagged.is_some() {
                assert_eq!(s.verdict, Verdict::Diverged);
            }
        }
        assert!(flagged.is_some());
        let j = w.judgement();
        assert!(j.reason.contains("decided at look"), "{}", j.reason);
        assert!(j.interval.unwrap().contains(j.estimate.unwrap()));
    }

    #[test]
    fn equal_streams_end_in_pass_not_diverged() {
        let mut w = ErrorRatioWatch::new(WatchSpec::default()).unwrap();
        for look in 1..=100u64 {
            w.observe(
                ErrorCounts::new(10 * look, 1000 * look),
                ErrorCounts::new(10 * look, 1000 * look),
            )
            .unwrap();
        }
        assert_eq!(w.state().verdict, Verdict::Pass);
    }

    #[test]
    fn counts_that_go_down_are_refused() {
        let mut w = ErrorRatioWatch::new(WatchSpec::default()).unwrap();
        w.observe(ErrorCounts::new(1, 10), ErrorCounts::new(1, 10))
            .unwrap();
        assert!(matches!(
            w.observe(ErrorCounts::new(1, 9), ErrorCounts::new(1, 10)),
            Err(StatsError::CountWentDown {
                side: Side::Production,
                ..
            })
        ));
        let fresh = ErrorRatioWatch::new(WatchSpec::default()).unwrap();
        assert_eq!(fresh.judgement().verdict, Verdict::NoData);
    }
}
