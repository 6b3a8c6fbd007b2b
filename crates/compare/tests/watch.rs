#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `--watch`'s loop, driven look by look with fake counts (no network, no timing): A/A traffic
//! never flags over 50 looks, a planted rise in staging's errors flags the route diverged, and
//! with `until_diverged` the loop stops there.
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use prodlike_compare::CompareError;
use prodlike_compare::watch::{CountSource, RouteCounts, Stopped, Watcher, run};
use prodlike_stats::{ErrorCounts, Verdict, WatchSpec};

/// A seeded generator (SplitMix64), so the streams are the same on every run.
struct Rng(u64);

impl Rng {
    fn f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Binomial errors out of `n` at `rate`.
fn errors(rng: &mut Rng, n: u64, rate: f64) -> u64 {
    (0..n).filter(|_| rng.f64() < rate).count() as u64
}

/// Cumulative counts of two routes: `/a` A/A at 2%, `/b` at 2% until `rise_at`, then 10% on
/// staging.
fn stream(looks: usize, rise_at: Option<usize>, seed: u64) -> Vec<BTreeMap<String, RouteCounts>> {
    let mut rng = Rng(seed);
    let mut totals: BTreeMap<String, RouteCounts> = BTreeMap::new();
    let mut out = Vec::new();
    for look in 0..looks {
        for route in ["/a", "/b"] {
            let t = totals.entry(route.to_string()).or_default();
            let staging_rate = match rise_at {
                Some(r) if route == "/b" && look >= r => 0.10,
                _ => 0.02,
            };
            t.production.requests += 1000;
            t.production.errors += errors(&mut rng, 1000, 0.02);
            t.staging.requests += 500;
            t.staging.errors += errors(&mut rng, 500, staging_rate);
        }
        out.push(totals.clone());
    }
    out
}

fn spec() -> WatchSpec {
    WatchSpec {
        margin: 0.01,
        ..Default::default()
    }
}

#[test]
fn a_a_traffic_never_flags_over_fifty_looks() {
    for seed in 0..10 {
        let mut w = Watcher::new(spec()).unwrap();
        for counts in stream(50, None, seed) {
            for s in w.look(&counts).unwrap() {
                assert_ne!(s.state.verdict, Verdict::Diverged, "seed {seed}: {s:?}");
            }
        }
        assert_eq!(w.diverged(), None);
    }
}

#[test]
fn a_planted_rise_flags_the_route_and_only_it() {
    let mut w = Watcher::new(spec()).unwrap();
    let mut flagged_at = None;
    for (i, counts) in stream(50, Some(10), 7).into_iter().enumerate() {
        let snaps = w.look(&counts).unwrap();
        let a = snaps.iter().find(|s| s.route == "/a").unwrap();
        assert_ne!(a.state.verdict, Verdict::Diverged);
        let b = snaps.iter().find(|s| s.route == "/b").unwrap();
        if b.state.verdict == Verdict::Diverged && flagged_at.is_none() {
            assert!(b.changed, "the first diverged look is a change");
            flagged_at = Some(i);
        }
    }
    let at = flagged_at.expect("the rise on /b is flagged");
    assert!(at >= 10, "flagged at look {at}, before the rise");
    assert_eq!(w.diverged(), Some("/b"));
}

#[test]
fn counts_that_dip_are_held_at_their_maximum() {
    let mut w = Watcher::new(spec()).unwrap();
    let c = |e, r| ErrorCounts::new(e, r);
    let mut m = BTreeMap::new();
    m.insert(
        "/a".to_string(),
        RouteCounts {
            production: c(10, 1000),
            staging: c(5, 500),
        },
    );
    w.look(&m).unwrap();
    m.insert(
        "/a".to_string(),
        RouteCounts {
            production: c(9, 999),
            staging: c(5, 500),
        },
    );
    let s = w.look(&m).unwrap();
    assert_eq!(s[0].counts.production, c(10, 1000));
}

/// Hands out the planned looks, then the last one again.
struct Fake(VecDeque<BTreeMap<String, RouteCounts>>, usize);

impl CountSource for Fake {
    async fn counts(&mut self) -> Result<BTreeMap<String, RouteCounts>, CompareError> {
        self.1 += 1;
        let next = if self.0.len() > 1 {
            self.0.pop_front()
        } else {
            self.0.front().cloned()
        };
        Ok(next.unwrap_or_default())
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn until_diverged_stops_the_loop_at_the_flagged_route() {
    let mut w = Watcher::new(spec()).unwrap();
    let mut source = Fake(stream(50, Some(10), 7).into(), 0);
    let mut reported = 0;
    let stopped = block_on(run(
        &mut w,
        &mut source,
        Duration::ZERO,
        true,
        std::future::pending(),
        |_| reported += 1,
    ))
    .unwrap();
    assert_eq!(stopped, Stopped::Diverged("/b".into()));
    assert!(source.1 < 50, "stopped early, after {} looks", source.1);
    assert_eq!(reported, source.1);
}

#[test]
fn the_stop_signal_ends_the_loop() {
    let mut w = Watcher::new(spec()).unwrap();
    let mut source = Fake(stream(5, None, 1).into(), 0);
    let stopped = block_on(run(
        &mut w,
        &mut source,
        Duration::from_secs(3600),
        true,
        std::future::ready(()),
        |_| {},
    ))
    .unwrap();
    assert_eq!(stopped, Stopped::Signal);
    assert_eq!(source.1, 0);
}
