#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike compare prometheus --watch 1s --until diverged` against a real Prometheus (Debian's
//! `prometheus` package) scraping, every second, a metrics endpoint the test serves: on route
//! `/a` production answers 2% of its requests with 500 and staging 20%. The watch must stop by
//! itself on `/a` diverged, print that change, and the full comparison of the watched window
//! must come out diverged too (exit 1, written to --out). On A/A data SIGTERM stops the watch and,
//! with --format json, stdout is one JSON document. Under CI=true a missing binary fails.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use prodlike_testkit::require;

/// Serves `/metrics`; each scrape adds 1,000 requests per environment, of which
/// `staging_per_mille` are 500s on staging (20 on production).
fn metrics_server(scrapes: Arc<AtomicU64>, staging_per_mille: u64) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(s.try_clone().unwrap());
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let n = scrapes.fetch_add(1, Ordering::SeqCst) + 1;
            let mut body = String::from("# TYPE http_requests counter\n");
            for (env, errors_per_mille) in [("production", 20), ("staging", staging_per_mille)] {
                let errors = n * errors_per_mille;
                for (code, v) in [("200", n * 1000 - errors), ("500", errors)] {
                    body.push_str(&format!(
                        "http_requests_total{{environment=\"{env}\",handler=\"/a\",code=\"{code}\"}} {v}\n"
                    ));
                }
            }
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Prometheus scraping `127.0.0.1:target` every second: the process, its folder and its URL.
fn prometheus(server: &std::path::Path, target: u16) -> (Kill, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: web\n    \
             honor_labels: true\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let child = Kill(
        Command::new(server)
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--config.file={}", config.display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    (child, dir, format!("http://127.0.0.1:{port}"))
}

/// Waits until the target has been scraped `n` times; the deadline only ends a hang.
fn wait_scrapes(scrapes: &AtomicU64, n: u64, deadline: Instant, dir: &tempfile::TempDir) {
    while scrapes.load(Ordering::SeqCst) < n {
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped the target: {}",
            std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
        );
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn sigterm_stops_the_watch_and_json_stays_one_document() {
    let Some(server) = require::program("prometheus", "prometheus") else {
        return;
    };
    let scrapes = Arc::new(AtomicU64::new(0));
    let target = metrics_server(scrapes.clone(), 20);
    let (_prometheus, dir, url) = prometheus(&server, target);
    let deadline = Instant::now() + Duration::from_secs(120);
    wait_scrapes(&scrapes, 3, deadline, &dir);
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
    let seen = scrapes.load(Ordering::SeqCst);
    wait_scrapes(&scrapes, seen + 3, deadline, &dir);
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
    let scrapes = Arc::new(AtomicU64::new(0));
    let target = metrics_server(scrapes.clone(), 200);
    let (_prometheus, dir, url) = prometheus(&server, target);
    // A generous deadline, only to end a hang (not an assertion on timing): the watch needs the
    // series to exist before it starts.
    let deadline = Instant::now() + Duration::from_secs(120);
    wait_scrapes(&scrapes, 3, deadline, &dir);
    let out = dir.path().join("compare.json");
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
