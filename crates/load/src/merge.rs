//! `prodlike load merge`: the results of a split plan's segments (`--segment`) combined into
//! the result the unsplit run would have given, then judged. Histograms merge exactly (every
//! counts object and, for segments, every second carries its HDR histogram), counts and
//! per-second timelines add up, and the thresholds the segments declared but could not judge
//! alone (plus any given to `merge`) are judged once, on the whole (judge.rs). This is what a
//! segment on its own must never do: pass or fail the run on a partial view.
//!
//! Segments must belong together: the same plan, target, seed and start, and no two may
//! overlap. Segments that leave part of the plan uncovered merge into a partial result whose
//! `merged.missing` names the gaps (the caller reports it as inconclusive).
use std::collections::BTreeMap;

use prodlike_stats::LatencyHistogram;

use crate::result::{
    Counts, HeldStats, LoadResult, MergedFrom, MergedInput, NameResult, SecondResult, SegmentRun,
    SelfCheck, StageResult,
};
use crate::segment::Segment;
use crate::thresholds::{Threshold, parse_threshold};

/// One segment's result, with the file it was read from (for messages and the record).
pub struct MergeInput {
    pub file: String,
    pub result: LoadResult,
}

/// Why segments' results cannot be merged; each names the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give the segments' result files")]
    NoInputs,
    #[error("{file}: not a segment's result (run `prodlike load --segment k/N --out FILE`)")]
    NotASegment { file: String },
    #[error("{file}: a compare-mode result (--compare); segments of compare runs are not merged")]
    CompareMode { file: String },
    #[error(
        "{file}: its {what} differs from {first}'s ({ours} against {theirs}); segments of one run share it"
    )]
    Mismatch {
        file: String,
        first: String,
        what: &'static str,
        ours: String,
        theirs: String,
    },
    #[error(
        "{file}: segment {segment} overlaps {other}'s segment {other_segment}: those arrivals would count twice"
    )]
    Overlap {
        file: String,
        segment: String,
        other: String,
        other_segment: String,
    },
    #[error("{file}: segment `{segment}` is not a valid segment")]
    BadSegment { file: String, segment: String },
    #[error(
        "{file}: {scope} has {requests} requests but no latency histogram, so its latencies cannot be merged exactly"
    )]
    NoHistogram {
        file: String,
        scope: String,
        requests: u64,
    },
    #[error("{file}: {scope}'s latency histogram is unreadable")]
    BadHistogram {
        file: String,
        scope: String,
        #[source]
        source: prodlike_stats::HistogramDecodeError,
    },
    #[error("threshold recorded in {file}")]
    Threshold {
        file: String,
        #[source]
        source: Box<crate::LoadError>,
    },
}

/// Merges segments' results and judges the segments' thresholds and `extra` on the whole.
// Long: one pass over the result's sections in their published order, each a few lines.
#[allow(clippy::too_many_lines)]
pub fn merge(inputs: &[MergeInput], extra: &[Threshold]) -> Result<LoadResult, MergeError> {
    let first = inputs.first().ok_or(MergeError::NoInputs)?;
    let segments = check_together(inputs)?;
    let (coverage, missing) = coverage(&segments);
    let results: Vec<&LoadResult> = inputs.iter().map(|i| &i.result).collect();

    let totals = merge_counts(inputs, "the run", |r| Some(&r.totals))?;
    let mut stages = Vec::new();
    for (i, s) in first.result.stages.iter().enumerate() {
        let scope = format!("stage {}", s.name);
        stages.push(StageResult {
            name: s.name.clone(),
            start_s: s.start_s,
            end_s: s.end_s,
            target_rps: results
                .iter()
                .map(|r| r.stages.get(i).map_or(0.0, |x| x.target_rps))
                .sum(),
            achieved_rps: results
                .iter()
                .map(|r| r.stages.get(i).map_or(0.0, |x| x.achieved_rps))
                .sum(),
            counts: merge_counts(inputs, &scope, |r| r.stages.get(i).map(|x| &x.counts))?,
        });
    }
    // Request names in order of first appearance.
    let mut names: Vec<String> = Vec::new();
    for r in &results {
        for n in &r.requests {
            if !names.contains(&n.name) {
                names.push(n.name.clone());
            }
        }
    }
    let mut requests = Vec::new();
    for name in &names {
        fn pick<'r>(r: &'r LoadResult, name: &str) -> Option<&'r NameResult> {
            r.requests.iter().find(|n| n.name == name)
        }
        requests.push(NameResult {
            name: name.clone(),
            achieved_rps: results
                .iter()
                .filter_map(|r| pick(r, name))
                .map(|n| n.achieved_rps)
                .sum(),
            counts: merge_counts(inputs, &format!("request {name}"), |r| {
                pick(r, name).map(|n| &n.counts)
            })?,
        });
    }
    let timeline = merge_timeline(inputs)?;
    let duration_s = results.iter().map(|r| r.duration_s).fold(0.0, f64::max);
    let mut merged = LoadResult {
        mode: first.result.mode.clone(),
        target: first.result.target.clone(),
        // The segments' note that they did not judge their thresholds: the merge judges them.
        plan: first
            .result
            .plan
            .split("; thresholds not judged")
            .next()
            .unwrap_or(&first.result.plan)
            .to_string(),
        arrivals: first
            .result
            .arrivals
            .as_ref()
            .map(|a| a.split(", segment ").next().unwrap_or(a).to_string()),
        duration_s,
        stopped_early: results.iter().any(|r| r.stopped_early),
        target_rps: results.iter().map(|r| r.target_rps).sum::<Option<f64>>(),
        achieved_rps: results.iter().map(|r| r.achieved_rps).sum(),
        totals,
        interrupted: results.iter().map(|r| r.interrupted).sum(),
        connections_opened: results.iter().map(|r| r.connections_opened).sum(),
        stale_reconnects: results.iter().map(|r| r.stale_reconnects).sum(),
        self_check: self_check(inputs, &timeline, duration_s),
        stages,
        requests,
        errors: sum_maps(results.iter().map(|r| &r.errors)),
        error_examples: {
            let mut m = BTreeMap::new();
            for r in &results {
                for (k, v) in &r.error_examples {
                    m.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            m
        },
        statuses: sum_maps(results.iter().map(|r| &r.statuses)),
        held: held(&results),
        // Every segment reads the whole recording (and fires its share of it), so what one
        // read is what the run read.
        replay: results
            .iter()
            .filter_map(|r| r.replay.as_ref())
            .max_by_key(|s| s.lines)
            .cloned(),
        compare: None,
        thresholds: Vec::new(),
        unjudged_thresholds: Vec::new(),
        segment: None,
        merged: Some(MergedFrom {
            inputs: inputs
                .iter()
                .zip(&segments)
                .map(|(i, s)| MergedInput {
                    file: i.file.clone(),
                    segment: s.to_string(),
                })
                .collect(),
            coverage,
            missing,
        }),
        timeline,
    };
    let mut thresholds = Vec::new();
    for text in &first.result.unjudged_thresholds {
        thresholds.push(
            parse_threshold(text).map_err(|source| MergeError::Threshold {
                file: first.file.clone(),
                source: Box::new(source),
            })?,
        );
    }
    thresholds.extend(extra.iter().cloned());
    merged.thresholds = thresholds
        .iter()
        .map(|t| crate::judge::evaluate(t, &merged, &names))
        .collect();
    Ok(merged)
}

/// Checks that the inputs are segments of one run that do not overlap; their segments.
fn check_together(inputs: &[MergeInput]) -> Result<Vec<Segment>, MergeError> {
    let Some(first) = inputs.first() else {
        return Err(MergeError::NoInputs);
    };
    let mut segments = Vec::with_capacity(inputs.len());
    let first_run = segment_of(first)?;
    for input in inputs {
        let r = &input.result;
        let run = segment_of(input)?;
        if r.compare.is_some() {
            return Err(MergeError::CompareMode {
                file: input.file.clone(),
            });
        }
        let mismatch = |what: &'static str, ours: String, theirs: String| MergeError::Mismatch {
            file: input.file.clone(),
            first: first.file.clone(),
            what,
            ours,
            theirs,
        };
        let f = &first.result;
        if r.mode != f.mode {
            return Err(mismatch("mode", r.mode.clone(), f.mode.clone()));
        }
        if r.target != f.target {
            return Err(mismatch("target", r.target.clone(), f.target.clone()));
        }
        if r.plan != f.plan {
            return Err(mismatch("plan", r.plan.clone(), f.plan.clone()));
        }
        if run.seed != first_run.seed {
            return Err(mismatch(
                "seed",
                run.seed.to_string(),
                first_run.seed.to_string(),
            ));
        }
        if run.start_at != first_run.start_at {
            let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".into());
            return Err(mismatch(
                "--start-at",
                show(&run.start_at),
                show(&first_run.start_at),
            ));
        }
        let stage_names =
            |r: &LoadResult| -> Vec<String> { r.stages.iter().map(|s| s.name.clone()).collect() };
        if stage_names(r) != stage_names(f) {
            return Err(mismatch(
                "stages",
                stage_names(r).join(","),
                stage_names(f).join(","),
            ));
        }
        if r.unjudged_thresholds != f.unjudged_thresholds {
            return Err(mismatch(
                "thresholds",
                r.unjudged_thresholds.join(", "),
                f.unjudged_thresholds.join(", "),
            ));
        }
        let seg = Segment::from_bounds((run.from[0], run.from[1]), (run.to[0], run.to[1]))
            .ok_or_else(|| MergeError::BadSegment {
                file: input.file.clone(),
                segment: run.segment.clone(),
            })?;
        for (other, other_seg) in inputs.iter().zip(&segments) {
            if overlaps(seg, *other_seg) {
                return Err(MergeError::Overlap {
                    file: input.file.clone(),
                    segment: seg.to_string(),
                    other: other.file.clone(),
                    other_segment: other_seg.to_string(),
                });
            }
        }
        segments.push(seg);
    }
    Ok(segments)
}

fn segment_of(input: &MergeInput) -> Result<&SegmentRun, MergeError> {
    input
        .result
        .segment
        .as_ref()
        .ok_or_else(|| MergeError::NotASegment {
            file: input.file.clone(),
        })
}

/// `a/b < c/d`, exactly.
fn less((a, b): (u64, u64), (c, d): (u64, u64)) -> bool {
    u128::from(a) * u128::from(d) < u128::from(c) * u128::from(b)
}

fn overlaps(x: Segment, y: Segment) -> bool {
    let ((xf, xt), (yf, yt)) = (x.bounds(), y.bounds());
    less(xf, yt) && less(yf, xt)
}

/// The share of [0, 1) the segments cover, and the gaps as `from:to` fractions.
fn coverage(segments: &[Segment]) -> (f64, Vec<String>) {
    let mut sorted: Vec<Segment> = segments.to_vec();
    sorted.sort_by(|a, b| {
        let (af, bf) = (a.bounds().0, b.bounds().0);
        if less(af, bf) {
            std::cmp::Ordering::Less
        } else if less(bf, af) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    let mut missing = Vec::new();
    let mut at = (0u64, 1u64);
    for s in &sorted {
        let (from, to) = s.bounds();
        if less(at, from) {
            missing.push(format!("{}/{}:{}/{}", at.0, at.1, from.0, from.1));
        }
        at = to;
    }
    if less(at, (1, 1)) {
        missing.push(format!("{}/{}:1/1", at.0, at.1));
    }
    let coverage = segments.iter().map(Segment::share).sum::<f64>().min(1.0);
    (coverage, missing)
}

/// One scope's counts over every input; `pick` finds the scope in a result (absent: zero).
fn merge_counts(
    inputs: &[MergeInput],
    scope: &str,
    pick: impl Fn(&LoadResult) -> Option<&Counts>,
) -> Result<Counts, MergeError> {
    let mut hist = LatencyHistogram::new();
    let (mut requests, mut failed, mut dropped, mut retries) = (0u64, 0u64, 0u64, 0u64);
    let (mut bytes_in, mut bytes_out) = (0u64, 0u64);
    for input in inputs {
        let Some(c) = pick(&input.result) else {
            continue;
        };
        requests += c.requests;
        failed += c.failed;
        dropped += c.dropped;
        retries += c.retries;
        bytes_in += c.bytes_in;
        bytes_out += c.bytes_out;
        if let Some(h) = decode(input, scope, c.latency_histogram.as_deref(), c.requests)? {
            hist.merge(&h);
        }
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(Counts {
        requests,
        failed,
        error_rate: ratio(failed, requests),
        dropped,
        drop_rate: ratio(dropped, requests + dropped),
        retries,
        // Every request's first attempt plus its retries.
        amplification: ratio(requests + retries, requests),
        bytes_in,
        bytes_out,
        latency: hist.summary().into(),
        latency_histogram: hist.to_base64().ok(),
    })
}

/// A histogram the result carries; an error when requests were measured but none is there.
fn decode(
    input: &MergeInput,
    scope: &str,
    text: Option<&str>,
    requests: u64,
) -> Result<Option<LatencyHistogram>, MergeError> {
    match text {
        Some(t) => LatencyHistogram::from_base64(t)
            .map(Some)
            .map_err(|source| MergeError::BadHistogram {
                file: input.file.clone(),
                scope: scope.to_string(),
                source,
            }),
        None if requests == 0 => Ok(None),
        None => Err(MergeError::NoHistogram {
            file: input.file.clone(),
            scope: scope.to_string(),
            requests,
        }),
    }
}

/// Seconds added up, their percentiles from the merged histograms.
fn merge_timeline(inputs: &[MergeInput]) -> Result<Vec<SecondResult>, MergeError> {
    let len = inputs
        .iter()
        .map(|i| i.result.timeline.len())
        .max()
        .unwrap_or(0);
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let mut sec = SecondResult {
            second: i as u64,
            target: None,
            sent: 0,
            completed: 0,
            failed: 0,
            dropped: 0,
            retries: 0,
            p50_ms: None,
            p90_ms: None,
            p99_ms: None,
            max_ms: None,
            latency_histogram: None,
        };
        let mut hist = LatencyHistogram::new();
        for input in inputs {
            let Some(s) = input.result.timeline.get(i) else {
                continue;
            };
            sec.target = match (sec.target, s.target) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            sec.sent += s.sent;
            sec.completed += s.completed;
            sec.failed += s.failed;
            sec.dropped += s.dropped;
            sec.retries += s.retries;
            let scope = format!("second {i}");
            // A second's completions without percentiles measured nothing to merge.
            let measured = if s.p50_ms.is_some() { s.completed } else { 0 };
            if let Some(h) = decode(input, &scope, s.latency_histogram.as_deref(), measured)? {
                hist.merge(&h);
            }
        }
        if !hist.is_empty() {
            let sum = hist.summary();
            sec.p50_ms = Some(sum.p50_ms);
            sec.p90_ms = Some(sum.p90_ms);
            sec.p99_ms = Some(sum.p99_ms);
            sec.max_ms = Some(sum.max_ms);
            sec.latency_histogram = hist.to_base64().ok();
        }
        out.push(sec);
    }
    Ok(out)
}

/// Valid when every segment kept its schedule; the plan kept second by second is checked on
/// the merged timeline (the segments' targets add up to the plan's).
fn self_check(inputs: &[MergeInput], timeline: &[SecondResult], duration_s: f64) -> SelfCheck {
    let reasons: Vec<String> = inputs
        .iter()
        .filter_map(|i| {
            let r = i.result.self_check.reason.as_ref()?;
            Some(format!("{}: {r}", i.file))
        })
        .collect();
    let valid = inputs.iter().all(|i| i.result.self_check.valid);
    // The worst segment's send lag: lags of different machines do not add up to one
    // distribution anyone measured.
    let worst = inputs
        .iter()
        .map(|i| &i.result.self_check)
        .max_by(|a, b| a.send_lag.p99_ms.total_cmp(&b.send_lag.p99_ms));
    let (mut checked, mut within, mut worst_pct) = (0u64, 0u64, 0.0f64);
    for s in timeline.iter().take(duration_s.floor() as usize) {
        let Some(target) = s.target else { continue };
        if target < 1.0 || s.dropped > 0 {
            continue;
        }
        checked += 1;
        let miss = (s.sent as f64 - target).abs() / target * 100.0;
        worst_pct = worst_pct.max(miss);
        if miss <= 2.0 {
            within += 1;
        }
    }
    SelfCheck {
        valid,
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        send_lag: worst.map(|w| w.send_lag).unwrap_or_default(),
        max_send_lag_ms: worst.map_or(0.0, |w| w.max_send_lag_ms),
        seconds_checked: checked,
        seconds_within_2pct: within,
        worst_second_pct: worst_pct,
    }
}

fn sum_maps<'a>(maps: impl Iterator<Item = &'a BTreeMap<String, u64>>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for m in maps {
        for (k, v) in m {
            *out.entry(k.clone()).or_insert(0) += v;
        }
    }
    out
}

fn held(results: &[&LoadResult]) -> HeldStats {
    let mut h = HeldStats::default();
    for r in results {
        h.requested += r.held.requested;
        h.opened += r.held.opened;
        h.failed += r.held.failed;
        h.closed_by_server += r.held.closed_by_server;
        h.open_at_end += r.held.open_at_end;
        h.first_close_s = match (h.first_close_s, r.held.first_close_s) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    h
}
