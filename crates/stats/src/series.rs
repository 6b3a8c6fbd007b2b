//! The judge for per-interval aggregates: two series of one value per interval (a per-minute
//! p99, a per-step mean latency, as `query_range` returns them), staging's against production's,
//! on a relative margin.
//!
//! Aggregates are already averages of many requests, so their logs are close to normal, but
//! consecutive intervals are correlated: a slow minute is followed by a slow minute. The judge is
//! a two-sample t on log values (a ratio of geometric means) whose variance assumes an AR(1)
//! process with lag-1 autocorrelation ρ, using the exact finite-n factors: the mean of `n` values
//! has variance `σ²(1 + 2S)/n` and the sample variance expects `σ²(1 − 2S/(n−1))`, with
//! `S = Σ_{k<n} (1 − k/n) ρᵏ`. Ignoring ρ = 0.5 would understate the standard error by √3.
//!
//! ρ is either assumed (stated in the result) or estimated from production's series — the
//! reference for the noise, since a divergence planted in staging's series distorts its own —
//! with Kendall's bias correction `ρ̂ + (1 + 3ρ̂)/n`, clamped to [0, 0.9]; below 20 points the
//! estimate is too noisy and 0.5 is assumed. The t-test uses the pooled variance: under the null
//! hypothesis staging's series is production's process scaled by at most `1 + δ`, with the same
//! noise. Kayenta #780 (7 of 10 one-minute points at 100×) diverges here where a rank test of
//! ten points cannot tell 7 of 10 from noise once the margin is applied.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::decision::{check_alpha, check_margin};
use crate::error::{Side, StatsError};
use crate::reason;
use crate::relative::{self, Context, LogEffect};
use crate::verdict::{Judgement, Method, Scale, Verdict};

/// Below this many production points ρ is assumed, not estimated.
const MIN_POINTS_TO_ESTIMATE: usize = 20;
/// ρ assumed when it is not given and cannot be estimated.
const DEFAULT_RHO: f64 = 0.5;

/// How to judge two per-interval series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeriesSpec {
    /// Tolerated relative rise of staging's typical (geometric mean) value: 0.10 is +10%.
    pub margin: f64,
    pub alpha: f64,
    /// Lag-1 autocorrelation of consecutive intervals, in [0, 0.95]; `None` estimates it from
    /// production's series (0.5 below 20 points).
    pub autocorrelation: Option<f64>,
    /// What a value is, for reasons: "p99 per minute".
    pub label: String,
    pub unit: String,
}

impl Default for SeriesSpec {
    fn default() -> Self {
        SeriesSpec {
            margin: 0.10,
            alpha: 0.05,
            autocorrelation: None,
            label: "per-interval value".into(),
            unit: String::new(),
        }
    }
}

impl SeriesSpec {
    pub fn validate(&self) -> Result<(), StatsError> {
        check_alpha(self.alpha)?;
        check_margin(
            "margin",
            self.margin,
            0.0,
            1e6,
            "a relative rise of at least 0 (0.10 is +10%)",
        )?;
        if let Some(r) = self.autocorrelation {
            check_margin(
                "autocorrelation",
                r,
                0.0,
                0.95,
                "a lag-1 autocorrelation from 0 to 0.95",
            )?;
        }
        Ok(())
    }
}

/// The series judgement with the autocorrelation it used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesJudgement {
    #[serde(flatten)]
    pub judgement: Judgement,
    /// ρ used, and whether it was estimated from production's series.
    pub autocorrelation: f64,
    pub autocorrelation_estimated: bool,
    /// Intervals skipped because their value was missing (NaN).
    pub skipped: usize,
}

fn logs(values: &[f64], side: Side) -> Result<(Vec<f64>, usize), StatsError> {
    let mut out = Vec::with_capacity(values.len());
    let mut skipped = 0;
    for (index, &v) in values.iter().enumerate() {
        if v.is_nan() {
            skipped += 1;
        } else if v <= 0.0 || v.is_infinite() {
            return Err(StatsError::NonPositive {
                side,
                index,
                value: v,
            });
        } else {
            out.push(v.ln());
        }
    }
    Ok((out, skipped))
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn sum_sq(v: &[f64], m: f64) -> f64 {
    v.iter().map(|x| (x - m).powi(2)).sum()
}

/// `S = Σ_{k=1}^{n−1} (1 − k/n) ρᵏ`.
fn ar_sum(n: usize, rho: f64) -> f64 {
    let mut s = 0.0;
    let mut p = 1.0;
    for k in 1..n {
        p *= rho;
        if p < 1e-12 {
            break;
        }
        s += (1.0 - k as f64 / n as f64) * p;
    }
    s
}

/// Kendall-corrected lag-1 autocorrelation, clamped to [0, 0.9].
fn estimate_rho(v: &[f64]) -> f64 {
    let m = mean(v);
    let den = sum_sq(v, m);
    if den <= 0.0 {
        return 0.0;
    }
    let num: f64 = v.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    let r = num / den;
    (r + (1.0 + 3.0 * r) / v.len() as f64).clamp(0.0, 0.9)
}

/// Judge staging's per-interval series against production's.
// Long: the judge's steps in the order docs/statistics.md gives them (checks, AR(1) estimate, interval, verdict, sentence).
#[allow(clippy::too_many_lines)]
pub fn judge_series(
    production: &[f64],
    staging: &[f64],
    spec: &SeriesSpec,
) -> Result<SeriesJudgement, StatsError> {
    spec.validate()?;
    let (lp, skipped_p) = logs(production, Side::Production)?;
    let (ls, skipped_s) = logs(staging, Side::Staging)?;
    let skipped = skipped_p + skipped_s;
    let (np, ns) = (lp.len(), ls.len());
    let (rho, estimated) = match spec.autocorrelation {
        Some(r) => (r, false),
        None if np >= MIN_POINTS_TO_ESTIMATE => (estimate_rho(&lp), true),
        None => (DEFAULT_RHO, false),
    };
    let wrap = |judgement| SeriesJudgement {
        judgement,
        autocorrelation: rho,
        autocorrelation_estimated: estimated,
        skipped,
    };
    if np == 0 || ns == 0 {
        let why = match (np, ns) {
            (0, 0) => "neither series has a value".to_string(),
            (p, 0) => format!(
                "staging's series is empty while production's has {p} intervals (missing in staging)"
            ),
            _ => format!("production's series is empty while staging's has {ns} intervals"),
        };
        return Ok(wrap(Judgement::no_data(
            spec.margin,
            Scale::Relative,
            spec.alpha,
            Method::AutocorrelatedT,
            np as u64,
            ns as u64,
            format!("{} cannot be compared: {why}", spec.label),
        )));
    }
    let (mp, ms) = (mean(&lp), mean(&ls));
    let (sp, ss) = (ar_sum(np, rho), ar_sum(ns, rho));
    let dof = (np + ns) as f64 - 2.0;
    let expected_dof = dof - 2.0 * (sp + ss);
    let too_short = Judgement {
        verdict: Verdict::Inconclusive { needed: None },
        estimate: Some((ms - mp).exp() - 1.0),
        interval: None,
        margin: spec.margin,
        scale: Scale::Relative,
        alpha: spec.alpha,
        p_value: None,
        p_adjusted: None,
        n_production: np as u64,
        n_staging: ns as u64,
        method: Method::AutocorrelatedT,
        reason: format!(
            "{} and {} intervals with autocorrelation {} are too few to estimate the noise of the \
             {}",
            np,
            ns,
            reason::number(rho),
            spec.label
        ),
    };
    if expected_dof < 0.5 {
        return Ok(wrap(too_short));
    }
    let pooled = (sum_sq(&lp, mp) + sum_sq(&ls, ms)) / expected_dof;
    let se = (pooled * ((1.0 + 2.0 * ss) / ns as f64 + (1.0 + 2.0 * sp) / np as f64)).sqrt();
    let neff = |n: usize, s: f64| n as f64 / (1.0 + 2.0 * s);
    let df = (neff(np, sp) + neff(ns, ss) - 2.0).max(1.0);
    let Ok(t) = StudentsT::new(0.0, 1.0, df) else {
        return Ok(wrap(too_short));
    };
    let est = ms - mp;
    let q = t.inverse_cdf(1.0 - spec.alpha);
    let c = spec.margin.ln_1p();
    let p_value = if se > 0.0 {
        (1.0 - t.cdf((est - c) / se)).clamp(0.0, 1.0)
    } else if est > c {
        0.0
    } else {
        1.0
    };
    let effect = LogEffect {
        estimate: est,
        lower: est - q * se,
        upper: est + q * se,
    };
    let rho_note = if estimated {
        format!("autocorrelation {} estimated", reason::number(rho))
    } else {
        format!("autocorrelation {} assumed", reason::number(rho))
    };
    let subject = format!("staging's {}", spec.label);
    let unit = |v: f64| crate::latency_samples::with_unit(v, &spec.unit);
    let judgement = relative::judge(
        effect,
        Context {
            margin: spec.margin,
            alpha: spec.alpha,
            method: Method::AutocorrelatedT,
            n_production: np as u64,
            n_staging: ns as u64,
            subject: &subject,
            detail: format!(
                "geometric mean {} against {} over {ns} and {np} intervals, {rho_note}",
                unit(ms.exp()),
                unit(mp.exp())
            ),
            p_value: Some(p_value),
            needed_override: None,
            limit_note: None,
        },
    );
    Ok(wrap(judgement))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kayenta_780_diverges() {
        // Kayenta #780 / spinnaker #6278: 7 of 10 points at 100× the baseline.
        let staging = [
            100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 1.0, 1.0, 1.0,
        ];
        let production = [1.02, 0.97, 1.0, 1.05, 0.99, 1.01, 0.96, 1.03, 0.98, 1.0];
        let j = judge_series(&production, &staging, &SeriesSpec::default()).unwrap();
        assert_eq!(
            j.judgement.verdict,
            Verdict::Diverged,
            "{}",
            j.judgement.reason
        );
        assert_eq!(j.autocorrelation, 0.5);
        assert!(
            j.judgement.reason.contains("autocorrelation 0.50 assumed"),
            "{}",
            j.judgement.reason
        );
    }

    #[test]
    fn finite_sum_matches_its_definition() {
        assert_eq!(ar_sum(1, 0.5), 0.0);
        assert!((ar_sum(3, 0.5) - (2.0 / 3.0 * 0.5 + 1.0 / 3.0 * 0.25)).abs() < 1e-12);
    }

    #[test]
    fn gaps_are_skipped_and_zeros_refused() {
        let j = judge_series(&[1.0, f64::NAN, 1.1], &[1.0, 1.2], &SeriesSpec::default()).unwrap();
        assert_eq!(j.skipped, 1);
        assert!(matches!(
            judge_series(&[1.0], &[0.0], &SeriesSpec::default()),
            Err(StatsError::NonPositive {
                side: Side::Staging,
                index: 0,
                ..
            })
        ));
        let none = judge_series(&[1.0, 2.0], &[], &SeriesSpec::default()).unwrap();
        assert_eq!(none.judgement.verdict, Verdict::NoData);
    }
}
