#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The engine against in-process servers on loopback. No timed assertions: the checks are on
//! counts, and on latency lower bounds that a server holding its responses guarantees however
//! slow the machine is.
mod support;

use std::time::Duration;

use prodlike_load::{RunOptions, StopHandle, prepare};
use prodlike_results::compare::Verdict;
use prodlike_testkit::pausing_server;
use support::HoldServer;

fn opts(url: &str) -> RunOptions {
    RunOptions {
        target: Some(url.to_string()),
        seed: Some(1),
        // Loaded CI machines: these tests are about the numbers, not the generator's lag.
        max_send_lag: Some(Duration::from_secs(5)),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_runs_from_the_intended_send_time_while_the_server_holds_responses() {
    // 200 arrivals over 1 s, at (k + ½)/200 s. The server answers none until the 200th has
    // arrived: the generator must send every one without waiting for a response (no
    // coordinated omission), and request k waits at least from its intended time to the last
    // one's, (199 − k)/200 s.
    let server = HoldServer::start(Some(200)).await;
    let mut o = opts(&server.url);
    o.rate = Some(200.0);
    o.duration = Some(Duration::from_secs(1));
    let r = prepare(&o)
        .unwrap()
        .run(StopHandle::new(), false)
        .await
        .unwrap();
    let t = &r.totals;
    assert_eq!((t.requests, t.failed, t.dropped), (200, 0, 0), "{t:?}");
    assert!(server.released(), "the 200th request never arrived");
    assert_eq!((server.seen(), server.answered()), (200, 200));
    assert_eq!(r.timeline.iter().map(|s| s.sent).sum::<u64>(), 200);
    assert_eq!(
        r.self_check.send_lag.count, 200,
        "every arrival's lag is recorded"
    );
    // Sorted, the i-th smallest latency is at least (i − 1)/200 s: the median at least
    // 0.495 s, p90 0.895 s, p99 0.985 s, the slowest 0.995 s. The limits below leave a rank and
    // the histogram's 0.1% resolution to spare.
    let l = &t.latency;
    for (what, got, least) in [
        ("p50", l.p50_ms, 489.0),
        ("p90", l.p90_ms, 889.0),
        ("p99", l.p99_ms, 979.0),
        ("max", l.max_ms, 989.0),
    ] {
        assert!(got >= least, "{what} {got} ms < {least} ms: {l:?}");
    }
    histograms_survive_the_result_file(&r);
}

/// The result as `--out` writes it, read back with prodlike-results' reader: every latency
/// histogram decodes to the counts and percentiles published beside it.
fn histograms_survive_the_result_file(r: &prodlike_load::LoadResult) {
    let envelope = prodlike_report::CommandResult::new(
        prodlike_load::SCHEMA,
        "load",
        "2026-01-01T00:00:00Z".into(),
        prodlike_report::Outcome::Success,
        String::new(),
        r,
    );
    let bytes = serde_json::to_vec(&envelope).unwrap();
    let prodlike_results::AnyResult::Load(back) = prodlike_results::from_slice(&bytes).unwrap()
    else {
        panic!("not read as a load result")
    };
    let d = &back.data;
    let scopes = std::iter::once(&d.totals)
        .chain(d.stages.iter().map(|s| &s.counts))
        .chain(d.requests.iter().map(|n| &n.counts));
    for c in scopes {
        let text = c.latency_histogram.as_deref().expect("a histogram");
        let h = prodlike_stats::LatencyHistogram::from_base64(text).unwrap();
        assert_eq!(h.count(), c.requests);
        let s = h.summary();
        assert_eq!(
            (s.p50_ms, s.p99_ms, s.max_ms),
            (c.latency.p50_ms, c.latency.p99_ms, c.latency.max_ms)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_amplify_and_thresholds_breach() {
    let server = pausing_server::start(u64::MAX, Duration::ZERO)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("s.toml");
    std::fs::write(
        &sc,
        r#"
thresholds = ["error_rate<0.01", "amplification<=3"]
[load]
rate = 50
duration = "1s"
[client]
retry = { max_attempts = 3, on = ["5xx"], backoff = "fixed", delay = "1ms" }
[[request]]
name = "fail"
path = "/fail"
"#,
    )
    .unwrap();
    let mut o = opts(&server.url());
    o.scenario = Some(sc);
    let r = prepare(&o)
        .unwrap()
        .run(StopHandle::new(), false)
        .await
        .unwrap();
    assert_eq!(r.totals.requests, 50);
    assert_eq!(r.totals.failed, 50);
    assert_eq!(r.totals.retries, 100);
    assert!((r.totals.amplification - 3.0).abs() < 1e-9);
    assert_eq!(r.errors["http_5xx"], 50);
    assert_eq!(r.statuses["503"], 50);
    assert_eq!(r.timeline.iter().map(|s| s.retries).sum::<u64>(), 100);
    assert_eq!(r.breached(), 1, "{:?}", r.thresholds);
    assert!(!r.thresholds[0].passed && r.thresholds[1].passed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrivals_beyond_the_in_flight_cap_are_dropped_not_delayed() {
    // The server never answers: the first 5 arrivals stay in flight, and each of the other 45
    // finds the cap reached and is dropped, counted against its stage and its request. No
    // graceful stop: the 5 are reported as interrupted.
    let server = HoldServer::start(None).await;
    let mut o = opts(&server.url);
    o.rate = Some(100.0);
    o.duration = Some(Duration::from_millis(500));
    o.max_in_flight = Some(5);
    o.graceful_stop = Some(Duration::ZERO);
    o.thresholds = vec!["request=GET /:drop_rate>=0.9".into()];
    let r = prepare(&o)
        .unwrap()
        .run(StopHandle::new(), false)
        .await
        .unwrap();
    assert_eq!(server.seen(), 5);
    assert_eq!((r.totals.requests, r.interrupted), (0, 5), "{:?}", r.totals);
    assert_eq!(r.totals.dropped, 45);
    assert_eq!(r.stages[0].counts.dropped, 45);
    assert_eq!(r.timeline.iter().map(|s| s.dropped).sum::<u64>(), 45);
    let drops = &r.thresholds[0];
    assert_eq!(
        (drops.observed, drops.passed),
        (Some(1.0), true),
        "{drops:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_mode_finds_the_slower_target() {
    let fast = HoldServer::start(Some(1)).await;
    // The slow one holds every response until the last of the 100 requests has arrived:
    // request k waits at least (99 − k)/200 s there, and none at the fast one.
    let slow = HoldServer::start(Some(100)).await;
    let mut o = opts(&fast.url);
    o.compare = Some(slow.url.clone());
    o.rate = Some(200.0);
    o.duration = Some(Duration::from_millis(500));
    let r = prepare(&o)
        .unwrap()
        .run(StopHandle::new(), false)
        .await
        .unwrap();
    let c = r.compare.expect("compare result");
    assert_eq!(c.routes.len(), 1);
    let route = &c.routes[0];
    assert_eq!((route.n_a, route.n_b), (100, 100));
    // The judge of prodlike-stats: B's typical latency is proven more than 10% above A's.
    let shift = route
        .comparisons
        .iter()
        .find(|c| c.metric == "latency_shift")
        .expect("latency judged");
    assert_eq!(shift.judgement.verdict, Verdict::Diverged, "{shift:?}");
    assert_eq!(route.verdict, Verdict::Diverged);
    assert!(route.divergent, "{route:?}");
    assert_eq!(c.divergent_routes, 1);
}

#[tokio::test]
async fn an_unreachable_target_is_a_clear_error() {
    // Bind then drop a listener: the port is free and nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = opts(&format!("http://127.0.0.1:{port}"));
    o.rate = Some(10.0);
    o.duration = Some(Duration::from_secs(1));
    let err = prepare(&o)
        .unwrap()
        .run(StopHandle::new(), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&port.to_string()) && err.contains("cannot connect"),
        "{err}"
    );
}
