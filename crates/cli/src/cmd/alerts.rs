//! `prodlike alerts`: flags → prodlike-compare's rule generator → the rules file (and, with
//! --tests, its `promtool test rules` file). Exit 0 when written; 2 on bad input, before any
//! file is written.
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use prodlike_compare::CompareSpec;
use prodlike_compare::alerts::{self, AlertsOptions};
use prodlike_report::{CommandResult, Outcome, now_rfc3339};
use prodlike_results::alerts::SCHEMA;

/// Prometheus rules that watch staging against production continuously (docs/alerts.md).
#[derive(clap::Args)]
pub struct Args {
    /// Label matchers selecting production: 'environment="production"'.
    #[arg(long, value_name = "MATCHERS")]
    production: String,
    /// Label matchers selecting staging: 'environment="staging"'.
    #[arg(long, value_name = "MATCHERS")]
    staging: String,
    /// Margins, metrics and labels, the same file as `prodlike compare` (docs/compare.md).
    #[arg(long, value_name = "compare.toml")]
    spec: Option<PathBuf>,
    /// The rules file to write (Prometheus rule-file YAML).
    #[arg(long, value_name = "rules.yml")]
    out: PathBuf,
    /// Also write a `promtool test rules` file proving each alert fires and stays silent.
    #[arg(long, value_name = "rules.test.yml")]
    tests: Option<PathBuf>,
    /// Prometheus URL written into the `prodlike compare prometheus` command of the alerts'
    /// annotations. When given, the request metric the rules read must have series for
    /// --production there in the last hour (checked before anything is written).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// How long a divergence must hold before an alert fires (the rules' `for:`). Whole
    /// seconds; default 10m, two rate windows.
    #[arg(long = "for", value_name = "DURATION", default_value = "10m", value_parser = super::parse_duration)]
    for_duration: std::time::Duration,
    /// The rate window of the recording rules; at least four scrape intervals. Whole seconds;
    /// default 5m.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = super::parse_duration)]
    range: std::time::Duration,
    /// Also write the JSON result (`prodlike.alerts/1` envelope) to this file.
    #[arg(long, value_name = "FILE")]
    result: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    super::check_output_file("--out", &a.out)?;
    if let Some(r) = &a.result {
        super::check_output_file("--result", r)?;
        if r == &a.out || Some(r) == a.tests.as_ref() {
            bail!(
                "--result {}: the same file as --out or --tests; give another",
                r.display()
            );
        }
    }
    if let Some(t) = &a.tests {
        super::check_output_file("--tests", t)?;
        if t == &a.out {
            bail!(
                "--tests {}: the same file as --out; give another",
                t.display()
            );
        }
    }
    let spec = match &a.spec {
        Some(path) => CompareSpec::load(path)?,
        None => CompareSpec::default(),
    };
    let options = AlertsOptions {
        url: a.url,
        spec: a.spec.as_ref().map(|p| p.display().to_string()),
        for_duration: a.for_duration,
        range: a.range,
        ..AlertsOptions::new(a.production, a.staging)
    };
    let generated = alerts::generate(&options, &spec)?;
    if options.url.is_some() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        for warning in rt.block_on(alerts::check_metrics(&options, &spec))? {
            eprintln!("warning: {warning}");
        }
    }
    let tests = match &a.tests {
        Some(t) => Some(alerts::generate_tests(
            &options,
            &spec,
            &rule_file_from(&a.out, t)?,
        )?),
        None => None,
    };
    std::fs::write(&a.out, &generated.rules)
        .with_context(|| format!("writing the rules to {}", a.out.display()))?;
    println!(
        "wrote {} recording rules and alerts {} to {}",
        generated.records,
        generated.alerts.join(", "),
        a.out.display()
    );
    if let (Some(path), Some(text)) = (&a.tests, tests) {
        std::fs::write(path, text)
            .with_context(|| format!("writing the rule tests to {}", path.display()))?;
        println!(
            "wrote rule tests to {}; run: promtool test rules {}",
            path.display(),
            path.display()
        );
    }
    if let Some(path) = &a.result {
        let summary = format!(
            "{} recording rules and {} alerts written to {}",
            generated.records,
            generated.alerts.len(),
            a.out.display()
        );
        let report = generated.report(
            options.spec.clone(),
            a.out.display().to_string(),
            a.tests.as_ref().map(|t| t.display().to_string()),
        );
        CommandResult::new(SCHEMA, "alerts", started, Outcome::Success, summary, report)
            .write_to(path)
            .with_context(|| format!("writing the result to {}", path.display()))?;
    }
    Ok(Outcome::Success)
}

/// The rules file as the test file names it: promtool reads it relative to the test file's
/// folder, so its bare name when both are in one folder, else its absolute path.
fn rule_file_from(rules: &Path, tests: &Path) -> anyhow::Result<String> {
    let folder = |p: &Path| {
        std::path::absolute(p)
            .ok()
            .and_then(|a| a.parent().map(Path::to_path_buf))
    };
    if folder(rules) == folder(tests)
        && let Some(name) = rules.file_name()
    {
        return Ok(name.to_string_lossy().into_owned());
    }
    let abs =
        std::path::absolute(rules).with_context(|| format!("resolving {}", rules.display()))?;
    Ok(abs.display().to_string())
}
