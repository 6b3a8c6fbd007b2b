//! Demo stage: shadow. Two replicas of a sample production API and a staging copy with planted
//! differences (one route 40 ms slower, one with an extra field, one failing) behind `prodlike
//! shadow`; every answer also carries a fresh request id and timestamp, which the noise probe
//! (production against itself) learns as noise. Emails are masked in the copies; a burst of
//! traffic, and the divergence it finds.
use std::time::Duration;

use anyhow::Context as _;
use prodlike_mask::{JsonRule, MaskKey, QueryRule, Transform};
use prodlike_report::{CommandResult, Outcome, now_rfc3339};
use prodlike_shadow::config::ProbeMode;
use prodlike_shadow::{ShadowConfig, StartOptions};
use prodlike_testkit::services::{Flavour, sample_api, serve, with_volatile_fields};
use prodlike_testkit::traffic::{Call, drive};

use super::Context;

/// A fixed key is fine for the demo's synthetic data; real runs read `PRODLIKE_MASK_KEY`.
const DEMO_KEY: &[u8] = b"prodlike-demo-key-not-for-production";

fn burst() -> Vec<Call> {
    let mut calls = Vec::new();
    for i in 0..120u32 {
        calls.push(Call::get("/api/items"));
        calls.push(Call::get(format!("/api/items/{}", i % 40)));
        calls.push(Call::get(format!("/api/users/{}", i % 25)));
        calls.push(Call::get(format!(
            "/api/search?q=kettle&email=user{}%40example.com",
            i % 25
        )));
        if i % 4 == 0 {
            calls.push(Call::get("/api/checkout"));
        }
    }
    calls
}

pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    println!("== shadow: mirroring production traffic to staging");
    let production = serve(with_volatile_fields(sample_api(Flavour::Production)))
        .await
        .context("starting the sample production API")?;
    let replica = serve(with_volatile_fields(sample_api(Flavour::Production)))
        .await
        .context("starting the second production replica")?;
    let staging = serve(with_volatile_fields(sample_api(
        Flavour::StagingWithDifferences,
    )))
    .await
    .context("starting the sample staging API")?;
    let capture = ctx.out_dir.join("shadow-capture.jsonl");
    let mut cfg = ShadowConfig {
        listen: "127.0.0.1:0".into(),
        admin: Some("127.0.0.1:0".into()),
        ..ShadowConfig::default()
    };
    cfg.production.upstreams = vec![production.url(), replica.url()];
    // Production against itself on a quarter of the copies, at most 100 extra requests a
    // second: what differs there is noise.
    cfg.noise.probe = ProbeMode::Production;
    cfg.noise.probe_share = 0.25;
    cfg.noise.probe_max_per_second = 100.0;
    cfg.mirror.staging = Some(staging.url());
    cfg.mirror.sample = 1.0;
    cfg.capture.path = Some(capture.clone());
    cfg.mask.json = vec![JsonRule::key("email", Transform::from_name("email")?)];
    cfg.mask.query = vec![QueryRule::new("email", Transform::from_name("email")?)];
    cfg.compare.ignore = vec![];

    let started = now_rfc3339();
    let shadow = prodlike_shadow::start(
        cfg,
        StartOptions {
            skip_upstream_check: false,
            mask_key: Some(MaskKey::from_secret(DEMO_KEY)?),
        },
        &tokio::runtime::Handle::current(),
    )
    .await?;
    let admin = shadow
        .admin_addr
        .map(|a| format!("http://{a}/"))
        .unwrap_or_default();
    println!(
        "production {} and {}  staging {}  proxy http://{}  dashboard {admin}",
        production.url(),
        replica.url(),
        staging.url(),
        shadow.addr
    );

    let calls = burst();
    let sent = calls.len();
    let answers = drive(&format!("http://{}", shadow.addr), calls, 16).await;
    let ok = answers.get(&200).copied().unwrap_or(0);
    println!("sent {sent} requests through the proxy: {ok} answered 200 by production");
    // Let the last copies come back from staging before reading the report.
    for _ in 0..200 {
        let t = shadow.report().totals;
        if t.compared + t.not_compared.values().sum::<u64>() + t.dropped.values().sum::<u64>()
            >= t.mirrored
            && t.inflight == 0
            && t.queue_depth == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let report = if ctx.serve {
        let r = shadow.report();
        ctx.keep((shadow, production, replica, staging));
        r
    } else {
        shadow.shutdown().await
    };
    println!("{}", indent(&prodlike_shadow::ReportText::to_text(&report)));
    let summary = format!(
        "{} requests, {} compared, {} mismatched",
        report.totals.requests, report.totals.compared, report.totals.mismatched
    );
    let result = CommandResult::new(
        prodlike_shadow::SCHEMA,
        "shadow",
        started,
        Outcome::Success,
        summary,
        &report,
    );
    let out = ctx.out_dir.join("shadow.json");
    result
        .write_to(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    if ctx.serve {
        println!("dashboard: {admin} (kept up until Ctrl-C)");
    } else {
        println!(
            "dashboard was live at {admin} during the run; `prodlike demo --serve` keeps it up"
        );
    }
    println!("capture: {}  result: {}", capture.display(), out.display());
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}
