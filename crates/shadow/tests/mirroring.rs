#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::{Method, StatusCode};
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, StreamBody};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prodlike_capture::{CaptureReader, rotated_files};
use prodlike_shadow::config::{RouteRule, StickyConfig};
use prodlike_testkit::services::{
    Fault, Flavour, faulty_upstream, recording_upstream, sample_api, serve,
};

/// The mixed traffic the fault tests send: reads, a query, and an opted-in POST with a body.
fn traffic() -> Vec<(Method, String, Bytes)> {
    let mut v = Vec::new();
    for i in 0..8 {
        v.push((Method::GET, format!("/api/items/{i}"), Bytes::new()));
        v.push((Method::GET, format!("/api/users/{i}"), Bytes::new()));
        v.push((
            Method::GET,
            format!("/api/search?q=kettle{i}"),
            Bytes::new(),
        ));
        v.push((
            Method::POST,
            "/api/orders".into(),
            Bytes::from(format!(r#"{{"item":{i},"qty":2}}"#)),
        ));
    }
    v
}

fn post_orders_opt_in() -> Vec<RouteRule> {
    vec![RouteRule {
        pattern: "/api/orders".into(),
        mirror: true,
        methods: Some(vec!["POST".into()]),
        sample: None,
    }]
}

/// Whatever staging does, the client gets exactly what production answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_staging_never_changes_a_production_response() {
    let prod = serve(sample_api(Flavour::Production)).await.unwrap();
    let c = client();
    for fault in [
        Fault::Hang,
        Fault::Reset,
        Fault::Garbage,
        Fault::Slow(Duration::from_secs(3)),
    ] {
        let staging = faulty_upstream(fault).await.unwrap();
        let mut cfg = config(&prod.url(), Some(&staging.url()));
        cfg.mirror.timeout = Duration::from_millis(300);
        cfg.routes = post_orders_opt_in();
        let shadow = start(cfg).await;
        let mut sent = 0u64;
        for (method, path, body) in traffic() {
            let headers = [("content-type", "application/json")];
            let via_proxy = send(
                &c,
                method.clone(),
                &format!("http://{}{path}", shadow.addr),
                &headers,
                body.clone(),
            )
            .await;
            let direct = send(
                &c,
                method.clone(),
                &format!("{}{path}", prod.url()),
                &headers,
                body,
            )
            .await;
            assert_eq!(via_proxy.status, direct.status, "{fault:?} {method} {path}");
            assert_eq!(via_proxy.body, direct.body, "{fault:?} {method} {path}");
            assert_eq!(
                via_proxy.headers.get("content-type"),
                direct.headers.get("content-type")
            );
            sent += 1;
        }
        let report = shadow.shutdown().await;
        let t = &report.totals;
        assert_eq!(t.requests, sent);
        assert_eq!(t.compared, 0, "{fault:?}: staging never answered properly");
        let failures = t.dropped["staging_error"] + t.dropped["timeout"];
        let circuit = t.dropped["circuit_open"];
        assert!(failures > 0, "{fault:?}: {t:?}");
        // Every copy is accounted for: sent and failed, or stopped by the open circuit.
        assert_eq!(t.mirrored, failures, "{fault:?}: {t:?}");
        assert_eq!(t.mirrored + circuit, sent, "{fault:?}: {t:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_counts_its_drops_and_memory_stays_bounded() {
    let (router, recorder) = recording_upstream("prod");
    let prod = serve(router).await.unwrap();
    let staging = faulty_upstream(Fault::Hang).await.unwrap();
    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.mirror.queue_capacity = 4;
    cfg.mirror.concurrency = 1;
    cfg.mirror.timeout = Duration::from_millis(1500);
    cfg.mirror.circuit.consecutive_failures = 0;
    cfg.normalise.max_routes = 20;
    let shadow = start(cfg).await;
    let c = client();
    let mut max_depth = 0;
    for i in 0..300 {
        // 300 distinct routes: the route table must stop at 20 plus `{other}`.
        let reply = get(&c, &format!("http://{}/p/x{i}", shadow.addr)).await;
        assert_eq!(reply.status, StatusCode::OK);
        let t = shadow.report().totals;
        max_depth = max_depth.max(t.queue_depth);
    }
    assert_eq!(recorder.len(), 300);
    let report = shadow.shutdown().await;
    let t = &report.totals;
    assert!(
        max_depth <= 4,
        "queue depth {max_depth} exceeded its capacity"
    );
    assert_eq!(t.queue_capacity, 4);
    assert!(t.dropped["queue_full"] >= 290, "{t:?}");
    assert_eq!(t.mirrored + t.dropped["queue_full"], 300, "{t:?}");
    assert_eq!(
        t.dropped["timeout"], t.mirrored,
        "every hung copy timed out: {t:?}"
    );
    assert!(
        report.routes.len() <= 21,
        "{} routes kept",
        report.routes.len()
    );
    let other = report
        .routes
        .iter()
        .find(|r| r.route == "{other}")
        .expect("overflow route");
    assert_eq!(other.requests, 280, "routes past the 20th share one entry");
}

type StreamClient =
    Client<hyper_util::client::legacy::connect::HttpConnector, BoxBody<Bytes, Infallible>>;

async fn upload(c: &StreamClient, url: &str, data: &Bytes, chunked: bool) -> StatusCode {
    let body: BoxBody<Bytes, Infallible> = if chunked {
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = data
            .chunks(64 * 1024)
            .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
            .collect();
        StreamBody::new(futures_util::stream::iter(frames)).boxed()
    } else {
        http_body_util::Full::new(data.clone()).boxed()
    };
    let req = http::Request::post(url)
        .header("content-type", "application/octet-stream")
        .body(body)
        .unwrap();
    let resp = c.request(req).await.unwrap();
    let status = resp.status();
    let _ = resp.into_body().collect().await.unwrap();
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mib_upload_reaches_production_intact_and_its_mirror_is_skipped() {
    let (prod_router, prod_rec) = recording_upstream("prod");
    let (staging_router, staging_rec) = recording_upstream("staging");
    let prod = serve(prod_router).await.unwrap();
    let staging = serve(staging_router).await.unwrap();
    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.routes = vec![RouteRule {
        pattern: "/upload".into(),
        mirror: true,
        methods: Some(vec!["POST".into()]),
        sample: None,
    }];
    let shadow = start(cfg).await;
    let data: Bytes = (0..10 * 1024 * 1024)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect::<Vec<u8>>()
        .into();
    let c: StreamClient = Client::builder(TokioExecutor::new()).build_http();
    let url = format!("http://{}/upload", shadow.addr);
    assert_eq!(upload(&c, &url, &data, false).await, StatusCode::OK);
    assert_eq!(upload(&c, &url, &data, true).await, StatusCode::OK);
    // A small upload on the same route is mirrored, so the route is live.
    let small = Bytes::from_static(b"small body");
    assert_eq!(upload(&c, &url, &small, true).await, StatusCode::OK);
    let report = shadow.shutdown().await;

    let got = prod_rec.requests();
    assert_eq!(got.len(), 3);
    for r in &got[..2] {
        assert_eq!(r.body.len(), data.len());
        assert_eq!(
            blake3::hash(&r.body),
            blake3::hash(&data),
            "production received the upload intact"
        );
    }
    let mirrored = staging_rec.requests();
    assert_eq!(mirrored.len(), 1, "only the small upload is mirrored");
    assert_eq!(mirrored[0].body, small);
    assert_eq!(
        report.totals.dropped["body_too_large"], 2,
        "{:?}",
        report.totals
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_differences_are_found_per_route() {
    let prod = serve(sample_api(Flavour::Production)).await.unwrap();
    let staging = serve(sample_api(Flavour::StagingWithDifferences))
        .await
        .unwrap();
    let shadow = start(config(&prod.url(), Some(&staging.url()))).await;
    let c = client();
    for i in 1..=10 {
        for path in [
            format!("/api/items/{i}"),
            format!("/api/users/{i}"),
            "/api/checkout".into(),
            "/api/items".into(),
        ] {
            assert_eq!(
                get(&c, &format!("http://{}{path}", shadow.addr))
                    .await
                    .status,
                StatusCode::OK
            );
        }
    }
    let report = shadow.shutdown().await;
    let route = |name: &str| {
        report
            .routes
            .iter()
            .find(|r| r.route == name)
            .unwrap_or_else(|| panic!("{name} missing: {report:?}"))
    };

    let users = route("/api/users/{id}");
    assert_eq!(
        (users.compared, users.mismatched, users.body_diffs),
        (10, 10, 10)
    );
    assert_eq!(users.differing_paths.get("/beta_features"), Some(&10));
    let ex = &users.examples[0];
    assert_eq!(ex.body[0].path, "/beta_features");
    assert_eq!(ex.body[0].staging.as_deref(), Some("[\"new-checkout\"]"));

    let checkout = route("/api/checkout");
    assert_eq!((checkout.compared, checkout.status_diffs), (10, 10));
    assert_eq!(checkout.examples[0].staging_status, 500);

    let items = route("/api/items/{id}");
    assert_eq!((items.compared, items.mismatched), (10, 0));
    // Every comparison recorded both latencies (how long they were is a benchmark's business).
    assert_eq!(
        items.staging_latency_ms.count, 10,
        "{:?}",
        items.staging_latency_ms
    );
    assert_eq!(items.production_latency_ms.count, 10);
    assert_eq!(route("/api/items").mismatched, 0);
    assert_eq!(report.routes[0].mismatch_rate, 1.0, "worst routes first");
    assert_eq!(report.totals.mirrored, 40);
    assert_eq!(report.totals.compared, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_are_marked_and_credentials_dropped_or_replaced() {
    let prod = serve(sample_api(Flavour::Production)).await.unwrap();
    let (staging_router, staging_rec) = recording_upstream("staging");
    let staging = serve(staging_router).await.unwrap();
    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.mirror.host = "staging.internal".into();
    cfg.mirror
        .set_headers
        .insert("x-api-key".into(), "staging-key".into());
    let shadow = start(cfg).await;
    let reply = send(
        &client(),
        Method::GET,
        &format!("http://{}/api/items/1", shadow.addr),
        &[
            ("authorization", "Bearer prod-secret"),
            ("cookie", "sid=abc"),
            ("x-api-key", "prod-key"),
            ("x-trace", "t1"),
        ],
        Bytes::new(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    shadow.shutdown().await;
    let copies = staging_rec.requests();
    assert_eq!(copies.len(), 1);
    let h = &copies[0].headers;
    assert_eq!(h["x-prodlike-shadow"], "1");
    assert_eq!(h["host"], "staging.internal");
    assert_eq!(h["x-api-key"], "staging-key");
    assert_eq!(h["x-trace"], "t1");
    assert!(h.get("authorization").is_none() && h.get("cookie").is_none());
    assert_eq!(copies[0].uri, "/api/items/1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sticky_sampling_mirrors_whole_sessions_or_none() {
    let prod = serve(sample_api(Flavour::Production)).await.unwrap();
    let (staging_router, staging_rec) = recording_upstream("staging");
    let staging = serve(staging_router).await.unwrap();
    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.mirror.sample = 0.3;
    cfg.mirror.sticky = Some(StickyConfig {
        key: "header:x-user".into(),
        seed: "test".into(),
        missing_key: "skip".into(),
    });
    let shadow = start(cfg).await;
    let c = client();
    for user in 0..60 {
        for path in [
            "/api/items",
            "/api/items/2",
            "/api/users/3",
            "/api/search?q=x",
        ] {
            let u = format!("user-{user}");
            send(
                &c,
                Method::GET,
                &format!("http://{}{path}", shadow.addr),
                &[("x-user", &u)],
                Bytes::new(),
            )
            .await;
        }
    }
    shadow.shutdown().await;
    let mut per_user = std::collections::HashMap::<String, usize>::new();
    for r in staging_rec.requests() {
        *per_user
            .entry(r.headers["x-user"].to_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert!(
        !per_user.is_empty() && per_user.len() < 60,
        "{} of 60 users mirrored",
        per_user.len()
    );
    for (user, n) in per_user {
        assert_eq!(n, 4, "{user}: a session is mirrored whole");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_hold_every_sampled_exchange_with_both_responses() {
    let prod = serve(sample_api(Flavour::Production)).await.unwrap();
    let staging = serve(sample_api(Flavour::StagingWithDifferences))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traffic.jsonl");
    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.capture.path = Some(path.clone());
    let shadow = start(cfg).await;
    let c = client();
    for i in 0..25 {
        get(
            &c,
            &format!("http://{}/api/users/{i}?src=test", shadow.addr),
        )
        .await;
    }
    let report = shadow.shutdown().await;
    let files = rotated_files(&path);
    assert_eq!(files.len(), 1);
    let mut reader = CaptureReader::open(&files[0]).unwrap();
    let exchanges: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(reader.stats().skipped, 0);
    assert_eq!(exchanges.len(), 25);
    assert_eq!(report.totals.capture_records, 25);
    let e = exchanges
        .iter()
        .find(|e| e.request.target == "/api/users/7?src=test")
        .unwrap();
    assert_eq!(e.route, "/api/users/{id}");
    assert_eq!(e.request.method, "GET");
    let p = e.production.as_ref().unwrap();
    let s = e.staging.as_ref().unwrap();
    assert_eq!((p.status, s.status), (200, 200));
    let staging_body = String::from_utf8(s.body.as_ref().unwrap().to_bytes().unwrap()).unwrap();
    assert!(staging_body.contains("beta_features"));
    assert!(e.ts_us > 1_600_000_000_000_000);
    assert!(p.latency_us > 0 && s.latency_us > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_staging_sampled_traffic_is_still_captured() {
    let prod = serve(sample_api(Flavour::Production)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("only-prod.jsonl");
    let mut cfg = config(&prod.url(), None);
    cfg.mirror.sample = 1.0;
    cfg.capture.path = Some(path.clone());
    let shadow = start(cfg).await;
    for i in 0..5 {
        get(&client(), &format!("http://{}/api/items/{i}", shadow.addr)).await;
    }
    let report = shadow.shutdown().await;
    assert_eq!(report.totals.mirrored, 0);
    let got: Vec<_> = CaptureReader::open(&path)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got.len(), 5);
    assert!(
        got.iter()
            .all(|e| e.staging.is_none() && e.production.as_ref().unwrap().status == 200)
    );
}
