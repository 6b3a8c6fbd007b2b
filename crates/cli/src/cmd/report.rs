//! `prodlike report RESULT.json…`: flags and report.toml → prodlike-score → the score printed
//! (text, json, markdown), optionally written (--out, --html), and recorded in the history.
//! Exit 0: gate passed; 1: gate broken (--min-score, --fail-on critical); 3: a component
//! could not be decided (--allow-inconclusive: 0); 2: bad input, history untouched.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use prodlike_report::{CommandResult, Outcome, OutputFormat, now_rfc3339};
use prodlike_results::report::SCHEMA;
use prodlike_score::{HistoryTarget, Key, Options, ReportConfig};

/// One fidelity score for an environment from prodlike results, with history and a gate
/// (docs/report.md).
#[derive(clap::Args)]
pub struct Args {
    /// Result files (`--out` of shadow, load --compare, data verify, drift, compare).
    #[arg(value_name = "RESULT.json", required_unless_present = "show_history")]
    files: Vec<PathBuf>,
    /// Weights, critical components, mapping and retention (docs/report.md).
    #[arg(long, value_name = "report.toml")]
    config: Option<PathBuf>,
    /// The project the history is kept for (default: report.toml's, else `default`).
    #[arg(long)]
    project: Option<String>,
    /// The environment scored (default: report.toml's, else `staging`).
    #[arg(long)]
    environment: Option<String>,
    /// The history: a SQLite file, or a postgres:// URL.
    #[arg(long, value_name = "PATH|URL", default_value = ".prodlike/history.db")]
    history_db: String,
    /// Do not read or write the history.
    #[arg(long, conflicts_with = "show_history")]
    no_history: bool,
    /// Print the history of the project and environment (the trend per component) and exit.
    #[arg(long)]
    show_history: bool,
    /// How long to wait for a history file another report holds locked.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::parse_duration)]
    history_wait: Duration,
    /// Runs shown by --show-history and in the trend (JSON, HTML).
    #[arg(long, value_name = "N", default_value_t = 30)]
    runs: u32,
    /// Exit 1 when the score is below N.
    #[arg(long, value_name = "N")]
    min_score: Option<f64>,
    /// Exit 1 when a critical component (report.toml `critical`) failed.
    #[arg(long, value_name = "WHAT", value_parser = ["critical"])]
    fail_on: Option<String>,
    /// Report format on stdout: text, json or markdown.
    #[arg(long, default_value = "text", value_parser = parse_format)]
    format: OutputFormat,
    /// Also write the JSON result (`prodlike.report/1` envelope) to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also write an HTML report with charts to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

fn parse_format(s: &str) -> Result<OutputFormat, String> {
    match s.parse::<OutputFormat>() {
        Ok(OutputFormat::Sarif) => Err("report prints text, json or markdown".into()),
        Ok(f) => Ok(f),
        Err(e) => Err(e.to_string()),
    }
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    for (flag, p) in [("--out", &a.out), ("--html", &a.html)] {
        if let Some(p) = p {
            super::check_output_file(flag, p)?;
        }
    }
    if a.runs == 0 {
        bail!("--runs 0: show at least 1 run");
    }
    let mut config = match &a.config {
        Some(p) => ReportConfig::load(p)?,
        None => ReportConfig::default(),
    };
    if let Some(p) = a.project {
        config.project = p;
    }
    if let Some(e) = a.environment {
        config.environment = e;
    }
    let resolved = config
        .resolve()
        .map_err(|problem| anyhow::anyhow!("report configuration: {problem}"))?;
    let history = (!a.no_history).then(|| HistoryTarget {
        target: a.history_db.clone(),
        wait: a.history_wait,
    });
    if a.show_history {
        let key = Key {
            project: resolved.project.clone(),
            environment: resolved.environment.clone(),
        };
        let target = history.context("--show-history needs the history")?;
        let runs = prodlike_score::show_history(&target, &key, a.runs)?;
        print!(
            "{}",
            prodlike_score::render::history(&key.project, &key.environment, &runs)
        );
        return Ok(Outcome::Success);
    }
    let opts = Options {
        config: resolved,
        files: a.files,
        history,
        min_score: a.min_score,
        fail_on_critical: a.fail_on.is_some(),
        trend_runs: a.runs,
    };
    let report = prodlike_score::run(&opts)?;
    let outcome = prodlike_score::outcome(&report);
    let summary = prodlike_score::summary(&report);
    if let Some(p) = &a.html {
        let page = prodlike_score::html::render(&report)?;
        std::fs::write(p, page)
            .with_context(|| format!("writing the HTML report to {}", p.display()))?;
    }
    let text = match a.format {
        OutputFormat::Markdown => prodlike_score::render::markdown(&report),
        OutputFormat::Text | OutputFormat::Sarif => prodlike_score::render::text(&report),
        OutputFormat::Json => String::new(),
    };
    let envelope = CommandResult::new(SCHEMA, "report", started, outcome, summary, report);
    if let Some(p) = &a.out {
        envelope
            .write_to(p)
            .with_context(|| format!("writing the result to {}", p.display()))?;
    }
    if a.format == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&envelope)?);
    } else {
        print!("{text}");
    }
    Ok(outcome)
}
