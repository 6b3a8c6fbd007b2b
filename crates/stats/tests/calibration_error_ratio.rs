#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Calibration of the error-ratio judge: seeded simulations of A/A comparisons and of
//! comparisons at the boundary (staging's true ratio exactly δ above production's), at volume
//! ratios 1:1 and 20:1, with ordinary and sparse (≈3 staging errors) counts. The false
//! `diverged` rate must stay at α: its Clopper–Pearson 95% upper limit ≤ 1.5 α. Also: false
//! `pass` at the boundary, the Wald interval for contrast, Kayenta #426, and the run-level
//! rate over many routes with and without Benjamini–Hochberg.
//!
//! `cargo test -p prodlike-stats --test calibration_error_ratio -- --nocapture` prints the
//! tables (docs/statistics.md quotes them).

mod support;

use prodlike_stats::{
    ErrorCounts, ErrorMargin, ErrorRatioSpec, Verdict, benjamini_hochberg, judge_error_ratio,
};
use support::{Table, binomial, count_parallel, cp95};

const ALPHA: f64 = 0.05;
const DELTA: f64 = 0.01;
/// Seeds where the rate sits near α: enough for a Clopper–Pearson upper limit near 0.06.
const SEEDS: u64 = 3000;
/// Seeds where the rate sits far below α (A/A): 0 of 1000 bounds it at 0.37%.
const FEW_SEEDS: u64 = 1000;

struct Scenario {
    name: &'static str,
    p_production: f64,
    p_staging: f64,
    n_production: u64,
    n_staging: u64,
    seeds: u64,
}

#[rustfmt::skip]
const BOUNDARY: [Scenario; 4] = [
    Scenario { name: "boundary 1:1, 2% vs 3%, n 2000:2000", p_production: 0.02, p_staging: 0.03, n_production: 2000, n_staging: 2000, seeds: SEEDS },
    Scenario { name: "boundary 20:1, 2% vs 3%, n 40000:2000", p_production: 0.02, p_staging: 0.03, n_production: 40_000, n_staging: 2000, seeds: SEEDS },
    Scenario { name: "boundary 1:1 sparse, 0.1% vs 1.1%, n 300:300", p_production: 0.001, p_staging: 0.011, n_production: 300, n_staging: 300, seeds: SEEDS },
    Scenario { name: "boundary 20:1 sparse, 0.1% vs 1.1%, n 6000:300", p_production: 0.001, p_staging: 0.011, n_production: 6000, n_staging: 300, seeds: SEEDS },
];

#[rustfmt::skip]
const A_A: [Scenario; 3] = [
    Scenario { name: "A/A 1:1, 2%, n 2000:2000", p_production: 0.02, p_staging: 0.02, n_production: 2000, n_staging: 2000, seeds: FEW_SEEDS },
    Scenario { name: "A/A 20:1, 2%, n 40000:2000", p_production: 0.02, p_staging: 0.02, n_production: 40_000, n_staging: 2000, seeds: FEW_SEEDS },
    Scenario { name: "A/A 20:1 sparse, 0.1%, n 6000:300", p_production: 0.001, p_staging: 0.001, n_production: 6000, n_staging: 300, seeds: FEW_SEEDS },
];

fn draw(rng: &mut fastrand::Rng, s: &Scenario) -> (ErrorCounts, ErrorCounts) {
    (
        ErrorCounts::new(
            binomial(rng, s.n_production, s.p_production),
            s.n_production,
        ),
        ErrorCounts::new(binomial(rng, s.n_staging, s.p_staging), s.n_staging),
    )
}

fn count_verdict(s: &Scenario, spec: &ErrorRatioSpec, want: Verdict, seed: u64) -> u64 {
    count_parallel(s.seeds, seed, |seed| {
        let mut rng = fastrand::Rng::with_seed(seed);
        let (p, st) = draw(&mut rng, s);
        judge_error_ratio(p, st, spec).unwrap().judgement.verdict == want
    })
}

#[test]
fn false_divergence_rate_is_alpha_at_the_boundary_and_below_it() {
    let spec = ErrorRatioSpec::default();
    let mut table = Table::rates(
        "error ratio, skewness-corrected score, δ = 0.01 absolute, α = 0.05: false `diverged`",
        "false diverged",
    );
    for (i, s) in BOUNDARY.iter().chain(&A_A).enumerate() {
        let hits = count_verdict(s, &spec, Verdict::Diverged, 100 + i as u64);
        table.calibrated(s.name, hits, s.seeds, ALPHA);
    }
    table.finish();
}

#[test]
fn false_pass_rate_is_alpha_at_the_boundary() {
    // At the boundary a `pass` is also wrong: it claims the difference is below δ.
    let spec = ErrorRatioSpec::default();
    let mut table = Table::rates("error ratio at the boundary: false `pass`", "false pass");
    for (i, s) in BOUNDARY.iter().enumerate() {
        let hits = count_verdict(s, &spec, Verdict::Pass, 200 + i as u64);
        table.calibrated(s.name, hits, s.seeds, ALPHA);
    }
    table.finish();
}

#[test]
fn the_wald_interval_would_pass_sparse_routes_it_cannot_judge() {
    // For contrast (why a score interval): the normal approximation with the observed rates has
    // zero width at zero errors, so at the sparse boundary it calls `pass` — "proven within a
    // point" — whenever staging happens to see no error; the judge says inconclusive instead.
    let z = 1.644_853_6;
    let mut table = Table::rates(
        "false `pass` at the sparse boundary (0.1% vs 1.1%): the judge, and Wald for contrast",
        "false pass",
    );
    for (i, (n_p, n_s)) in [(100u64, 100u64), (2000, 100)].into_iter().enumerate() {
        let s = Scenario {
            name: "",
            p_production: 0.001,
            p_staging: 0.011,
            n_production: n_p,
            n_staging: n_s,
            seeds: 2000,
        };
        let ours = count_verdict(
            &s,
            &ErrorRatioSpec::default(),
            Verdict::Pass,
            300 + i as u64,
        );
        let wald = count_parallel(s.seeds, 300 + i as u64, |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            let (p, st) = draw(&mut rng, &s);
            let r1 = st.errors as f64 / st.requests as f64;
            let r2 = p.errors as f64 / p.requests as f64;
            let se =
                (r1 * (1.0 - r1) / st.requests as f64 + r2 * (1.0 - r2) / p.requests as f64).sqrt();
            r1 - r2 + z * se < DELTA
        });
        table.calibrated(&format!("judge, n {n_p}:{n_s}"), ours, s.seeds, ALPHA);
        let (lower, _) = cp95(wald, s.seeds);
        table.note(&format!(
            "| Wald (contrast), n {n_p}:{n_s} | {} | {wald} | {:.4} | CP95 lower {lower:.4} | exceeds |",
            s.seeds,
            wald as f64 / s.seeds as f64
        ));
        assert!(lower > 1.5 * ALPHA, "the contrast no longer shows: {wald}");
    }
    table.finish();
}

#[test]
fn relative_margin_conditional_test_is_calibrated_at_its_boundary() {
    // Staging's rate exactly twice production's, margin "at most 2×", 20:1 volumes.
    let spec = ErrorRatioSpec {
        margin: ErrorMargin::Relative(1.0),
        ..Default::default()
    };
    #[rustfmt::skip]
    let scenarios = [
        Scenario { name: "ratio boundary 2×, 20:1, 0.5% vs 1%, n 40000:2000", p_production: 0.005, p_staging: 0.01, n_production: 40_000, n_staging: 2000, seeds: SEEDS },
        Scenario { name: "ratio boundary 2×, 20:1 sparse, 0.05% vs 0.1%, n 60000:3000", p_production: 0.0005, p_staging: 0.001, n_production: 60_000, n_staging: 3000, seeds: SEEDS },
    ];
    let mut table = Table::rates(
        "error ratio, exact conditional binomial, margin 2× (relative 1.0): false `diverged`",
        "false diverged",
    );
    for (i, s) in scenarios.iter().enumerate() {
        let hits = count_verdict(s, &spec, Verdict::Diverged, 400 + i as u64);
        table.calibrated(s.name, hits, s.seeds, ALPHA);
    }
    table.finish();
}

#[test]
fn kayenta_426_sparse_errors_never_pass() {
    // Kayenta #426: staging errors 0, 1, 2, 1, 0, 0 per interval against all zeros, as counts
    // over the requests of each interval.
    let staging_errors: u64 = [0u64, 1, 2, 1, 0, 0].iter().sum();
    let mut out = String::from("\nKayenta #426 (errors 0,1,2,1,0,0 over 6 intervals against 0):\n");
    for per_interval in [10u64, 20, 50, 100] {
        let n = 6 * per_interval;
        for spec in [
            ErrorRatioSpec::default(),
            ErrorRatioSpec {
                margin: ErrorMargin::Relative(1.0),
                ..Default::default()
            },
        ] {
            let j = judge_error_ratio(
                ErrorCounts::new(0, n),
                ErrorCounts::new(staging_errors, n),
                &spec,
            )
            .unwrap()
            .judgement;
            out.push_str(&format!(
                "  {per_interval} requests/interval, {:?}: {} — {}\n",
                spec.margin,
                j.verdict.as_str(),
                j.reason
            ));
            assert_ne!(j.verdict, Verdict::Pass, "{}", j.reason);
            assert_ne!(j.verdict, Verdict::NoData, "{}", j.reason);
            if let Verdict::Inconclusive { needed } = j.verdict {
                assert!(
                    needed.is_some(),
                    "an inconclusive #426 must say what would decide it"
                );
            }
        }
    }
    print!("{out}");
}

#[test]
fn benjamini_hochberg_bounds_the_run_level_rate() {
    // Runs of 40 routes, every route at the boundary (a true difference of exactly δ): without
    // correction most runs flag something; with Benjamini–Hochberg at 0.05 the share of runs
    // with any false divergence stays at α (every hypothesis null: FDR = family-wise rate).
    const RUNS: u64 = 600;
    const ROUTES: u64 = 40;
    let s = &BOUNDARY[0];
    let spec = ErrorRatioSpec::default();
    let outcomes: Vec<(bool, bool)> = std::thread::scope(|scope| {
        let parts: Vec<_> = (0..2u64)
            .map(|part| {
                let spec = &spec;
                scope.spawn(move || {
                    (0..RUNS)
                        .filter(|r| r % 2 == part)
                        .map(|run| {
                            let mut rng = fastrand::Rng::with_seed(9_000 + run);
                            let mut js: Vec<_> = (0..ROUTES)
                                .map(|_| {
                                    let (p, st) = draw(&mut rng, s);
                                    judge_error_ratio(p, st, spec).unwrap().judgement
                                })
                                .collect();
                            let before = js.iter().any(|j| j.verdict == Verdict::Diverged);
                            let summary = benjamini_hochberg(&mut js, ALPHA).unwrap();
                            (before, summary.diverged_after > 0)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let before = outcomes.iter().filter(|o| o.0).count() as u64;
    let after = outcomes.iter().filter(|o| o.1).count() as u64;
    let mut table = Table::rates(
        &format!("run level: {ROUTES} routes per run, all at the boundary (1:1, n 2000, 2% vs 3%)"),
        "runs with a false divergence",
    );
    table.note(&format!(
        "| no correction | {RUNS} | {before} | {:.4} | — | — |",
        before as f64 / RUNS as f64
    ));
    table.calibrated("Benjamini–Hochberg at 0.05", after, RUNS, ALPHA);
    table.finish();
    assert!(
        before as f64 / RUNS as f64 > 0.5,
        "uncorrected runs should flag often: {before}"
    );
}

#[test]
fn benjamini_hochberg_keeps_power_and_false_discovery_rate_with_planted_routes() {
    // 35 routes at the boundary, 5 with a planted 2-point rise (n 10000:10000, 1% vs 3%).
    const RUNS: u64 = 300;
    #[rustfmt::skip]
    let null = Scenario { name: "", p_production: 0.02, p_staging: 0.03, n_production: 10_000, n_staging: 10_000, seeds: 0 };
    #[rustfmt::skip]
    let planted = Scenario { name: "", p_production: 0.01, p_staging: 0.03, n_production: 10_000, n_staging: 10_000, seeds: 0 };
    let spec = ErrorRatioSpec::default();
    let (mut false_share_sum, mut found, mut false_total) = (0.0, 0u64, 0u64);
    for run in 0..RUNS {
        let mut rng = fastrand::Rng::with_seed(20_000 + run);
        let mut js: Vec<_> = (0..40)
            .map(|i| {
                let s = if i < 5 { &planted } else { &null };
                let (p, st) = draw(&mut rng, s);
                judge_error_ratio(p, st, &spec).unwrap().judgement
            })
            .collect();
        benjamini_hochberg(&mut js, ALPHA).unwrap();
        let flagged: Vec<bool> = js.iter().map(|j| j.verdict == Verdict::Diverged).collect();
        let false_flags = flagged[5..].iter().filter(|&&f| f).count();
        let true_flags = flagged[..5].iter().filter(|&&f| f).count();
        found += true_flags as u64;
        false_total += false_flags as u64;
        if false_flags + true_flags > 0 {
            false_share_sum += false_flags as f64 / (false_flags + true_flags) as f64;
        }
    }
    let fdr = false_share_sum / RUNS as f64;
    let power = found as f64 / (5 * RUNS) as f64;
    println!(
        "\n35 boundary + 5 planted routes (+2 points, n 10000:10000), Benjamini–Hochberg at 0.05, \
         {RUNS} runs: false discovery rate {fdr:.4}, power {power:.4}, {false_total} false \
         divergences among {} null comparisons",
        35 * RUNS
    );
    // The observed FDR of a few hundred runs is itself noisy; the bound is the suite's 1.5 α.
    assert!(fdr <= 1.5 * ALPHA, "FDR {fdr}");
    assert!(power >= 0.95, "power {power}");
}
