//! `load merge` on segments' results built from known samples: the merged percentiles are the
//! percentiles of one histogram holding every sample (run, stages, requests and each second),
//! counts add up, thresholds are judged on the whole, and segments that overlap, miss part of
//! the plan or belong to another run are named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prodlike_load::LoadResult;
use prodlike_load::merge::{MergeError, MergeInput, merge};
use prodlike_load::thresholds::parse_threshold;
use prodlike_stats::LatencyHistogram;
use serde_json::{Value, json};

fn hist_of(samples: &[u64]) -> LatencyHistogram {
    let mut h = LatencyHistogram::new();
    for &us in samples {
        h.record_us(us);
    }
    h
}

fn counts(samples: &[u64], failed: u64) -> Value {
    let h = hist_of(samples);
    let n = samples.len() as u64;
    json!({
        "requests": n, "failed": failed,
        "error_rate": if n == 0 { 0.0 } else { failed as f64 / n as f64 },
        "dropped": 0, "drop_rate": 0.0, "retries": 0, "amplification": 1.0,
        "bytes_in": 10 * n, "bytes_out": 5 * n,
        "latency": serde_json::to_value(prodlike_results::shared::LatencySummary::from(h.summary())).unwrap(),
        "latency_histogram": h.to_base64().unwrap(),
    })
}

/// A segment's result whose seconds completed `seconds[i]` (latencies in µs), one stage per
/// second named `s0`, `s1`, …, every request named `GET /`, `failed` failures in all.
fn segment_result(from: [u64; 2], to: [u64; 2], seconds: &[Vec<u64>], failed: u64) -> LoadResult {
    let all: Vec<u64> = seconds.iter().flatten().copied().collect();
    let share = to[0] as f64 / to[1] as f64 - from[0] as f64 / from[1] as f64;
    let stages: Vec<Value> = seconds
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut c = counts(s, 0);
            let o = c.as_object_mut().unwrap();
            o.insert("name".into(), json!(format!("s{i}")));
            o.insert("start_s".into(), json!(i as f64));
            o.insert("end_s".into(), json!(i as f64 + 1.0));
            o.insert("target_rps".into(), json!(100.0 * share));
            o.insert("achieved_rps".into(), json!(s.len() as f64));
            c
        })
        .collect();
    let timeline: Vec<Value> = seconds
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let h = hist_of(s);
            let sum = h.summary();
            let some = |v: f64| if s.is_empty() { Value::Null } else { json!(v) };
            json!({
                "second": i, "target": 100.0 * share, "sent": s.len(), "completed": s.len(),
                "failed": 0, "dropped": 0, "retries": 0,
                "p50_ms": some(sum.p50_ms), "p90_ms": some(sum.p90_ms),
                "p99_ms": some(sum.p99_ms), "max_ms": some(sum.max_ms),
                "latency_histogram": if s.is_empty() { Value::Null } else { json!(h.to_base64().unwrap()) },
            })
        })
        .collect();
    let mut request = counts(&all, failed);
    let o = request.as_object_mut().unwrap();
    o.insert("name".into(), json!("GET /"));
    o.insert(
        "achieved_rps".into(),
        json!(all.len() as f64 / seconds.len() as f64),
    );
    let lag = serde_json::to_value(prodlike_results::shared::LatencySummary::default()).unwrap();
    let doc = json!({
        "mode": "open", "target": "http://127.0.0.1:9", "plan": "the plan",
        "arrivals": format!("uniform, segment {}/{}:{}/{} (x% of the arrivals)", from[0], from[1], to[0], to[1]),
        "duration_s": seconds.len() as f64, "stopped_early": false,
        "target_rps": 100.0 * share, "achieved_rps": all.len() as f64 / seconds.len() as f64,
        "totals": counts(&all, failed),
        "interrupted": 0, "connections_opened": 1, "stale_reconnects": 0,
        "self_check": {"valid": true, "reason": null, "send_lag": lag, "max_send_lag_ms": 10.0,
                       "seconds_checked": 0, "seconds_within_2pct": 0, "worst_second_pct": 0.0},
        "stages": stages, "requests": [request],
        "errors": {}, "error_examples": {}, "statuses": {"200": all.len()},
        "held": {"requested": 0, "opened": 0, "failed": 0, "closed_by_server": 0,
                 "first_close_s": null, "open_at_end": 0},
        "replay": null, "compare": null, "thresholds": [],
        "unjudged_thresholds": ["p99<50ms", "rps<150"],
        "segment": {"segment": format!("{}/{}:{}/{}", from[0], from[1], to[0], to[1]),
                    "from": from, "to": to, "share": share, "seed": 7, "start_at": null},
        "timeline": timeline,
    });
    serde_json::from_value(doc).unwrap()
}

fn input(name: &str, r: LoadResult) -> MergeInput {
    MergeInput {
        file: name.to_owned(),
        result: r,
    }
}

/// Over many seeds: latencies drawn from a long-tailed mix, each request dealt to one of four
/// segments; the merged run's, stages', requests' and seconds' percentiles equal those of one
/// histogram holding all of them, and the counts are the totals.
#[test]
fn merged_percentiles_are_those_of_one_histogram_of_every_sample() {
    for seed in 0..40u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let seconds = 3;
        let bounds = [[0, 4], [1, 4], [2, 4], [3, 4], [4, 4]];
        let mut per_segment: Vec<Vec<Vec<u64>>> = vec![vec![Vec::new(); seconds]; 4];
        let mut all_by_second: Vec<Vec<u64>> = vec![Vec::new(); seconds];
        for (s, all) in all_by_second.iter_mut().enumerate() {
            for _ in 0..rng.usize(50..400) {
                let us = if rng.f64() < 0.03 {
                    rng.u64(50_000..2_000_000)
                } else {
                    rng.u64(200..20_000)
                };
                per_segment[rng.usize(0..4)][s].push(us);
                all.push(us);
            }
        }
        let inputs: Vec<MergeInput> = (0..4)
            .map(|k| {
                input(
                    &format!("{k}.json"),
                    segment_result(bounds[k], bounds[k + 1], &per_segment[k], k as u64),
                )
            })
            .collect();
        let m = merge(&inputs, &[]).unwrap();
        let every: Vec<u64> = all_by_second.iter().flatten().copied().collect();
        let one = hist_of(&every).summary();
        assert_eq!(m.totals.requests, every.len() as u64, "seed {seed}");
        assert_eq!(m.totals.latency.p99_ms, one.p99_ms, "seed {seed}");
        assert_eq!(m.totals.latency.p50_ms, one.p50_ms, "seed {seed}");
        assert_eq!(m.totals.latency.max_ms, one.max_ms, "seed {seed}");
        assert_eq!(m.totals.failed, 6, "seed {seed}");
        assert_eq!(m.requests[0].counts.latency.p999_ms, one.p999_ms);
        for (s, all) in all_by_second.iter().enumerate() {
            let h = hist_of(all).summary();
            assert_eq!(
                m.timeline[s].p99_ms,
                Some(h.p99_ms),
                "seed {seed} second {s}"
            );
            assert_eq!(m.timeline[s].completed, all.len() as u64);
            assert_eq!(m.stages[s].counts.latency.p99_ms, h.p99_ms);
            // The segments' targets are their shares of the plan's: together the plan's.
            assert!((m.timeline[s].target.unwrap() - 100.0).abs() < 1e-9);
        }
        let merged = m.merged.as_ref().unwrap();
        assert_eq!((merged.coverage, merged.missing.len()), (1.0, 0));
        assert!(m.segment.is_none() && m.unjudged_thresholds.is_empty());
        assert_eq!(m.arrivals.as_deref(), Some("uniform"));
        // The segments' thresholds judged once, on the whole: p99 as the one histogram's.
        let p99 = m
            .thresholds
            .iter()
            .find(|t| t.threshold == "p99<50ms")
            .unwrap();
        assert_eq!(p99.observed, Some(one.p99_ms));
        assert_eq!(p99.passed, one.p99_ms < 50.0);
    }
}

/// A rate cap each segment meets alone is breached by the whole run; a floor no segment meets
/// alone holds for the whole: only the merge can judge either.
#[test]
fn a_threshold_breached_only_in_aggregate_fails_the_merge() {
    // 60 requests a second in each half: 120/s together.
    let half = |from: [u64; 2], to: [u64; 2]| {
        let seconds: Vec<Vec<u64>> = (0..2).map(|_| vec![1_000; 60]).collect();
        segment_result(from, to, &seconds, 0)
    };
    let (a, b) = (half([0, 2], [1, 2]), half([1, 2], [2, 2]));
    let cap = parse_threshold("rps<100").unwrap();
    let floor = parse_threshold("rps>=110").unwrap();
    for one in [&a, &b] {
        // Each alone meets the cap and misses the floor.
        assert!(one.achieved_rps < 100.0);
    }
    let m = merge(
        &[input("a.json", a), input("b.json", b)],
        &[cap.clone(), floor],
    )
    .unwrap();
    let judged = |text: &str| m.thresholds.iter().find(|t| t.threshold == text).unwrap();
    assert!(!judged("rps<100").passed, "{:?}", m.thresholds);
    assert!(judged("rps>=110").passed, "{:?}", m.thresholds);
    // The segments' own, recorded: rps<150 holds at 120.
    assert!(judged("rps<150").passed);
    assert_eq!(m.breached(), 1);
}

#[test]
fn segments_that_do_not_belong_together_are_named() {
    let sec = || vec![vec![1_000u64; 10]];
    let q = |from: [u64; 2], to: [u64; 2]| segment_result(from, to, &sec(), 0);

    // Overlap: 1/4:3/4 and 2/4:4/4.
    let e = merge(
        &[input("a", q([1, 4], [3, 4])), input("b", q([2, 4], [4, 4]))],
        &[],
    )
    .unwrap_err();
    assert!(matches!(e, MergeError::Overlap { .. }), "{e}");
    assert!(e.to_string().contains("overlaps a's"), "{e}");

    // The same segment twice.
    let e = merge(
        &[
            input("a", q([0, 2], [1, 2])),
            input("a2", q([0, 2], [1, 2])),
        ],
        &[],
    )
    .unwrap_err();
    assert!(matches!(e, MergeError::Overlap { .. }), "{e}");

    // Another seed: another arrival sequence.
    let mut other = q([1, 2], [2, 2]);
    other.segment.as_mut().unwrap().seed = 8;
    let e = merge(&[input("a", q([0, 2], [1, 2])), input("b", other)], &[]).unwrap_err();
    assert!(e.to_string().contains("seed"), "{e}");

    // Another plan.
    let mut other = q([1, 2], [2, 2]);
    other.plan = "another plan".into();
    let e = merge(&[input("a", q([0, 2], [1, 2])), input("b", other)], &[]).unwrap_err();
    assert!(e.to_string().contains("plan"), "{e}");

    // Not a segment.
    let mut whole = q([0, 1], [1, 1]);
    whole.segment = None;
    let e = merge(&[input("w", whole)], &[]).unwrap_err();
    assert!(matches!(e, MergeError::NotASegment { .. }), "{e}");

    // Requests measured without a histogram cannot be merged exactly: an error, not a guess.
    let mut bare = q([1, 2], [2, 2]);
    bare.totals.latency_histogram = None;
    let e = merge(&[input("a", q([0, 2], [1, 2])), input("b", bare)], &[]).unwrap_err();
    assert!(matches!(e, MergeError::NoHistogram { .. }), "{e}");

    // Missing parts are listed, and the coverage says how much there is.
    let m = merge(
        &[input("a", q([0, 4], [1, 4])), input("c", q([2, 4], [3, 4]))],
        &[],
    )
    .unwrap();
    let merged = m.merged.unwrap();
    assert_eq!(merged.missing, vec!["1/4:2/4", "3/4:1/1"]);
    assert!((merged.coverage - 0.5).abs() < 1e-12);
}

proptest::proptest! {
    /// Any tiling of the plan by segments merges with full coverage and nothing missing, and
    /// the requests add up, whatever the order of the files.
    #[test]
    fn any_tiling_merges_whole(cuts in proptest::collection::btree_set(1u64..12, 0..5), rev in proptest::bool::ANY) {
        let mut points = vec![0u64];
        points.extend(cuts);
        points.push(12);
        let mut inputs: Vec<MergeInput> = points
            .windows(2)
            .map(|w| input(&format!("{}", w[0]), segment_result([w[0], 12], [w[1], 12], &[vec![500; (w[1] - w[0]) as usize]], 0)))
            .collect();
        if rev {
            inputs.reverse();
        }
        let m = merge(&inputs, &[]).unwrap();
        let merged = m.merged.unwrap();
        proptest::prop_assert!(merged.missing.is_empty());
        proptest::prop_assert!((merged.coverage - 1.0).abs() < 1e-9);
        proptest::prop_assert_eq!(m.totals.requests, 12);
    }
}
