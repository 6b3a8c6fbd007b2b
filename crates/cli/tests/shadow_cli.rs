#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike shadow` as a process: exit codes for bad input, and a graceful SIGTERM.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};

use prodlike_testkit::process::{http_get, terminate, wait_for_port};

fn prodlike() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_prodlike"));
    c.env("PRODLIKE_LOG", "warn");
    c
}

fn run_fails_with_2(args: &[&str]) -> String {
    let out = prodlike().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?} → {stderr}");
    stderr
}

/// A tiny HTTP/1.1 upstream on a thread: answers every request with a fixed JSON body.
fn upstream() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut line = String::new();
                    let mut len = 0usize;
                    // Request line and headers.
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; len];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let reply = b"{\"ok\":true}";
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        reply.len()
                    );
                    if stream
                        .write_all(head.as_bytes())
                        .and_then(|_| stream.write_all(reply))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let up = upstream();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();

    let e = run_fails_with_2(&[
        "shadow",
        "--listen",
        &taken_addr,
        "--production",
        &up,
        "--admin",
        "",
    ]);
    assert!(
        e.contains(&format!("cannot listen on {taken_addr}")) && e.contains("already in use"),
        "{e}"
    );

    let e = run_fails_with_2(&[
        "shadow",
        "--listen",
        "127.0.0.1:0",
        "--production",
        "prod:80",
    ]);
    assert!(
        e.contains("production.upstreams[0]") && e.contains("prod:80"),
        "{e}"
    );

    let e = run_fails_with_2(&[
        "shadow",
        "--listen",
        "127.0.0.1:0",
        "--production",
        &up,
        "--staging",
        "ftp://x",
        "--admin",
        "",
    ]);
    assert!(e.contains("mirror.staging"), "{e}");

    let dead = format!(
        "http://127.0.0.1:{}",
        prodlike_testkit::process::free_port().unwrap()
    );
    let e = run_fails_with_2(&[
        "shadow",
        "--listen",
        "127.0.0.1:0",
        "--production",
        &dead,
        "--admin",
        "",
    ]);
    assert!(
        e.contains("cannot be reached") && e.contains("--skip-upstream-check"),
        "{e}"
    );

    let e = run_fails_with_2(&[
        "shadow",
        "--listen",
        "203.0.113.7:8080",
        "--production",
        &up,
        "--admin",
        "",
    ]);
    assert!(e.contains("no such address"), "{e}");

    let e = run_fails_with_2(&["shadow", "--production", &up, "--sample", "1.5"]);
    assert!(e.contains("`mirror.sample`: 1.5 is not a fraction"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("shadow.toml");
    std::fs::write(
        &cfg,
        "[mirror]\nstaging = \"http://127.0.0.1:1\"\nsampel = 0.5\n",
    )
    .unwrap();
    let e = run_fails_with_2(&[
        "shadow",
        "--config",
        cfg.to_str().unwrap(),
        "--production",
        &up,
    ]);
    assert!(
        e.contains("shadow.toml line 3") && e.contains("unknown field `sampel`"),
        "{e}"
    );

    let e = run_fails_with_2(&["shadow", "--production", &up, "--workers"]);
    assert!(e.contains("--workers"), "{e}");
    drop(taken);
}

#[test]
fn sigterm_drains_flushes_the_capture_and_writes_the_result() {
    let prod = upstream();
    let staging = upstream();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("traffic.jsonl");
    let out = dir.path().join("result.json");
    let port = prodlike_testkit::process::free_port().unwrap();
    let child = prodlike()
        .args([
            "shadow",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--production",
            &prod,
            "--staging",
            &staging,
        ])
        .args(["--sample", "1.0", "--workers", "1", "--admin", ""])
        .args([
            "--capture",
            capture.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for_port(port), "proxy did not start on {}", port);
    for i in 0..20 {
        let reply = http_get(port, &format!("/items/{i}"));
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    }
    assert!(terminate(&child).unwrap().success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["schema"], "prodlike.shadow/2");
    assert_eq!(printed["data"]["totals"]["requests"], 20);
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(written["exit_code"], 0);
    assert_eq!(written["data"]["totals"]["compared"], 20);
    assert_eq!(written["data"]["routes"][0]["route"], "/items/{id}");
    // Every exchange reached the disk before the process ended.
    let lines = std::fs::read_to_string(&capture).unwrap();
    assert_eq!(
        lines
            .lines()
            .filter(|l| l.contains("\"type\":\"exchange\""))
            .count(),
        20
    );
}

#[test]
fn fail_on_mismatch_rate_turns_divergence_into_exit_1() {
    let prod = upstream();
    // A staging that answers 404 to everything: every comparison mismatches.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let staging = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    let port = prodlike_testkit::process::free_port().unwrap();
    let child = prodlike()
        .args([
            "shadow",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--production",
            &prod,
            "--staging",
            &staging,
        ])
        .args([
            "--admin",
            "",
            "--fail-on-mismatch-rate",
            "0.01",
            "--duration",
            "30s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for_port(port), "proxy did not start on {}", port);
    for i in 0..5 {
        assert!(http_get(port, &format!("/x/{i}")).starts_with("HTTP/1.1 200"));
    }
    assert!(terminate(&child).unwrap().success());
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("mismatched 5 (100.0%)"), "{text}");
}

/// With a mismatch limit but nothing compared (no staging answered), the run is inconclusive:
/// exit 3, or 0 with `--allow-inconclusive`, never a silent pass.
#[test]
fn nothing_compared_under_a_mismatch_limit_is_inconclusive() {
    let prod = upstream();
    for (allow, expected) in [(false, 3), (true, 0)] {
        let port = prodlike_testkit::process::free_port().unwrap();
        let mut cmd = prodlike();
        cmd.args([
            "shadow",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--production",
            &prod,
            "--admin",
            "",
            "--fail-on-mismatch-rate",
            "0.01",
            "--duration",
            "30s",
        ]);
        if allow {
            cmd.arg("--allow-inconclusive");
        }
        let child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        assert!(wait_for_port(port), "proxy did not start on {}", port);
        assert!(http_get(port, "/x/1").starts_with("HTTP/1.1 200"));
        assert!(terminate(&child).unwrap().success());
        let output = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(expected),
            "allow={allow}: {text}"
        );
        assert!(text.contains("compared 0"), "{text}");
    }
}

/// Files are checked before anything is bound or connected: with a key that is not a PEM key
/// and a capture in a folder that does not exist, shadow exits 2 without ever connecting to
/// production, without taking its listen port and without creating a capture file.
#[test]
fn bad_files_are_refused_before_production_is_touched() {
    let production = TcpListener::bind("127.0.0.1:0").unwrap();
    production.set_nonblocking(true).unwrap();
    let up = format!("http://{}", production.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, "not a certificate\n").unwrap();
    std::fs::write(&key, "not a key\n").unwrap();
    let capture = dir.path().join("capture.jsonl");
    let port = prodlike_testkit::process::free_port().unwrap();
    let listen = format!("127.0.0.1:{port}");
    let e = run_fails_with_2(&[
        "shadow",
        "--listen",
        &listen,
        "--admin",
        "",
        "--production",
        &up,
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--capture",
        capture.to_str().unwrap(),
    ]);
    assert!(e.contains("key.pem") || e.contains("cert.pem"), "{e}");
    assert!(
        matches!(production.accept(), Err(ref err) if err.kind() == std::io::ErrorKind::WouldBlock),
        "shadow connected to production although its files were bad"
    );
    assert!(!capture.exists(), "a capture file was created");
    // The listen port is free again (it was never taken, or released on the error).
    TcpListener::bind(&listen).unwrap();

    let missing = dir.path().join("no-such-folder").join("capture.jsonl");
    let e = run_fails_with_2(&[
        "shadow",
        "--listen",
        &listen,
        "--admin",
        "",
        "--production",
        &up,
        "--capture",
        missing.to_str().unwrap(),
    ]);
    assert!(
        e.contains("capture.path") && e.contains("does not exist"),
        "{e}"
    );
    assert!(
        matches!(production.accept(), Err(ref err) if err.kind() == std::io::ErrorKind::WouldBlock),
        "shadow connected to production although its capture path was bad"
    );
}
