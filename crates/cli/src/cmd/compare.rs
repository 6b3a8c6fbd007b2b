//! `prodlike compare prometheus`: flags → prodlike-compare → report. Exit 0: no divergence;
//! 1: a divergence or an observability-parity gap; 3: only undecided comparisons; 2: error.
use std::path::PathBuf;

use anyhow::Context;
use prodlike_compare::prometheus::{self, PrometheusOptions};
use prodlike_compare::{CompareSpec, render, report};
use prodlike_report::{Outcome, OutputFormat, now_rfc3339};

/// Does staging predict production? Calibrated verdicts per route and metric (docs/compare.md).
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    source: Source,
}

#[derive(clap::Subcommand)]
enum Source {
    /// Read both environments from Prometheus' HTTP API and judge error ratio, latency and
    /// traffic shape per route, after checking both are observed alike.
    Prometheus(PrometheusArgs),
    /// Judge prodlike's own results: two load runs (baseline, candidate) or one shadow result
    /// (cmd/compare_results.rs).
    Results(super::compare_results::ResultsArgs),
}

#[derive(clap::Args)]
struct PrometheusArgs {
    /// Prometheus base URL (production's, and staging's unless --staging-url).
    #[arg(long, value_name = "URL")]
    url: String,
    /// Staging's own Prometheus, when it has one.
    #[arg(long, value_name = "URL")]
    staging_url: Option<String>,
    /// Label matchers selecting production, added to every query: 'environment="production"'.
    #[arg(long, value_name = "MATCHERS")]
    production: String,
    /// Label matchers selecting staging: 'environment="staging"'.
    #[arg(long, value_name = "MATCHERS")]
    staging: String,
    /// The window compared, ending now (or at --end): 1h, 30m, 1d.
    #[arg(long, value_name = "DURATION")]
    window: Option<String>,
    /// Start of the window: RFC 3339 or Unix seconds.
    #[arg(long, value_name = "TIME")]
    start: Option<String>,
    /// End of the window: RFC 3339 or Unix seconds (default now).
    #[arg(long, value_name = "TIME")]
    end: Option<String>,
    /// Margins, alpha, critical routes, metrics and labels (docs/compare.md).
    #[arg(long, value_name = "compare.toml")]
    spec: Option<PathBuf>,
    /// Report format on stdout: text, json or markdown.
    #[arg(long, default_value = "text", value_parser = parse_format)]
    format: OutputFormat,
    /// Also write the JSON result (`prodlike.compare/1` envelope) to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Watch: every DURATION (at least 1s), judge each route's error ratio since the watch began
    /// with an anytime-valid test and print the routes whose verdict changed; on Ctrl-C/SIGTERM
    /// (or --until) compare the watched window in full (docs/compare.md, "--watch").
    #[arg(long, value_name = "DURATION")]
    watch: Option<String>,
    /// With --watch: stop at the first route whose watch says diverged.
    #[arg(long, value_name = "CONDITION", value_parser = ["diverged"])]
    until: Option<String>,
}

pub(super) fn parse_format(s: &str) -> Result<OutputFormat, String> {
    match s.parse::<OutputFormat>().map_err(|e| e.to_string())? {
        OutputFormat::Sarif => Err("compare prints text, json or markdown".into()),
        f => Ok(f),
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.source {
        Source::Prometheus(a) => run_prometheus(a),
        Source::Results(a) => super::compare_results::run(a),
    }
}

fn run_prometheus(a: PrometheusArgs) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    if let Some(p) = &a.out {
        super::check_output_file("--out", p)?;
    }
    let watch = watch_flags(a.watch.as_deref(), a.until.is_some())?;
    let spec = match &a.spec {
        Some(path) => CompareSpec::load(path)?,
        None => CompareSpec::default(),
    };
    let unit = spec.metrics.unit.clone();
    let options = PrometheusOptions {
        url: a.url,
        staging_url: a.staging_url,
        production: a.production,
        staging: a.staging,
        window: a.window,
        start: a.start,
        end: a.end,
    };
    let prepared = prometheus::prepare(&options, spec)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let compared = match watch {
        None => rt.block_on(prometheus::compare(&prepared))?,
        Some(interval) => rt.block_on(super::compare_watch::watch(
            prepared,
            interval,
            a.until.is_some(),
            // JSON on stdout stays one document: the looks go to stderr.
            a.format == OutputFormat::Json,
        ))?,
    };
    emit(
        compared,
        Emit {
            command: "compare prometheus",
            started,
            format: a.format,
            out: a.out.as_deref(),
            unit: &unit,
        },
    )
}

/// `--watch` and `--until`, checked before anything is read.
fn watch_flags(watch: Option<&str>, until: bool) -> anyhow::Result<Option<std::time::Duration>> {
    let Some(w) = watch else {
        if until {
            anyhow::bail!("--until: give it with --watch");
        }
        return Ok(None);
    };
    let interval =
        prodlike_common::duration::parse(w).map_err(|e| anyhow::anyhow!("--watch: {e}"))?;
    if interval < std::time::Duration::from_secs(1) {
        anyhow::bail!("--watch: {w} is below 1s; Prometheus' counters move no faster than scrapes");
    }
    Ok(Some(interval))
}

/// How a comparison is shown and written, the same for every source.
pub(super) struct Emit<'a> {
    pub command: &'a str,
    pub started: String,
    /// Text, JSON or Markdown (`parse_format` has refused the rest).
    pub format: OutputFormat,
    pub out: Option<&'a std::path::Path>,
    pub unit: &'a str,
}

/// Prints the report in the asked format, writes the `prodlike.compare/1` envelope to `--out`
/// and returns the outcome (0 nothing diverged, 1 a finding, 3 undecided).
pub(super) fn emit(
    compared: prodlike_results::compare::CompareReport,
    e: Emit<'_>,
) -> anyhow::Result<Outcome> {
    let text = match e.format {
        OutputFormat::Text => render::text(&compared, e.unit),
        OutputFormat::Markdown => render::markdown(&compared, e.unit),
        OutputFormat::Json | OutputFormat::Sarif => String::new(),
    };
    let envelope = report::envelope(compared, e.command, e.started);
    if let Some(path) = e.out {
        envelope
            .write_to(path)
            .with_context(|| format!("writing the result to {}", path.display()))?;
    }
    if e.format == OutputFormat::Text || e.format == OutputFormat::Markdown {
        print!("{text}");
    } else {
        println!("{}", serde_json::to_string_pretty(&envelope)?);
    }
    Ok(envelope.outcome)
}
