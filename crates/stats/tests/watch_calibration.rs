#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `--watch` calibration: many simulated streams, each looked at after every interval for a
//! long run. The share of streams that *ever* flag a divergence must stay within the bound
//! (Clopper–Pearson 95% upper limit ≤ 1.5 α) for the anytime-valid confidence sequence, while a
//! fixed-sample test re-run at every look on the same streams exceeds it.
//!
//! `cargo test -p prodlike-stats --test watch_calibration -- --nocapture` prints the table.

mod support;

use prodlike_stats::{ErrorCounts, ErrorRatioWatch, Verdict, WatchSpec};
use support::{Table, binomial};

const ALPHA: f64 = 0.05;
const STREAMS: u64 = 1000;
const LOOKS: u64 = 200;

struct Stream {
    p_production: f64,
    p_staging: f64,
    /// Requests per interval on each side.
    per_production: u64,
    per_staging: u64,
    margin: f64,
}

/// Whether the watch, and the naive repeated test, ever flag on this stream.
fn run(s: &Stream, seed: u64) -> (bool, bool) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut watch = ErrorRatioWatch::new(WatchSpec {
        margin: s.margin,
        ..Default::default()
    })
    .unwrap();
    let (mut p, mut st) = (ErrorCounts::default(), ErrorCounts::default());
    let (mut watch_flag, mut naive_flag) = (false, false);
    for _ in 0..LOOKS {
        p.requests += s.per_production;
        st.requests += s.per_staging;
        p.errors += binomial(&mut rng, s.per_production, s.p_production);
        st.errors += binomial(&mut rng, s.per_staging, s.p_staging);
        if watch.observe(p, st).unwrap().verdict == Verdict::Diverged {
            watch_flag = true;
        }
        // The naive recipe: a one-sided fixed-sample z-test against the margin at every look.
        let (r1, r2) = (
            st.errors as f64 / st.requests as f64,
            p.errors as f64 / p.requests as f64,
        );
        let se =
            (r1 * (1.0 - r1) / st.requests as f64 + r2 * (1.0 - r2) / p.requests as f64).sqrt();
        if se > 0.0 && (r1 - r2 - s.margin) / se > 1.644_853_6 {
            naive_flag = true;
        }
    }
    (watch_flag, naive_flag)
}

#[test]
fn looking_every_interval_does_not_inflate_false_divergences() {
    let scenarios = [
        (
            "boundary: 2% vs 3%, δ 0.01, 2000:100 requests per look (20:1)",
            Stream {
                p_production: 0.02,
                p_staging: 0.03,
                per_production: 2000,
                per_staging: 100,
                margin: 0.01,
            },
        ),
        (
            "A/A: 2% vs 2%, δ 0 (equality), 2000:100 requests per look (20:1)",
            Stream {
                p_production: 0.02,
                p_staging: 0.02,
                per_production: 2000,
                per_staging: 100,
                margin: 0.0,
            },
        ),
        (
            "boundary, sparse: 0.1% vs 1.1%, δ 0.01, 500:50 requests per look",
            Stream {
                p_production: 0.001,
                p_staging: 0.011,
                per_production: 500,
                per_staging: 50,
                margin: 0.01,
            },
        ),
    ];
    let mut table = Table::rates(
        &format!("--watch: streams that ever flag `diverged` over {LOOKS} looks, α = {ALPHA}"),
        "ever flagged",
    );
    for (i, (name, s)) in scenarios.iter().enumerate() {
        let results: Vec<(bool, bool)> = std::thread::scope(|scope| {
            let parts: Vec<_> = (0..2u64)
                .map(|part| {
                    scope.spawn(move || {
                        (0..STREAMS)
                            .filter(|k| k % 2 == part)
                            .map(|k| run(s, 70_000 + 10_000 * i as u64 + k))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let watch = results.iter().filter(|r| r.0).count() as u64;
        let naive = results.iter().filter(|r| r.1).count() as u64;
        table.calibrated(
            &format!("confidence sequence, {name}"),
            watch,
            STREAMS,
            ALPHA,
        );
        let (lower, _) = support::cp95(naive, STREAMS);
        table.note(&format!(
            "| naive z-test at every look, {name} | {STREAMS} | {naive} | {:.4} | CP95 lower {lower:.4} | exceeds |",
            naive as f64 / STREAMS as f64
        ));
        assert!(
            lower > 1.5 * ALPHA,
            "{name}: the naive repeated test should exceed the bound ({naive}/{STREAMS})"
        );
    }
    table.finish();
}

#[test]
fn the_watch_still_finds_a_real_rise() {
    // A 2-point rise (1% → 3%), 2000:100 requests per look: found, and when.
    let s = Stream {
        p_production: 0.01,
        p_staging: 0.03,
        per_production: 2000,
        per_staging: 100,
        margin: 0.01,
    };
    let mut found = 0;
    let mut looks_needed = Vec::new();
    for k in 0..200u64 {
        let mut rng = fastrand::Rng::with_seed(90_000 + k);
        let mut watch = ErrorRatioWatch::new(WatchSpec::default()).unwrap();
        let (mut p, mut st) = (ErrorCounts::default(), ErrorCounts::default());
        for _ in 0..LOOKS {
            p.requests += s.per_production;
            st.requests += s.per_staging;
            p.errors += binomial(&mut rng, s.per_production, s.p_production);
            st.errors += binomial(&mut rng, s.per_staging, s.p_staging);
            watch.observe(p, st).unwrap();
        }
        if let Some(at) = watch
            .state()
            .decided_at
            .filter(|_| watch.state().verdict == Verdict::Diverged)
        {
            found += 1;
            looks_needed.push(at);
        }
    }
    looks_needed.sort_unstable();
    let median = looks_needed
        .get(looks_needed.len() / 2)
        .copied()
        .unwrap_or(0);
    println!(
        "\n--watch power: a 2-point rise (1% → 3%, 2000:100 per look) found in {found}/200 streams within {LOOKS} looks, median look {median}"
    );
    assert!(found >= 190, "{found}");
}
