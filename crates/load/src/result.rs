//! The result of a run (`prodlike.load/2`, docs/results.md): per stage, per request name and
//! per second, with thresholds evaluated, the generator's self-check, and compare mode's
//! verdicts (compare.rs).

use prodlike_stats::LatencyHistogram;

use crate::compare::{CompareSpec, RouteSides};

use crate::engine::{Acc, RunOutput};
use crate::stages::RateProfile;
use crate::thresholds::Threshold;

// The result's types are the published layout (prodlike.load/2), shared with its readers;
// this file computes them.
pub use prodlike_results::load::{
    CompareResult, ComparedRoute, Counts, HeldStats, LoadResult, MergedFrom, MergedInput,
    NameResult, SCHEMA, SecondResult, SegmentRun, SelfCheck, StageResult, ThresholdResult,
};

fn counts(a: &Acc, dropped: u64) -> Counts {
    Counts {
        requests: a.completed,
        failed: a.failed,
        error_rate: ratio(a.failed, a.completed),
        dropped,
        drop_rate: ratio(dropped, a.completed + dropped),
        retries: a.retries,
        amplification: if a.completed == 0 {
            0.0
        } else {
            a.attempts as f64 / a.completed as f64
        },
        bytes_in: a.bytes_in,
        bytes_out: a.bytes_out,
        latency: a.hist.summary().into(),
        // An encoding failure (a count past i64::MAX) leaves the histogram out: judged as no
        // raw data, never a wrong one.
        latency_histogram: a.hist.to_base64().ok(),
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The stages a result reports: the plan's, by label, or one `main` stage without a plan.
pub fn stage_names(profile: Option<&RateProfile>) -> Vec<String> {
    match profile {
        Some(p) => p
            .stages()
            .iter()
            .enumerate()
            .map(|(i, st)| st.label(i))
            .collect(),
        None => vec![MAIN_STAGE.to_string()],
    }
}

/// The one stage of a run without a rate plan (closed model, replay at recorded gaps).
const MAIN_STAGE: &str = "main";

/// What the result needs to know about the plan.
pub struct ResultContext<'a> {
    pub mode: &'a str,
    pub targets: Vec<String>,
    pub plan: String,
    pub arrivals: Option<String>,
    pub profile: Option<&'a RateProfile>,
    pub thresholds: &'a [Threshold],
    /// Declared thresholds not judged in this run, as written.
    pub unjudged: &'a [String],
    /// The segment this run fired, when the plan is split.
    pub segment: Option<&'a SegmentRun>,
    pub max_send_lag_ms: f64,
    /// Compare mode's judge settings.
    pub compare: CompareSpec,
}

// The result's fields in their published order, each a line or two; splitting would only
// scatter the layout.
#[allow(clippy::too_many_lines)]
pub fn build(out: &RunOutput, ctx: &ResultContext<'_>) -> LoadResult {
    let rec = &out.recorder;
    let a = &rec.targets[0];
    // A segment plans its share of the arrivals: its targets are that share of the plan's,
    // so segments' targets add up to the plan's when merged.
    let share = ctx.segment.map_or(1.0, |s| s.share);
    let duration_s = ctx
        .profile
        .map(|p| p.duration_secs())
        .filter(|_| !out.stopped_early)
        .unwrap_or(out.elapsed_s)
        .max(1e-3);
    let timeline: Vec<SecondResult> = rec
        .timeline
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let t = i as f64;
            let target = match ctx.profile {
                Some(p) if t < p.duration_secs() => Some(p.expected_between(t, t + 1.0) * share),
                Some(_) => Some(0.0),
                None if !out.scheduled.is_empty() => {
                    Some(out.scheduled.get(i).copied().unwrap_or(0) as f64)
                }
                None => None,
            };
            SecondResult {
                second: i as u64,
                target,
                sent: s.sent,
                completed: s.completed,
                failed: s.failed,
                dropped: s.dropped,
                retries: s.retries,
                p50_ms: s.p50_ms,
                p90_ms: s.p90_ms,
                p99_ms: s.p99_ms,
                max_ms: s.max_ms,
                latency_histogram: s.latency_histogram.clone(),
            }
        })
        .collect();
    let stages: Vec<StageResult> = match ctx.profile {
        Some(p) => p
            .stages()
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let (s0, s1) = p.stage_bounds(i);
                let len = (s1 - s0).max(1e-9);
                let sent_in: u64 = a.stages.get(i).map(|x| x.sent).unwrap_or(0);
                StageResult {
                    name: st.label(i),
                    start_s: s0,
                    end_s: s1,
                    target_rps: p.expected_between(s0, s1) / len * share,
                    achieved_rps: sent_in as f64 / len,
                    counts: counts(
                        a.stages.get(i).unwrap_or(&Acc::default()),
                        rec.dropped_by_stage.get(i).copied().unwrap_or(0),
                    ),
                }
            })
            .collect(),
        None => vec![StageResult {
            name: MAIN_STAGE.into(),
            start_s: 0.0,
            end_s: duration_s,
            target_rps: 0.0,
            achieved_rps: a.overall.sent as f64 / duration_s,
            counts: counts(&a.overall, rec.dropped),
        }],
    };
    let requests = rec
        .names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let acc = a.names.get(i)?;
            // A request that only had drops is listed too: its drop rate is a finding.
            (acc.completed > 0 || acc.dropped > 0).then(|| NameResult {
                name: n.clone(),
                achieved_rps: acc.sent as f64 / duration_s,
                counts: counts(acc, acc.dropped),
            })
        })
        .collect();
    let target_rps = ctx
        .profile
        .map(|p| p.total_expected() / p.duration_secs().max(1e-9) * share);
    let self_check = self_check(out, ctx, &timeline);
    let compare = (rec.targets.len() > 1).then(|| compare(out, ctx));
    let mut result = LoadResult {
        mode: ctx.mode.to_string(),
        target: ctx.targets.first().cloned().unwrap_or_default(),
        plan: ctx.plan.clone(),
        arrivals: ctx.arrivals.clone(),
        duration_s,
        stopped_early: out.stopped_early,
        target_rps,
        achieved_rps: a.overall.sent as f64 / duration_s,
        totals: counts(&a.overall, rec.dropped),
        interrupted: out.interrupted,
        connections_opened: out.connections_opened,
        stale_reconnects: out.stale_reconnects,
        self_check,
        stages,
        requests,
        errors: a.errors.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        error_examples: a
            .error_examples
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        statuses: a
            .statuses
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        held: held(&out.held),
        replay: out.replay.clone(),
        compare,
        thresholds: Vec::new(),
        unjudged_thresholds: ctx.unjudged.to_vec(),
        segment: ctx.segment.cloned(),
        merged: None,
        timeline,
    };
    result.thresholds = ctx
        .thresholds
        .iter()
        .map(|t| crate::judge::evaluate(t, &result, &rec.names))
        .collect();
    result
}

/// The engine's held-connection counts as the result reports them.
fn held(h: &crate::engine::HeldStats) -> HeldStats {
    HeldStats {
        requested: h.requested,
        opened: h.opened,
        failed: h.failed,
        closed_by_server: h.closed_by_server,
        first_close_s: h.first_close_s,
        open_at_end: h.open_at_end,
    }
}

fn self_check(out: &RunOutput, ctx: &ResultContext<'_>, timeline: &[SecondResult]) -> SelfCheck {
    let lag = out.recorder.send_lag.summary();
    let mut checked = 0;
    let mut within = 0;
    let mut worst: f64 = 0.0;
    if let Some(p) = ctx.profile {
        let whole = p.duration_secs().floor() as usize;
        for s in timeline.iter().take(whole) {
            let Some(target) = s.target else { continue };
            if target < 1.0 || s.dropped > 0 {
                continue;
            }
            checked += 1;
            let miss = (s.sent as f64 - target).abs() / target * 100.0;
            worst = worst.max(miss);
            if miss <= 2.0 {
                within += 1;
            }
        }
    }
    let mut reason = None;
    if lag.count > 0 && lag.p99_ms > ctx.max_send_lag_ms {
        reason = Some(format!(
            "the generator fell behind its schedule: p99 send lag {:.1} ms > {:.1} ms allowed (--max-send-lag); the achieved rate reflects the generator, not the target. Use fewer threads competing for CPU, a lower rate, or another machine",
            lag.p99_ms, ctx.max_send_lag_ms
        ));
    }
    SelfCheck {
        valid: reason.is_none(),
        reason,
        send_lag: lag.into(),
        max_send_lag_ms: ctx.max_send_lag_ms,
        seconds_checked: checked,
        seconds_within_2pct: within,
        worst_second_pct: worst,
    }
}

fn compare(out: &RunOutput, ctx: &ResultContext<'_>) -> CompareResult {
    let rec = &out.recorder;
    let (a, b) = (&rec.targets[0], &rec.targets[1]);
    let empty = LatencyHistogram::new();
    let routes: Vec<RouteSides<'_>> = rec
        .names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let na = a.names.get(i)?;
            let nb = b.names.get(i)?;
            (na.completed + nb.completed > 0).then(|| RouteSides {
                route: name,
                a: na,
                b: nb,
                a_ok: a.succeeded.get(i).unwrap_or(&empty),
                b_ok: b.succeeded.get(i).unwrap_or(&empty),
            })
        })
        .collect();
    crate::compare::judge(
        &routes,
        &ctx.compare,
        ctx.targets.first().cloned().unwrap_or_default(),
        ctx.targets.get(1).cloned().unwrap_or_default(),
        counts(&b.overall, rec.dropped),
    )
}
