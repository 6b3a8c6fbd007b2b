//! Compare mode's verdicts (`--compare B`): each request name on target B judged against
//! target A by the judge of prodlike-stats — the error ratio against an absolute margin, the
//! latency of successful requests (typical shift and p50/p90/p99) against relative margins —
//! then Benjamini–Hochberg across every route and metric. The same judge as `prodlike
//! compare`, with A in production's place and B in staging's; this file computes no statistic.

use prodlike_results::compare::{Comparison, Correction, Verdict};
use prodlike_stats::{
    ErrorCounts, ErrorMargin, ErrorRatioSpec, Judgement, LatencyHistogram, LatencySpec,
    QuantileMargin, Sample, StatsError, benjamini_hochberg, judge_error_ratio,
    judge_latency_samples,
};

use crate::engine::Acc;
use crate::result::{CompareResult, ComparedRoute};

/// The judge's settings, from `--compare-alpha`, `--compare-error-margin` and
/// `--compare-latency-margin`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareSpec {
    /// Error rate of each one-sided verdict and the false discovery rate of the correction.
    pub alpha: f64,
    /// Tolerated absolute rise of B's error ratio (0.01 is one point).
    pub error_margin: f64,
    /// Tolerated relative rise of B's typical latency and p50 (0.10 is +10%).
    pub latency_margin: f64,
}

impl Default for CompareSpec {
    fn default() -> Self {
        CompareSpec {
            alpha: 0.05,
            error_margin: 0.01,
            latency_margin: 0.10,
        }
    }
}

impl CompareSpec {
    pub fn error_spec(&self) -> ErrorRatioSpec {
        ErrorRatioSpec {
            label: "error ratio".into(),
            margin: ErrorMargin::Absolute(self.error_margin),
            alpha: self.alpha,
        }
    }

    /// p90 and p99 keep the default margins' proportions to p50's (+20%, +25% at +10%):
    /// tails are noisier than medians.
    pub fn latency_spec(&self) -> LatencySpec {
        let m = self.latency_margin;
        LatencySpec {
            shift_margin: m,
            quantiles: [(0.50, m), (0.90, 2.0 * m), (0.99, 2.5 * m)]
                .into_iter()
                .map(|(quantile, margin)| QuantileMargin { quantile, margin })
                .collect(),
            alpha: self.alpha,
            unit: "ms".into(),
        }
    }

    /// Refuses what the judges would refuse, naming the stats field.
    pub fn validate(&self) -> Result<(), StatsError> {
        self.error_spec().validate()?;
        self.latency_spec().validate()
    }
}

/// One route's data on both targets.
pub struct RouteSides<'a> {
    pub route: &'a str,
    pub a: &'a Acc,
    pub b: &'a Acc,
    /// Latency of the successful requests.
    pub a_ok: &'a LatencyHistogram,
    pub b_ok: &'a LatencyHistogram,
}

/// A judgement waiting for the correction.
struct Pending {
    route: usize,
    metric: String,
    production: Option<f64>,
    staging: Option<f64>,
}

/// Judge every route, correct across all of them, and fill in `b`'s counts and the targets.
pub fn judge(
    routes: &[RouteSides<'_>],
    spec: &CompareSpec,
    target_a: String,
    target_b: String,
    b: crate::result::Counts,
) -> CompareResult {
    let mut pending = Vec::new();
    let mut judgements: Vec<Judgement> = Vec::new();
    let mut failures: Vec<(usize, String)> = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        let errors = judge_error_ratio(
            ErrorCounts::new(r.a.failed, r.a.completed),
            ErrorCounts::new(r.b.failed, r.b.completed),
            &spec.error_spec(),
        );
        match errors {
            Ok(e) => {
                pending.push(Pending {
                    route: i,
                    metric: "error_ratio".into(),
                    production: ratio(r.a.failed, r.a.completed),
                    staging: ratio(r.b.failed, r.b.completed),
                });
                judgements.push(e.judgement);
            }
            Err(e) => failures.push((i, format!("error ratio could not be judged: {e}"))),
        }
        let latency = judge_latency_samples(
            &Sample::from_histogram(r.a_ok),
            &Sample::from_histogram(r.b_ok),
            &spec.latency_spec(),
        );
        match latency {
            Ok(l) => {
                pending.push(Pending {
                    route: i,
                    metric: "latency_shift".into(),
                    production: None,
                    staging: None,
                });
                judgements.push(l.shift);
                for q in l.quantiles {
                    pending.push(Pending {
                        route: i,
                        metric: format!("latency_p{}", (q.quantile * 100.0).round()),
                        production: q.production,
                        staging: q.staging,
                    });
                    judgements.push(q.judgement);
                }
            }
            Err(e) => failures.push((i, format!("latency could not be judged: {e}"))),
        }
    }
    let correction = match benjamini_hochberg(&mut judgements, spec.alpha) {
        Ok(c) => c.into(),
        // Only an invalid level fails, and the spec was validated; say so rather than guess.
        Err(e) => Correction {
            method: format!("none ({e})"),
            level: spec.alpha,
            comparisons: 0,
            diverged_before: 0,
            diverged_after: 0,
        },
    };
    let mut out: Vec<ComparedRoute> = routes.iter().map(route_shell).collect();
    for (p, j) in pending.into_iter().zip(judgements) {
        let Some(route) = out.get_mut(p.route) else {
            continue;
        };
        route.comparisons.push(Comparison {
            metric: p.metric,
            critical: false,
            production: p.production,
            staging: p.staging,
            judgement: j.into(),
        });
    }
    for (i, why) in failures {
        if let Some(route) = out.get_mut(i) {
            route.verdict = Verdict::NoData;
            route.why.push(why);
        }
    }
    for route in &mut out {
        settle(route);
    }
    out.sort_by(|x, y| {
        severity(y.verdict)
            .cmp(&severity(x.verdict))
            .then(y.n_a.cmp(&x.n_a))
    });
    CompareResult {
        target_a,
        target_b,
        alpha: spec.alpha,
        error_margin: spec.error_margin,
        latency_margin: spec.latency_margin,
        b,
        divergent_routes: out.iter().filter(|r| r.divergent).count() as u64,
        inconclusive_routes: out
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Inconclusive | Verdict::NoData))
            .count() as u64,
        routes: out,
        correction,
    }
}

fn route_shell(r: &RouteSides<'_>) -> ComparedRoute {
    ComparedRoute {
        route: r.route.to_string(),
        n_a: r.a.completed,
        n_b: r.b.completed,
        p50_a_ms: r.a.hist.quantile_ms(0.5),
        p50_b_ms: r.b.hist.quantile_ms(0.5),
        p99_a_ms: r.a.hist.quantile_ms(0.99),
        p99_b_ms: r.b.hist.quantile_ms(0.99),
        verdict: Verdict::Pass,
        comparisons: Vec::new(),
        divergent: false,
        why: Vec::new(),
    }
}

/// The route's verdict is its worst judgement's; every judgement that did not pass says why.
fn settle(route: &mut ComparedRoute) {
    for c in &route.comparisons {
        let v = c.judgement.verdict;
        if severity(v) > severity(route.verdict) {
            route.verdict = v;
        }
        if v != Verdict::Pass {
            route
                .why
                .push(format!("{}: {}", c.metric, c.judgement.reason));
        }
    }
    route.divergent = route.verdict == Verdict::Diverged;
}

/// Diverged > no data > inconclusive > pass, as prodlike-stats orders verdicts.
fn severity(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::Inconclusive => 1,
        Verdict::NoData => 2,
        Verdict::Diverged => 3,
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}
