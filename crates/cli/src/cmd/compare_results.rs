//! `prodlike compare results A.json B.json`: flags → prodlike-compare's results source →
//! report. Two load results (baseline, candidate) or one shadow result. Exit 0: no divergence;
//! 1: a divergence; 3: only undecided comparisons; 2: a file that is not such a result.
use std::path::PathBuf;

use anyhow::{Context, bail};
use prodlike_compare::results::compare_results;
use prodlike_compare::{CompareSpec, render, report};
use prodlike_report::{Outcome, OutputFormat, now_rfc3339};

/// Judge prodlike's own results: two `prodlike load --out` files (the baseline first, then the
/// candidate), or one `prodlike shadow --out` file (production against staging).
#[derive(clap::Args)]
pub struct ResultsArgs {
    /// The result files: BASELINE.json CANDIDATE.json (load), or SHADOW.json.
    #[arg(required = true, num_args = 1..=2, value_name = "RESULT.json")]
    files: Vec<PathBuf>,
    /// Margins, alpha and critical routes (docs/compare.md); metric and label names are not
    /// used here.
    #[arg(long, value_name = "compare.toml")]
    spec: Option<PathBuf>,
    /// Report format on stdout: text, json or markdown.
    #[arg(long, default_value = "text", value_parser = super::compare::parse_format)]
    format: OutputFormat,
    /// Also write the JSON result (`prodlike.compare/1` envelope) to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(a: ResultsArgs) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    if let Some(p) = &a.out {
        super::check_output_file("--out", p)?;
    }
    let spec = match &a.spec {
        Some(path) => CompareSpec::load(path)?,
        None => CompareSpec::default(),
    };
    let compared = compare_results(&a.files, &spec)?;
    // Every latency in prodlike's results is in milliseconds.
    let unit = "ms";
    let text = match a.format {
        OutputFormat::Text => render::text(&compared, unit),
        OutputFormat::Markdown => render::markdown(&compared, unit),
        OutputFormat::Json => String::new(),
        OutputFormat::Sarif => bail!("compare prints text, json or markdown"),
    };
    let envelope = report::envelope(compared, "compare results", started);
    if let Some(path) = &a.out {
        envelope
            .write_to(path)
            .with_context(|| format!("writing the result to {}", path.display()))?;
    }
    if a.format == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&envelope)?);
    } else {
        print!("{text}");
    }
    Ok(envelope.outcome)
}
