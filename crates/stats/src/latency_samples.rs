//! The latency judge for raw samples (or HDR histograms, which are raw samples at 0.1%
//! resolution): is staging slower than production by more than a relative margin?
//!
//! - **Typical shift**: the Mann–Whitney U test with the Hodges–Lehmann shift estimate and its
//!   order-statistic interval, on log latencies. On the log scale "staging is 10% slower" is a
//!   shift by `ln 1.1` whatever production's median, so the relative margin needs no estimate of
//!   production's median in a denominator (whose own noise would otherwise leak into the
//!   verdict), and the test stays distribution-free: exact in level when staging's latencies are
//!   production's times a constant.
//! - **Quantiles** (p50, p90, p99 by default): each side's quantile with a distribution-free
//!   order-statistic interval, combined into a ratio interval on the log scale (MOVER). These
//!   catch what a shift cannot: a tail tripled with the same median, a rise in variance.
//!
//! Margins are relative (../shared/DECISIONS.md): 10% on the shift and p50, 25% on p99; p90's
//! default, 20%, sits between. With a million production requests a test of equality rejects
//! every route; a margin does not.

use serde::{Deserialize, Serialize};

use crate::decision::{check_alpha, check_margin, z_one_sided};
use crate::error::{Side, StatsError};
use crate::hodges_lehmann::{shift, shift_p_value};
use crate::order_statistics::{min_draws, quantile_ranks};
use crate::reason;
use crate::relative::{self, Context, LogEffect, mover};
use crate::sample::Sample;
use crate::verdict::{Judgement, Method, Scale};

/// A quantile and the relative rise of staging's value over production's that is tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantileMargin {
    /// The quantile, in (0, 1): 0.99 is p99.
    pub quantile: f64,
    /// Tolerated relative rise: 0.25 is "+25%".
    pub margin: f64,
}

/// How to judge latency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencySpec {
    /// Tolerated relative rise of the typical latency (the Hodges–Lehmann shift): 0.10 is +10%.
    pub shift_margin: f64,
    /// Quantiles compared, each with its own margin.
    pub quantiles: Vec<QuantileMargin>,
    /// Error rate of each one-sided verdict; intervals are two-sided `1 − 2α`.
    pub alpha: f64,
    /// Unit of the values, for reasons ("ms").
    pub unit: String,
}

impl Default for LatencySpec {
    fn default() -> Self {
        LatencySpec {
            shift_margin: 0.10,
            quantiles: vec![
                QuantileMargin {
                    quantile: 0.50,
                    margin: 0.10,
                },
                QuantileMargin {
                    quantile: 0.90,
                    margin: 0.20,
                },
                QuantileMargin {
                    quantile: 0.99,
                    margin: 0.25,
                },
            ],
            alpha: 0.05,
            unit: "ms".into(),
        }
    }
}

impl LatencySpec {
    pub fn validate(&self) -> Result<(), StatsError> {
        check_alpha(self.alpha)?;
        check_margin(
            "shift_margin",
            self.shift_margin,
            0.0,
            1e6,
            "a relative rise of at least 0 (0.10 is +10%)",
        )?;
        for q in &self.quantiles {
            if !(q.quantile > 0.0 && q.quantile < 1.0) {
                return Err(StatsError::InvalidParameter {
                    field: "quantiles[].quantile",
                    value: q.quantile,
                    expected: "a quantile strictly between 0 and 1 (0.99 is p99)",
                });
            }
            check_margin(
                "quantiles[].margin",
                q.margin,
                0.0,
                1e6,
                "a relative rise of at least 0 (0.25 is +25%)",
            )?;
        }
        Ok(())
    }
}

/// One quantile's comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileJudgement {
    pub quantile: f64,
    /// Each side's estimate in the input's unit; `None` without data.
    pub production: Option<f64>,
    pub staging: Option<f64>,
    #[serde(flatten)]
    pub judgement: Judgement,
}

/// The latency judgement of one route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyJudgement {
    /// The typical shift (Hodges–Lehmann on log latencies) against `shift_margin`.
    pub shift: Judgement,
    pub quantiles: Vec<QuantileJudgement>,
}

impl LatencyJudgement {
    /// Every judgement, shift first.
    pub fn judgements(&self) -> impl Iterator<Item = &Judgement> {
        std::iter::once(&self.shift).chain(self.quantiles.iter().map(|q| &q.judgement))
    }
}

/// `"p99"` for 0.99, `"p99.9"` for 0.999.
pub(crate) fn quantile_name(q: f64) -> String {
    let pct = q * 100.0;
    if (pct - pct.round()).abs() < 1e-9 {
        format!("p{}", pct.round())
    } else {
        format!("p{}", reason::number(pct))
    }
}

pub(crate) fn with_unit(v: f64, unit: &str) -> String {
    if unit.is_empty() {
        reason::number(v)
    } else {
        format!("{} {unit}", reason::number(v))
    }
}

/// Values at or below 0 are mapped to half the smallest positive value before taking logs:
/// the order is kept (all that rank statistics use) and no log is infinite.
fn log_floor(a: &Sample, b: &Sample) -> f64 {
    let smallest = |s: &Sample| s.values().iter().copied().find(|&v| v > 0.0);
    match (smallest(a), smallest(b)) {
        (Some(x), Some(y)) => x.min(y) / 2.0,
        (Some(x), None) | (None, Some(x)) => x / 2.0,
        (None, None) => 1.0,
    }
}

fn check_non_negative(s: &Sample, side: Side) -> Result<(), StatsError> {
    match s.min() {
        Some(v) if v < 0.0 => Err(StatsError::Negative { side, value: v }),
        _ => Ok(()),
    }
}

/// Judge staging's latencies against production's from raw samples.
pub fn judge_latency_samples(
    production: &Sample,
    staging: &Sample,
    spec: &LatencySpec,
) -> Result<LatencyJudgement, StatsError> {
    spec.validate()?;
    check_non_negative(production, Side::Production)?;
    check_non_negative(staging, Side::Staging)?;
    let (np, ns) = (production.len(), staging.len());
    if np == 0 || ns == 0 {
        let why = missing_reason(np, ns);
        let shift = Judgement::no_data(
            spec.shift_margin,
            Scale::Relative,
            spec.alpha,
            Method::HodgesLehmann,
            np,
            ns,
            format!("latency cannot be compared: {why}"),
        );
        let quantiles = spec
            .quantiles
            .iter()
            .map(|q| QuantileJudgement {
                quantile: q.quantile,
                production: production.quantile(q.quantile),
                staging: staging.quantile(q.quantile),
                judgement: Judgement::no_data(
                    q.margin,
                    Scale::Relative,
                    spec.alpha,
                    Method::QuantileOrderStatistics,
                    np,
                    ns,
                    format!("{} cannot be compared: {why}", quantile_name(q.quantile)),
                ),
            })
            .collect();
        return Ok(LatencyJudgement { shift, quantiles });
    }
    let floor = log_floor(production, staging);
    let log = |v: f64| v.max(floor).ln();
    let (lp, ls) = (production.map_increasing(log), staging.map_increasing(log));
    let z = z_one_sided(spec.alpha);
    let shift = judge_shift(&lp, &ls, production, staging, spec, z);
    let quantiles = spec
        .quantiles
        .iter()
        .map(|qm| judge_quantile(&lp, &ls, production, staging, *qm, spec))
        .collect();
    Ok(LatencyJudgement { shift, quantiles })
}

pub(crate) fn missing_reason(np: u64, ns: u64) -> String {
    match (np, ns) {
        (0, 0) => "neither environment has a sample".into(),
        (p, 0) => format!(
            "staging has no samples while production has {} (the route is missing in staging)",
            reason::count(p)
        ),
        _ => format!(
            "production has no samples while staging has {}",
            reason::count(ns)
        ),
    }
}

fn judge_shift(
    lp: &Sample,
    ls: &Sample,
    production: &Sample,
    staging: &Sample,
    spec: &LatencySpec,
    z: f64,
) -> Judgement {
    let c = spec.shift_margin.ln_1p();
    // Both samples are non-empty here, so `shift` is Some.
    let s = shift(ls, lp, z).unwrap_or(crate::hodges_lehmann::Shift {
        estimate: f64::NAN,
        lower: f64::NEG_INFINITY,
        upper: f64::INFINITY,
    });
    let detail = format!(
        "median {} against {}",
        with_unit(staging.quantile(0.5).unwrap_or(f64::NAN), &spec.unit),
        with_unit(production.quantile(0.5).unwrap_or(f64::NAN), &spec.unit)
    );
    relative::judge(
        LogEffect {
            estimate: s.estimate,
            lower: s.lower,
            upper: s.upper,
        },
        Context {
            margin: spec.shift_margin,
            alpha: spec.alpha,
            method: Method::HodgesLehmann,
            n_production: production.len(),
            n_staging: staging.len(),
            subject: "staging's typical latency (Hodges–Lehmann shift)",
            detail,
            p_value: Some(shift_p_value(ls, lp, c)),
            needed_override: None,
            limit_note: None,
        },
    )
}

/// One side's quantile on the log scale with its order-statistic bounds.
fn side_quantile(log_sample: &Sample, q: f64, tail: f64) -> LogEffect {
    let (l, u) = quantile_ranks(log_sample.len(), q, tail);
    LogEffect {
        estimate: log_sample.quantile(q).unwrap_or(f64::NAN),
        lower: l
            .and_then(|r| log_sample.value_at_rank(r))
            .unwrap_or(f64::NEG_INFINITY),
        upper: u
            .and_then(|r| log_sample.value_at_rank(r))
            .unwrap_or(f64::INFINITY),
    }
}

fn judge_quantile(
    lp: &Sample,
    ls: &Sample,
    production: &Sample,
    staging: &Sample,
    qm: QuantileMargin,
    spec: &LatencySpec,
) -> QuantileJudgement {
    let q = qm.quantile;
    let effect = mover(
        side_quantile(ls, q, spec.alpha),
        side_quantile(lp, q, spec.alpha),
    );
    let (vp, vs) = (production.quantile(q), staging.quantile(q));
    let name = quantile_name(q);
    let subject = format!("staging's {name}");
    // Too few draws for a finite bound: more draws decide it, at least this many per side.
    let too_few = !effect.lower.is_finite() || !effect.upper.is_finite();
    let needed_override = too_few.then(|| {
        min_draws(q, spec.alpha).map(|m| {
            let ratio = production.len() as f64 / staging.len() as f64;
            // Both sides need `m`; at the observed ratio the smaller side is the limit.
            let per_small = m as f64;
            (per_small * (1.0 + ratio.max(1.0 / ratio))).ceil() as u64
        })
    });
    let limit_note = too_few.then(|| {
        format!(
            "a finite interval for {name} needs at least {} samples on each side",
            min_draws(q, spec.alpha)
                .map(reason::count)
                .unwrap_or_else(|| "more".into())
        )
    });
    let judgement = relative::judge(
        effect,
        Context {
            margin: qm.margin,
            alpha: spec.alpha,
            method: Method::QuantileOrderStatistics,
            n_production: production.len(),
            n_staging: staging.len(),
            subject: &subject,
            detail: format!(
                "{} against {}",
                with_unit(vs.unwrap_or(f64::NAN), &spec.unit),
                with_unit(vp.unwrap_or(f64::NAN), &spec.unit)
            ),
            p_value: None,
            needed_override: needed_override.filter(|_| too_few),
            limit_note,
        },
    );
    QuantileJudgement {
        quantile: q,
        production: vp,
        staging: vs,
        judgement,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Verdict;

    fn lognormal(rng: &mut fastrand::Rng, n: usize, median: f64, sigma: f64) -> Vec<f64> {
        (0..n)
            .map(|_| {
                // Box–Muller.
                let (u1, u2) = (rng.f64().max(1e-300), rng.f64());
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                median * (sigma * z).exp()
            })
            .collect()
    }

    #[test]
    fn a_slower_staging_diverges_on_the_shift() {
        let mut rng = fastrand::Rng::with_seed(11);
        let p = Sample::from_values(&lognormal(&mut rng, 3000, 100.0, 0.5)).unwrap();
        let s = Sample::from_values(&lognormal(&mut rng, 3000, 150.0, 0.5)).unwrap();
        let j = judge_latency_samples(&p, &s, &LatencySpec::default()).unwrap();
        assert_eq!(j.shift.verdict, Verdict::Diverged, "{}", j.shift.reason);
        let est = j.shift.estimate.unwrap();
        assert!((est - 0.5).abs() < 0.1, "{est}");
        assert!(j.shift.interval.unwrap().contains(est));
        assert!(
            j.shift.reason.contains("beyond the +10.0% margin"),
            "{}",
            j.shift.reason
        );
    }

    #[test]
    fn the_same_distribution_passes_with_enough_samples() {
        let mut rng = fastrand::Rng::with_seed(12);
        let p = Sample::from_values(&lognormal(&mut rng, 5000, 100.0, 0.5)).unwrap();
        let s = Sample::from_values(&lognormal(&mut rng, 5000, 100.0, 0.5)).unwrap();
        let j = judge_latency_samples(&p, &s, &LatencySpec::default()).unwrap();
        for jj in j.judgements() {
            assert_eq!(jj.verdict, Verdict::Pass, "{}", jj.reason);
        }
    }

    #[test]
    fn a_tripled_tail_with_the_same_median_diverges_at_p99() {
        let mut rng = fastrand::Rng::with_seed(13);
        let p: Vec<f64> = lognormal(&mut rng, 5000, 100.0, 0.5);
        // Spread the log latencies around the same median: p99 × 3.
        let k = 1.0 + 3f64.ln() / (0.5 * 2.326);
        let s: Vec<f64> = lognormal(&mut rng, 5000, 100.0, 0.5)
            .into_iter()
            .map(|v| 100.0 * (v / 100.0).powf(k))
            .collect();
        let j = judge_latency_samples(
            &Sample::from_values(&p).unwrap(),
            &Sample::from_values(&s).unwrap(),
            &LatencySpec::default(),
        )
        .unwrap();
        assert_ne!(j.shift.verdict, Verdict::Diverged, "{}", j.shift.reason);
        let p99 = &j.quantiles[2];
        assert_eq!(
            p99.judgement.verdict,
            Verdict::Diverged,
            "{}",
            p99.judgement.reason
        );
    }

    #[test]
    fn too_few_samples_for_p99_say_how_many() {
        let p = Sample::from_values(&(1..=50).map(f64::from).collect::<Vec<_>>()).unwrap();
        let s = Sample::from_values(&(1..=50).map(f64::from).collect::<Vec<_>>()).unwrap();
        let j = judge_latency_samples(&p, &s, &LatencySpec::default()).unwrap();
        let p99 = &j.quantiles[2].judgement;
        assert!(
            matches!(p99.verdict, Verdict::Inconclusive { needed: Some(_) }),
            "{p99:?}"
        );
        assert!(
            p99.reason.contains("at least 299 samples"),
            "{}",
            p99.reason
        );
    }

    #[test]
    fn empty_staging_is_no_data_and_negative_values_are_refused() {
        let p = Sample::from_values(&[1.0, 2.0]).unwrap();
        let j = judge_latency_samples(&p, &Sample::default(), &LatencySpec::default()).unwrap();
        assert!(j.judgements().all(|j| j.verdict == Verdict::NoData));
        assert!(j.shift.reason.contains("missing in staging"));
        let bad = Sample::from_values(&[-1.0]).unwrap();
        assert!(matches!(
            judge_latency_samples(&p, &bad, &LatencySpec::default()),
            Err(StatsError::Negative {
                side: Side::Staging,
                ..
            })
        ));
    }
}
