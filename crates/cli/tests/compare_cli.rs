#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike compare prometheus` against a real Prometheus (Debian's `prometheus` package):
//! known data for a production and a staging environment is written as OpenMetrics, turned into
//! TSDB blocks by `promtool tsdb create-blocks-from openmetrics`, and served by a Prometheus
//! started by the test on a free loopback port. The verdicts must come out as planted (a slow
//! route and an error-ratio rise diverged, an equal route passed) and a bucket-boundary mismatch
//! must be a parity finding. Bad input (unreachable URL, a selector matching nothing, a spec
//! with a typo) exits 2 with a message naming it. Under CI=true a missing binary fails.
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prodlike_testkit::require;
use serde_json::Value;

fn prodlike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

const SCRAPE: u64 = 30;
const POINTS: u64 = 200;
const HISTOGRAM: &str = "http_server_request_duration_seconds";

/// Standard buckets: 8% apart from 10 ms, so a 10% margin can be resolved.
fn bounds() -> Vec<f64> {
    (0..30)
        .map(|i| (0.01 * 1.08f64.powi(i) * 1e6).round() / 1e6)
        .collect()
}

/// Requests per scrape in five adjacent buckets from `k`: 30%, 40%, 25%, 3%, 2% — quantiles
/// in the middle of buckets, not on their edges.
fn weights(k: usize, scale: u64) -> Vec<(usize, u64)> {
    [30, 40, 25, 3, 2]
        .iter()
        .enumerate()
        .map(|(o, w)| (k + o, w * scale))
        .collect()
}

/// One series family of one environment, route and status.
struct Planted {
    route: &'static str,
    status: u16,
    /// (bucket index, requests per scrape).
    per_scrape: Vec<(usize, u64)>,
    /// Use every other standard bound (a different histogram layout).
    coarse: bool,
}

fn planted(env: &str) -> Vec<Planted> {
    let staging = env == "staging";
    let p = |route, status, per_scrape, coarse| Planted {
        route,
        status,
        per_scrape,
        coarse,
    };
    vec![
        // Equal in both environments.
        p("/users", 200, weights(10, 1), false),
        // The same latency, errors 0.5% in production and about 4.3% in staging.
        p("/checkout", 200, weights(20, 2), false),
        p(
            "/checkout",
            500,
            vec![(21, if staging { 9 } else { 1 })],
            false,
        ),
        // Six buckets (+59%) slower in staging.
        p(
            "/search",
            200,
            weights(if staging { 21 } else { 15 }, 1),
            false,
        ),
        // Equal traffic, but staging's histogram has other buckets.
        p("/legacy", 200, weights(12, 1), staging),
    ]
}

/// The OpenMetrics text of both environments from `t0`, one sample every `SCRAPE` seconds.
fn openmetrics(t0: u64) -> String {
    let std_bounds = bounds();
    let mut out = format!("# TYPE {HISTOGRAM} histogram\n");
    for env in ["production", "staging"] {
        let instance = if env == "production" {
            "prod-1:9000"
        } else {
            "stg-1:9000"
        };
        for s in planted(env) {
            let layout: Vec<usize> = (0..std_bounds.len())
                .filter(|i| !s.coarse || i % 2 == 0)
                .collect();
            // Cumulative requests per scrape at each bound of the layout, then +Inf.
            let mut cumulative: Vec<(String, u64)> = layout
                .iter()
                .map(|&b| {
                    let below = s.per_scrape.iter().filter(|(i, _)| *i <= b).map(|(_, n)| n);
                    (std_bounds[b].to_string(), below.sum())
                })
                .collect();
            let total: u64 = s.per_scrape.iter().map(|(_, n)| n).sum();
            cumulative.push(("+Inf".into(), total));
            let sum: f64 = s
                .per_scrape
                .iter()
                .map(|&(i, n)| n as f64 * std_bounds[i] / 1.04)
                .sum();
            let labels = format!(
                "environment=\"{env}\",job=\"api\",instance=\"{instance}\",http_route=\"{}\",\
                 http_request_method=\"GET\",http_response_status_code=\"{}\"",
                s.route, s.status
            );
            for (le, per) in &cumulative {
                for i in 0..=POINTS {
                    let _ = writeln!(
                        out,
                        "{HISTOGRAM}_bucket{{{labels},le=\"{le}\"}} {} {}",
                        per * i,
                        t0 + i * SCRAPE
                    );
                }
            }
            for i in 0..=POINTS {
                let _ = writeln!(
                    out,
                    "{HISTOGRAM}_count{{{labels}}} {} {}",
                    total * i,
                    t0 + i * SCRAPE
                );
            }
            for i in 0..=POINTS {
                let _ = writeln!(
                    out,
                    "{HISTOGRAM}_sum{{{labels}}} {} {}",
                    sum * i as f64,
                    t0 + i * SCRAPE
                );
            }
        }
    }
    // OpenTelemetry's resource attributes live on target_info only: selected by a join.
    out.push_str("# TYPE target_info gauge\n");
    for (env, instance) in [("production", "prod-1:9000"), ("staging", "stg-1:9000")] {
        for i in 0..=POINTS {
            let _ = writeln!(
                out,
                "target_info{{job=\"api\",instance=\"{instance}\",\
                 deployment_environment_name=\"{env}\"}} 1 {}",
                t0 + i * SCRAPE
            );
        }
    }
    classic(t0, &mut out);
    out.push_str("# EOF\n");
    out
}

/// The classic metrics (`http_requests_total{code}`, `http_request_duration_seconds`, route in
/// `handler`) for environments `classic-prod` (scraped every 30 s) and `classic-stg` (every
/// 60 s): the same traffic, a different scrape interval.
fn classic(t0: u64, out: &mut String) {
    let std_bounds = bounds();
    let per_scrape = weights(10, 1);
    let sides = [("classic-prod", 1), ("classic-stg", 2)];
    let labels = |env: &str| {
        format!(
            "environment=\"{env}\",job=\"web\",instance=\"{env}:80\",handler=\"/a\",method=\"GET\",code=\"200\""
        )
    };
    out.push_str("# TYPE http_requests counter\n");
    for (env, every) in sides {
        for i in (0..=POINTS).step_by(every) {
            let _ = writeln!(
                out,
                "http_requests_total{{{}}} {} {}",
                labels(env),
                100 * i,
                t0 + i * SCRAPE
            );
        }
    }
    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    for (env, every) in sides {
        let mut les: Vec<(String, u64)> = std_bounds
            .iter()
            .enumerate()
            .map(|(b, le)| {
                let below = per_scrape.iter().filter(|(i, _)| *i <= b).map(|(_, n)| n);
                (le.to_string(), below.sum())
            })
            .collect();
        les.push(("+Inf".into(), 100));
        for (le, per) in &les {
            for i in (0..=POINTS).step_by(every) {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{},le=\"{le}\"}} {} {}",
                    labels(env),
                    per * i,
                    t0 + i * SCRAPE
                );
            }
        }
        for i in (0..=POINTS).step_by(every) {
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{}}} {} {}",
                labels(env),
                100 * i,
                t0 + i * SCRAPE
            );
        }
        for i in (0..=POINTS).step_by(every) {
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{}}} {} {}",
                labels(env),
                2.0 * i as f64,
                t0 + i * SCRAPE
            );
        }
    }
}

/// A Prometheus started by the test; killed when dropped.
struct Prometheus {
    child: Child,
    url: String,
    /// The compared window: Unix seconds.
    start: u64,
    end: u64,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = String::new();
    s.read_to_string(&mut head).ok()?;
    head.split_whitespace().nth(1)?.parse().ok()
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fills a Prometheus with the planted data; `None` (after SKIP) when a binary is missing
/// outside CI.
fn prometheus() -> Option<Prometheus> {
    let promtool = require::promtool()?;
    let server = require::program("prometheus", "prometheus")?;
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // 100 minutes of data ending 20 minutes ago; the window is its middle hour.
    let t0 = (now - 120 * 60) / 60 * 60;
    let om = dir.path().join("data.om");
    std::fs::write(&om, openmetrics(t0)).unwrap();
    let tsdb = dir.path().join("tsdb");
    run(
        Command::new(&promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&om)
            .arg(&tsdb),
        "promtool tsdb create-blocks-from openmetrics",
    );
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n").unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let child = Command::new(server)
        .arg(format!("--storage.tsdb.path={}", tsdb.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--config.file={}", config.display()))
        // The blocks are hours old; the default 15 days keeps them, said here so it stays so.
        .arg("--storage.tsdb.retention.time=15d")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let p = Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
        start: t0 + 20 * 60,
        end: t0 + 80 * 60,
        _dir: dir,
    };
    wait_ready(port, &p._dir.path().join("prometheus.log"));
    Some(p)
}

/// Waits for `/-/ready`; a generous deadline, only to end a hung start (not an assertion).
fn wait_ready(port: u16, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if http_status(port, "/-/ready") == Some(200) {
            return;
        }
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "Prometheus did not become ready: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn compare(p: &Prometheus, extra: &[&str]) -> Output {
    let (start, end) = (p.start.to_string(), p.end.to_string());
    let mut args = vec![
        "compare",
        "prometheus",
        "--url",
        &p.url,
        "--production",
        "environment=\"production\"",
        "--staging",
        "environment=\"staging\"",
        "--start",
        &start,
        "--end",
        &end,
    ];
    args.extend_from_slice(extra);
    prodlike(&args)
}

fn verdict<'a>(doc: &'a Value, route: &str, metric: &str) -> &'a str {
    doc["data"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == route)
        .unwrap_or_else(|| panic!("no route {route}"))["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} on {route}"))["judgement"]["verdict"]
        .as_str()
        .unwrap()
}

#[test]
fn planted_differences_come_out_of_a_real_prometheus() {
    let Some(p) = prometheus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out_file: PathBuf = dir.path().join("compare.json");
    let out = compare(
        &p,
        &["--format", "json", "--out", out_file.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(doc["data"], written["data"]);
    assert_eq!(doc["schema"], "prodlike.compare/1");
    assert_eq!(doc["outcome"], "finding");
    assert_eq!(doc["data"]["source"]["family"], "otel");

    // As planted.
    for m in ["error_ratio", "latency_p50", "latency_p90", "latency_p99"] {
        assert_eq!(verdict(&doc, "/users", m), "pass", "/users {m}: {doc:#}");
    }
    assert_eq!(verdict(&doc, "/checkout", "error_ratio"), "diverged");
    assert_eq!(verdict(&doc, "/checkout", "latency_p50"), "pass");
    assert_eq!(verdict(&doc, "/search", "latency_p50"), "diverged");
    assert_eq!(verdict(&doc, "/search", "error_ratio"), "pass");
    // Ratios of sums: 1 error in 201 requests per scrape against 9 in 209.
    let checkout = doc["data"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == "/checkout")
        .unwrap();
    let er = &checkout["comparisons"][0];
    assert!(
        (er["production"].as_f64().unwrap() - 1.0 / 201.0).abs() < 1e-3,
        "{er}"
    );
    assert!(
        (er["staging"].as_f64().unwrap() - 9.0 / 209.0).abs() < 1e-3,
        "{er}"
    );
    assert_eq!(
        doc["data"]["traffic"]["shape"]["judgement"]["verdict"],
        "pass"
    );

    // The bucket mismatch is a parity finding and /legacy's latency is refused, not judged.
    let parity = doc["data"]["parity"].as_array().unwrap();
    assert!(
        parity
            .iter()
            .any(|f| f["kind"] == "buckets" && f["subject"].as_str().unwrap().contains("/legacy")),
        "{parity:?}"
    );
    assert_eq!(parity.len(), 1, "{parity:?}");
    assert_eq!(doc["data"]["refused"][0]["route"], "/legacy");
    assert!(
        doc["data"]["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("buckets differ")
    );
    assert_eq!(verdict(&doc, "/legacy", "error_ratio"), "pass");
    assert_eq!(doc["data"]["correction"]["method"], "benjamini_hochberg");

    // The document is what the published schema says, and reads back.
    let schema = prodlike_results::json_schema("prodlike.compare/1").unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&written)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(matches!(
        prodlike_results::read(&out_file).unwrap(),
        prodlike_results::AnyResult::Compare(_)
    ));

    // Text and Markdown say the same.
    let text = compare(&p, &[]);
    assert_eq!(text.status.code(), Some(1));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("/search") && text.contains("diverged"),
        "{text}"
    );
    assert!(text.contains("different bucket boundaries"), "{text}");
    let md = compare(&p, &["--format", "markdown"]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("| `/checkout` | error_ratio | diverged"),
        "{md}"
    );

    a_selector_matching_nothing_is_refused(&p);
    selection_by_a_join_on_target_info(&p);
    classic_metrics_are_detected_and_a_scrape_gap_found(&p);
    staging_on_its_own_prometheus(&p);
}

/// A selector that matches nothing is an input error naming it.
fn a_selector_matching_nothing_is_refused(p: &Prometheus) {
    let (start, end) = (p.start.to_string(), p.end.to_string());
    let out = prodlike(&[
        "compare",
        "prometheus",
        "--url",
        &p.url,
        "--production",
        "environment=\"production\"",
        "--staging",
        "environment=\"stagin\"",
        "--start",
        &start,
        "--end",
        &end,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("environment=\"stagin\""), "{stderr}");
    assert!(stderr.contains("matches no series"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// The environment on target_info only (OpenTelemetry's resource attributes), selected by a
/// join: the same verdicts as the label matchers give.
fn selection_by_a_join_on_target_info(p: &Prometheus) {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("compare.toml");
    std::fs::write(
        &spec,
        "[selection]\njoin = \"target_info\"\non = [\"job\", \"instance\"]\n",
    )
    .unwrap();
    let (start, end) = (p.start.to_string(), p.end.to_string());
    let out = prodlike(&[
        "compare",
        "prometheus",
        "--url",
        &p.url,
        "--production",
        "deployment_environment_name=\"production\"",
        "--staging",
        "deployment_environment_name=\"staging\"",
        "--start",
        &start,
        "--end",
        &end,
        "--spec",
        spec.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["data"]["source"]["join"], "target_info");
    assert_eq!(verdict(&doc, "/users", "latency_p50"), "pass");
    assert_eq!(verdict(&doc, "/checkout", "error_ratio"), "diverged");
    assert_eq!(verdict(&doc, "/search", "latency_p99"), "diverged");
    let checkout = doc["data"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == "/checkout")
        .unwrap();
    assert_eq!(checkout["production_requests"], 201 * 120);
    assert_eq!(checkout["staging_requests"], 209 * 120);
}

/// The classic metrics are detected (route in `handler`, status in `code`), and staging's
/// longer scrape interval is a parity finding while the verdicts still pass.
fn classic_metrics_are_detected_and_a_scrape_gap_found(p: &Prometheus) {
    let (start, end) = (p.start.to_string(), p.end.to_string());
    let out = prodlike(&[
        "compare",
        "prometheus",
        "--url",
        &p.url,
        "--production",
        "environment=\"classic-prod\"",
        "--staging",
        "environment=\"classic-stg\"",
        "--start",
        &start,
        "--end",
        &end,
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let source = &doc["data"]["source"];
    assert_eq!(source["family"], "classic", "{source}");
    assert_eq!(source["requests_metric"], "http_requests_total");
    assert_eq!(source["histogram_metric"], "http_request_duration_seconds");
    assert_eq!(source["group_by"][0], "handler");
    assert_eq!(source["status_label"], "code");
    assert_eq!(
        source["step_seconds"], 120,
        "two of staging's scrape intervals"
    );
    let parity = doc["data"]["parity"].as_array().unwrap();
    assert_eq!(parity.len(), 1, "{parity:?}");
    assert_eq!(parity[0]["kind"], "scrape_interval");
    assert_eq!(parity[0]["production"], "30.0s");
    assert_eq!(parity[0]["staging"], "60.0s");
    for m in ["error_ratio", "latency_p50", "latency_p99"] {
        assert_eq!(verdict(&doc, "/a", m), "pass", "{m}");
    }
}

/// `--staging-url`: staging read through a server of its own (here the same one, reached by a
/// second client), with the same verdicts.
fn staging_on_its_own_prometheus(p: &Prometheus) {
    let out = compare(p, &["--staging-url", &p.url, "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["data"]["source"]["staging_url"], p.url.as_str());
    assert_eq!(verdict(&doc, "/search", "latency_p50"), "diverged");
    assert_eq!(verdict(&doc, "/users", "latency_p50"), "pass");
}

#[test]
fn an_unreachable_prometheus_is_an_input_error_naming_it() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = prodlike(&[
        "compare",
        "prometheus",
        "--url",
        &url,
        "--production",
        "env=\"p\"",
        "--staging",
        "env=\"s\"",
        "--window",
        "1h",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&url) && stderr.contains("could not be queried"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
}

#[test]
fn a_spec_with_a_typo_is_refused_before_any_query() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("compare.toml");
    std::fs::write(&spec, "alpha = 0.05\n[margins]\np50 = 0.1\np99x = 0.3\n").unwrap();
    // Nothing listens there: the spec must fail first.
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = prodlike(&[
        "compare",
        "prometheus",
        "--url",
        &url,
        "--production",
        "env=\"p\"",
        "--staging",
        "env=\"s\"",
        "--spec",
        spec.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("p99x") && stderr.contains("line 4"),
        "{stderr}"
    );
    assert!(!stderr.contains("could not be queried"), "{stderr}");
    std::fs::write(&spec, "[margins]\np99 = -0.5\n").unwrap();
    let out = prodlike(&[
        "compare",
        "prometheus",
        "--url",
        &url,
        "--production",
        "a=\"b\"",
        "--staging",
        "a=\"c\"",
        "--spec",
        spec.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`margins.p99`"), "{stderr}");
}

#[test]
fn watch_flags_are_checked_before_any_query() {
    // Nothing listens there: each bad flag must be refused first.
    let url = format!("http://127.0.0.1:{}", free_port());
    let base = [
        "compare",
        "prometheus",
        "--url",
        &url,
        "--production",
        "env=\"p\"",
        "--staging",
        "env=\"s\"",
    ];
    for (extra, names) in [
        (&["--until", "diverged"][..], "--until"),
        (&["--watch", "500ms"][..], "--watch"),
        (&["--watch", "0s"][..], "--watch"),
        (&["--watch", "soon"][..], "--watch"),
        (&["--watch", "30s", "--until", "passed"][..], "--until"),
    ] {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let out = prodlike(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(names), "{extra:?}: {stderr}");
        assert!(
            !stderr.contains("could not be queried"),
            "{extra:?}: {stderr}"
        );
    }
}
