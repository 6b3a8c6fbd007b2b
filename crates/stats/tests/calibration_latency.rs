#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Calibration of the latency, series and traffic-shape judges: seeded A/A comparisons and
//! comparisons at the boundary (staging's true latency exactly `1 + δ` times production's), at
//! volume ratios 1:1 and 20:1, from raw samples and from histogram buckets. The false
//! `diverged` rate's Clopper–Pearson 95% upper limit must be ≤ 1.5 α.
//!
//! `cargo test -p prodlike-stats --test calibration_latency -- --nocapture` prints the tables.

mod support;

use prodlike_stats::{
    Buckets, Judgement, LatencySpec, Sample, SeriesSpec, TrafficShapeSpec, Verdict,
    judge_latency_buckets, judge_latency_samples, judge_series, judge_traffic_shape,
};
use support::{Table, ar1, count_parallel, lognormal};

const ALPHA: f64 = 0.05;
const SEEDS: u64 = 2000;
/// Fewer seeds where the observed rate sits far below the bound (conservative bucket intervals):
/// 0 of 1000 already bounds the rate at 0.37%.
const FEW_SEEDS: u64 = 1000;

/// Which judgement of a latency result a scenario looks at.
#[derive(Clone, Copy)]
enum Metric {
    Shift,
    Quantile(usize),
    Any,
}

fn diverged(shift: Option<&Judgement>, quantiles: &[&Judgement], metric: Metric) -> bool {
    let d = |j: &Judgement| j.verdict == Verdict::Diverged;
    match metric {
        Metric::Shift => shift.is_some_and(d),
        Metric::Quantile(i) => quantiles.get(i).is_some_and(|j| d(j)),
        Metric::Any => shift.is_some_and(d) || quantiles.iter().any(|j| d(j)),
    }
}

#[test]
fn raw_samples_at_the_boundary_and_a_a() {
    let spec = LatencySpec::default();
    // (name, production n, staging n, staging scale, metric)
    #[rustfmt::skip]
    let scenarios: [(&str, usize, usize, f64, Metric); 10] = [
        ("shift at boundary ×1.10, 1:1, n 500:500", 500, 500, 1.10, Metric::Shift),
        ("shift at boundary ×1.10, 20:1, n 3000:150", 3000, 150, 1.10, Metric::Shift),
        ("p50 at boundary ×1.10, 1:1, n 500:500", 500, 500, 1.10, Metric::Quantile(0)),
        ("p50 at boundary ×1.10, 20:1, n 3000:150", 3000, 150, 1.10, Metric::Quantile(0)),
        ("p90 at boundary ×1.20, 1:1, n 1000:1000", 1000, 1000, 1.20, Metric::Quantile(1)),
        ("p90 at boundary ×1.20, 20:1, n 3000:150", 3000, 150, 1.20, Metric::Quantile(1)),
        ("p99 at boundary ×1.25, 1:1, n 1000:1000", 1000, 1000, 1.25, Metric::Quantile(2)),
        ("p99 at boundary ×1.25, 20:1, n 6000:300", 6000, 300, 1.25, Metric::Quantile(2)),
        ("A/A, any of shift/p50/p90/p99, 1:1, n 1000:1000", 1000, 1000, 1.0, Metric::Any),
        ("A/A, any of shift/p50/p90/p99, 20:1, n 6000:300", 6000, 300, 1.0, Metric::Any),
    ];
    let mut table = Table::rates(
        "latency from raw samples (lognormal, median 100 ms, σ 0.5): false `diverged`",
        "false diverged",
    );
    for (i, (name, np, ns, scale, metric)) in scenarios.into_iter().enumerate() {
        let hits = count_parallel(SEEDS, 1000 + i as u64, |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let p = Sample::from_values(&lognormal(&mut rng, np, 100.0, 0.5, 1.0)).unwrap();
            let s = Sample::from_values(&lognormal(&mut rng, ns, 100.0, 0.5, scale)).unwrap();
            let j = judge_latency_samples(&p, &s, &spec).unwrap();
            let qs: Vec<&Judgement> = j.quantiles.iter().map(|q| &q.judgement).collect();
            diverged(Some(&j.shift), &qs, metric)
        });
        table.calibrated(name, hits, SEEDS, ALPHA);
    }
    table.finish();
}

/// Geometric buckets 5% apart from 1 ms to ~10 s, then +Inf.
fn fine_buckets() -> Vec<f64> {
    let mut b: Vec<f64> = (0..190).map(|i| 1.05f64.powi(i)).collect();
    b.push(f64::INFINITY);
    b
}

/// Prometheus' default buckets, in milliseconds.
fn default_buckets() -> Vec<f64> {
    let mut b: Vec<f64> = [
        5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10_000.0,
    ]
    .to_vec();
    b.push(f64::INFINITY);
    b
}

/// A bucket scenario: name, bucket bounds, n production, n staging, true ratio, metric.
type BucketScenario<'a> = (&'a str, &'a [f64], usize, usize, f64, Metric);

#[test]
fn histogram_buckets_at_the_boundary_and_a_a() {
    let spec = LatencySpec::default();
    let fine = fine_buckets();
    let coarse = default_buckets();
    let scenarios: [BucketScenario; 7] = [
        (
            "fine buckets, p50 at boundary ×1.10, 1:1, n 2000:2000",
            &fine,
            2000,
            2000,
            1.10,
            Metric::Quantile(0),
        ),
        (
            "fine buckets, p50 at boundary ×1.10, 20:1, n 40000:2000",
            &fine,
            40_000,
            2000,
            1.10,
            Metric::Quantile(0),
        ),
        (
            "fine buckets, p99 at boundary ×1.25, 1:1, n 5000:5000",
            &fine,
            5000,
            5000,
            1.25,
            Metric::Quantile(2),
        ),
        (
            "fine buckets, A/A, any quantile, 1:1, n 2000:2000",
            &fine,
            2000,
            2000,
            1.0,
            Metric::Any,
        ),
        (
            "fine buckets, A/A, any quantile, 20:1, n 40000:2000",
            &fine,
            40_000,
            2000,
            1.0,
            Metric::Any,
        ),
        (
            "Prometheus default buckets, p50 at boundary ×1.10, 20:1, n 40000:2000",
            &coarse,
            40_000,
            2000,
            1.10,
            Metric::Quantile(0),
        ),
        (
            "Prometheus default buckets, A/A, any quantile, 1:1, n 2000:2000",
            &coarse,
            2000,
            2000,
            1.0,
            Metric::Any,
        ),
    ];
    let mut table = Table::rates(
        "latency from histogram buckets (lognormal, median 100 ms, σ 0.5): false `diverged`",
        "false diverged",
    );
    for (i, (name, bounds, np, ns, scale, metric)) in scenarios.into_iter().enumerate() {
        let hits = count_parallel(FEW_SEEDS, 2000 + i as u64, |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let p = Buckets::from_values(bounds, &lognormal(&mut rng, np, 100.0, 0.5, 1.0));
            let s = Buckets::from_values(bounds, &lognormal(&mut rng, ns, 100.0, 0.5, scale));
            let j = judge_latency_buckets(&p, &s, &spec).unwrap();
            let qs: Vec<&Judgement> = j.quantiles.iter().map(|q| &q.judgement).collect();
            diverged(None, &qs, metric)
        });
        table.calibrated(name, hits, FEW_SEEDS, ALPHA);
    }
    table.finish();
    // The homogeneity test is an equality test: calibrated at A/A.
    let mut table = Table::rates(
        "bucket homogeneity (chi-square, sparse buckets merged), A/A: false rejection at α",
        "rejections",
    );
    for (i, (name, np, ns)) in [
        ("fine buckets, 1:1, n 2000:2000", 2000, 2000),
        ("fine buckets, 20:1, n 40000:2000", 40_000, 2000),
    ]
    .into_iter()
    .enumerate()
    {
        let hits = count_parallel(SEEDS, 2100 + i as u64, |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let p = Buckets::from_values(&fine, &lognormal(&mut rng, np, 100.0, 0.5, 1.0));
            let s = Buckets::from_values(&fine, &lognormal(&mut rng, ns, 100.0, 0.5, 1.0));
            let j = judge_latency_buckets(&p, &s, &spec).unwrap();
            j.homogeneity.p_value < ALPHA
        });
        table.calibrated(name, hits, SEEDS, ALPHA);
    }
    table.finish();
}

#[test]
fn per_interval_series_with_autocorrelation() {
    // Per-minute aggregates: log values AR(1) with ρ = 0.5 and sd 0.2 around a level; staging's
    // level is production's × (1 + δ) at the boundary.
    let scenarios: [(&str, usize, f64, Option<f64>); 4] = [
        (
            "series at boundary ×1.10, 30:30 intervals, ρ 0.5 assumed",
            30,
            1.10,
            Some(0.5),
        ),
        (
            "series at boundary ×1.10, 120:120 intervals, ρ estimated",
            120,
            1.10,
            None,
        ),
        (
            "series A/A, 30:30 intervals, ρ 0.5 assumed",
            30,
            1.0,
            Some(0.5),
        ),
        (
            "series A/A, 10:10 intervals, ρ 0.5 (default below 20 points)",
            10,
            1.0,
            None,
        ),
    ];
    let mut table = Table::rates(
        "per-interval series, AR(1) ρ = 0.5, log sd 0.2: false `diverged`",
        "false diverged",
    );
    for (i, (name, n, scale, rho)) in scenarios.into_iter().enumerate() {
        let spec = SeriesSpec {
            autocorrelation: rho,
            ..Default::default()
        };
        let hits = count_parallel(SEEDS, 3000 + i as u64, |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let p: Vec<f64> = ar1(&mut rng, n, 0.5, 0.2)
                .into_iter()
                .map(|x| 100.0 * x.exp())
                .collect();
            let s: Vec<f64> = ar1(&mut rng, n, 0.5, 0.2)
                .into_iter()
                .map(|x| 100.0 * scale * x.exp())
                .collect();
            judge_series(&p, &s, &spec).unwrap().judgement.verdict == Verdict::Diverged
        });
        table.calibrated(name, hits, SEEDS, ALPHA);
    }
    table.finish();
}

/// Production's per-interval shares (a daily-like wave) and staging's at total variation
/// distance `distance` from them: the first half of the window scaled up, the second down
/// (smooth, so merging adjacent intervals into bins keeps the distance).
fn shares(k: usize, distance: f64) -> (Vec<f64>, Vec<f64>) {
    let p: Vec<f64> = (0..k)
        .map(|i| 1.0 + 0.6 * (i as f64 / k as f64 * std::f64::consts::TAU).sin())
        .collect();
    let total: f64 = p.iter().sum();
    let p: Vec<f64> = p.into_iter().map(|x| x / total).collect();
    let first: f64 = p[..k / 2].iter().sum();
    let second: f64 = p[k / 2..].iter().sum();
    let s = p
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            if i < k / 2 {
                x * (1.0 + distance / first)
            } else {
                x * (1.0 - distance / second)
            }
        })
        .collect();
    (p, s)
}

#[test]
fn traffic_shape_at_the_boundary_and_a_a() {
    let spec = TrafficShapeSpec::default();
    let scenarios: [(&str, f64, f64, f64); 4] = [
        (
            "shape at boundary TVD 0.10, 20:1, 1000:50 requests/interval",
            0.10,
            1000.0,
            50.0,
        ),
        (
            "shape at boundary TVD 0.10, 1:1, 200:200 requests/interval",
            0.10,
            200.0,
            200.0,
        ),
        (
            "shape A/A, 20:1, 1000:50 requests/interval",
            0.0,
            1000.0,
            50.0,
        ),
        (
            "shape A/A, 20:1, 100:5 requests/interval (sparse)",
            0.0,
            100.0,
            5.0,
        ),
    ];
    let mut table = Table::rates(
        "traffic shape (60 intervals, Poisson counts), margin 0.10: false `diverged`",
        "false diverged",
    );
    const SHAPE_SEEDS: u64 = 1000;
    for (i, (name, distance, per_p, per_s)) in scenarios.into_iter().enumerate() {
        let (p_shares, s_shares) = shares(60, distance);
        let hits = count_parallel(SHAPE_SEEDS, 4000 + i as u64, |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let draw = |rng: &mut fastrand::Rng, mean: f64| {
                support::binomial(rng, (mean * 50.0) as u64, 0.02) as f64
            };
            let p: Vec<f64> = p_shares
                .iter()
                .map(|x| draw(&mut rng, x * 60.0 * per_p))
                .collect();
            let s: Vec<f64> = s_shares
                .iter()
                .map(|x| draw(&mut rng, x * 60.0 * per_s))
                .collect();
            judge_traffic_shape(&p, &s, &spec).unwrap().shape.verdict == Verdict::Diverged
        });
        table.calibrated(name, hits, SHAPE_SEEDS, ALPHA);
    }
    table.finish();
}
