//! Thresholds scoped to one request: its own rate and latencies, and a misspelled name refused
//! before anything is sent, as a misspelled stage is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;

use std::path::Path;
use std::time::Duration;

use prodlike_load::{LoadError, LoadResult, RunOptions, StopHandle, prepare};
use support::{HoldServer, SLOW};

fn scenario(dir: &Path, text: &str) -> RunOptions {
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    RunOptions {
        scenario: Some(path),
        seed: Some(7),
        max_send_lag: Some(Duration::from_secs(5)),
        ..Default::default()
    }
}

/// Runs a scenario (without a target) against a server that answers at once, `/slow` after
/// [`SLOW`].
async fn run(text: &str) -> LoadResult {
    let server = HoldServer::start(Some(1)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut o = scenario(dir.path(), text);
    o.target = Some(server.url.clone());
    prepare(&o)
        .unwrap()
        .run(StopHandle::new(), false)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_rps_threshold_uses_that_requests_own_rate() {
    let r = run(r#"
thresholds = ["request=browse:rps>10", "request=buy:rps>1000"]
[load]
rate = 40
duration = "1s"
[[request]]
name = "browse"
path = "/items"
weight = 3
[[request]]
name = "buy"
path = "/buy"
weight = 1
"#)
    .await;
    let rate_of = |name: &str| {
        let n = r.requests.iter().find(|n| n.name == name).unwrap();
        // One second: each request's rate is its count.
        assert_eq!(n.achieved_rps, n.counts.requests as f64 / r.duration_s);
        n.achieved_rps
    };
    let (browse, buy) = (rate_of("browse"), rate_of("buy"));
    assert_eq!(browse + buy, 40.0);
    assert!(browse > 10.0 && buy > 0.0, "{browse} {buy}");
    let (t0, t1) = (&r.thresholds[0], &r.thresholds[1]);
    assert_eq!((t0.observed, t0.passed), (Some(browse), true), "{t0:?}");
    assert_eq!((t1.observed, t1.passed), (Some(buy), false), "{t1:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_quantile_threshold_uses_that_requests_latencies() {
    // `slow` is answered after 200 ms at the earliest, so each of its latencies is at least
    // that; `p(75)` is not one of the summary's quantiles and comes from slow's histogram.
    let r = run(r#"
thresholds = ["request=slow:p(75)>=200ms", "request=slow:p(75)<200ms"]
[load]
rate = 20
duration = "1s"
[[request]]
name = "fast"
path = "/"
[[request]]
name = "slow"
path = "/slow"
"#)
    .await;
    assert_eq!(r.totals.requests, 20);
    let slow = r.requests.iter().find(|n| n.name == "slow").unwrap();
    assert!(slow.counts.requests > 0);
    let least = SLOW.as_secs_f64() * 1000.0;
    let (at_least, below) = (&r.thresholds[0], &r.thresholds[1]);
    let observed = at_least.observed.expect("slow's p(75) was measured");
    assert!(observed >= least, "{at_least:?}");
    assert!(at_least.passed, "{at_least:?}");
    assert_eq!(below.observed, Some(observed));
    assert!(!below.passed, "{below:?}");
}

#[test]
fn an_unknown_request_or_stage_name_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let text = |threshold: &str| {
        format!(
            r#"
target = "http://127.0.0.1:9"
thresholds = ["{threshold}"]
[load]
stages = [{{ duration = "1s", target = 10 }}, {{ name = "spike", duration = "1s", target = 50 }}]
[[request]]
name = "checkout"
path = "/checkout"
[[request]]
name = "browse"
path = "/"
"#
        )
    };
    for (threshold, name, known) in [
        ("request=chekout:p99<1s", "chekout", "checkout, browse"),
        ("spkie:p99<1s", "spkie", "stage1, spike"),
    ] {
        let err = refused(&scenario(dir.path(), &text(threshold)));
        assert!(matches!(err, LoadError::UnknownScope { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("`{name}`")) && msg.contains(known),
            "{msg}"
        );
    }
    // Names that exist are accepted, and a run without requests has the default `GET /`.
    for ok in ["request=checkout:p99<1s", "spike:p99<1s"] {
        assert!(prepare(&scenario(dir.path(), &text(ok))).is_ok(), "{ok}");
    }
    let mut o = RunOptions {
        target: Some("http://127.0.0.1:9".into()),
        rate: Some(1.0),
        duration: Some(Duration::from_secs(1)),
        thresholds: vec!["request=GET /:p99<1s".into()],
        ..Default::default()
    };
    assert!(prepare(&o).is_ok());
    o.thresholds = vec!["request=GET /x:p99<1s".into()];
    let msg = refused(&o).to_string();
    assert!(
        msg.contains("`GET /x`") && msg.contains("requests: GET /"),
        "{msg}"
    );
}

fn refused(o: &RunOptions) -> LoadError {
    match prepare(o) {
        Err(e) => e,
        Ok(_) => panic!("{:?} was accepted", o.thresholds),
    }
}
