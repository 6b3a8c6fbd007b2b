#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The rules `prodlike alerts` writes, loaded into a real Prometheus (Debian's `prometheus`
//! package) that scrapes, every second, a metrics endpoint the test serves, and evaluates the
//! rules every second. Time is compressed with `--for 5s --range 4s`. On route `/a` staging
//! answers 20% of its requests with 500 against production's 2%: a rise above the margin
//! (0.01), so `StagingProductionDivergence` must go pending, then fire once `for:` has passed,
//! within one evaluation of it, by Prometheus' own timestamps. On `/b` staging answers 2.5%: a
//! rise below the margin, so the alert must never even go pending there. The same timings'
//! generated rule tests must pass `promtool test rules` too. Under CI=true a missing binary
//! fails.
use std::process::Command;
use std::time::{Duration, Instant};

use prodlike_common::percent;
use prodlike_testkit::process::output_text;
use prodlike_testkit::prometheus::{MetricsServer, Prometheus};
use prodlike_testkit::require;

const FOR_SECS: f64 = 5.0;
const EVALUATION_SECS: f64 = 1.0;

/// The raw samples of `ALERTS` for the divergence alert over the last ten minutes: per
/// (route, state), the sample timestamps in seconds.
fn alert_samples(prometheus: &Prometheus) -> Vec<(String, String, Vec<f64>)> {
    let query = percent::encode("ALERTS{alertname=\"StagingProductionDivergence\"}[10m]");
    let Some(answer) = prometheus.api(&format!("query?query={query}")) else {
        return Vec::new();
    };
    assert_eq!(answer["status"], "success", "{answer}");
    let mut out = Vec::new();
    for series in answer["data"]["result"].as_array().unwrap() {
        let route = series["metric"]["handler"].as_str().unwrap().to_string();
        let state = series["metric"]["alertstate"].as_str().unwrap().to_string();
        let times = series["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v[0].as_f64().unwrap())
            .collect();
        out.push((route, state, times));
    }
    out
}

fn first(samples: &[(String, String, Vec<f64>)], route: &str, state: &str) -> Option<f64> {
    samples
        .iter()
        .filter(|(r, s, _)| r == route && s == state)
        .flat_map(|(_, _, t)| t.iter().copied())
        .reduce(f64::min)
}

#[test]
fn divergence_fires_above_the_margin_within_for_plus_one_evaluation_and_never_below() {
    let Some(server) = require::program("prometheus", "prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("compare.toml");
    std::fs::write(
        &spec,
        "[metrics]\nrequests = \"http_requests_total\"\nroute_label = \"handler\"\n\
         status_label = \"code\"\nerrors = \"5..\"\n",
    )
    .unwrap();
    let rules = dir.path().join("rules.yml");
    let tests = dir.path().join("rules.test.yml");
    let out = Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args([
            "alerts",
            "--production",
            "environment=\"production\"",
            "--staging",
            "environment=\"staging\"",
            "--for",
            "5s",
            "--range",
            "4s",
            "--spec",
        ])
        .arg(&spec)
        .arg("--out")
        .arg(&rules)
        .arg("--tests")
        .arg(&tests)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let written = std::fs::read_to_string(&rules).unwrap();
    assert!(written.contains("\"for\": \"5s\""), "{written}");
    assert!(written.contains("[4s]"), "{written}");
    // The generated rule tests, on the compressed clock, pass promtool (same package).
    if let Some(promtool) = require::promtool() {
        let checked = Command::new(promtool)
            .args(["test", "rules"])
            .arg(&tests)
            .output()
            .unwrap();
        assert!(checked.status.success(), "{}", output_text(&checked));
    }

    let metrics = MetricsServer::start(&[("/a", 200), ("/b", 25)]).unwrap();
    let prometheus = Prometheus::start(&server, metrics.port, &[&rules]).unwrap();
    // Generous, only to end a hang: the assertions below are on Prometheus' own timestamps.
    let deadline = Instant::now() + Duration::from_secs(180);
    metrics.wait_scrapes(2, deadline, || prometheus.log());
    let samples = loop {
        let samples = alert_samples(&prometheus);
        // A few evaluations past the first firing one, so that /b had every chance to go
        // pending in the same window.
        if let Some(fired) = first(&samples, "/a", "firing")
            && samples
                .iter()
                .flat_map(|(_, _, t)| t.iter())
                .any(|t| *t >= fired + 5.0 * EVALUATION_SECS)
        {
            break samples;
        }
        assert!(
            Instant::now() < deadline,
            "StagingProductionDivergence never fired on /a; ALERTS: {samples:?}\n{}",
            prometheus.log()
        );
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(Duration::from_millis(500));
    };
    let pending = first(&samples, "/a", "pending").expect("/a fired without going pending");
    let fired = first(&samples, "/a", "firing").unwrap();
    let waited = fired - pending;
    eprintln!("/a pending at {pending}, firing at {fired}: {waited}s after (for: {FOR_SECS}s)");
    assert!(
        (FOR_SECS - 1e-9..=FOR_SECS + EVALUATION_SECS + 1e-9).contains(&waited),
        "pending at {pending}, firing at {fired}: {waited}s, not within for: {FOR_SECS}s plus \
         one {EVALUATION_SECS}s evaluation"
    );
    assert!(
        samples.iter().all(|(route, _, _)| route == "/a"),
        "a rise below the margin (/b) went pending or fired: {samples:?}"
    );
}

/// A spec naming a request metric Prometheus has no series of: `alerts --url` and `compare
/// prometheus --watch` each exit 2 naming it, and `alerts` writes nothing.
#[test]
fn a_metric_that_does_not_exist_exits_2() {
    let Some(server) = require::program("prometheus", "prometheus") else {
        return;
    };
    let metrics = MetricsServer::start(&[("/a", 20)]).unwrap();
    let prometheus = Prometheus::start(&server, metrics.port, &[]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    metrics.wait_scrapes(3, deadline, || prometheus.log());
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("compare.toml");
    let good = dir.path().join("good.toml");
    std::fs::write(
        &spec,
        "[metrics]\nrequests = \"no_such_requests_total\"\nroute_label = \"handler\"\n\
         status_label = \"code\"\n",
    )
    .unwrap();
    std::fs::write(
        &good,
        "[metrics]\nrequests = \"http_requests_total\"\nroute_label = \"handler\"\n\
         status_label = \"code\"\n",
    )
    .unwrap();
    let rules = dir.path().join("rules.yml");
    let sides = [
        "--production",
        "environment=\"production\"",
        "--staging",
        "environment=\"staging\"",
    ];
    let alerts = |spec: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_prodlike"))
            .arg("alerts")
            .args(sides)
            .args(["--url", &prometheus.url, "--spec"])
            .arg(spec)
            .arg("--out")
            .arg(&rules)
            .output()
            .unwrap()
    };
    let out = alerts(&spec);
    let said = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("no_such_requests_total"), "{said}");
    assert!(!rules.exists(), "alerts wrote the rules despite the error");
    // The same spec with the metric production exports passes the check and writes.
    let out = alerts(&good);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(rules.exists());

    let out = Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(["compare", "prometheus", "--url", &prometheus.url])
        .args(sides)
        .args(["--window", "10m", "--watch", "1s", "--spec"])
        .arg(&spec)
        .output()
        .unwrap();
    let said = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("no_such_requests_total"), "{said}");
}
