//! `prodlike load merge SEGMENT.json…`: segments' results read (prodlike-results), merged and
//! judged (prodlike_load::merge), then printed and written like a run's (load.rs `emit`).
//! Exit 0: every threshold holds; 1: one is breached; 2: files that are not segments of one
//! run; 3: the segments leave part of the plan uncovered.
use std::path::PathBuf;

use anyhow::Context as _;
use prodlike_load::merge::{MergeInput, merge};
use prodlike_load::thresholds::parse_threshold;
use prodlike_report::{Outcome, OutputFormat, now_rfc3339};
use prodlike_results::AnyResult;

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The segments' result files (`prodlike load --segment k/N --out FILE`).
    #[arg(required = true, value_name = "SEGMENT.json")]
    files: Vec<PathBuf>,
    /// A threshold judged on the merged result, besides those the segments recorded;
    /// repeatable, as for `prodlike load`.
    #[arg(long = "threshold", value_name = "EXPR")]
    thresholds: Vec<String>,
    /// Write the merged result as JSON (schema prodlike.load/2).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write an HTML report with charts.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Summary on stdout: text or json.
    #[arg(long, default_value = "text")]
    format: OutputFormat,
}

pub fn run(a: MergeArgs) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    if !matches!(a.format, OutputFormat::Text | OutputFormat::Json) {
        anyhow::bail!(
            "--format {} is not available for load merge; use text or json",
            a.format
        );
    }
    for (flag, path) in [("--out", &a.out), ("--html", &a.html)] {
        if let Some(p) = path {
            super::check_output_file(flag, p)?;
        }
    }
    let extra = a
        .thresholds
        .iter()
        .map(|t| parse_threshold(t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut inputs = Vec::with_capacity(a.files.len());
    for path in &a.files {
        let file = path.display().to_string();
        match prodlike_results::read(path)? {
            AnyResult::Load(r) => inputs.push(MergeInput {
                file,
                result: r.data,
            }),
            other => anyhow::bail!(
                "{file}: a {} result, not a load result; give the segments' `prodlike load --out` files",
                other.schema()
            ),
        }
    }
    let merged = merge(&inputs, &extra).context("merging the segments' results")?;
    super::load::emit(
        &merged,
        &super::load::Emit {
            started,
            format: a.format,
            out: a.out.as_deref(),
            html: a.html.as_deref(),
        },
    )
}
