#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike compare prometheus --watch 1s --until diverged` against a real Prometheus (Debian's
//! `prometheus` package) scraping, every second, a metrics endpoint the test serves: on route
//! `/a` production answers 2% of its requests with 500 and staging 20%. The watch must stop by
//! itself on `/a` diverged, print that change, and the full comparison of the watched window
//! must come out diverged too (exit 1, written to --out). On A/A data SIGTERM stops the watch and,
//! with --format json, stdout is one JSON document. Under CI=true a missing binary fails.
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use prodlike_testkit::prometheus::{MetricsServer, Prometheus};
use prodlike_testkit::require;

struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigterm_stops_the_watch_and_json_stays_one_document() {
    let Some(server) = require::program("prometheus", "prometheus") else {
        return;
    };
    let metrics = MetricsServer::start(&[("/a", 20)]).unwrap();
    let prometheus = Prometheus::start(&server, metrics.port, &[]).unwrap();
    let (url, log) = (prometheus.url.clone(), || prometheus.log());
    let deadline = Instant::now() + Duration::from_secs(120);
    metrics.wait_scrapes(3, deadline, log);
    let mut child = Kill(
        Command::new(env!("CARGO_BIN_EXE_prodlike"))
            .args([
                "compare",
                "prometheus",
                "--url",
                &url,
                "--production",
                "environment=\"production\"",
                "--staging",
                "environment=\"staging\"",
                "--window",
                "10m",
                "--watch",
                "1s",
                "--format",
                "json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("watching every") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the watch never started");
    // A few looks, then SIGTERM.
    metrics.wait_scrapes(metrics.scrapes() + 3, deadline, log);
    let pid = child.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.0.wait().unwrap();
    let mut stdout = String::new();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let stderr = reader.join().unwrap();
    assert!(stderr.contains("stopped; comparing"), "{stderr}");
    assert!(
        stderr.contains("look 1: /a"),
        "the looks go to stderr: {stderr}"
    );
    // A/A: nothing diverged; passed or undecided.
    assert!(
        matches!(status.code(), Some(0 | 3)),
        "{status:?}\n{stdout}\n{stderr}"
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {stdout}"));
    assert_eq!(doc["data"]["counts"]["diverged"], 0, "{doc}");
}
#[test]
fn watch_stops_on_a_planted_divergence_and_compares_the_window() {
    let Some(server) = require::program("prometheus", "prometheus") else {
        return;
    };
    let metrics = MetricsServer::start(&[("/a", 200)]).unwrap();
    let prometheus = Prometheus::start(&server, metrics.port, &[]).unwrap();
    let (url, log) = (prometheus.url.clone(), || prometheus.log());
    // A generous deadline, only to end a hang (not an assertion on timing): the watch needs the
    // series to exist before it starts.
    let deadline = Instant::now() + Duration::from_secs(120);
    metrics.wait_scrapes(3, deadline, log);
    let out = prometheus.dir().join("compare.json");
    let mut child = Kill(
        Command::new(env!("CARGO_BIN_EXE_prodlike"))
            .args([
                "compare",
                "prometheus",
                "--url",
                &url,
                "--production",
                "environment=\"production\"",
                "--staging",
                "environment=\"staging\"",
                "--window",
                "10m",
                "--watch",
                "1s",
                "--until",
                "diverged",
                "--out",
            ])
            .arg(&out)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the watch never stopped");
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("/a diverged"), "{stdout}\n{stderr}");
    assert!(stderr.contains("/a diverged; comparing"), "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let route = doc["data"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == "/a")
        .unwrap_or_else(|| panic!("no /a in {doc}"));
    let ratio = route["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "error_ratio")
        .unwrap_or_else(|| panic!("no error_ratio on /a: {route}"));
    assert_eq!(ratio["judgement"]["verdict"], "diverged", "{ratio}");
}
