#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `prodlike load` as a user runs it: exit codes, --dry-run, --out, --html (checked in headless
//! Chromium), bad input. Servers are in-process on 127.0.0.1; no timed assertions.
use std::process::{Command, Output};

use prodlike_testkit::pausing_server;

fn prodlike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .arg("load")
        .args(args)
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap()
}

/// A server on a thread of its own, alive while the returned runtime lives.
fn server() -> (tokio::runtime::Runtime, String) {
    pausing_server::in_background().unwrap()
}

#[test]
fn dry_run_prints_the_timeline_without_sending() {
    let o = prodlike(&[
        "--target",
        "http://127.0.0.1:9",
        "--stages",
        "2s:100,spike=1s:400",
        "--dry-run",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("dry run: nothing is sent"), "{out}");
    assert!(out.contains("350 requests over 3 s"), "{out}");
    assert!(out.contains("spike"), "{out}");
    let o = prodlike(&[
        "--target",
        "http://127.0.0.1:9",
        "--rate",
        "10",
        "--duration",
        "2s",
        "--poisson",
        "--seed",
        "3",
        "--dry-run",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["timeline"].as_array().unwrap().len(), 2);
    assert_eq!(v["arrivals"], "poisson");
}

#[test]
fn a_passing_run_exits_0_and_writes_the_documented_json() {
    let (_rt, url) = server();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let o = prodlike(&[
        "--target",
        &url,
        "--rate",
        "100",
        "--duration",
        "1s",
        "--threshold",
        "error_rate<0.01",
        "--out",
        out.to_str().unwrap(),
        "--max-send-lag",
        "5s",
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    assert!(
        prodlike_testkit::process::output_text(&o).contains("achieved"),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["schema"], "prodlike.load/2");
    assert_eq!(v["command"], "load");
    assert_eq!(v["exit_code"], 0);
    let d = &v["data"];
    // The raw material of the percentiles travels with them (decoded in crates/load/tests).
    for counts in [&d["totals"], &d["stages"][0], &d["requests"][0]] {
        let h = counts["latency_histogram"].as_str().unwrap_or_default();
        assert!(h.len() > 8, "{counts}");
    }
    assert_eq!(d["totals"]["requests"], 100);
    for k in ["p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"] {
        assert!(d["stages"][0]["latency"][k].is_number(), "{k}");
    }
    for k in ["target_rps", "achieved_rps", "failed", "dropped", "retries"] {
        assert!(d["stages"][0][k].is_number(), "{k}: {}", d["stages"][0]);
    }
    let tl = d["timeline"].as_array().unwrap();
    assert!(tl[0]["target"].is_number() && tl[0]["sent"].is_number());
    assert_eq!(d["self_check"]["valid"], true);
    assert_eq!(d["thresholds"][0]["passed"], true);
}

#[test]
fn a_breached_threshold_exits_1() {
    let (_rt, url) = server();
    let o = prodlike(&[
        "--target",
        &url,
        "--rate",
        "50",
        "--duration",
        "1s",
        "--path",
        "/fail",
        "--threshold",
        "error_rate<0.01",
        "--max-send-lag",
        "5s",
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    assert!(
        prodlike_testkit::process::output_text(&o).contains("BREACHED"),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
}

#[test]
fn bad_input_exits_2_with_a_clear_error() {
    let cases: &[(&[&str], &str)] = &[
        (&["--rate", "10", "--duration", "1s"], "no target"),
        (
            &["--target", "ftp://x", "--rate", "1", "--duration", "1s"],
            "scheme",
        ),
        (
            &["--target", "http://127.0.0.1:9", "--stages", "10x:5"],
            "unit",
        ),
        (
            &["--target", "http://127.0.0.1:9", "--rate", "10"],
            "--duration",
        ),
        (
            &[
                "--target",
                "http://127.0.0.1:9",
                "--rate",
                "1",
                "--duration",
                "1s",
                "--threshold",
                "p98<1s",
            ],
            "unknown metric",
        ),
        (
            &[
                "--target",
                "http://127.0.0.1:9",
                "--rate",
                "1",
                "--duration",
                "1s",
                "--connections",
                "4",
            ],
            "one load shape",
        ),
    ];
    for (args, needle) in cases {
        let o = prodlike(args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            prodlike_testkit::process::output_text(&o)
        );
        let t = prodlike_testkit::process::output_text(&o);
        assert!(t.contains("error:") && t.contains(needle), "{args:?}: {t}");
        assert!(!t.contains("panicked"), "{t}");
    }
    // An unreachable target: nothing listens on the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = prodlike(&[
        "--target",
        &format!("http://127.0.0.1:{port}"),
        "--rate",
        "1",
        "--duration",
        "1s",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        prodlike_testkit::process::output_text(&o).contains("cannot connect"),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    // A bad scenario file: the error names the file and the line.
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("bad.toml");
    std::fs::write(
        &sc,
        "[load]\nrate = 10\nduration = \"1s\"\n\n[[request]]\npath = \"/x/{{nope}}\"\n",
    )
    .unwrap();
    let o = prodlike(&[
        "--target",
        "http://127.0.0.1:9",
        "--scenario",
        sc.to_str().unwrap(),
        "--dry-run",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let t = prodlike_testkit::process::output_text(&o);
    assert!(
        t.contains("bad.toml") && t.contains("line 5") && t.contains("nope"),
        "{t}"
    );
}

#[test]
fn replay_skips_malformed_lines_and_counts_them() {
    let (_rt, url) = server();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let mut lines = String::new();
    for i in 0..20 {
        lines.push_str(&format!("10.0.0.1 - - [23/Nov/2026:10:00:0{} +0000] \"GET /items/{i} HTTP/1.1\" 200 5 \"-\" \"ua\"\n", i / 10));
        if i == 7 {
            lines.push_str("\\x16\\x03 garbage line\n");
        }
    }
    std::fs::write(&log, lines).unwrap();
    let out = dir.path().join("r.json");
    let o = prodlike(&[
        "--target",
        &url,
        "--replay",
        log.to_str().unwrap(),
        "--speed",
        "4",
        "--out",
        out.to_str().unwrap(),
        "--max-send-lag",
        "5s",
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let d = &v["data"];
    assert_eq!(d["totals"]["requests"], 20);
    assert_eq!(d["replay"]["skipped"], 1);
    assert!(
        d["replay"]["skipped_examples"][0]
            .as_str()
            .unwrap()
            .contains(":9:"),
        "{}",
        d["replay"]
    );
    assert_eq!(d["requests"][0]["name"], "GET /items/{id}");
}

#[test]
fn the_html_report_renders_in_chromium() {
    let (_rt, url) = server();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let o = prodlike(&[
        "--target",
        &url,
        "--stages",
        "1s:50,spike=1s:200,1s:50",
        "--start-rate",
        "50",
        "--threshold",
        "spike:p99<5s",
        "--html",
        html.to_str().unwrap(),
        "--max-send-lag",
        "5s",
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let Some(chromium) = prodlike_testkit::browser::Chromium::find() else {
        return;
    };
    let page = format!("file://{}", html.display());
    let dom = chromium.dump_dom(&page, 2000).unwrap();
    assert!(dom.contains("All thresholds passed"), "{dom}");
    for id in [
        "chart-rate",
        "chart-latency",
        "chart-errors",
        "stages",
        "thresholds",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert_eq!(dom.matches("<svg").count(), 3);
    assert!(dom.contains("spike"));
    // A screenshot for people to look at, kept next to the build output.
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let png = shots.join("load-report.png");
    chromium.screenshot(&page, &png, 1280, 2000, 2000).unwrap();
    assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
    eprintln!("screenshot: {}", png.display());
}

/// `--segment`: four quarters of a Poisson plan, dry-run, place together exactly the unsplit
/// plan's arrivals in every second; two halves, run for real, send together exactly the whole
/// plan's requests, and a threshold no run could meet is not judged on a segment's view.
#[test]
fn segments_together_fire_the_whole_plan() {
    let plan = |segment: Option<&str>| {
        let mut args = vec![
            "--target",
            "http://127.0.0.1:9",
            "--stages",
            "2s:300,1s:50",
            "--poisson",
            "--seed",
            "5",
            "--dry-run",
            "--format",
            "json",
        ];
        if let Some(s) = segment {
            args.extend(["--segment", s]);
        }
        let o = prodlike(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            prodlike_testkit::process::output_text(&o)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let per_second: Vec<u64> = v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["scheduled"].as_u64().unwrap())
            .collect();
        (v["arrivals"].as_str().unwrap().to_owned(), per_second)
    };
    let (_, whole) = plan(None);
    let mut summed = vec![0u64; whole.len()];
    for k in ["1/4", "2/4", "3/4", "4/4"] {
        let (arrivals, seconds) = plan(Some(k));
        assert!(
            arrivals.contains("segment") && arrivals.contains("25.0%"),
            "{arrivals}"
        );
        for (s, n) in summed.iter_mut().zip(&seconds) {
            *s += n;
        }
    }
    assert_eq!(summed, whole);
    assert!(whole.iter().sum::<u64>() > 400, "{whole:?}");

    let (_rt, url) = server();
    let dir = tempfile::tempdir().unwrap();
    let mut sent = 0;
    for (i, half) in ["1/2:1/1", "0/1:1/2"].iter().enumerate() {
        let out = dir.path().join(format!("{i}.json"));
        let o = prodlike(&[
            "--target",
            &url,
            "--rate",
            "100",
            "--duration",
            "1s",
            "--segment",
            half,
            "--threshold",
            "p99<0ms",
            "--max-send-lag",
            "5s",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            prodlike_testkit::process::output_text(&o)
        );
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        sent += v["data"]["totals"]["requests"].as_u64().unwrap();
        // Not judged, and the result says so rather than passing it silently.
        assert_eq!(v["data"]["thresholds"].as_array().unwrap().len(), 0);
        let plan = v["data"]["plan"].as_str().unwrap();
        assert!(
            plan.contains("thresholds not judged") && plan.contains("p99<0ms"),
            "{plan}"
        );
    }
    assert_eq!(sent, 100);
}

#[test]
fn a_bad_segment_exits_2_naming_it() {
    for (segment, says) in [("0/4", "numbered from 1"), ("3/4:1/4", "empty")] {
        let o = prodlike(&[
            "--target",
            "http://127.0.0.1:9",
            "--rate",
            "10",
            "--duration",
            "1s",
            "--segment",
            segment,
            "--dry-run",
        ]);
        let t = prodlike_testkit::process::output_text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains("--segment") && t.contains(says), "{t}");
    }
    let o = prodlike(&[
        "--target",
        "http://127.0.0.1:9",
        "--connections",
        "2",
        "--duration",
        "1s",
        "--segment",
        "1/2",
        "--dry-run",
    ]);
    let t = prodlike_testkit::process::output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("does not apply to --connections"), "{t}");
}

/// A server that answers every request with 200 and notes when each arrived (Unix µs).
fn noting_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<u64>>>) {
    use std::io::{BufRead, BufReader, Write};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let noted = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let noted = noted.clone();
            std::thread::spawn(move || {
                let mut w = conn.try_clone().unwrap();
                let mut r = BufReader::new(conn);
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_micros() as u64;
                        noted.lock().unwrap().push(now);
                        if w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    (url, seen)
}

/// `--start-at`: two segments given the same start a few seconds ahead send nothing before it
/// and together the whole plan; a start already past (beyond the tolerated send lag), a time
/// that is not one, and the closed model are refused with exit 2.
#[test]
fn segments_start_together_at_the_given_time() {
    let (url, seen) = noting_server();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let start = (now + 3).to_string();
    let runs: Vec<_> = ["1/2", "2/2"]
        .iter()
        .map(|segment| {
            let args: Vec<String> = [
                "load",
                "--target",
                &url,
                "--rate",
                "40",
                "--duration",
                "1s",
                "--segment",
                segment,
                "--start-at",
                &start,
                "--max-send-lag",
                "5s",
                "-q",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            std::process::Command::new(env!("CARGO_BIN_EXE_prodlike"))
                .args(&args)
                .env("PRODLIKE_LOG", "warn")
                .spawn()
                .unwrap()
        })
        .collect();
    for mut r in runs {
        assert!(r.wait().unwrap().success());
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 40, "both halves together send the whole plan");
    let first = seen.iter().min().copied().unwrap();
    assert!(
        first >= (now + 3) * 1_000_000,
        "a request arrived {} µs before the start",
        (now + 3) * 1_000_000 - first
    );

    let past = (now - 60).to_string();
    for (flags, says) in [
        (vec!["--rate", "10", "--start-at", past.as_str()], "passed"),
        (vec!["--rate", "10", "--start-at", "teatime"], "not a time"),
        (
            vec!["--connections", "2", "--start-at", start.as_str()],
            "--connections",
        ),
    ] {
        let mut args = vec![
            "--target",
            "http://127.0.0.1:9",
            "--duration",
            "1s",
            "--dry-run",
        ];
        args.extend(flags);
        let o = prodlike(&args);
        let t = prodlike_testkit::process::output_text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains("--start-at") && t.contains(says), "{t}");
    }
}
