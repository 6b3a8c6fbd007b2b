//! The judge wiring: a [`ComparisonInput`] and a spec in, every route's and metric's verdict
//! out — through prodlike-stats only (this crate computes no statistic of its own).
//!
//! Step by step: each route's error ratio (`judge_error_ratio`) and latency
//! (`judge_latency_buckets` or `judge_latency_samples`), the traffic curve of all routes
//! (`judge_traffic_shape`), then Benjamini–Hochberg across all of them (`benjamini_hochberg`,
//! which turns a `diverged` that does not survive it into `inconclusive`), then the behaviour
//! score (`behaviour_score`, critical routes and metrics marked). The judgements are converted
//! into prodlike-results' published copies last, after the correction has touched them.
use prodlike_results::compare::{
    Comparison, Correction, Refusal, RouteComparison, TrafficComparison,
};
use prodlike_stats::{
    Judgement, ScoreItem, StatsError, behaviour_score, benjamini_hochberg, judge_error_ratio,
    judge_latency_buckets, judge_latency_samples, judge_traffic_shape,
};

use crate::error::CompareError;
use crate::input::{ComparisonInput, LatencyInput, RouteInput};
use crate::spec::CompareSpec;

/// The judged comparisons, before the source and parity are added.
#[derive(Debug, Clone)]
pub struct Judged {
    pub routes: Vec<RouteComparison>,
    pub traffic: Option<TrafficComparison>,
    pub refused: Vec<Refusal>,
    pub correction: Correction,
    pub score: prodlike_results::compare::BehaviourScore,
}

/// One judgement waiting for the correction, with where it belongs.
struct Pending {
    /// Index into the routes, or `None` for the traffic curve.
    route: Option<usize>,
    metric: &'static str,
    critical: bool,
    production: Option<f64>,
    staging: Option<f64>,
    judgement: Judgement,
}

/// Judge everything in `input` by `spec`.
pub fn judge(input: &ComparisonInput, spec: &CompareSpec) -> Result<Judged, CompareError> {
    let mut pending = Vec::new();
    let (mut routes, refused) = judge_routes(input, spec, &mut pending)?;
    let traffic = judge_traffic(input, spec, &mut pending)?;
    let mut judgements: Vec<Judgement> = pending.iter().map(|p| p.judgement.clone()).collect();
    let correction =
        benjamini_hochberg(&mut judgements, spec.alpha).map_err(CompareError::Stats)?;
    let items: Vec<ScoreItem> = pending
        .iter()
        .zip(&judgements)
        .map(|(p, j)| ScoreItem {
            verdict: j.verdict,
            weight: 1.0,
            critical: p.critical,
        })
        .collect();
    let score = behaviour_score(&items).map_err(CompareError::Stats)?;
    let mut traffic = traffic;
    for (p, j) in pending.into_iter().zip(judgements) {
        let c = comparison(p.metric, p.critical, p.production, p.staging, j);
        match (p.route, p.metric, traffic.as_mut()) {
            (Some(i), _, _) => {
                if let Some(r) = routes.get_mut(i) {
                    r.comparisons.push(c);
                }
            }
            (None, "volume", Some(t)) => t.volume = Some(c),
            (None, _, Some(t)) => t.shape = c,
            (None, _, None) => {}
        }
    }
    Ok(Judged {
        routes,
        traffic,
        refused,
        correction: correction.into(),
        score: score.into(),
    })
}

/// Every route's error ratio and latency, pending the correction; the refused comparisons.
fn judge_routes(
    input: &ComparisonInput,
    spec: &CompareSpec,
    pending: &mut Vec<Pending>,
) -> Result<(Vec<RouteComparison>, Vec<Refusal>), CompareError> {
    let mut routes = Vec::with_capacity(input.routes.len());
    let mut refused = Vec::new();
    for (i, r) in input.routes.iter().enumerate() {
        let critical = spec.is_critical_route(&r.route);
        let (production_requests, staging_requests) = r
            .errors
            .as_ref()
            .map(|e| (e.production.requests, e.staging.requests))
            .unwrap_or_default();
        let mut route = RouteComparison {
            route: r.route.clone(),
            critical,
            production_requests,
            staging_requests,
            latency_homogeneity: None,
            comparisons: Vec::new(),
        };
        let mut add = |metric: &'static str, p, s, judgement| {
            pending.push(Pending {
                route: Some(i),
                metric,
                critical: critical || spec.is_critical_metric(metric),
                production: p,
                staging: s,
                judgement,
            })
        };
        if let Some(e) = &r.errors {
            let j = judge_error_ratio(e.production, e.staging, &spec.error_ratio_spec())
                .map_err(CompareError::Stats)?;
            add(
                "error_ratio",
                ratio(j.production.errors, j.production.requests),
                ratio(j.staging.errors, j.staging.requests),
                j.judgement,
            );
        }
        match latency(r, spec, &mut add) {
            Ok(h) => route.latency_homogeneity = h,
            Err(reason) => refused.push(Refusal {
                route: r.route.clone(),
                metric: "latency".into(),
                reason,
            }),
        }
        routes.push(route);
    }
    Ok((routes, refused))
}

/// The rate curve's shape (and volume, when declared), pending the correction.
fn judge_traffic(
    input: &ComparisonInput,
    spec: &CompareSpec,
    pending: &mut Vec<Pending>,
) -> Result<Option<TrafficComparison>, CompareError> {
    let Some(rate) = &input.rate else {
        return Ok(None);
    };
    let t = judge_traffic_shape(&rate.production, &rate.staging, &spec.traffic_spec())
        .map_err(CompareError::Stats)?;
    pending.push(Pending {
        route: None,
        metric: "traffic_shape",
        critical: spec.is_critical_metric("traffic_shape"),
        production: None,
        staging: None,
        judgement: t.shape.clone(),
    });
    if let Some(v) = &t.volume {
        pending.push(Pending {
            route: None,
            metric: "volume",
            critical: spec.is_critical_metric("volume"),
            production: spec.traffic.expected_ratio,
            staging: t.observed_ratio,
            judgement: v.clone(),
        });
    }
    // Filled in with the corrected judgements once the correction has run.
    Ok(Some(TrafficComparison {
        shape: comparison("traffic_shape", false, None, None, t.shape),
        volume: None,
        correlation: t.correlation,
        observed_ratio: t.observed_ratio,
        homogeneity_p: t.homogeneity_p,
        intervals: rate.production.len(),
    }))
}

fn ratio(errors: u64, requests: u64) -> Option<f64> {
    (requests > 0).then(|| errors as f64 / requests as f64)
}

fn comparison(
    metric: &str,
    critical: bool,
    production: Option<f64>,
    staging: Option<f64>,
    j: Judgement,
) -> Comparison {
    Comparison {
        metric: metric.into(),
        critical,
        production,
        staging,
        judgement: j.into(),
    }
}

/// `latency_p50` for 0.5; the spec's quantiles are p50, p90 and p99.
fn quantile_metric(q: f64) -> &'static str {
    if (q - 0.5).abs() < 1e-9 {
        "latency_p50"
    } else if (q - 0.9).abs() < 1e-9 {
        "latency_p90"
    } else {
        "latency_p99"
    }
}

/// One route's latency judgements, handed to `add`; the homogeneity test when from buckets;
/// `Err(reason)` when the comparison is refused.
fn latency(
    r: &RouteInput,
    spec: &CompareSpec,
    add: &mut impl FnMut(&'static str, Option<f64>, Option<f64>, Judgement),
) -> Result<Option<prodlike_results::compare::Homogeneity>, String> {
    let lspec = spec.latency_spec();
    match &r.latency {
        LatencyInput::None => Ok(None),
        LatencyInput::Refused(reason) => Err(reason.clone()),
        LatencyInput::Buckets(b) => {
            let j = judge_latency_buckets(&b.production, &b.staging, &lspec).map_err(refusal)?;
            for q in j.quantiles {
                add(
                    quantile_metric(q.quantile),
                    q.production,
                    q.staging,
                    q.judgement,
                );
            }
            Ok(Some(j.homogeneity.into()))
        }
        LatencyInput::Samples(s) => {
            let j = judge_latency_samples(&s.production, &s.staging, &lspec).map_err(refusal)?;
            add("latency_shift", None, None, j.shift);
            for q in j.quantiles {
                add(
                    quantile_metric(q.quantile),
                    q.production,
                    q.staging,
                    q.judgement,
                );
            }
            Ok(None)
        }
    }
}

fn refusal(e: StatsError) -> String {
    format!("latency not compared: {e}")
}
