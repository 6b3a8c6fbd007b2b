//! Demo stage: report. One fidelity score for the demo's staging from what the other stages
//! wrote (shadow, both compare results, data verify, drift), recorded in a history kept in the
//! demo folder: run the demo twice with the same --out-dir and the history grows.
use std::time::Duration;

use anyhow::Context as _;
use prodlike_report::{CommandResult, now_rfc3339};
use prodlike_score::{HistoryTarget, Key, Options, ReportConfig};

use super::Context;

/// Losses printed; the JSON and HTML reports hold them all.
const TOP: usize = 5;

pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    println!("\n== report: one fidelity score, with history ==");
    let started = now_rfc3339();
    let mut config = ReportConfig {
        project: "demo".into(),
        environment: "staging".into(),
        ..ReportConfig::default()
    };
    // Leaked PII caps the score (docs/report.md, critical components).
    config.critical = vec!["data".into()];
    let history = HistoryTarget {
        target: ctx.out_dir.join("history.db").display().to_string(),
        wait: Duration::from_secs(10),
    };
    let files = [
        "shadow.json",
        "compare-shadow.json",
        "compare-load.json",
        "data/verify.json",
        "drift.json",
    ]
    .into_iter()
    .map(|f| ctx.out_dir.join(f))
    .filter(|p| p.is_file())
    .collect();
    let opts = Options {
        config: config
            .resolve()
            .map_err(|p| anyhow::anyhow!("demo report configuration: {p}"))?,
        files,
        history: Some(history.clone()),
        min_score: None,
        fail_on_critical: false,
        trend_runs: 30,
    };
    let report = prodlike_score::run(&opts).context("scoring the demo's results")?;
    let text = prodlike_score::render::text(&report);
    // The headline, the delta and the components; then only the top losses.
    for line in text.lines().take_while(|l| !l.starts_with("Points lost")) {
        println!("  {line}");
    }
    println!("  Top losses:");
    for l in report.losses.iter().take(TOP) {
        println!(
            "    -{:>5.1}  {:<13} {}: {}",
            l.points,
            l.component.as_str(),
            l.subject,
            l.finding
        );
    }
    let key = Key {
        project: report.project.clone(),
        environment: report.environment.clone(),
    };
    let runs = prodlike_score::show_history(&history, &key, 10)?;
    for line in prodlike_score::render::history(&key.project, &key.environment, &runs).lines() {
        println!("  {line}");
    }
    let html = ctx.out_dir.join("report.html");
    std::fs::write(&html, prodlike_score::html::render(&report)?)
        .with_context(|| format!("writing {}", html.display()))?;
    let out = ctx.out_dir.join("report.json");
    let outcome = prodlike_score::outcome(&report);
    let summary = prodlike_score::summary(&report);
    CommandResult::new(
        prodlike_results::report::SCHEMA,
        "report",
        started,
        outcome,
        summary,
        report,
    )
    .write_to(&out)
    .with_context(|| format!("writing {}", out.display()))?;
    println!("  wrote {} and {}", out.display(), html.display());
    println!(
        "try: prodlike report {0}/shadow.json {0}/compare-shadow.json {0}/data/verify.json {0}/drift.json --history-db {0}/history.db --project demo --format markdown",
        ctx.out_dir.display()
    );
    Ok(())
}
