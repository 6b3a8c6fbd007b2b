//! `prodlike data`: profile, sync, synth, verify. Wiring only; the work is in `prodlike-data`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use prodlike_data::{DbUrl, render};
use prodlike_mask::{DEFAULT_KEY_ENV, MaskKey, Masker};
use prodlike_report::{CommandResult, Outcome, OutputFormat, now_rfc3339};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Schema, row counts, distributions, foreign-key fan-out and PII (no PII values) of a database.
    Profile(ProfileArgs),
    /// Copy a referentially intact, masked sample into a target, atomically.
    Sync(SyncArgs),
    /// Generate rows that follow a profile into a target, atomically.
    Synth(SynthArgs),
    /// Check a target against its source: integrity, row counts, fidelity, PII leaks.
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub struct Common {
    /// Write the JSON result here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// How the report prints: text or json.
    #[arg(long, default_value = "text")]
    pub format: OutputFormat,
    /// PostgreSQL schema to read and replace.
    #[arg(long, default_value = "public")]
    pub schema: String,
}

#[derive(clap::Args)]
pub struct ProfileArgs {
    /// postgres://user@host:5432/db or sqlite://path.db
    #[arg(long)]
    pub source: String,
    /// Read at most about this many rows per table for distributions.
    #[arg(long)]
    pub max_rows: Option<u64>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(clap::Args)]
pub struct SyncArgs {
    #[arg(long)]
    pub source: String,
    #[arg(long)]
    pub target: String,
    /// data.toml: per-table sampling and per-column masking rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Share of root rows kept, e.g. 0.1 (default: the rules' `defaults.sample`, else 1).
    #[arg(long)]
    pub sample: Option<f64>,
    /// Seed of the sampling decisions.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Fail when a detected PII column has no rule.
    #[arg(long)]
    pub strict: bool,
    /// Tables copied at once.
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Environment variable holding the mask secret.
    #[arg(long, default_value = DEFAULT_KEY_ENV)]
    pub key_env: String,
    /// File holding the mask secret (instead of the environment).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Keep the target's previous contents as schema prodlike_old_<id> (PostgreSQL).
    #[arg(long)]
    pub keep_previous: bool,
    /// Read at most this many rows per second per table (spares the source).
    #[arg(long)]
    pub max_rows_per_sec: Option<u64>,
    /// Plan, detect and report without writing.
    #[arg(long)]
    pub dry_run: bool,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Testing: fail on purpose after this many rows (the target must stay as it was).
    #[arg(long, hide = true)]
    pub fail_after_rows: Option<u64>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(clap::Args)]
pub struct SynthArgs {
    /// A profile written by `prodlike data profile --out`.
    #[arg(long)]
    pub profile: PathBuf,
    #[arg(long)]
    pub target: String,
    /// Rows per table = profiled rows × scale.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Exact rows for a table, e.g. --rows users=1000 (repeatable).
    #[arg(long, value_parser = parse_rows)]
    pub rows: Vec<(String, u64)>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    #[arg(long)]
    pub keep_previous: bool,
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[arg(long)]
    pub source: String,
    #[arg(long)]
    pub target: String,
    /// The rules the sync used (so the same columns count as masked).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The share the sync sampled (ratios are compared with it).
    #[arg(long)]
    pub sample: Option<f64>,
    /// The sync's JSON result: exact row counts are expected.
    #[arg(long)]
    pub sync_result: Option<PathBuf>,
    /// Exit 1 below this fidelity score.
    #[arg(long, default_value_t = 0.9)]
    pub min_score: f64,
    #[arg(long, default_value_t = 0.05)]
    pub max_ks: f64,
    #[arg(long, default_value_t = 0.02)]
    pub max_tvd: f64,
    /// Read at most about this many rows per table for distributions.
    #[arg(long)]
    pub max_rows: Option<u64>,
    /// The target was synthesised (rows are not copies of source rows).
    #[arg(long)]
    pub synthetic: bool,
    #[command(flatten)]
    pub common: Common,
}

fn parse_rows(s: &str) -> Result<(String, u64), String> {
    let (t, n) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: use table=rows, e.g. users=1000"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{s}`: `{n}` is not a row count"))?;
    if t.trim().is_empty() {
        return Err(format!("`{s}`: the table name is empty"));
    }
    Ok((t.trim().to_owned(), n))
}

fn url(s: &str, flag: &str) -> anyhow::Result<DbUrl> {
    DbUrl::parse(s).with_context(|| format!("--{flag}"))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

#[allow(clippy::too_many_arguments)]
fn emit(
    common: &Common,
    schema: &str,
    command: &str,
    started: String,
    outcome: Outcome,
    summary: String,
    text: String,
    data: serde_json::Value,
) -> anyhow::Result<Outcome> {
    let result = CommandResult::new(schema, command, started, outcome, summary, data);
    if let Some(p) = &common.out {
        result
            .write_to(p)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    match common.format {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&result).context("serialising the result")?
        ),
        OutputFormat::Text => print!("{text}"),
        other => bail!("--format {other} is not supported by `prodlike data`; use text or json"),
    }
    Ok(outcome)
}

fn masker(key_file: Option<&Path>, key_env: &str) -> prodlike_data::Result<Masker> {
    let key = match key_file {
        Some(p) => MaskKey::from_file(p)?,
        None => MaskKey::from_env(key_env)?,
    };
    Ok(Masker::new(key))
}

fn load_rules(path: Option<&Path>) -> anyhow::Result<(prodlike_data::rules::Rules, String)> {
    match path {
        Some(p) => Ok((
            prodlike_data::rules::Rules::load(p)?,
            p.display().to_string(),
        )),
        None => Ok((
            prodlike_data::rules::Rules::default(),
            "(no rules file)".into(),
        )),
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Profile(a) => profile(a),
        Command::Sync(a) => sync(a),
        Command::Synth(a) => synth(a),
        Command::Verify(a) => verify(a),
    }
}

fn profile(a: ProfileArgs) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let source = url(&a.source, "source")?;
    let opts = prodlike_data::profile::ProfileOptions {
        namespace: a.common.schema.clone(),
        max_rows: a.max_rows,
        seed: 0,
    };
    let p = runtime()?
        .block_on(prodlike_data::profile::profile(&source, &opts))
        .context("profiling")?;
    let rows: u64 = p.tables.iter().map(|t| t.rows).sum();
    let summary = format!(
        "{} tables, {rows} rows, {} PII columns",
        p.tables.len(),
        p.pii.columns.len()
    );
    let text = render::profile(&p);
    emit(
        &a.common,
        "prodlike.data.profile/1",
        "data profile",
        started,
        Outcome::Success,
        summary,
        text,
        serde_json::to_value(&p).context("serialising the result")?,
    )
}

fn sync(a: SyncArgs) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let (rules, rules_file) = load_rules(a.rules.as_deref())?;
    let opts = prodlike_data::sync::SyncOptions {
        source: url(&a.source, "source")?,
        target: url(&a.target, "target")?,
        rules,
        rules_file,
        sample: a.sample,
        seed: a.seed,
        strict: a.strict,
        jobs: a.jobs,
        namespace: a.common.schema.clone(),
        keep_previous: a.keep_previous,
        max_rows_per_sec: a.max_rows_per_sec,
        progress: !a.quiet && a.common.format == OutputFormat::Text,
        dry_run: a.dry_run,
        fail_after_rows: a.fail_after_rows,
    };
    let key_file = a.key_file.clone();
    let key_env = a.key_env.clone();
    let r = runtime()?
        .block_on(prodlike_data::sync::sync(&opts, || {
            masker(key_file.as_deref(), &key_env)
        }))
        .context("sync")?;
    let summary = format!(
        "{} rows in {} tables, {} columns masked, {:.1}s",
        r.total_rows,
        r.tables.len(),
        r.masked.len(),
        r.seconds
    );
    let text = render::sync(&r);
    emit(
        &a.common,
        "prodlike.data.sync/1",
        "data sync",
        started,
        Outcome::Success,
        summary,
        text,
        serde_json::to_value(&r).context("serialising the result")?,
    )
}

fn synth(a: SynthArgs) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let profile = prodlike_data::profile::Profile::load(&a.profile)?;
    let opts = prodlike_data::synth::SynthOptions {
        target: url(&a.target, "target")?,
        scale: a.scale,
        rows: a.rows.into_iter().collect::<HashMap<_, _>>(),
        seed: a.seed,
        jobs: a.jobs,
        namespace: a.common.schema.clone(),
        progress: !a.quiet && a.common.format == OutputFormat::Text,
        keep_previous: a.keep_previous,
    };
    let r = runtime()?
        .block_on(prodlike_data::synth::synth(&profile, &opts))
        .context("synth")?;
    let summary = format!(
        "{} rows in {:.1}s ({:.0} rows/s)",
        r.total_rows, r.seconds, r.rows_per_sec
    );
    let text = render::synth(&r);
    emit(
        &a.common,
        "prodlike.data.synth/1",
        "data synth",
        started,
        Outcome::Success,
        summary,
        text,
        serde_json::to_value(&r).context("serialising the result")?,
    )
}

fn verify(a: VerifyArgs) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let (rules, rules_file) = load_rules(a.rules.as_deref())?;
    let expected = match (&a.sync_result, a.sample) {
        (Some(p), _) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", p.display()))?;
            let tables = v["data"]["tables"]
                .as_array()
                .with_context(|| format!("{} is not a `prodlike data sync` result", p.display()))?;
            let rows = tables
                .iter()
                .filter_map(|t| Some((t["table"].as_str()?.to_owned(), t["rows"].as_u64()?)))
                .collect();
            prodlike_data::verify::Expected::Rows(rows)
        }
        (None, Some(f)) => prodlike_data::verify::Expected::Fraction(f),
        (None, None) => prodlike_data::verify::Expected::Unknown,
    };
    let opts = prodlike_data::verify::VerifyOptions {
        source: url(&a.source, "source")?,
        target: url(&a.target, "target")?,
        namespace: a.common.schema.clone(),
        rules,
        rules_file,
        expected,
        min_score: a.min_score,
        max_ks: a.max_ks,
        max_tvd: a.max_tvd,
        max_rows: a.max_rows,
        synthetic: a.synthetic,
    };
    let r = runtime()?
        .block_on(prodlike_data::verify::verify(&opts))
        .context("verify")?;
    let outcome = if r.passed {
        Outcome::Success
    } else {
        Outcome::Finding
    };
    let summary = if r.passed {
        format!("fidelity {:.3}, no integrity violations, no leaks", r.score)
    } else {
        r.failures.join("; ")
    };
    let text = render::verify(&r);
    emit(
        &a.common,
        "prodlike.data.verify/1",
        "data verify",
        started,
        outcome,
        summary,
        text,
        serde_json::to_value(&r).context("serialising the result")?,
    )
}
