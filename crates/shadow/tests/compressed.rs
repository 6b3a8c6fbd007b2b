#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Compressed traffic is compared like plain traffic: bodies are decoded (gzip, br, zstd)
//! before the structural diff, decompression bombs are cut off and counted, and a route whose
//! bodies could not be compared is never shown as matching.
mod common;

use std::io::Write;

use axum::Router;
use axum::routing::{any, get as get_route};
use bytes::Bytes;
use common::*;
use http::Method;
use prodlike_shadow::config::RouteRule;
use prodlike_testkit::services::serve;
use serde_json::json;

#[derive(Clone, Copy, Debug)]
enum Coding {
    Gzip,
    Br,
    Zstd,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Br => "br",
            Coding::Zstd => "zstd",
        }
    }

    fn encode(self, data: &[u8]) -> Vec<u8> {
        match self {
            Coding::Gzip => {
                let mut e =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Coding::Br => {
                let mut out = Vec::new();
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                    w.write_all(data).unwrap();
                }
                out
            }
            Coding::Zstd => {
                ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
            }
        }
    }
}

/// An API answering a JSON body encoded with `coding`, whatever the client accepts.
fn encoded_api(coding: Coding, price: u32) -> Router {
    Router::new().fallback(any(move || async move {
        let body = json!({"sku": "A-1", "price": price, "stock": 4}).to_string();
        (
            [
                ("content-type", "application/json"),
                ("content-encoding", coding.name()),
            ],
            coding.encode(body.as_bytes()),
        )
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_differing_inside_compressed_bodies_is_reported_by_path() {
    for coding in [Coding::Gzip, Coding::Br, Coding::Zstd] {
        let prod = serve(encoded_api(coding, 10)).await.unwrap();
        let staging = serve(encoded_api(coding, 12)).await.unwrap();
        let shadow = start(config(&prod.url(), Some(&staging.url()))).await;
        let c = client();
        for _ in 0..5 {
            let r = send(
                &c,
                Method::GET,
                &format!("http://{}/api/items/1", shadow.addr),
                &[("accept-encoding", "gzip, br, zstd")],
                Bytes::new(),
            )
            .await;
            assert_eq!(r.status, 200);
            // Production's answer reaches the client as production sent it: still encoded.
            assert_eq!(r.headers["content-encoding"], coding.name());
        }
        let report = shadow.shutdown().await;
        let route = &report.routes[0];
        assert_eq!(
            (route.compared, route.mismatched),
            (5, 5),
            "{coding:?}: {route:?}"
        );
        assert_eq!(route.differing_paths.get("/price"), Some(&5), "{coding:?}");
        assert_eq!(
            route.differing_paths.len(),
            1,
            "{coding:?}: {:?}",
            route.differing_paths
        );
        let diff = &route.examples[0].body[0];
        assert_eq!(
            (diff.path.as_str(), diff.production.as_deref()),
            ("/price", Some("10"))
        );
        assert!(
            route.not_compared.is_empty(),
            "{coding:?}: {:?}",
            route.not_compared
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decompression_bomb_is_cut_off_counted_and_production_is_unaffected() {
    // 50 MiB of zeros in about 50 KiB of gzip; staging's bomb is of ones, so the two are
    // decoded to be compared rather than found equal byte for byte.
    let bomb = Bytes::from(Coding::Gzip.encode(&vec![0u8; 50 << 20]));
    let other_bomb = Bytes::from(Coding::Gzip.encode(&vec![1u8; 50 << 20]));
    assert!(bomb.len() < 100 << 10);
    let bomb_api = |answer: Bytes| {
        Router::new().route(
            "/bomb",
            get_route(move || {
                let answer = answer.clone();
                async move {
                    (
                        [
                            ("content-type", "application/octet-stream"),
                            ("content-encoding", "gzip"),
                        ],
                        answer,
                    )
                }
            })
            .post(|body: Bytes| async move {
                (http::StatusCode::ACCEPTED, body.len().to_string())
            }),
        )
    };
    let prod = serve(bomb_api(bomb.clone())).await.unwrap();
    let staging = serve(bomb_api(other_bomb)).await.unwrap();
    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.routes = vec![RouteRule {
        pattern: "/**".into(),
        mirror: true,
        methods: Some(vec!["GET".into(), "POST".into()]),
        sample: None,
    }];
    let shadow = start(cfg).await;
    let c = client();
    for _ in 0..3 {
        let r = get(&c, &format!("http://{}/bomb", shadow.addr)).await;
        // Production's bytes arrive whole and untouched.
        assert_eq!(r.body, bomb);
    }
    // A request body that is a bomb is not mirrored.
    let r = send(
        &c,
        Method::POST,
        &format!("http://{}/bomb", shadow.addr),
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
        bomb.clone(),
    )
    .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        r.body,
        bomb.len().to_string(),
        "production read the whole request"
    );
    let report = shadow.shutdown().await;
    let route = &report.routes[0];
    assert_eq!(route.compared, 0, "{route:?}");
    assert_eq!(
        route.not_compared.get("decoded_too_large"),
        Some(&3),
        "{route:?}"
    );
    assert_eq!(
        report.totals.dropped.get("decoded_too_large"),
        Some(&1),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_whose_bodies_were_never_compared_has_no_verdict() {
    let big = Router::new().fallback(any(|| async {
        axum::Json(json!({"data": "x".repeat(200)}))
    }));
    let prod = serve(big.clone()).await.unwrap();
    let staging = serve(big).await.unwrap();
    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.compare.max_body = 64;
    let shadow = start(cfg).await;
    let c = client();
    for i in 0..6 {
        get(&c, &format!("http://{}/big/{i}", shadow.addr)).await;
    }
    let report = shadow.shutdown().await;
    let route = &report.routes[0];
    assert_eq!((route.mirrored, route.compared), (6, 0), "{route:?}");
    assert_eq!(route.not_compared.get("too_large"), Some(&6));
    assert_eq!(
        serde_json::to_value(route.verdict).unwrap(),
        json!("not_compared")
    );
    assert_eq!(report.totals.routes_not_compared, 1);
    let text = prodlike_shadow::ReportText::to_text(&report);
    assert!(
        text.contains("0 of 6") && text.contains("not compared"),
        "{text}"
    );
    assert!(
        !text.contains("0.0%"),
        "a route with nothing compared shows no rate:\n{text}"
    );
}

/// A gzip request body is decoded, masked like a plain one, and mirrored decoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_request_body_is_masked_and_mirrored_decoded() {
    let seen: std::sync::Arc<std::sync::Mutex<Vec<(http::HeaderMap, Bytes)>>> = Default::default();
    let log = seen.clone();
    let staging_api = Router::new().fallback(any(move |req: axum::extract::Request| {
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            log.lock().unwrap().push((parts.headers, bytes));
            axum::Json(json!({"ok": true}))
        }
    }));
    let prod_api = Router::new().fallback(any(|| async { axum::Json(json!({"ok": true})) }));
    let prod = serve(prod_api).await.unwrap();
    let staging = serve(staging_api).await.unwrap();
    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.routes = vec![RouteRule {
        pattern: "/**".into(),
        mirror: true,
        methods: Some(vec!["POST".into()]),
        sample: None,
    }];
    cfg.mask.key_env = "PRODLIKE_TEST_KEY_THAT_IS_NEVER_SET".into();
    let shadow = start(cfg).await;
    let body = json!({"email": "ann.smith@corp.example", "qty": 2}).to_string();
    for coding in [Coding::Gzip, Coding::Br, Coding::Zstd] {
        let r = send(
            &client(),
            Method::POST,
            &format!("http://{}/api/orders", shadow.addr),
            &[
                ("content-type", "application/json"),
                ("content-encoding", coding.name()),
            ],
            Bytes::from(coding.encode(body.as_bytes())),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let report = shadow.shutdown().await;
    assert_eq!(report.totals.dropped.get("unmaskable_body"), Some(&0));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    for (headers, bytes) in seen.iter() {
        assert!(headers.get("content-encoding").is_none());
        let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(v["qty"], 2);
        let email = v["email"].as_str().unwrap();
        assert!(
            email.contains('@') && email != "ann.smith@corp.example",
            "{email}"
        );
    }
}
