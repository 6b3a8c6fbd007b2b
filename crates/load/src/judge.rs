//! Thresholds judged on a result alone: its counts, the HDR histograms it carries and its
//! per-second timeline. One evaluator for a run (result.rs) and for segments merged after the
//! fact (merge.rs), so a threshold means the same in both.
use prodlike_stats::LatencyHistogram;

use crate::result::{Counts, LoadResult, ThresholdResult};
use crate::thresholds::{Metric, Scope, Threshold};

/// Judges `t` on `r`. `known_requests` are the request names the run could send (a name that
/// completed nothing is then measured as zero, and a misspelled one is a failure, not a pass).
pub fn evaluate(t: &Threshold, r: &LoadResult, known_requests: &[String]) -> ThresholdResult {
    let unit = match t.metric {
        Metric::Quantile(_) | Metric::MaxLatency | Metric::MeanLatency => " ms",
        Metric::Recovery => " s",
        _ => "",
    };
    let observed: Result<Option<f64>, String> = match &t.scope {
        Scope::Run => Ok(ScopeView {
            counts: &r.totals,
            target_rps: r.target_rps,
            achieved_rps: r.achieved_rps,
        }
        .observe(t.metric)),
        Scope::Stage(name) => match r.stages.iter().position(|s| &s.name == name) {
            None => {
                let known: Vec<String> = r.stages.iter().map(|s| s.name.clone()).collect();
                Err(unknown("stage", name, &known))
            }
            Some(i) if t.metric == Metric::Recovery => Ok(recovery(r, i)),
            Some(i) => {
                let s = &r.stages[i];
                Ok(ScopeView {
                    counts: &s.counts,
                    target_rps: Some(s.target_rps),
                    achieved_rps: s.achieved_rps,
                }
                .observe(t.metric))
            }
        },
        Scope::Request(name) => match r.requests.iter().find(|n| &n.name == name) {
            Some(n) => Ok(ScopeView {
                counts: &n.counts,
                // Requests have no planned rate of their own.
                target_rps: None,
                achieved_rps: n.achieved_rps,
            }
            .observe(t.metric)),
            // Known but nothing completed: its rate is 0 and nothing else was measured.
            None if known_requests.contains(name) => Ok(ScopeView {
                counts: &no_counts(),
                target_rps: None,
                achieved_rps: 0.0,
            }
            .observe(t.metric)),
            None => {
                let mut known: Vec<String> = known_requests.to_vec();
                known.extend(r.requests.iter().map(|n| n.name.clone()));
                known.sort();
                known.dedup();
                Err(unknown("request", name, &known))
            }
        },
    };
    match observed {
        Err(e) => ThresholdResult {
            threshold: t.text.clone(),
            observed: None,
            passed: false,
            detail: e,
        },
        Ok(None) => ThresholdResult {
            threshold: t.text.clone(),
            observed: None,
            passed: true,
            detail: "no data (nothing was measured in this scope)".into(),
        },
        Ok(Some(v)) => {
            let passed = t.op.holds(v, t.limit);
            ThresholdResult {
                threshold: t.text.clone(),
                observed: Some(v),
                passed,
                detail: format!(
                    "observed {}{unit}: {}",
                    fmt_num(v),
                    if passed { "ok" } else { "BREACHED" }
                ),
            }
        }
    }
}

/// A request that completed nothing: only its rates (0) can be measured.
fn no_counts() -> Counts {
    Counts {
        requests: 0,
        failed: 0,
        error_rate: 0.0,
        dropped: 0,
        drop_rate: 0.0,
        retries: 0,
        amplification: 0.0,
        bytes_in: 0,
        bytes_out: 0,
        latency: Default::default(),
        latency_histogram: None,
    }
}

fn metric_of(c: &Counts, m: Metric, target_rps: Option<f64>, achieved_rps: f64) -> Option<f64> {
    if c.requests == 0 && !matches!(m, Metric::DropRate | Metric::Rps | Metric::Achieved) {
        return None;
    }
    Some(match m {
        Metric::Quantile(q) => match q {
            q if (q - 0.5).abs() < 1e-12 => c.latency.p50_ms,
            q if (q - 0.9).abs() < 1e-12 => c.latency.p90_ms,
            q if (q - 0.95).abs() < 1e-12 => c.latency.p95_ms,
            q if (q - 0.99).abs() < 1e-12 => c.latency.p99_ms,
            q if (q - 0.999).abs() < 1e-12 => c.latency.p999_ms,
            _ => return None,
        },
        Metric::MaxLatency => c.latency.max_ms,
        Metric::MeanLatency => c.latency.mean_ms,
        Metric::ErrorRate => c.error_rate,
        Metric::DropRate => c.drop_rate,
        Metric::Amplification => c.amplification,
        Metric::Rps => achieved_rps,
        Metric::Achieved => {
            let t = target_rps?;
            if t <= 0.0 {
                return None;
            }
            achieved_rps / t
        }
        Metric::Recovery => return None,
    })
}

/// What a threshold's scope measured: its counts (with their histogram), and its planned and
/// achieved rates.
struct ScopeView<'a> {
    counts: &'a Counts,
    target_rps: Option<f64>,
    achieved_rps: f64,
}

impl ScopeView<'_> {
    fn observe(&self, m: Metric) -> Option<f64> {
        let summary = metric_of(self.counts, m, self.target_rps, self.achieved_rps);
        match m {
            // Quantiles other than the summary's come from the histogram the result carries;
            // without one (a version 1 document) there is nothing to measure.
            Metric::Quantile(q) => summary.or_else(|| {
                let text = self.counts.latency_histogram.as_deref()?;
                let hist = LatencyHistogram::from_base64(text).ok()?;
                (self.counts.requests > 0).then(|| hist.quantile_ms(q))
            }),
            _ => summary,
        }
    }
}

/// "no stage named `x` (stages: a, b)".
fn unknown(kind: &str, name: &str, known: &[String]) -> String {
    format!("no {kind} named `{name}` ({kind}s: {})", known.join(", "))
}

fn fmt_num(v: f64) -> String {
    if v.is_infinite() {
        "never".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// Seconds from the end of stage `i` until a whole second's p99 is within 1.5× of the previous
/// stage's p99 and its error rate within 1 point of that stage's; infinity when never.
fn recovery(r: &LoadResult, i: usize) -> Option<f64> {
    let stage = r.stages.get(i)?;
    let base = if i > 0 {
        r.stages.get(i - 1)?
    } else {
        r.stages.get(i + 1)?
    };
    let base_p99 = base.counts.latency.p99_ms.max(1.0);
    let base_err = base.counts.error_rate;
    let end = stage.end_s.ceil() as usize;
    for s in r.timeline.iter().skip(end) {
        let (Some(p99), true) = (s.p99_ms, s.completed > 0) else {
            continue;
        };
        let err = s.failed as f64 / s.completed as f64;
        if p99 <= 1.5 * base_p99 && err <= base_err + 0.01 {
            return Some((s.second as f64 - stage.end_s).max(0.0));
        }
    }
    Some(f64::INFINITY)
}
