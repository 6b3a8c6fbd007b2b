#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Captures published to NATS JetStream (`capture.path = "nats://…"`): every sampled exchange
//! reaches the stream masked, and a NATS outage costs counted records, never a production
//! response; the sink reconnects when the server is back.
mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{TestClient, client, config, get, send, start};
use http::Method;
use prodlike_capture::nats::{ConnectSettings, ReplaySettings, read_stream};
use prodlike_shadow::RunningShadow;
use prodlike_testkit::nats::{PrivateNats, SHARED, StreamGuard, unique};
use prodlike_testkit::require;
use prodlike_testkit::services::{recording_upstream, serve};

/// Polls /metrics until `line` appears (a condition, never a timing); panics after ~20 s.
async fn wait_for_metric(c: &TestClient, shadow: &RunningShadow, line: &str) {
    let url = format!("http://{}/metrics", shadow.admin_addr.unwrap());
    for _ in 0..400 {
        let body = get(c, &url).await.body;
        if String::from_utf8_lossy(&body).lines().any(|l| l == line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/metrics never showed `{line}`");
}

fn replay_settings(server: &str, stream: &str) -> ReplaySettings {
    ReplaySettings {
        connect: ConnectSettings {
            server: server.into(),
            credentials: None,
            name: "test".into(),
        },
        stream: stream.into(),
        label: format!("nats://{server}/{stream}"),
    }
}

/// Every exchange the stream holds, read back the way `load --replay` reads it.
fn read_back(server: &str, stream: &str) -> Vec<prodlike_capture::Exchange> {
    let mut got = Vec::new();
    let stats = read_stream(&replay_settings(server, stream), |ex| {
        got.push(ex);
        true
    })
    .unwrap();
    assert_eq!(stats.skipped, 0, "{:?}", stats.skipped_examples);
    got
}

/// Sends `n` requests carrying personal data (in the query and the JSON body, echoed back by
/// production); every one must be answered 200 by production.
async fn traffic_with_pii(c: &TestClient, shadow: &RunningShadow, from: usize, n: usize) {
    for i in from..from + n {
        let reply = send(
            c,
            Method::POST,
            &format!(
                "http://{}/api/users/{i}?email=jane.doe{i}@example.com",
                shadow.addr
            ),
            &[("content-type", "application/json")],
            Bytes::from(format!(
                r#"{{"email":"jane.doe{i}@example.com","note":"hi"}}"#
            )),
        )
        .await;
        assert_eq!(
            reply.status, 200,
            "request {i}: production answered otherwise"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sampled_exchange_reaches_the_stream_masked() {
    if !require::nats() {
        return;
    }
    let subject = unique("prodlike.test.capture", '.');
    let stream = prodlike_capture::nats::default_stream(&subject);
    let guard = StreamGuard::new(SHARED, &stream);
    let prod = serve(recording_upstream("production").0).await.unwrap();
    let mut cfg = config(&prod.url(), None);
    cfg.mirror.methods = vec!["GET".into(), "POST".into()];
    cfg.capture.path = Some(format!("nats://{SHARED}/{subject}").into());
    let shadow = start(cfg).await;
    let c = client();
    wait_for_metric(&c, &shadow, "prodlike_shadow_capture_connected 1").await;
    traffic_with_pii(&c, &shadow, 0, 40).await;
    let report = shadow.shutdown().await;
    let t = &report.totals;
    assert_eq!(t.capture_records, 40);
    assert_eq!(
        t.capture_stored, 40,
        "dropped: {:?}",
        t.capture_dropped_reasons
    );
    assert_eq!(t.capture_dropped, 0);

    // One header record and one message per exchange; every message carries the metadata.
    let raw = guard.raw_messages();
    assert_eq!(raw.len(), 41);
    let first: serde_json::Value = serde_json::from_slice(&raw[0].0).unwrap();
    assert_eq!(first["type"], "header");
    assert_eq!(first["masked"], true);
    for (payload, headers) in &raw {
        let h = |k: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            h("Prodlike-Capture-Format").as_deref(),
            Some("prodlike-capture")
        );
        assert_eq!(h("Prodlike-Capture-Version").as_deref(), Some("2"));
        assert_eq!(h("Prodlike-Masked").as_deref(), Some("true"));
        assert!(h("Prodlike-Mask-Rules-Digest").is_some());
        assert!(h("Prodlike-Mask-Key-Fingerprint").is_some());
        let text = String::from_utf8_lossy(payload);
        assert!(
            !text.contains("jane.doe"),
            "personal data in the stream: {text}"
        );
    }

    let exchanges = read_back(SHARED, &stream);
    assert_eq!(exchanges.len(), 40);
    assert!(exchanges.iter().all(|e| e.masked));
    let mut ids: Vec<u64> = exchanges.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40, "every record once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_outage_costs_counted_records_never_a_response() {
    let Some(mut nats) = PrivateNats::start() else {
        return;
    };
    let subject = "prodlike.outage";
    let stream = "PRODLIKE_OUTAGE";
    let prod = serve(recording_upstream("production").0).await.unwrap();
    let mut cfg = config(&prod.url(), None);
    cfg.mirror.methods = vec!["GET".into(), "POST".into()];
    cfg.capture.path = Some(format!("nats://{}/{subject}", nats.server()).into());
    cfg.capture.nats.ack_timeout = Duration::from_secs(1);
    let shadow = start(cfg).await;
    let c = client();
    wait_for_metric(&c, &shadow, "prodlike_shadow_capture_connected 1").await;
    traffic_with_pii(&c, &shadow, 0, 30).await;
    wait_for_metric(&c, &shadow, "prodlike_shadow_capture_stored_total 30").await;

    // The outage: production keeps answering, the records are counted as dropped.
    nats.kill();
    wait_for_metric(&c, &shadow, "prodlike_shadow_capture_connected 0").await;
    traffic_with_pii(&c, &shadow, 30, 30).await;
    let during = shadow.report().totals;
    assert_eq!(during.requests, 60, "production served everything");
    assert_eq!(during.capture_stored, 30);

    // Back on the same port and store: the sink reconnects and records flow again.
    assert!(nats.restart(), "the private nats-server did not restart");
    wait_for_metric(&c, &shadow, "prodlike_shadow_capture_connected 1").await;
    let restarted_at_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    traffic_with_pii(&c, &shadow, 60, 30).await;
    let report = shadow.shutdown().await;
    let t = &report.totals;
    assert_eq!(t.requests, 90);
    assert_eq!(t.capture_records, 90);
    assert_eq!(
        t.capture_stored + t.capture_dropped,
        90,
        "every record stored or counted: {t:?}"
    );
    assert_eq!(t.capture_stored, 60, "{:?}", t.capture_dropped_reasons);
    assert_eq!(t.capture_dropped_reasons["disconnected"], 30);
    let exchanges = read_back(&nats.server(), stream);
    eprintln!(
        "outage: requests {} (all answered 200), capture records {}, stored {}, dropped {} {:?}, read back {}",
        t.requests,
        t.capture_records,
        t.capture_stored,
        t.capture_dropped,
        t.capture_dropped_reasons,
        exchanges.len()
    );
    assert_eq!(exchanges.len(), 60);
    let after_restart = exchanges
        .iter()
        .filter(|e| e.ts_us >= restarted_at_us)
        .count();
    assert_eq!(
        after_restart, 30,
        "the records sent after the restart arrived"
    );
}
