#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Noise told from real differences: a request id and a timestamp differ in every response,
//! production's own included; a price differs only in staging.
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::routing::any;
use common::*;
use prodlike_shadow::config::ProbeMode;
use prodlike_testkit::services::serve;
use serde_json::json;

/// An API whose answers carry a fresh request id and timestamp every time, and a price.
fn api(price: u32, counter: Arc<AtomicU64>) -> Router {
    Router::new().fallback(any(move || {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        async move {
            let id = format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                fastrand::u32(..),
                fastrand::u16(..),
                fastrand::u16(..0x1000),
                fastrand::u16(..0x1000),
                fastrand::u64(..1 << 48)
            );
            // A timestamp that moves with every response, as a clock would.
            let served_at = format!("2026-12-04T10:{:02}:{:02}.{:06}Z", (n / 60) % 60, n % 60, n);
            axum::Json(
                json!({"request_id": id, "served_at": served_at, "sku": "A-1", "price": price}),
            )
        }
    }))
}

/// Counts below are exact only when every copy is compared: on a loaded machine a staging
/// answer may take longer than the common config's 800 ms, and this test is about noise, not
/// deadlines, so it waits as long as it takes.
fn patient(mut cfg: prodlike_shadow::ShadowConfig) -> prodlike_shadow::ShadowConfig {
    cfg.mirror.timeout = std::time::Duration::from_secs(60);
    cfg.mirror.connect_timeout = std::time::Duration::from_secs(30);
    cfg
}

fn route_noise(report: &prodlike_shadow::ShadowReport) -> serde_json::Value {
    let r = &report.routes[0];
    serde_json::to_value(&r.noise).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_learns_ids_and_timestamps_as_noise_and_keeps_the_real_difference() {
    let clock = Arc::new(AtomicU64::new(0));
    let prod_a = serve(api(10, clock.clone())).await.unwrap();
    let prod_b = serve(api(10, clock.clone())).await.unwrap();
    let staging = serve(api(12, clock.clone())).await.unwrap();
    let mut cfg = patient(config(&prod_a.url(), Some(&staging.url())));
    cfg.production.upstreams.push(prod_b.url());
    cfg.noise.probe = ProbeMode::Production;
    cfg.noise.probe_share = 1.0;
    cfg.noise.probe_max_per_second = 10_000.0;
    let shadow = start(cfg).await;
    let c = client();
    for i in 0..300 {
        let r = get(&c, &format!("http://{}/api/items/{i}", shadow.addr)).await;
        assert_eq!(r.status, 200);
    }
    let report = shadow.shutdown().await;
    let route = &report.routes[0];
    let noise = route_noise(&report);
    let learned: Vec<&str> = noise
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["source"] == "probe")
        .map(|n| n["path"].as_str().unwrap())
        .collect();
    assert!(
        learned.contains(&"/request_id") && learned.contains(&"/served_at"),
        "{noise}"
    );
    assert!(!learned.contains(&"/price"), "{noise}");
    // The real difference is still reported on every exchange.
    assert_eq!(route.mismatched, 300, "{route:?}");
    assert_eq!(route.differing_paths.get("/price"), Some(&300));
    // Mismatches recorded while the noise was still being learned were counted again once it
    // was: no noise path is left among the differences.
    assert!(
        !route.differing_paths.contains_key("/request_id")
            && !route.differing_paths.contains_key("/served_at"),
        "{:?}",
        route.differing_paths
    );
    assert!(route.noise_probes >= 290, "probes: {}", route.noise_probes);
    let excluded: u64 = noise
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["path"] == "/request_id")
        .map(|n| n["excluded_diffs"].as_u64().unwrap())
        .sum();
    assert!(excluded >= 290, "{noise}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_probe_ids_and_timestamps_are_suggested_with_their_rules() {
    for auto_ignore in [false, true] {
        let clock = Arc::new(AtomicU64::new(0));
        let prod = serve(api(10, clock.clone())).await.unwrap();
        let staging = serve(api(12, clock.clone())).await.unwrap();
        let mut cfg = patient(config(&prod.url(), Some(&staging.url())));
        cfg.noise.auto_ignore = auto_ignore;
        let shadow = start(cfg).await;
        let c = client();
        for i in 0..60 {
            get(&c, &format!("http://{}/api/items/{i}", shadow.addr)).await;
        }
        let report = shadow.shutdown().await;
        let noise = route_noise(&report);
        let suggested: Vec<(String, String, bool, String)> = noise
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["path"].as_str().unwrap().to_string(),
                    n["shape"].as_str().unwrap_or("").to_string(),
                    n["ignored"].as_bool().unwrap(),
                    n["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let find = |p: &str| suggested.iter().find(|s| s.0 == p).cloned();
        let id = find("/request_id").unwrap_or_else(|| panic!("{noise}"));
        assert_eq!(id.1, "uuid");
        assert_eq!(id.2, auto_ignore);
        assert_eq!(id.3, "[compare] ignore = [\"/request_id\"]");
        assert_eq!(find("/served_at").unwrap().1, "timestamp");
        assert!(find("/price").is_none(), "{noise}");
        // Hidden from the verdict only when asked; the price is a real difference either way.
        let route = &report.routes[0];
        assert_eq!(route.differing_paths.get("/price"), Some(&60));
        let ids = route
            .differing_paths
            .get("/request_id")
            .copied()
            .unwrap_or(0);
        if auto_ignore {
            assert!(ids < 60, "{:?}", route.differing_paths);
        } else {
            assert_eq!(ids, 60);
        }
    }
}
