//! Demo stage: compare. Does staging predict production? The judge of `prodlike compare
//! results` over what the earlier stages measured: the shadow stage's result (production
//! against staging, route by route) and two short load runs of the same schedule, one against
//! the sample production API and one against the staging copy. Both must find the route the
//! demo made 40 ms slower in staging (`/api/items/{id}`).
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use prodlike_compare::results::compare_results;
use prodlike_compare::{CompareSpec, render, report};
use prodlike_load::{RunOptions, StopHandle};
use prodlike_report::{CommandResult, Outcome, now_rfc3339};
use prodlike_results::compare::{CompareReport, Verdict};
use prodlike_testkit::services::{Flavour, sample_api, serve};

use super::Context;

/// The route the shadow stage's staging answers 40 ms late.
const SLOW_ROUTE: &str = "/api/items/{id}";

pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    println!("\n== compare: does staging predict production? ==");
    let spec = CompareSpec::default();

    let shadow = ctx.out_dir.join("shadow.json");
    let from_shadow = judge(&[shadow], &spec, &ctx.out_dir.join("compare-shadow.json"))?;
    say_found(&from_shadow, SLOW_ROUTE, "the shadow stage's result");

    let baseline = load_run(ctx, Flavour::Production, "compare-load-production.json").await?;
    let candidate = load_run(
        ctx,
        Flavour::StagingWithDifferences,
        "compare-load-staging.json",
    )
    .await?;
    let from_load = judge(
        &[baseline, candidate],
        &spec,
        &ctx.out_dir.join("compare-load.json"),
    )?;
    say_found(&from_load, "/api/items/7", "two load runs");
    Ok(())
}

/// Judges result files as `prodlike compare results` does, prints the text report and writes
/// the `prodlike.compare/1` envelope.
fn judge(files: &[PathBuf], spec: &CompareSpec, out: &Path) -> anyhow::Result<CompareReport> {
    let compared = compare_results(files, spec).context("comparing results")?;
    print!("{}", indent(&render::text(&compared, "ms")));
    let envelope = report::envelope(compared, "compare results", now_rfc3339());
    envelope
        .write_to(out)
        .with_context(|| format!("writing {}", out.display()))?;
    println!("  wrote {}", out.display());
    Ok(envelope.data)
}

/// One short load run of a fixed schedule against a sample API, written as a load result.
async fn load_run(ctx: &Context, flavour: Flavour, name: &str) -> anyhow::Result<PathBuf> {
    let api = serve(sample_api(flavour))
        .await
        .context("starting a sample API for the load runs")?;
    let opts = RunOptions {
        target: Some(api.url()),
        rate: Some(100.0),
        duration: Some(Duration::from_secs(2)),
        path: Some("/api/items/7".into()),
        seed: Some(11),
        max_send_lag: Some(Duration::from_millis(250)),
        graceful_stop: Some(Duration::from_secs(2)),
        ..Default::default()
    };
    let started = now_rfc3339();
    let result = prodlike_load::prepare(&opts)?
        .run(StopHandle::new(), false)
        .await?;
    let path = ctx.out_dir.join(name);
    CommandResult::new(
        prodlike_load::SCHEMA,
        "load",
        started,
        Outcome::Success,
        format!("{} requests", result.totals.requests),
        &result,
    )
    .write_to(&path)?;
    Ok(path)
}

/// Says whether the planted slow route came out diverged, in words a reader checks.
fn say_found(r: &CompareReport, route: &str, from: &str) {
    let diverged = r.routes.iter().any(|c| {
        c.route.ends_with(route)
            && c.comparisons
                .iter()
                .any(|m| m.judgement.verdict == Verdict::Diverged)
    });
    if diverged {
        println!("  found: {route} diverged in {from} (the planted 40 ms)");
    } else {
        println!("  NOT found: {route} did not come out diverged in {from}");
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}
