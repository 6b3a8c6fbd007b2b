#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike shadow --capture nats://…` then `prodlike load --replay nats://…`, as a user runs
//! them, against the shared NATS server (a stream of the test's own, deleted at the end): the
//! records published equal the records replayed, and none carries the traffic's personal data.
use std::process::{Command, Stdio};
use std::time::Duration;

use prodlike_testkit::nats::{SHARED, StreamGuard, unique};
use prodlike_testkit::process::{free_port, terminate, wait_for_port};
use prodlike_testkit::require;
use prodlike_testkit::services::{recording_upstream, serve};

fn prodlike() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_prodlike"));
    c.env("PRODLIKE_LOG", "warn");
    c
}

/// A GET with personal data in the query (echoed back by production); its status line.
fn get_with_pii(port: u16, i: usize) -> String {
    let reply = prodlike_testkit::process::http_get(
        port,
        &format!("/api/users/{i}?email=jane.doe{i}@example.com&note=hi"),
    );
    reply.lines().next().unwrap_or_default().to_string()
}

/// Polls the admin server until the capture sink is connected and its stream set up.
fn wait_until_capturing(admin: u16) {
    for _ in 0..400 {
        let metrics = prodlike_testkit::process::http_get(admin, "/metrics");
        if metrics
            .lines()
            .any(|l| l == "prodlike_shadow_capture_connected 1")
        {
            return;
        }
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the capture never connected to NATS");
}

#[test]
fn records_published_to_jetstream_replay_one_for_one_and_masked() {
    if !require::nats() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (prod_router, _) = recording_upstream("production");
    let prod = rt.block_on(serve(prod_router)).unwrap();
    let (target_router, target_seen) = recording_upstream("replay-target");
    let target = rt.block_on(serve(target_router)).unwrap();

    let subject = unique("prodlike.test.cli", '.');
    // The stream a subject goes to when none is named (docs/capture-format.md).
    let stream = subject.to_uppercase().replace('.', "_");
    let guard = StreamGuard::new(SHARED, &stream);
    let dir = tempfile::tempdir().unwrap();
    let shadow_out = dir.path().join("shadow.json");
    let (port, admin) = (free_port().unwrap(), free_port().unwrap());
    let child = prodlike()
        .args(["shadow", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--admin", &format!("127.0.0.1:{admin}")])
        .args([
            "--production",
            &prod.url(),
            "--sample",
            "1.0",
            "--workers",
            "1",
        ])
        .args(["--capture", &format!("nats://{SHARED}/{subject}")])
        .args(["--out", shadow_out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for_port(port), "the proxy did not start");
    wait_until_capturing(admin);
    const N: usize = 50;
    for i in 0..N {
        let status = get_with_pii(port, i);
        assert!(status.starts_with("HTTP/1.1 200"), "request {i}: {status}");
    }
    assert!(terminate(&child).unwrap().success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let shadow: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&shadow_out).unwrap()).unwrap();
    let totals = &shadow["data"]["totals"];
    assert_eq!(totals["capture_records"], N);
    assert_eq!(totals["capture_stored"], N, "{totals}");
    assert_eq!(totals["capture_dropped"], 0, "{totals}");
    // The header record, then one message per exchange.
    assert_eq!(guard.messages(), Some(N as u64 + 1));

    let load_out = dir.path().join("load.json");
    let o = prodlike()
        .args(["load", "--target", &target.url()])
        .args(["--replay", &format!("nats://{SHARED}/{stream}")])
        .args(["--speed", "20", "--max-send-lag", "5s", "-q"])
        .args(["--out", load_out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let load: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&load_out).unwrap()).unwrap();
    let replay = &load["data"]["replay"];
    assert_eq!(replay["requests"], N, "{replay}");
    assert_eq!(replay["unmasked"], 0, "{replay}");
    assert_eq!(replay["skipped"], 0, "{replay}");
    let seen = target_seen.requests();
    assert_eq!(seen.len(), N, "records published = requests replayed");
    for r in &seen {
        let body = String::from_utf8_lossy(&r.body);
        assert!(
            !r.uri.contains("jane.doe") && !body.contains("jane.doe"),
            "personal data replayed: {} {body}",
            r.uri
        );
        assert_eq!(r.method, "GET");
    }

    scale_and_loop_from_the_stream(&target.url(), &target_seen, &stream, dir.path(), N);
}

#[test]
fn a_bad_nats_url_is_refused_before_anything_starts() {
    let port = free_port().unwrap();
    for (url, says) in [
        ("nats://127.0.0.1:4222/a..b", "empty token"),
        ("nats://127.0.0.1:4222/a.*", "wildcard"),
        ("nats://user:pw@127.0.0.1:4222/a", "credentials"),
        ("nats://127.0.0.1:99999/a", "not a port"),
    ] {
        let o = prodlike()
            .args(["shadow", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--production", "http://127.0.0.1:1", "--capture", url])
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{url}: {e}");
        assert!(e.contains("capture.path") && e.contains(says), "{url}: {e}");
        assert!(!e.contains("pw@"), "{e}");
    }
    let o = prodlike()
        .args(["load", "--target", "http://127.0.0.1:1"])
        .args(["--replay", "nats://127.0.0.1:4222/not.a.stream"])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("nats://127.0.0.1:4222/not.a.stream"), "{e}");
}

/// `--scale` and `--loop` work on a stream as on a file: the recording's rate curve × 2, and
/// the recorded gaps looped for a fixed time; every request the result counts reached the
/// target, none with the traffic's personal data.
fn scale_and_loop_from_the_stream(
    target: &str,
    seen: &prodlike_testkit::services::Recorder,
    stream: &str,
    dir: &std::path::Path,
    n: usize,
) {
    for (extra, what) in [
        (vec!["--scale", "2", "--duration", "1s"], "scale"),
        (vec!["--speed", "1", "--loop", "--duration", "2s"], "loop"),
    ] {
        let before = seen.len();
        let out = dir.join(format!("load-{what}.json"));
        let o = prodlike()
            .args(["load", "--target", target])
            .args(["--replay", &format!("nats://{SHARED}/{stream}")])
            .args(&extra)
            .args(["--max-send-lag", "5s", "-q", "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{what}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        let sent = r["data"]["totals"]["requests"].as_u64().unwrap();
        let loops = r["data"]["replay"]["loops"].as_u64().unwrap();
        eprintln!("{what}: {sent} requests sent, {loops} loops over the stream's {n} records");
        assert_eq!(seen.len() - before, sent as usize, "{what}");
        assert!(
            sent > n as u64,
            "{what}: {sent} requests: the recording was not looped"
        );
        assert!(loops >= 1, "{what}");
        assert!(
            seen.requests()[before..]
                .iter()
                .all(|r| !r.uri.contains("jane.doe"))
        );
    }
}
