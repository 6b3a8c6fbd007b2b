#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Properties of every judge on arbitrary input: no panic (NaN, infinities, empty, zero and
//! huge counts), intervals that contain their estimates, verdicts monotone in the margin, and
//! corrections and scores that stay in range.

use prodlike_stats::{
    Buckets, ErrorCounts, ErrorMargin, ErrorRatioSpec, ErrorRatioWatch, Judgement, LatencySpec,
    QuantileMargin, Sample, ScoreItem, SeriesSpec, TrafficShapeSpec, Verdict, WatchSpec,
    behaviour_score, benjamini_hochberg_adjust, judge_error_ratio, judge_latency_buckets,
    judge_latency_samples, judge_series, judge_traffic_shape,
};
use proptest::prelude::*;

fn consistent(j: &Judgement) -> Result<(), TestCaseError> {
    if let (Some(e), Some(i)) = (j.estimate, j.interval) {
        prop_assert!(i.lower <= i.upper, "{j:?}");
        prop_assert!(i.contains(e), "estimate outside its interval: {j:?}");
    }
    if let Some(p) = j.p_value {
        prop_assert!((0.0..=1.0).contains(&p), "{j:?}");
    }
    match j.verdict {
        Verdict::NoData => prop_assert!(j.estimate.is_none()),
        Verdict::Diverged => prop_assert!(j.interval.is_some_and(|i| i.lower > j.margin)),
        Verdict::Pass => prop_assert!(j.interval.is_some_and(|i| i.upper < j.margin)),
        Verdict::Inconclusive { .. } => {}
    }
    prop_assert!(!j.reason.is_empty());
    Ok(())
}

/// A larger margin never makes a verdict more severe: diverged at the larger margin implies
/// diverged at the smaller, pass at the smaller implies pass at the larger.
fn monotone(small: &Judgement, large: &Judgement) -> Result<(), TestCaseError> {
    if large.verdict == Verdict::Diverged {
        prop_assert_eq!(small.verdict, Verdict::Diverged);
    }
    if small.verdict == Verdict::Pass {
        prop_assert_eq!(large.verdict, Verdict::Pass);
    }
    Ok(())
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..20,
        0u64..100_000,
        Just(u64::MAX),
        Just(u64::MAX / 2),
        any::<u64>()
    ]
}

/// Mostly plausible values, sometimes zero, negative, huge, NaN or infinite: most vectors
/// reach the judges, some exercise their refusals.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        60 => 0.0f64..1000.0,
        10 => 1e-9f64..1e12,
        3 => Just(0.0),
        1 => Just(-1.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => any::<f64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn error_ratio_never_panics_and_is_monotone_in_the_margin(
        xp in count(), np in count(), xs in count(), ns in count(),
        d1 in 0.0f64..0.2, d2 in 0.0f64..0.2, relative in any::<bool>(),
    ) {
        let (small, large) = if d1 <= d2 { (d1, d2) } else { (d2, d1) };
        let spec = |d: f64| ErrorRatioSpec {
            margin: if relative { ErrorMargin::Relative(d * 10.0) } else { ErrorMargin::Absolute(d) },
            ..Default::default()
        };
        let p = ErrorCounts::new(xp, np);
        let s = ErrorCounts::new(xs, ns);
        let a = judge_error_ratio(p, s, &spec(small));
        let b = judge_error_ratio(p, s, &spec(large));
        prop_assert_eq!(a.is_ok(), xp <= np && xs <= ns);
        if let (Ok(a), Ok(b)) = (a, b) {
            consistent(&a.judgement)?;
            consistent(&b.judgement)?;
            monotone(&a.judgement, &b.judgement)?;
        }
    }

    #[test]
    fn latency_samples_never_panic_and_are_monotone(
        p in proptest::collection::vec(value(), 0..60),
        s in proptest::collection::vec(value(), 0..60),
        m1 in 0.0f64..1.0, m2 in 0.0f64..1.0,
    ) {
        let (Ok(p), Ok(s)) = (Sample::from_values(&p), Sample::from_values(&s)) else {
            prop_assert!(p.iter().chain(&s).any(|v| !v.is_finite()));
            return Ok(());
        };
        let (small, large) = if m1 <= m2 { (m1, m2) } else { (m2, m1) };
        let spec = |m: f64| LatencySpec {
            shift_margin: m,
            quantiles: [0.5, 0.9, 0.99].iter().map(|&q| QuantileMargin { quantile: q, margin: m }).collect(),
            ..Default::default()
        };
        let a = judge_latency_samples(&p, &s, &spec(small));
        let b = judge_latency_samples(&p, &s, &spec(large));
        if let (Ok(a), Ok(b)) = (a, b) {
            for (x, y) in a.judgements().zip(b.judgements()) {
                consistent(x)?;
                consistent(y)?;
                monotone(x, y)?;
            }
        } else {
            prop_assert!(p.min().is_some_and(|v| v < 0.0) || s.min().is_some_and(|v| v < 0.0));
        }
    }

    #[test]
    fn buckets_never_panic(
        bounds in proptest::collection::vec(value(), 0..12),
        cp in proptest::collection::vec(count(), 0..12),
        cs in proptest::collection::vec(count(), 0..12),
    ) {
        let mut cp = cp;
        let mut cs = cs;
        // Half the cases get well-formed cumulative counts for the same bounds.
        if bounds.len() % 2 == 0 {
            cp.sort_unstable();
            cs.sort_unstable();
            cp.truncate(bounds.len());
            cs.truncate(bounds.len());
        }
        let p = Buckets::new(bounds.clone(), cp);
        let s = Buckets::new(bounds, cs);
        if let Ok(j) = judge_latency_buckets(&p, &s, &LatencySpec::default()) {
            prop_assert!((0.0..=1.0).contains(&j.homogeneity.p_value));
            for q in &j.quantiles {
                consistent(&q.judgement)?;
            }
        }
    }

    #[test]
    fn series_and_shape_never_panic(
        (p, s) in (0usize..40).prop_flat_map(|n| (
            proptest::collection::vec(value(), n),
            proptest::collection::vec(value(), n.saturating_sub(n % 7 / 6)),
        )),
        rho in proptest::option::of(0.0f64..0.95),
        ratio in proptest::option::of(0.001f64..10.0),
    ) {
        if let Ok(j) = judge_series(&p, &s, &SeriesSpec { autocorrelation: rho, ..Default::default() }) {
            consistent(&j.judgement)?;
        }
        let spec = TrafficShapeSpec { resamples: 50, expected_ratio: ratio, ..Default::default() };
        if let Ok(j) = judge_traffic_shape(&p, &s, &spec) {
            consistent(&j.shape)?;
            if let Some(v) = j.volume {
                prop_assert!(v.interval.is_none_or(|i| i.lower <= i.upper));
            }
        }
    }

    #[test]
    fn watch_never_panics_on_any_sequence(
        looks in proptest::collection::vec((count(), count(), count(), count()), 0..20),
        margin in 0.0f64..0.3,
    ) {
        let mut w = ErrorRatioWatch::new(WatchSpec { margin, ..Default::default() }).unwrap();
        for (xp, np, xs, ns) in looks {
            if let Ok(state) = w.observe(ErrorCounts::new(xp, np), ErrorCounts::new(xs, ns)) {
                // Running ends cross only when the difference moved, after a decision.
                prop_assert!(
                    state.lower <= state.upper
                        || matches!(state.verdict, Verdict::Diverged | Verdict::Pass)
                );
                prop_assert!((0.0..=1.0).contains(&state.p_value));
            }
        }
        let j = w.judgement();
        prop_assert!(!j.reason.is_empty());
    }

    #[test]
    fn corrections_and_scores_stay_in_range(
        ps in proptest::collection::vec(prop_oneof![0.0f64..=1.0, Just(f64::NAN)], 0..50),
        verdicts in proptest::collection::vec((0u8..4, 0.0f64..5.0, any::<bool>()), 0..30),
    ) {
        let adjusted = benjamini_hochberg_adjust(&ps);
        prop_assert_eq!(adjusted.len(), ps.len());
        for (a, p) in adjusted.iter().zip(&ps) {
            prop_assert!((0.0..=1.0).contains(a));
            if p.is_finite() {
                prop_assert!(*a >= *p - 1e-12);
            }
        }
        let items: Vec<ScoreItem> = verdicts
            .iter()
            .map(|&(v, weight, critical)| ScoreItem {
                verdict: match v {
                    0 => Verdict::Pass,
                    1 => Verdict::Diverged,
                    2 => Verdict::Inconclusive { needed: None },
                    _ => Verdict::NoData,
                },
                weight,
                critical,
            })
            .collect();
        let s = behaviour_score(&items).unwrap();
        if let (Some(score), Some(ceiling)) = (s.score, s.ceiling) {
            prop_assert!((0.0..=100.0).contains(&score));
            prop_assert!(score <= ceiling + 1e-9 && ceiling <= 100.0 + 1e-9);
        }
    }
}
