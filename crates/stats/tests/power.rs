#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Power of the judge: planted divergences are found in at least 95% of seeded runs, at the
//! sizes stated in each row; and what must never pass does not (Kayenta #780, a route missing
//! in staging).
//!
//! `cargo test -p prodlike-stats --test power -- --nocapture` prints the table.

mod support;

use prodlike_stats::{
    Buckets, ErrorCounts, ErrorRatioSpec, Judgement, LatencySpec, Sample, ScoreItem, SeriesSpec,
    TrafficShapeSpec, Verdict, behaviour_score, judge_error_ratio, judge_latency_buckets,
    judge_latency_samples, judge_series, judge_traffic_shape,
};
use support::{Table, ar1, binomial, count_parallel, lognormal, normals};

const RUNS: u64 = 1000;
const MIN_POWER: f64 = 0.95;

fn diverged(j: &Judgement) -> bool {
    j.verdict == Verdict::Diverged
}

#[test]
// Long: one planted divergence after another, each with its size stated, into one table.
#[allow(clippy::too_many_lines)]
fn planted_divergences_are_found() {
    let mut table = Table::power("power at α = 0.05 (one-sided), default margins");

    // An error-ratio rise of 2 points (1% → 3%) against the 1-point margin.
    for (i, (np, ns)) in [(5000u64, 5000u64), (100_000, 5000)]
        .into_iter()
        .enumerate()
    {
        let hits = count_parallel(RUNS, 50 + i as u64, |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let p = ErrorCounts::new(binomial(&mut rng, np, 0.01), np);
            let s = ErrorCounts::new(binomial(&mut rng, ns, 0.03), ns);
            diverged(
                &judge_error_ratio(p, s, &ErrorRatioSpec::default())
                    .unwrap()
                    .judgement,
            )
        });
        table.found(
            &format!("error ratio +2 points (1% → 3%), n {np}:{ns}"),
            hits,
            RUNS,
            MIN_POWER,
        );
    }

    // Latency +20% at p50 (every latency × 1.2), raw samples; found by the route's shift or p50.
    for (i, (np, ns)) in [(1000usize, 1000usize), (10_000, 500)]
        .into_iter()
        .enumerate()
    {
        let hits = count_parallel(RUNS, 60 + i as u64, |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let p = Sample::from_values(&lognormal(&mut rng, np, 100.0, 0.5, 1.0)).unwrap();
            let s = Sample::from_values(&lognormal(&mut rng, ns, 100.0, 0.5, 1.2)).unwrap();
            let j = judge_latency_samples(&p, &s, &LatencySpec::default()).unwrap();
            diverged(&j.shift) || diverged(&j.quantiles[0].judgement)
        });
        table.found(
            &format!("latency p50 +20%, raw samples, n {np}:{ns} (shift or p50)"),
            hits,
            RUNS,
            MIN_POWER,
        );
    }

    // p99 tripled with the same median (log spread × 1.945): a variance rise.
    let spread = 1.0 + 3f64.ln() / (0.5 * 2.326_348);
    let wider = |rng: &mut fastrand::Rng, n: usize| -> Vec<f64> {
        normals(rng, n)
            .into_iter()
            .map(|z| 100.0 * (0.5 * spread * z).exp())
            .collect()
    };
    for (i, (np, ns)) in [(2000usize, 2000usize), (20_000, 1000)]
        .into_iter()
        .enumerate()
    {
        let hits = count_parallel(RUNS, 70 + i as u64, |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let p = Sample::from_values(&lognormal(&mut rng, np, 100.0, 0.5, 1.0)).unwrap();
            let s = Sample::from_values(&wider(&mut rng, ns)).unwrap();
            let j = judge_latency_samples(&p, &s, &LatencySpec::default()).unwrap();
            diverged(&j.quantiles[2].judgement)
        });
        table.found(
            &format!("p99 ×3, same median, raw samples, n {np}:{ns} (p99)"),
            hits,
            RUNS,
            MIN_POWER,
        );
    }

    // The same two from histogram buckets 5% apart.
    let fine: Vec<f64> = (0..190)
        .map(|i| 1.05f64.powi(i))
        .chain([f64::INFINITY])
        .collect();
    let hits = count_parallel(RUNS, 80, |seed| {
        let mut rng = fastrand::Rng::with_seed(seed);
        let p = Buckets::from_values(&fine, &lognormal(&mut rng, 5000, 100.0, 0.5, 1.0));
        let s = Buckets::from_values(&fine, &lognormal(&mut rng, 5000, 100.0, 0.5, 1.2));
        diverged(
            &judge_latency_buckets(&p, &s, &LatencySpec::default())
                .unwrap()
                .quantiles[0]
                .judgement,
        )
    });
    table.found(
        "latency p50 +20%, buckets 5% apart, n 5000:5000 (p50)",
        hits,
        RUNS,
        MIN_POWER,
    );
    let hits = count_parallel(RUNS, 81, |seed| {
        let mut rng = fastrand::Rng::with_seed(seed);
        let p = Buckets::from_values(&fine, &lognormal(&mut rng, 5000, 100.0, 0.5, 1.0));
        let s = Buckets::from_values(&fine, &wider(&mut rng, 5000));
        diverged(
            &judge_latency_buckets(&p, &s, &LatencySpec::default())
                .unwrap()
                .quantiles[2]
                .judgement,
        )
    });
    table.found(
        "p99 ×3, same median, buckets 5% apart, n 5000:5000 (p99)",
        hits,
        RUNS,
        MIN_POWER,
    );

    // Kayenta #780 as per-interval aggregates: ten one-minute values per side, production an
    // AR(1) process on the log scale (lag-1 autocorrelation 0.5, sd 0.2), staging the same
    // process with 7 of its 10 minutes at 100×; the judge assumes ρ = 0.5 (its default below
    // 20 points).
    let hits = count_parallel(RUNS, 90, |seed| {
        let mut rng = fastrand::Rng::with_seed(seed);
        let p: Vec<f64> = ar1(&mut rng, 10, 0.5, 0.2)
            .into_iter()
            .map(f64::exp)
            .collect();
        let mut s: Vec<f64> = ar1(&mut rng, 10, 0.5, 0.2)
            .into_iter()
            .map(f64::exp)
            .collect();
        let mut minutes: Vec<usize> = (0..10).collect();
        rng.shuffle(&mut minutes);
        for &m in &minutes[..7] {
            s[m] *= 100.0;
        }
        diverged(
            &judge_series(&p, &s, &SeriesSpec::default())
                .unwrap()
                .judgement,
        )
    });
    table.found(
        "Kayenta #780, per-minute values, 7 of 10 at 100×, AR(1) ρ 0.5 (series)",
        hits,
        RUNS,
        MIN_POWER,
    );
    // The same as per-minute error counts: 1000 requests a minute, a baseline error rate of
    // 0.1% whose log wanders as AR(1) (ρ 0.5, sd 0.3) between minutes, staging at 100× that
    // rate in 7 of 10 minutes; judged on the window's sums.
    let hits = count_parallel(RUNS, 91, |seed| {
        let mut rng = fastrand::Rng::with_seed(seed);
        let wander = ar1(&mut rng, 10, 0.5, 0.3);
        let mut minutes: Vec<usize> = (0..10).collect();
        rng.shuffle(&mut minutes);
        let (mut p, mut s) = (ErrorCounts::default(), ErrorCounts::default());
        for (m, w) in wander.iter().enumerate() {
            let rate = 0.001 * w.exp();
            let staging_rate = if minutes[..7].contains(&m) {
                rate * 100.0
            } else {
                rate
            };
            p.requests += 1000;
            s.requests += 1000;
            p.errors += binomial(&mut rng, 1000, rate);
            s.errors += binomial(&mut rng, 1000, staging_rate.min(1.0));
        }
        diverged(
            &judge_error_ratio(p, s, &ErrorRatioSpec::default())
                .unwrap()
                .judgement,
        )
    });
    table.found(
        "Kayenta #780, per-minute error counts, 7 of 10 at 100× (error ratio)",
        hits,
        RUNS,
        MIN_POWER,
    );
    table.finish();
}

#[test]
fn kayenta_780_exact_values_diverge() {
    // spinnaker #6278's exact arrays: experiment 7 × 100 and 3 × 1, control 10 × 1.
    let staging = [
        100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 1.0, 1.0, 1.0,
    ];
    let production = [1.0; 10];
    let j = judge_series(&production, &staging, &SeriesSpec::default()).unwrap();
    println!("\nKayenta #780 exact values: {}", j.judgement.reason);
    assert_eq!(j.judgement.verdict, Verdict::Diverged);
}

#[test]
fn a_route_missing_in_staging_never_passes() {
    let mut rng = fastrand::Rng::with_seed(5);
    let latencies = Sample::from_values(&lognormal(&mut rng, 1000, 100.0, 0.5, 1.0)).unwrap();
    let bounds: Vec<f64> = [10.0, 100.0, 1000.0, f64::INFINITY].to_vec();
    let buckets = Buckets::from_values(&bounds, &lognormal(&mut rng, 1000, 100.0, 0.5, 1.0));
    let empty_buckets = Buckets::new(bounds.clone(), vec![0; bounds.len()]);
    let mut verdicts = vec![
        judge_error_ratio(
            ErrorCounts::new(10, 10_000),
            ErrorCounts::new(0, 0),
            &ErrorRatioSpec::default(),
        )
        .unwrap()
        .judgement,
        judge_series(&[1.0; 30], &[], &SeriesSpec::default())
            .unwrap()
            .judgement,
        judge_traffic_shape(&[100.0; 30], &[0.0; 30], &TrafficShapeSpec::default())
            .unwrap()
            .shape,
    ];
    let raw =
        judge_latency_samples(&latencies, &Sample::default(), &LatencySpec::default()).unwrap();
    verdicts.extend(raw.judgements().cloned());
    let hist = judge_latency_buckets(&buckets, &empty_buckets, &LatencySpec::default()).unwrap();
    verdicts.extend(hist.quantiles.into_iter().map(|q| q.judgement));
    println!("\na route missing in staging:");
    for j in &verdicts {
        println!("  {:?}: {}", j.verdict, j.reason);
        assert_eq!(j.verdict, Verdict::NoData, "{}", j.reason);
        assert!(j.reason.contains("missing in staging"), "{}", j.reason);
    }
    // Together with passing routes it costs the behaviour score instead of raising it.
    let mut items: Vec<ScoreItem> = verdicts.iter().map(|j| ScoreItem::new(j.verdict)).collect();
    items.push(ScoreItem::new(Verdict::Pass));
    let score = behaviour_score(&items).unwrap();
    assert!(score.score.unwrap() < 20.0, "{score:?}");
}
