//! Demo stage: load. A short burst plan (steady, spike, recovery) with Poisson arrivals against
//! the in-process sample API, thresholds on the spike, and the JSON and HTML reports.
use std::time::Duration;

use anyhow::Context as _;
use prodlike_load::{RunOptions, StopHandle};
use prodlike_report::{CommandResult, Outcome, now_rfc3339};
use prodlike_testkit::services::{Flavour, sample_api, serve};

use super::Context;

pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    println!("\n== load: a burst against the sample API ==");
    let api = serve(sample_api(Flavour::Production))
        .await
        .context("starting the sample API")?;
    let opts = RunOptions {
        target: Some(api.url()),
        stages: Some(prodlike_load::stages::parse_stages(
            "steady=1s:100,spike=1s:600,recovery=1s:100",
        )?),
        start_rate: Some(100.0),
        poisson: true,
        path: Some("/api/items".into()),
        thresholds: vec!["spike:p99<250ms".into(), "error_rate<0.01".into()],
        seed: Some(7),
        // The demo shares the machine with everything else it runs; keep the self-check lenient.
        max_send_lag: Some(Duration::from_millis(250)),
        graceful_stop: Some(Duration::from_secs(2)),
        ..Default::default()
    };
    let prepared = prodlike_load::prepare(&opts)?;
    let started = now_rfc3339();
    let result = prepared.run(StopHandle::new(), false).await?;
    print!("{}", prodlike_load::summary::render_text(&result));
    let outcome = if result.breached() > 0 {
        Outcome::Finding
    } else {
        Outcome::Success
    };
    let json = ctx.out_dir.join("load.json");
    CommandResult::new(
        prodlike_load::SCHEMA,
        "load",
        started,
        outcome,
        format!(
            "{} requests, p99 {:.1} ms",
            result.totals.requests, result.totals.latency.p99_ms
        ),
        &result,
    )
    .write_to(&json)?;
    let html = ctx.out_dir.join("load.html");
    std::fs::write(&html, prodlike_load::html::render(&result)?)
        .with_context(|| format!("writing {}", html.display()))?;
    println!("  wrote {} and {}", json.display(), html.display());
    if ctx.serve {
        ctx.keep(api);
    }
    Ok(())
}
