#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;
use http::StatusCode;
use prodlike_testkit::browser::Chromium;
use prodlike_testkit::require;
use prodlike_testkit::services::{Flavour, sample_api, serve};

async fn with_planted_differences() -> (
    prodlike_shadow::RunningShadow,
    Vec<prodlike_testkit::services::RunningService>,
) {
    let prod = serve(sample_api(Flavour::Production)).await.unwrap();
    let staging = serve(sample_api(Flavour::StagingWithDifferences))
        .await
        .unwrap();
    let shadow = start(config(&prod.url(), Some(&staging.url()))).await;
    let c = client();
    for i in 1..=6 {
        for path in [
            format!("/api/users/{i}"),
            "/api/checkout".into(),
            format!("/api/items/{i}"),
        ] {
            get(&c, &format!("http://{}{path}", shadow.addr)).await;
        }
    }
    // Copies are compared asynchronously: wait until all 18 are.
    for _ in 0..500 {
        if shadow.report().totals.compared == 18 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(shadow.report().totals.compared, 18);
    (shadow, vec![prod, staging])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool_and_carry_the_divergence() {
    let (shadow, _services) = with_planted_differences().await;
    let admin = shadow.admin_addr.unwrap();
    let reply = get(&client(), &format!("http://{admin}/metrics")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    for needle in [
        r#"prodlike_shadow_requests_total{env="production",route="/api/users/{id}",status_class="2xx"} 6"#,
        r#"prodlike_shadow_requests_total{env="staging",route="/api/checkout",status_class="5xx"} 6"#,
        r#"prodlike_shadow_diffs_total{route="/api/users/{id}",kind="body"} 6"#,
        r#"prodlike_shadow_diffs_total{route="/api/checkout",kind="status"} 6"#,
        r#"prodlike_shadow_comparisons_total{route="/api/items/{id}",result="match"} 6"#,
        r#"prodlike_shadow_mirror_sent_total 18"#,
        r#"prodlike_shadow_mirror_queue_capacity 1024"#,
        r#"prodlike_shadow_request_duration_seconds_bucket{le="+Inf",env="production",route="/api/items/{id}"} 6"#,
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(text.contains(r#"prodlike_shadow_mirror_dropped_total{reason="queue_full"} 0"#));

    let Some(promtool) = require::promtool() else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    shadow.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_divergence_api() {
    let (shadow, _services) = with_planted_differences().await;
    let admin = shadow.admin_addr.unwrap();
    let health = get(&client(), &format!("http://{admin}/healthz")).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(json(&health.body)["status"], "ok");
    let d = json(
        &get(&client(), &format!("http://{admin}/api/divergence"))
            .await
            .body,
    );
    assert_eq!(d["totals"]["compared"], 18);
    assert_eq!(d["totals"]["mismatched"], 12);
    let routes = d["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 3);
    let users = routes
        .iter()
        .find(|r| r["route"] == "/api/users/{id}")
        .unwrap();
    assert_eq!(users["mismatch_rate"], 1.0);
    assert_eq!(users["examples"][0]["body"][0]["kind"], "added");
    assert!(users["production_latency_ms"]["p99_ms"].as_f64().unwrap() > 0.0);
    shadow.shutdown().await;
}

/// The dashboard renders the live API in a real browser: its script fetched and drew the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_renders_live_divergence_in_headless_chromium() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let (shadow, _services) = with_planted_differences().await;
    let admin = shadow.admin_addr.unwrap();
    let url = format!("http://{admin}/");
    let report = shadow.report();
    // The charts draw the timeline: wait until it holds a couple of points (one a second).
    for _ in 0..100 {
        let tl = json(
            &get(&client(), &format!("http://{admin}/api/timeline"))
                .await
                .body,
        );
        if tl["points"].as_array().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let dom = tokio::task::spawn_blocking({
        let url = url.clone();
        move || chromium.dump_dom(&url, 5000)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        dom.contains(r#"data-loaded="true""#),
        "the page script did not render:\n{dom}"
    );
    // Every route of the API has its row with the API's numbers.
    for r in &report.routes {
        let row_start = dom
            .find(&format!(r#"data-route="{}""#, r.route))
            .unwrap_or_else(|| panic!("no row for {}\n{dom}", r.route));
        let row = &dom[row_start..row_start + dom[row_start..].find("</tr>").unwrap()];
        assert!(
            row.contains(&format!(r#"<td class="mismatched">{}</td>"#, r.mismatched)),
            "{row}"
        );
        assert!(
            row.contains(&format!(
                r#"<td class="compared">{} of {}</td>"#,
                r.compared, r.mirrored
            )),
            "{row}"
        );
    }
    assert!(
        dom.contains(r#"<div class="value" id="compared">18</div>"#),
        "{dom}"
    );
    assert!(
        dom.contains(r#"<div class="value" id="mismatch-rate">66.7%</div>"#),
        "{dom}"
    );
    assert!(dom.contains(r#"data-reason="queue_full""#));
    assert!(
        dom.contains(r#"<div class="sub" id="compared-of">of 18 mirrored</div>"#),
        "{dom}"
    );
    // Verdicts, and the three charts with their series drawn from the timeline.
    assert!(
        dom.contains(r#"class="verdict mismatching""#)
            && dom.contains(r#"class="verdict matching""#)
    );
    for series in [
        "requests/s",
        "mirrored/s",
        "dropped/s",
        "/api/users/{id}",
        "/api/users/{id} noise",
        "production p99",
        "staging p99",
    ] {
        assert!(
            dom.contains(&format!(r#"data-series="{series}""#)),
            "no {series} line:\n{dom}"
        );
    }
    assert!(
        !dom.contains(r#"data-timeline="0""#),
        "the timeline was empty:\n{dom}"
    );
    // Worst route first: both 100% routes come before the matching one.
    let first_items = dom.find(r#"data-route="/api/items/{id}""#).unwrap();
    assert!(dom.find(r#"data-route="/api/users/{id}""#).unwrap() < first_items);

    // A screenshot for people to look at.
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("shadow-dashboard.png");
    let chromium = Chromium::find().unwrap();
    tokio::task::spawn_blocking(move || chromium.screenshot(&url, &shot, 1400, 700, 5000))
        .await
        .unwrap()
        .unwrap();
    shadow.shutdown().await;
}
