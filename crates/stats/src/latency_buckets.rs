//! The latency judge for Prometheus histogram buckets: a homogeneity test on the bucket counts,
//! and quantile ratios (p50, p90, p99 by default) with intervals, against relative margins.
//!
//! A quantile's point estimate is Prometheus' own (`histogram_quantile`: linear interpolation
//! inside the bucket). Its interval takes the distribution-free order-statistic ranks (as for raw
//! samples) and maps each to the *edges* of the bucket that holds it: the interpolation inside a
//! bucket is an assumption, and an interval built on it would be wrong in a way that more
//! traffic makes worse (the bias stays while the noise shrinks). Edges make the interval honest
//! about the buckets' resolution: when the buckets around both quantiles are too wide to tell a
//! +10% change, the verdict is inconclusive and says that finer buckets, not more traffic, would
//! decide it. Both environments must use identical buckets, or the comparison is refused.

use serde::{Deserialize, Serialize};

use crate::buckets::{Buckets, check_same_bounds};
use crate::decision::{self, needed_by_search};
use crate::error::{Side, StatsError};
use crate::homogeneity::{Homogeneity, bucket_homogeneity};
use crate::latency_samples::{
    LatencySpec, QuantileJudgement, QuantileMargin, missing_reason, quantile_name, with_unit,
};
use crate::order_statistics::quantile_ranks;
use crate::reason;
use crate::relative::{self, Context, LogEffect, mover};
use crate::verdict::{Judgement, Method, Scale};

/// The latency judgement of one route from histogram buckets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketLatencyJudgement {
    /// Whether the two bucket distributions differ at all (an equality test; informative, the
    /// verdicts are the quantiles').
    pub homogeneity: Homogeneity,
    pub quantiles: Vec<QuantileJudgement>,
}

/// Judge staging's latency histogram against production's. `spec.shift_margin` does not apply
/// (buckets hold no raw values to shift).
pub fn judge_latency_buckets(
    production: &Buckets,
    staging: &Buckets,
    spec: &LatencySpec,
) -> Result<BucketLatencyJudgement, StatsError> {
    spec.validate()?;
    production.check(Side::Production)?;
    staging.check(Side::Staging)?;
    check_same_bounds(production, staging)?;
    let homogeneity = bucket_homogeneity(&production.counts(), &staging.counts());
    let (np, ns) = (production.total(), staging.total());
    let quantiles = spec
        .quantiles
        .iter()
        .map(|&qm| {
            let judgement = if np == 0 || ns == 0 {
                Judgement::no_data(
                    qm.margin,
                    Scale::Relative,
                    spec.alpha,
                    Method::BucketQuantile,
                    np,
                    ns,
                    format!(
                        "{} cannot be compared: {}",
                        quantile_name(qm.quantile),
                        missing_reason(np, ns)
                    ),
                )
            } else {
                judge_quantile(production, staging, qm, spec)
            };
            QuantileJudgement {
                quantile: qm.quantile,
                production: production.quantile(qm.quantile),
                staging: staging.quantile(qm.quantile),
                judgement,
            }
        })
        .collect();
    Ok(BucketLatencyJudgement {
        homogeneity,
        quantiles,
    })
}

fn ln_or_neg_inf(v: f64) -> f64 {
    if v > 0.0 { v.ln() } else { f64::NEG_INFINITY }
}

/// One side's quantile with the bucket edges of its rank bounds, at `scale` times the data
/// (ranks computed for `scale·n` draws and mapped back to positions in this histogram).
fn side(b: &Buckets, q: f64, tail: f64, scale: f64) -> LogEffect {
    let n = b.total();
    let scaled_n = (n as f64 * scale).round().max(1.0) as u64;
    let (l, u) = quantile_ranks(scaled_n, q, tail);
    let back = |r: u64| ((r as f64 / scale).ceil() as u64).clamp(1, n);
    LogEffect {
        estimate: b.quantile(q).map(ln_or_neg_inf).unwrap_or(f64::NAN),
        lower: l
            .and_then(|r| b.rank_edges(back(r)))
            .map(|e| ln_or_neg_inf(e.0))
            .unwrap_or(f64::NEG_INFINITY),
        upper: u
            .and_then(|r| b.rank_edges(back(r)))
            .map(|e| e.1.ln())
            .unwrap_or(f64::INFINITY),
    }
}

/// The interval that unlimited traffic with the same distributions would give: both ranks at
/// `q·n`, so only the width of the buckets holding the quantiles remains.
fn resolution_limit(b: &Buckets, q: f64) -> LogEffect {
    let rank = ((q * b.total() as f64).ceil() as u64).clamp(1, b.total().max(1));
    let (lo, hi) = b
        .rank_edges(rank)
        .unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
    LogEffect {
        estimate: b.quantile(q).map(ln_or_neg_inf).unwrap_or(f64::NAN),
        lower: ln_or_neg_inf(lo),
        upper: hi.ln(),
    }
}

fn judge_quantile(
    production: &Buckets,
    staging: &Buckets,
    qm: QuantileMargin,
    spec: &LatencySpec,
) -> Judgement {
    let q = qm.quantile;
    let tail = spec.alpha;
    let c = qm.margin.ln_1p();
    let effect = mover(side(staging, q, tail, 1.0), side(production, q, tail, 1.0));
    let limit = mover(
        resolution_limit(staging, q),
        resolution_limit(production, q),
    );
    let resolvable = decision::call(limit.lower, limit.upper, c) != decision::Call::Straddles;
    let n_total = production.total().saturating_add(staging.total());
    let needed = if resolvable {
        let toward_diverged = effect.estimate > c;
        needed_by_search(n_total, |k| {
            let e = mover(side(staging, q, tail, k), side(production, q, tail, k));
            if toward_diverged {
                e.lower > c
            } else {
                e.upper < c
            }
        })
    } else {
        None
    };
    let edges = |b: &Buckets| {
        let rank = ((q * b.total() as f64).ceil() as u64).clamp(1, b.total().max(1));
        b.rank_edges(rank)
            .map(|(lo, hi)| format!("{} to {}", reason::number(lo), reason::number(hi)))
            .unwrap_or_default()
    };
    let limit_note = Some(if resolvable {
        "more traffic would narrow it".to_string()
    } else {
        format!(
            "the buckets holding the quantile ({} in staging, {} in production) are too wide to \
             resolve a {} margin: finer buckets, not more traffic, would decide it",
            edges(staging),
            edges(production),
            reason::percent(qm.margin)
        )
    });
    let subject = format!("staging's {}", quantile_name(q));
    relative::judge(
        effect,
        Context {
            margin: qm.margin,
            alpha: spec.alpha,
            method: Method::BucketQuantile,
            n_production: production.total(),
            n_staging: staging.total(),
            subject: &subject,
            detail: format!(
                "{} against {} from histogram buckets",
                with_unit(staging.quantile(q).unwrap_or(f64::NAN), &spec.unit),
                with_unit(production.quantile(q).unwrap_or(f64::NAN), &spec.unit)
            ),
            p_value: None,
            needed_override: Some(needed),
            limit_note,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Verdict;

    /// Geometric buckets 5% apart from 1 to ~10,000, then +Inf.
    fn fine() -> Vec<f64> {
        let mut b: Vec<f64> = (0..190).map(|i| 1.05f64.powi(i)).collect();
        b.push(f64::INFINITY);
        b
    }

    fn lognormal(rng: &mut fastrand::Rng, n: usize, median: f64, sigma: f64) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let (u1, u2) = (rng.f64().max(1e-300), rng.f64());
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                median * (sigma * z).exp()
            })
            .collect()
    }

    #[test]
    fn a_doubled_latency_diverges_with_fine_buckets() {
        let mut rng = fastrand::Rng::with_seed(21);
        let p = Buckets::from_values(&fine(), &lognormal(&mut rng, 4000, 100.0, 0.5));
        let s = Buckets::from_values(&fine(), &lognormal(&mut rng, 4000, 200.0, 0.5));
        let j = judge_latency_buckets(&p, &s, &LatencySpec::default()).unwrap();
        assert!(j.homogeneity.p_value < 1e-10);
        for q in &j.quantiles {
            assert_eq!(
                q.judgement.verdict,
                Verdict::Diverged,
                "{}",
                q.judgement.reason
            );
            assert!(
                q.judgement
                    .interval
                    .unwrap()
                    .contains(q.judgement.estimate.unwrap())
            );
        }
    }

    #[test]
    fn coarse_buckets_say_they_cannot_resolve_the_margin() {
        let bounds = [
            0.005,
            0.01,
            0.025,
            0.05,
            0.1,
            0.25,
            0.5,
            1.0,
            2.5,
            5.0,
            10.0,
            f64::INFINITY,
        ];
        let mut rng = fastrand::Rng::with_seed(22);
        let p = Buckets::from_values(&bounds, &lognormal(&mut rng, 100_000, 0.15, 0.2));
        let s = Buckets::from_values(&bounds, &lognormal(&mut rng, 100_000, 0.165, 0.2));
        let j = judge_latency_buckets(&p, &s, &LatencySpec::default()).unwrap();
        let p50 = &j.quantiles[0].judgement;
        assert_eq!(
            p50.verdict,
            Verdict::Inconclusive { needed: None },
            "{}",
            p50.reason
        );
        assert!(p50.reason.contains("finer buckets"), "{}", p50.reason);
    }

    #[test]
    fn different_buckets_are_refused() {
        let p = Buckets::new(vec![1.0, f64::INFINITY], vec![1, 2]);
        let s = Buckets::new(vec![2.0, f64::INFINITY], vec![1, 2]);
        assert!(matches!(
            judge_latency_buckets(&p, &s, &LatencySpec::default()),
            Err(StatsError::BucketBoundDiffers { index: 0, .. })
        ));
    }

    #[test]
    fn an_empty_staging_histogram_is_no_data() {
        let p = Buckets::new(vec![1.0, f64::INFINITY], vec![5, 6]);
        let s = Buckets::new(vec![1.0, f64::INFINITY], vec![0, 0]);
        let j = judge_latency_buckets(&p, &s, &LatencySpec::default()).unwrap();
        assert!(
            j.quantiles
                .iter()
                .all(|q| q.judgement.verdict == Verdict::NoData)
        );
    }
}
