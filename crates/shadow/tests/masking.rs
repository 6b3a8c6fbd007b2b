#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use bytes::Bytes;
use common::*;
use http::{Method, StatusCode};
use prodlike_mask::{JsonRule, MaskKey, QueryRule, Transform};
use prodlike_shadow::StartOptions;
use prodlike_shadow::config::RouteRule;
use prodlike_testkit::services::{recording_upstream, serve};

const EMAIL: &str = "alice.secret@corp.example";
const TOKEN: &str = "SECRETTOKEN1234567";
const CARD: &str = "4111111111111111";

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masked_fields_never_appear_in_mirrored_captured_or_reported_bytes() {
    let (prod_router, prod_rec) = recording_upstream("prod");
    let (staging_router, staging_rec) = recording_upstream("staging");
    let prod = serve(prod_router).await.unwrap();
    let staging = serve(staging_router).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("masked.jsonl");

    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.capture.path = Some(capture.clone());
    cfg.routes = vec![RouteRule {
        pattern: "/**".into(),
        mirror: true,
        methods: Some(vec!["GET".into(), "POST".into()]),
        sample: None,
    }];
    cfg.mask.json = vec![
        JsonRule::key("email", Transform::from_name("email").unwrap()),
        JsonRule::path("/payment/card", Transform::from_name("card").unwrap()),
    ];
    cfg.mask.query = vec![
        QueryRule::new("token", Transform::from_name("hash").unwrap()),
        QueryRule::new("email", Transform::from_name("email").unwrap()),
    ];
    let key = MaskKey::from_secret(b"test-key-0123456789abcdef").unwrap();
    let shadow = prodlike_shadow::start(
        cfg,
        StartOptions {
            skip_upstream_check: false,
            mask_key: Some(key),
        },
        &tokio::runtime::Handle::current(),
    )
    .await
    .unwrap();
    let c = client();
    let body = format!(
        r#"{{"user":{{"Email":"{EMAIL}","name":"Alice"}},"payment":{{"card":"{CARD}"}},"items":[1,2]}}"#
    );
    let r = send(
        &c,
        Method::POST,
        &format!("http://{}/api/orders", shadow.addr),
        &[("content-type", "application/json")],
        Bytes::from(body.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        contains(&r.body, EMAIL),
        "production's answer to the client is untouched"
    );
    let form = format!("email={}&note=hi", EMAIL.replace('@', "%40"));
    send(
        &c,
        Method::POST,
        &format!("http://{}/form", shadow.addr),
        &[("content-type", "application/x-www-form-urlencoded")],
        Bytes::from(form),
    )
    .await;
    get(
        &c,
        &format!(
            "http://{}/api/search?token={TOKEN}&email={EMAIL}&q=kettle",
            shadow.addr
        ),
    )
    .await;
    let divergence = get(
        &client(),
        &format!("http://{}/api/divergence", shadow.admin_addr.unwrap()),
    )
    .await;
    let report = shadow.shutdown().await;

    // Production saw the real values.
    let prod_seen = prod_rec.requests();
    assert_eq!(prod_seen.len(), 3);
    assert!(contains(&prod_seen[0].body, EMAIL) && contains(&prod_seen[0].body, CARD));
    assert!(prod_seen[2].uri.contains(TOKEN));

    // Staging saw none of them, anywhere.
    let staged = staging_rec.requests();
    assert_eq!(staged.len(), 3, "{report:?}");
    for r in &staged {
        let mut all = Vec::new();
        all.extend_from_slice(r.uri.as_bytes());
        for (k, v) in &r.headers {
            all.extend_from_slice(k.as_str().as_bytes());
            all.extend_from_slice(v.as_bytes());
        }
        all.extend_from_slice(&r.body);
        for secret in [EMAIL, TOKEN, CARD, "alice.secret%40corp.example"] {
            assert!(
                !contains(&all, secret),
                "{secret} reached staging in {} {}",
                r.method,
                r.uri
            );
        }
    }
    // The masked body is still JSON of the same shape, with a realistic masked email and a
    // card that still passes the Luhn check.
    let by_uri = |prefix: &str| staged.iter().find(|r| r.uri.starts_with(prefix)).unwrap();
    let masked: serde_json::Value = serde_json::from_slice(&by_uri("/api/orders").body).unwrap();
    let masked_email = masked["user"]["Email"].as_str().unwrap();
    assert!(masked_email.contains('@') && masked_email != EMAIL);
    let masked_card = masked["payment"]["card"].as_str().unwrap();
    assert_eq!(masked_card.len(), 16);
    assert!(prodlike_mask::luhn_valid(masked_card));
    assert_eq!(masked["items"], serde_json::json!([1, 2]));
    assert!(by_uri("/api/search").uri.ends_with("&q=kettle"));
    let form = String::from_utf8(by_uri("/form").body.to_vec()).unwrap();
    assert!(
        form.starts_with("email=") && form.ends_with("&note=hi"),
        "{form}"
    );

    // Neither the capture nor the divergence API hold them either (production's response
    // echoed the raw email; it is masked before it is written or shown).
    let captured = std::fs::read(&capture).unwrap();
    assert!(captured.len() > 100);
    for secret in [EMAIL, TOKEN, CARD] {
        assert!(
            !contains(&captured, secret),
            "{secret} in the capture: {}",
            String::from_utf8_lossy(&captured)
                .lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            !contains(&divergence.body, secret),
            "{secret} in /api/divergence"
        );
        assert!(
            !contains(serde_json::to_string(&report).unwrap().as_bytes(), secret),
            "{secret} in the report"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_claims_json_but_cannot_be_masked_is_not_mirrored() {
    let (prod_router, prod_rec) = recording_upstream("prod");
    let (staging_router, staging_rec) = recording_upstream("staging");
    let prod = serve(prod_router).await.unwrap();
    let staging = serve(staging_router).await.unwrap();
    let mut cfg = config(&prod.url(), Some(&staging.url()));
    cfg.routes = vec![RouteRule {
        pattern: "/**".into(),
        mirror: true,
        methods: Some(vec!["POST".into()]),
        sample: None,
    }];
    cfg.mask.json = vec![JsonRule::key(
        "email",
        Transform::from_name("email").unwrap(),
    )];
    let key = MaskKey::from_secret(b"test-key-0123456789abcdef").unwrap();
    let shadow = prodlike_shadow::start(
        cfg,
        StartOptions {
            skip_upstream_check: false,
            mask_key: Some(key),
        },
        &tokio::runtime::Handle::current(),
    )
    .await
    .unwrap();
    let broken = format!(r#"{{"email":"{EMAIL}", oops"#);
    let r = send(
        &client(),
        Method::POST,
        &format!("http://{}/x", shadow.addr),
        &[("content-type", "application/json")],
        Bytes::from(broken),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "production still gets it");
    let report = shadow.shutdown().await;
    assert_eq!(prod_rec.len(), 1);
    assert_eq!(staging_rec.len(), 0);
    assert_eq!(report.totals.dropped["unmaskable_body"], 1);
}
