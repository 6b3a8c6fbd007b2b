//! `prodlike compare results A.json B.json`: flags → prodlike-compare's results source →
//! report. Two load results (baseline, candidate) or one shadow result. Exit 0: no divergence;
//! 1: a divergence; 3: only undecided comparisons; 2: a file that is not such a result.
use std::path::PathBuf;

use prodlike_compare::CompareSpec;
use prodlike_compare::results::compare_results;
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
    super::compare::emit(
        compared,
        super::compare::Emit {
            command: "compare results",
            started,
            format: a.format,
            out: a.out.as_deref(),
            // Every latency in prodlike's results is in milliseconds.
            unit: "ms",
        },
    )
}
