#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike compare results` as a user runs it: two real `prodlike load` runs against local
//! servers, the candidate's `/slow` route planted +50% slower (a fixed delay, so every request
//! is at least that slow whatever the machine does), judged diverged there and not elsewhere;
//! the histograms written by `--out` are what is judged. A file of another schema exits 2.
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use prodlike_testkit::slow_routes::Route;

fn prodlike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(args)
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap()
}

/// A server whose routes answer after the given delays, alive while the runtime lives.
fn server(routes: &'static [Route]) -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let s = rt
        .block_on(prodlike_testkit::slow_routes::start(routes))
        .unwrap();
    let url = s.url();
    rt.spawn(async move {
        let _keep = s;
        std::future::pending::<()>().await;
    });
    (rt, url)
}

const SCENARIO: &str = r#"
[[request]]
name = "fast"
path = "/fast"

[[request]]
name = "slow"
path = "/slow"
"#;

/// One load run of both routes, its result written to `out`.
fn run_load(url: &str, scenario: &Path, out: &Path) {
    let o = prodlike(&[
        "load",
        "--target",
        url,
        "--scenario",
        scenario.to_str().unwrap(),
        "--rate",
        "200",
        "--duration",
        "3s",
        "--seed",
        "7",
        "--max-send-lag",
        "5s",
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
}

fn verdict(doc: &serde_json::Value, route: &str, metric: &str) -> String {
    let r = doc["data"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == route)
        .unwrap_or_else(|| panic!("no route {route}: {doc}"));
    let c = r["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} on {route}: {r}"));
    c["judgement"]["verdict"].as_str().unwrap().to_string()
}

#[test]
fn two_load_runs_find_the_route_planted_slower() {
    static BASELINE: [Route; 2] = [
        Route::ok("/fast", Duration::from_millis(10)),
        Route::ok("/slow", Duration::from_millis(20)),
    ];
    static CANDIDATE: [Route; 2] = [
        Route::ok("/fast", Duration::from_millis(10)),
        Route::ok("/slow", Duration::from_millis(30)),
    ];
    let (_a, a) = server(&BASELINE);
    let (_b, b) = server(&CANDIDATE);
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let (out_a, out_b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    run_load(&a, &scenario, &out_a);
    run_load(&b, &scenario, &out_b);

    let out = dir.path().join("compare.json");
    let o = prodlike(&[
        "compare",
        "results",
        out_a.to_str().unwrap(),
        out_b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    assert!(
        prodlike_testkit::process::output_text(&o).contains("slow"),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["schema"], "prodlike.compare/1");
    assert_eq!(doc["command"], "compare results");
    assert_eq!(doc["data"]["source"]["kind"], "results");
    // 20 ms → 30 ms: the typical latency and the median are proven more than 10% higher.
    assert_eq!(verdict(&doc, "slow", "latency_shift"), "diverged");
    assert_eq!(verdict(&doc, "slow", "latency_p50"), "diverged");
    // 10 ms on both: the typical latency is proven within 10%, and nothing failed.
    assert_eq!(verdict(&doc, "fast", "latency_shift"), "pass");
    assert_eq!(verdict(&doc, "fast", "error_ratio"), "pass");
    for metric in ["latency_p50", "latency_p90", "latency_p99", "error_ratio"] {
        assert_ne!(verdict(&doc, "fast", metric), "diverged", "{metric}");
    }

    // Markdown for a PR comment names the diverged route.
    let o = prodlike(&[
        "compare",
        "results",
        out_a.to_str().unwrap(),
        out_b.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.starts_with("## prodlike compare"), "{md}");
    assert!(md.contains("| `slow` | latency_shift | diverged |"), "{md}");
}

/// Waits until `ready` holds, polling (a condition, not a timing); false if it never does.
fn wait_until(mut ready: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if ready() {
            return true;
        }
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn a_shadow_result_with_a_staging_error_rise_diverges() {
    // Staging answers /orders with 503 where production answers 200; /items alike on both.
    static PRODUCTION: [Route; 2] = [
        Route::ok("/orders", Duration::ZERO),
        Route::ok("/items", Duration::ZERO),
    ];
    static STAGING: [Route; 2] = [
        Route {
            path: "/orders",
            delay: Duration::ZERO,
            status: 503,
        },
        Route::ok("/items", Duration::ZERO),
    ];
    let (_p, production) = server(&PRODUCTION);
    let (_s, staging) = server(&STAGING);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shadow.json");
    let (port, admin) = (
        prodlike_testkit::process::free_port().unwrap(),
        prodlike_testkit::process::free_port().unwrap(),
    );
    let child = Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(["shadow", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--production", &production, "--staging", &staging])
        .args(["--sample", "1.0", "--workers", "1"])
        .args(["--admin", &format!("127.0.0.1:{admin}")])
        .args(["--out", out.to_str().unwrap()])
        .env("PRODLIKE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_until(|| prodlike_testkit::process::http_get(
        port, "/items"
    )
    .starts_with("HTTP/1.1 200")));
    let n = 40;
    for i in 0..n {
        for path in ["/orders", "/items"] {
            assert!(
                prodlike_testkit::process::http_get(port, &format!("{path}?n={i}"))
                    .starts_with("HTTP/1.1 200")
            );
        }
    }
    // Every copy compared (the readiness probes count too) before the proxy is stopped.
    let compared = || {
        let body = prodlike_testkit::process::http_get(admin, "/api/divergence");
        let json = body.split_once("\r\n\r\n").map(|x| x.1).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(json)
            .ok()
            .and_then(|v| v["totals"]["compared"].as_u64())
            .unwrap_or(0)
    };
    assert!(
        wait_until(|| compared() >= 2 * n),
        "compared {}",
        compared()
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    // Shadow's own exit depends on --fail-on-mismatch-rate; the verdict is compare's.
    assert!(
        matches!(output.status.code(), Some(0 | 1 | 3)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let report = dir.path().join("compare.json");
    let o = prodlike(&[
        "compare",
        "results",
        out.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(doc["data"]["source"]["results"], "shadow");
    // 40 of 40 answers 5xx on staging against none on production: far over one point.
    assert_eq!(verdict(&doc, "/orders", "error_ratio"), "diverged");
    assert_ne!(verdict(&doc, "/items", "error_ratio"), "diverged");
}

#[test]
fn a_result_of_the_wrong_schema_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let drift = dir.path().join("drift.json");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../results/tests/fixtures");
    std::fs::copy(Path::new(fixtures).join("drift-1.json"), &drift).unwrap();
    let load = dir.path().join("load.json");
    std::fs::copy(Path::new(fixtures).join("load-1.json"), &load).unwrap();
    let o = prodlike(&[
        "compare",
        "results",
        load.to_str().unwrap(),
        drift.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("prodlike.drift/1") && err.contains("drift.json"),
        "{err}"
    );
    // Not a result at all.
    std::fs::write(&drift, "{}").unwrap();
    let o = prodlike(&["compare", "results", drift.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
}
