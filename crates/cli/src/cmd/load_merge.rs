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
    /// The segments' result files (`prodlike load --segment k/N --out FILE`), or folders
    /// whose `*.json` files are (a shared volume the segments write to).
    #[arg(required = true, value_name = "SEGMENT.json|DIR")]
    files: Vec<PathBuf>,
    /// Wait up to this long for the segments to cover the whole plan (files still being
    /// written by segments that run at the same time, as in a Kubernetes Job started with
    /// them), then merge what is there: a missing segment is then reported, not waited for.
    #[arg(long, value_parser = super::parse_duration, value_name = "DURATION")]
    wait: Option<std::time::Duration>,
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
    for p in &a.files {
        if !p.exists() {
            anyhow::bail!("{}: no such file or folder", p.display());
        }
    }
    let deadline = a.wait.map(|w| std::time::Instant::now() + w);
    let merged = loop {
        let inputs = read_inputs(&a.files, a.out.as_deref())?;
        let attempt = merge(&inputs, &extra);
        let whole = attempt
            .as_ref()
            .is_ok_and(|m| m.merged.as_ref().is_some_and(|m| m.missing.is_empty()));
        match deadline {
            Some(d) if !whole && std::time::Instant::now() < d => wait_a_little(),
            _ => break attempt.context("merging the segments' results")?,
        }
    };
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

/// Every input file: the files given, and the `*.json` files of the folders given (sorted,
/// leaving out the merged result itself when it is written there).
fn read_inputs(
    paths: &[PathBuf],
    out: Option<&std::path::Path>,
) -> anyhow::Result<Vec<MergeInput>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading the folder {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json") && f.is_file())
                .filter(|f| out.is_none_or(|o| !same_file(f, o)))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    let mut inputs = Vec::with_capacity(files.len());
    for path in &files {
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
    Ok(inputs)
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Sleeps between looks at the segments' folder (`--wait`), on a runtime of its own.
fn wait_a_little() {
    if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        rt.block_on(tokio::time::sleep(std::time::Duration::from_secs(2)));
    }
}
