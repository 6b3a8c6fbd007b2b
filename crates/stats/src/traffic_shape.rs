//! Traffic shape: does staging's request-rate curve follow production's over the window?
//!
//! Two request counts per interval (the same intervals) are compared after scaling away the
//! volume ratio, i.e. as shares: `pᵢ = Pᵢ/ΣP`, `sᵢ = Sᵢ/ΣS`. The effect is the total variation
//! distance `½Σ|sᵢ − pᵢ|` — the fraction of staging's requests that arrive in the "wrong"
//! intervals compared with production's curve — judged against a margin (default 0.10: at most
//! a tenth of staging's traffic out of shape). Counts are noisy (Poisson within an interval), so
//! the plug-in distance is biased upward at low volumes; its interval is a seeded Poisson
//! parametric bootstrap, in the basic ("reverse percentile") form that subtracts that bias.
//! Reported beside it: the Pearson correlation of the shares and a chi-square homogeneity p
//! (equality; informative).
//!
//! Resolution: a shape cannot be measured finer than the counts allow. With 5 staging requests
//! per interval, Poisson noise alone puts the plug-in distance near 0.3 and no bootstrap
//! corrects that reliably (the noise adds in quadrature, not linearly: 9% false divergences
//! at A/A in tests/calibration_latency.rs before this rule). So adjacent intervals are merged
//! into bins holding at least 100 requests on each side (noise then ≈ 0.4/√100 = 0.04, well
//! under the margin) before shares are compared. Merging can only lower the distance, so a
//! `diverged` at bin resolution holds at interval resolution; a `pass` is a statement about
//! the binned shape, and the reason says how many bins it used.
//!
//! The volume ratio itself is a separate question: when the expected ratio is declared (staging
//! gets 5% of production's traffic), the observed ratio of totals is judged against it with a
//! relative margin in both directions (default ±25%), with an exact conditional interval.

use serde::{Deserialize, Serialize};

use crate::conditional::clopper_pearson_one_sided;
use crate::decision::{self, check_alpha, check_margin, margin_clause, needed_by_sqrt};
use crate::error::{Side, StatsError};
use crate::homogeneity::bucket_homogeneity;
use crate::poisson::poisson;
use crate::reason;
use crate::verdict::{Interval, Judgement, Method, Scale, Verdict};

/// How to judge traffic shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrafficShapeSpec {
    /// Tolerated total variation distance between the per-interval shares, in [0, 1].
    pub margin: f64,
    pub alpha: f64,
    /// Declared staging/production volume ratio (0.05: staging gets 5%); `None` estimates it as
    /// the ratio of totals and judges shape only.
    pub expected_ratio: Option<f64>,
    /// Tolerated relative deviation of the observed volume ratio from the declared one, both
    /// ways (0.25: between 1/1.25 and 1.25 times).
    pub volume_margin: f64,
    /// Bootstrap resamples (more: a steadier interval, slower).
    pub resamples: u32,
    /// Seed of the bootstrap: the same input always gives the same verdict.
    pub seed: u64,
}

impl Default for TrafficShapeSpec {
    fn default() -> Self {
        TrafficShapeSpec {
            margin: 0.10,
            alpha: 0.05,
            expected_ratio: None,
            volume_margin: 0.25,
            resamples: 400,
            seed: 0x7072_6f64_6c69_6b65,
        }
    }
}

impl TrafficShapeSpec {
    pub fn validate(&self) -> Result<(), StatsError> {
        check_alpha(self.alpha)?;
        check_margin(
            "margin",
            self.margin,
            0.0,
            1.0,
            "a distance from 0 to 1 (0.10 by default)",
        )?;
        check_margin(
            "volume_margin",
            self.volume_margin,
            0.0,
            1e6,
            "a relative deviation of at least 0 (0.25 is ±25%)",
        )?;
        if let Some(r) = self.expected_ratio {
            if !(r.is_finite() && r > 0.0) {
                return Err(StatsError::InvalidParameter {
                    field: "expected_ratio",
                    value: r,
                    expected: "a positive staging/production volume ratio (0.05 is 5%)",
                });
            }
        }
        if self.resamples < 50 {
            return Err(StatsError::InvalidParameter {
                field: "resamples",
                value: f64::from(self.resamples),
                expected: "at least 50 bootstrap resamples (400 by default)",
            });
        }
        Ok(())
    }
}

/// The traffic-shape judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficShapeJudgement {
    /// Shape: total variation distance of the shares against `margin`.
    pub shape: Judgement,
    /// Pearson correlation of the per-interval shares; `None` when a side is flat or empty.
    pub correlation: Option<f64>,
    /// Chi-square homogeneity p-value of the two curves (equality; small with enough traffic
    /// whatever the margin says).
    pub homogeneity_p: Option<f64>,
    /// Observed staging/production volume ratio; `None` when production is empty.
    pub observed_ratio: Option<f64>,
    /// The observed ratio against the declared one, when declared.
    pub volume: Option<Judgement>,
}

fn check(values: &[f64], side: Side) -> Result<(), StatsError> {
    for (index, &v) in values.iter().enumerate() {
        if !v.is_finite() || v < 0.0 {
            return Err(StatsError::InvalidCount {
                side,
                index,
                value: v,
            });
        }
    }
    Ok(())
}

/// Fewest requests per bin on each side.
const MIN_PER_BIN: f64 = 100.0;

/// Merge adjacent intervals until each bin holds `MIN_PER_BIN` requests on both sides; a short
/// remainder joins the last bin.
fn bins(production: &[f64], staging: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut bp, mut bs) = (Vec::new(), Vec::new());
    let (mut cp, mut cs) = (0.0, 0.0);
    for (&p, &s) in production.iter().zip(staging) {
        cp += p;
        cs += s;
        if cp >= MIN_PER_BIN && cs >= MIN_PER_BIN {
            bp.push(cp);
            bs.push(cs);
            cp = 0.0;
            cs = 0.0;
        }
    }
    if cp > 0.0 || cs > 0.0 {
        match (bp.last_mut(), bs.last_mut()) {
            (Some(lp), Some(ls)) => {
                *lp += cp;
                *ls += cs;
            }
            _ => {
                bp.push(cp);
                bs.push(cs);
            }
        }
    }
    (bp, bs)
}

fn tvd(p: &[f64], s: &[f64]) -> f64 {
    let (tp, ts): (f64, f64) = (p.iter().sum(), s.iter().sum());
    if tp <= 0.0 || ts <= 0.0 {
        return if tp == ts { 0.0 } else { 1.0 };
    }
    0.5 * p
        .iter()
        .zip(s)
        .map(|(a, b)| (a / tp - b / ts).abs())
        .sum::<f64>()
}

fn correlation(p: &[f64], s: &[f64]) -> Option<f64> {
    let n = p.len() as f64;
    let (mp, ms) = (p.iter().sum::<f64>() / n, s.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in p.iter().zip(s) {
        sxy += (a - mp) * (b - ms);
        sxx += (a - mp).powi(2);
        syy += (b - ms).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Empirical quantile of sorted values (type 7).
fn sorted_quantile(v: &[f64], q: f64) -> f64 {
    crate::quantile::quantile_sorted(v, q).unwrap_or(f64::NAN)
}

/// Judge staging's request counts per interval against production's.
// Long: the judge's steps in the order docs/statistics.md gives them (checks, scaling, bootstrap, verdict, sentence).
#[allow(clippy::too_many_lines)]
pub fn judge_traffic_shape(
    production: &[f64],
    staging: &[f64],
    spec: &TrafficShapeSpec,
) -> Result<TrafficShapeJudgement, StatsError> {
    spec.validate()?;
    if production.len() != staging.len() {
        return Err(StatsError::SeriesLengthDiffers {
            production: production.len(),
            staging: staging.len(),
        });
    }
    check(production, Side::Production)?;
    check(staging, Side::Staging)?;
    let (tp, ts): (f64, f64) = (production.iter().sum(), staging.iter().sum());
    let (np, ns) = (tp.round() as u64, ts.round() as u64);
    let observed_ratio = (tp > 0.0).then(|| ts / tp);
    let volume = spec.expected_ratio.map(|r| judge_volume(tp, ts, r, spec));
    if tp <= 0.0 || ts <= 0.0 {
        let why = match (tp > 0.0, ts > 0.0) {
            (true, false) => format!(
                "staging received no requests while production received {} (missing in staging)",
                reason::count(np)
            ),
            (false, true) => "production received no requests".to_string(),
            _ => "neither environment received a request".to_string(),
        };
        return Ok(TrafficShapeJudgement {
            shape: Judgement::no_data(
                spec.margin,
                Scale::Distance,
                spec.alpha,
                Method::ShapeBootstrap,
                np,
                ns,
                format!("traffic shape cannot be compared: {why}"),
            ),
            correlation: None,
            homogeneity_p: None,
            observed_ratio,
            volume,
        });
    }
    let intervals = production.len();
    let (production, staging) = bins(production, staging);
    let (production, staging) = (production.as_slice(), staging.as_slice());
    let k = production.len();
    let estimate = tvd(production, staging);
    let corr = correlation(production, staging);
    let rounded = |v: &[f64]| v.iter().map(|x| x.round() as u64).collect::<Vec<_>>();
    let homogeneity_p = Some(bucket_homogeneity(&rounded(production), &rounded(staging)).p_value);
    if k < 2 {
        return Ok(TrafficShapeJudgement {
            shape: Judgement {
                verdict: Verdict::Inconclusive {
                    needed: {
                        let factor = (2.0 * MIN_PER_BIN / tp).max(2.0 * MIN_PER_BIN / ts);
                        let n = ((np as f64 + ns as f64) * factor).ceil();
                        (n.is_finite() && n < 1e15).then_some(n as u64)
                    },
                },
                estimate: Some(estimate),
                interval: None,
                margin: spec.margin,
                scale: Scale::Distance,
                alpha: spec.alpha,
                p_value: None,
                p_adjusted: None,
                n_production: np,
                n_staging: ns,
                method: Method::ShapeBootstrap,
                reason: format!(
                    "a traffic shape needs at least two bins of {} requests on each side; \
                     {intervals} intervals with {} production and {} staging requests make {k}",
                    MIN_PER_BIN,
                    reason::count(np),
                    reason::count(ns)
                ),
            },
            correlation: corr,
            homogeneity_p,
            observed_ratio,
            volume,
        });
    }
    let mut rng = fastrand::Rng::with_seed(spec.seed);
    let mut boot: Vec<f64> = Vec::with_capacity(spec.resamples as usize);
    let (mut bp, mut bs) = (vec![0.0; k], vec![0.0; k]);
    for _ in 0..spec.resamples {
        for i in 0..k {
            bp[i] = poisson(&mut rng, production[i]);
            bs[i] = poisson(&mut rng, staging[i]);
        }
        boot.push(tvd(&bp, &bs));
    }
    boot.sort_by(f64::total_cmp);
    // Basic bootstrap: the resamples' excess over the estimate mirrors the estimate's over the
    // truth, noise bias included.
    let lower = (2.0 * estimate - sorted_quantile(&boot, 1.0 - spec.alpha)).clamp(0.0, 1.0);
    let upper = (2.0 * estimate - sorted_quantile(&boot, spec.alpha)).clamp(0.0, 1.0);
    let centre = (2.0 * estimate - sorted_quantile(&boot, 0.5)).clamp(0.0, 1.0);
    // p-value of "distance ≤ margin": the share of resamples whose bias-corrected value lies at
    // or below the margin, i.e. the basic-bootstrap test inverted.
    let below = boot
        .iter()
        .filter(|&&b| 2.0 * estimate - b <= spec.margin)
        .count();
    let p_value = ((below as f64 + 1.0) / (boot.len() as f64 + 1.0)).clamp(0.0, 1.0);
    let call = decision::call(lower, upper, spec.margin);
    let n_total = np.saturating_add(ns);
    let verdict = decision::verdict(call, || {
        needed_by_sqrt(n_total, centre, lower, upper, spec.margin)
    });
    let reason = format!(
        "staging's traffic is {} out of production's shape (total variation distance of \
         per-bin shares; {:.0}% CI {} to {}; correlation {} over {k} bins of {intervals} \
         intervals), {}",
        reason::number(centre),
        (1.0 - 2.0 * spec.alpha) * 100.0,
        reason::number(lower),
        reason::number(upper),
        corr.map(reason::number)
            .unwrap_or_else(|| "undefined".into()),
        margin_clause(&verdict, &reason::number(spec.margin), "requests", n_total)
    );
    Ok(TrafficShapeJudgement {
        shape: Judgement {
            verdict,
            estimate: Some(centre),
            interval: Some(Interval {
                lower,
                upper,
                confidence: 1.0 - 2.0 * spec.alpha,
            }),
            margin: spec.margin,
            scale: Scale::Distance,
            alpha: spec.alpha,
            p_value: Some(p_value),
            p_adjusted: None,
            n_production: np,
            n_staging: ns,
            method: Method::ShapeBootstrap,
            reason,
        },
        correlation: corr,
        homogeneity_p,
        observed_ratio,
        volume,
    })
}

/// The observed volume ratio against the declared one, both directions.
fn judge_volume(tp: f64, ts: f64, expected: f64, spec: &TrafficShapeSpec) -> Judgement {
    let (np, ns) = (tp.round() as u64, ts.round() as u64);
    let m = spec.volume_margin;
    if np == 0 || ns == 0 {
        return Judgement::no_data(
            m,
            Scale::Relative,
            spec.alpha,
            Method::VolumeRatio,
            np,
            ns,
            "the volume ratio cannot be compared: an environment received no requests".into(),
        );
    }
    let total = np.saturating_add(ns);
    // Staging's share of all requests is Binomial given the total (Poisson counts).
    let (lo, hi) = clopper_pearson_one_sided(ns, total, spec.alpha);
    let to_ratio = |pi: f64| {
        if pi >= 1.0 {
            f64::INFINITY
        } else {
            pi / (1.0 - pi) / expected - 1.0
        }
    };
    let estimate = ts / tp / expected - 1.0;
    let (lower, upper) = (to_ratio(lo), to_ratio(hi));
    let under = 1.0 / (1.0 + m) - 1.0;
    let verdict = if lower > m || upper < under {
        Verdict::Diverged
    } else if lower > under && upper < m {
        Verdict::Pass
    } else {
        let toward = if estimate > 0.0 { m } else { under };
        Verdict::Inconclusive {
            needed: needed_by_sqrt(total, estimate, lower, upper, toward),
        }
    };
    let clause = match verdict {
        Verdict::Diverged => format!(
            "outside the ±{} margin",
            reason::percent(m).trim_start_matches('+')
        ),
        Verdict::Pass => format!(
            "within the ±{} margin",
            reason::percent(m).trim_start_matches('+')
        ),
        _ => format!(
            "the interval straddles the ±{} margin",
            reason::percent(m).trim_start_matches('+')
        ),
    };
    Judgement {
        verdict,
        estimate: Some(estimate),
        interval: Some(Interval {
            lower,
            upper,
            confidence: 1.0 - 2.0 * spec.alpha,
        }),
        margin: m,
        scale: Scale::Relative,
        alpha: spec.alpha,
        p_value: None,
        p_adjusted: None,
        n_production: np,
        n_staging: ns,
        method: Method::VolumeRatio,
        reason: format!(
            "staging received {} of production's volume where {} was declared ({} off; {:.0}% CI \
             {} to {}), {clause}",
            reason::percent(ts / tp).trim_start_matches('+'),
            reason::percent(expected).trim_start_matches('+'),
            reason::percent(estimate),
            (1.0 - 2.0 * spec.alpha) * 100.0,
            reason::percent(lower),
            reason::percent(upper),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(k: usize, scale: f64, phase: f64) -> Vec<f64> {
        (0..k)
            .map(|i| {
                let t = i as f64 / k as f64 * std::f64::consts::TAU;
                (scale * (1.0 + 0.6 * (t + phase).sin())).round()
            })
            .collect()
    }

    #[test]
    fn a_scaled_copy_passes_and_a_shifted_curve_diverges() {
        let p = curve(120, 10_000.0, 0.0);
        let same = curve(120, 500.0, 0.0);
        let j = judge_traffic_shape(&p, &same, &TrafficShapeSpec::default()).unwrap();
        assert_eq!(j.shape.verdict, Verdict::Pass, "{}", j.shape.reason);
        assert!(j.correlation.unwrap() > 0.99);
        let late = curve(120, 500.0, 2.0);
        let j = judge_traffic_shape(&p, &late, &TrafficShapeSpec::default()).unwrap();
        assert_eq!(j.shape.verdict, Verdict::Diverged, "{}", j.shape.reason);
        // Deterministic: the same input gives the same interval.
        let again = judge_traffic_shape(&p, &late, &TrafficShapeSpec::default()).unwrap();
        assert_eq!(j, again);
    }

    #[test]
    fn declared_volume_is_checked_both_ways() {
        let p = curve(60, 10_000.0, 0.0);
        let s = curve(60, 200.0, 0.0);
        let spec = TrafficShapeSpec {
            expected_ratio: Some(0.05),
            ..Default::default()
        };
        let j = judge_traffic_shape(&p, &s, &spec).unwrap();
        let v = j.volume.unwrap();
        assert_eq!(v.verdict, Verdict::Diverged, "{}", v.reason);
        assert!(v.estimate.unwrap() < -0.5);
        let spec = TrafficShapeSpec {
            expected_ratio: Some(0.02),
            ..Default::default()
        };
        let j = judge_traffic_shape(&p, &s, &spec).unwrap();
        assert_eq!(j.volume.unwrap().verdict, Verdict::Pass);
    }

    #[test]
    fn bad_series_are_refused_and_missing_staging_is_no_data() {
        let spec = TrafficShapeSpec::default();
        assert!(matches!(
            judge_traffic_shape(&[1.0, 2.0], &[1.0], &spec),
            Err(StatsError::SeriesLengthDiffers { .. })
        ));
        assert!(matches!(
            judge_traffic_shape(&[1.0, -2.0], &[1.0, 1.0], &spec),
            Err(StatsError::InvalidCount {
                side: Side::Production,
                index: 1,
                ..
            })
        ));
        let j = judge_traffic_shape(&[5.0, 6.0], &[0.0, 0.0], &spec).unwrap();
        assert_eq!(j.shape.verdict, Verdict::NoData);
        assert!(j.shape.reason.contains("missing in staging"));
    }
}
