//! The engine against in-process servers on loopback. No timed assertions: the checks are on the
//! reported distribution and counts, with lower bounds that a slower machine only makes easier.
use std::time::Duration;

use prodlike_load::{RunOptions, StopHandle, prepare};
use prodlike_testkit::pausing_server;

fn opts(url: &str) -> RunOptions {
    RunOptions {
        target: Some(url.to_string()),
        seed: Some(1),
        compare_alpha: 0.01,
        compare_min_effect: 0.1,
        // Loaded CI machines: these tests are about the numbers, not the generator's lag.
        max_send_lag: Some(Duration::from_secs(5)),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_second_pause_shows_in_p99_as_wrk2_reports_it() {
    // 200/s for 4 s; the 200th request (about 1 s in) stalls every response for 1 s.
    let server = pausing_server::start(200, Duration::from_secs(1))
        .await
        .unwrap();
    let mut o = opts(&server.url());
    o.rate = Some(200.0);
    o.duration = Some(Duration::from_secs(4));
    let r = prepare(&o)
        .unwrap()
        .run(StopHandle::new(), false)
        .await
        .unwrap();
    let t = &r.totals;
    assert_eq!(t.requests, 800, "{t:?}");
    assert_eq!(t.failed, 0);
    // Measured from intended send times, the ~200 requests scheduled during the pause waited
    // from 1 s down to 0: a quarter of the run. p99 sits near the full pause, and p90 well
    // inside it. A tool with coordinated omission reports one slow request per connection
    // (p99 of a few ms).
    assert!(
        t.latency.p99_ms >= 900.0,
        "p99 {} ms: the pause is hidden",
        t.latency.p99_ms
    );
    assert!(
        t.latency.p90_ms >= 300.0,
        "p90 {} ms: the pause is hidden",
        t.latency.p90_ms
    );
    assert!(t.latency.max_ms >= 990.0, "max {}", t.latency.max_ms);
    // The median stays fast: the pause is a quarter of the run, not all of it.
    assert!(t.latency.p50_ms < 900.0, "p50 {}", t.latency.p50_ms);
    // The generator did not slow down: it kept sending during the pause.
    let during: u64 = r.timeline.iter().skip(1).take(1).map(|s| s.sent).sum();
    assert!(during >= 150, "sent {during} in the paused second");
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
thresholds = ["error_rate<0.01", "p99<10s"]
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
    // Every response waits for the 1-s pause that starts with the first request; with at most
    // 5 in flight, the rest of the arrivals in that second are dropped and counted.
    let server = pausing_server::start(1, Duration::from_secs(1))
        .await
        .unwrap();
    let mut o = opts(&server.url());
    o.rate = Some(100.0);
    o.duration = Some(Duration::from_millis(500));
    o.max_in_flight = Some(5);
    let r = prepare(&o)
        .unwrap()
        .run(StopHandle::new(), false)
        .await
        .unwrap();
    assert_eq!(r.totals.requests + r.totals.dropped, 50);
    assert!(r.totals.dropped >= 40, "{:?}", r.totals);
    assert_eq!(r.stages[0].counts.dropped, r.totals.dropped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_mode_finds_the_slower_target() {
    let fast = pausing_server::start(u64::MAX, Duration::ZERO)
        .await
        .unwrap();
    // The slow one stalls for 1 s from its first request: everything in that window is slow.
    let slow = pausing_server::start(1, Duration::from_secs(1))
        .await
        .unwrap();
    let mut o = opts(&fast.url());
    o.compare = Some(slow.url());
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
    let m = route.latency_test.expect("latency test");
    assert!(m.p_value < 0.01 && m.prob_a_greater > 0.6, "{m:?}");
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
