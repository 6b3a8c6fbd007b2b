//! `prodlike data`: profile, sync, synth, verify, dump, restore. Wiring only; the work is in `prodlike-data`.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use prodlike_data::{DbUrl, published, render};
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
    /// Do staging's query plans match production's? EXPLAIN on both, never ANALYZE production.
    Plans(super::data_plans::PlansArgs),
    /// Write a masked, checksummed, authenticated snapshot (what sync would load) to a directory
    /// or a tar stream, for a staging network that cannot reach the source.
    Dump(Box<DumpArgs>),
    /// Load a snapshot written by `data dump` into a PostgreSQL target, atomically, after
    /// checking it is whole and authentic; then check row counts and leaks.
    Restore(RestoreArgs),
}

#[derive(clap::Args)]
pub struct DumpArgs {
    #[arg(long)]
    pub source: String,
    /// The snapshot directory to create (it must not exist, or be empty), or `-` for one tar
    /// stream on standard output (e.g. `| aws s3 cp - s3://bucket/snap.tar`).
    #[arg(long)]
    pub out: PathBuf,
    /// data.toml: per-table sampling and per-column masking rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Share of root rows kept, e.g. 0.1 (default: the rules' `defaults.sample`, else 1).
    #[arg(long)]
    pub sample: Option<f64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Fail when a detected PII column has no rule.
    #[arg(long)]
    pub strict: bool,
    /// Tables read at once (default 4, or this machine's cores, 2 to 4, when the source runs on it).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Environment variable holding the mask secret.
    #[arg(long, default_value = DEFAULT_KEY_ENV)]
    pub key_env: String,
    /// File holding the mask secret (instead of the environment).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Environment variable holding the snapshot secret (authenticates the manifest; the
    /// restoring side needs the same secret, never the mask key).
    #[arg(long, default_value = prodlike_data::snapshot::key::DEFAULT_SNAPSHOT_KEY_ENV)]
    pub snapshot_key_env: String,
    /// Read at most this many rows per second per table (spares the source).
    #[arg(long)]
    pub max_rows_per_sec: Option<u64>,
    /// The table files' compression: lz4 (fast at both ends), gzip (about 6% smaller, about
    /// twice the CPU) or none.
    #[arg(long, default_value = "lz4", value_parser = prodlike_data::snapshot::codec::Compression::parse)]
    pub compression: prodlike_data::snapshot::codec::Compression,
    #[arg(long)]
    pub quiet: bool,
    /// Write the JSON result here (`--out` names the snapshot).
    #[arg(long)]
    pub result: Option<PathBuf>,
    /// How the report prints: text or json (on standard error with `--out -`).
    #[arg(long, default_value = "text")]
    pub format: OutputFormat,
    /// PostgreSQL schema to read.
    #[arg(long, default_value = "public")]
    pub schema: String,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A snapshot directory written by `prodlike data dump`, or `-` for its tar stream on
    /// standard input.
    #[arg(long)]
    pub snapshot: PathBuf,
    /// postgres://user@host:5432/db (the schema the snapshot was taken from is replaced).
    #[arg(long)]
    pub target: String,
    /// Environment variable holding the snapshot secret the dump used.
    #[arg(long, default_value = prodlike_data::snapshot::key::DEFAULT_SNAPSHOT_KEY_ENV)]
    pub snapshot_key_env: String,
    /// Tables loaded at once [default: 4; when the target is on this machine (a Unix socket or
    /// a loopback address), its cores, from 2 to 4].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Keep the target's previous contents as schema prodlike_old_<id>.
    #[arg(long)]
    pub keep_previous: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(clap::Args)]
pub struct Common {
    /// Write the JSON result here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// How the report prints: text or json.
    #[arg(long, default_value = "text")]
    pub format: OutputFormat,
    /// PostgreSQL schema to read and replace (a MySQL URL names its database instead).
    #[arg(long, default_value = "public")]
    pub schema: String,
}

#[derive(clap::Args)]
pub struct ProfileArgs {
    /// postgres://user@host:5432/db, mysql://user:password@host:3306/db or sqlite://path.db
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
    /// The source the target was copied from (or `--snapshot`, where it cannot be reached).
    #[arg(
        long,
        required_unless_present = "snapshot",
        conflicts_with = "snapshot"
    )]
    pub source: Option<String>,
    /// Verify against the snapshot the target was restored from instead of the source: its
    /// schema, row counts, the source profile `data dump` stored and the keyed hashes of masked
    /// values (the schema checked is the snapshot's). A directory, or `-` for its tar stream on
    /// standard input.
    #[arg(long, conflicts_with_all = ["rules", "sample", "sync_result", "synthetic", "max_rows"])]
    pub snapshot: Option<PathBuf>,
    /// With `--snapshot`: the environment variable holding the snapshot secret the dump used.
    #[arg(long, default_value = prodlike_data::snapshot::key::DEFAULT_SNAPSHOT_KEY_ENV)]
    pub snapshot_key_env: String,
    #[arg(long)]
    pub target: String,
    /// The rules the sync used (so the same columns count as masked).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The share the sync sampled (ratios are compared with it).
    #[arg(long)]
    pub sample: Option<f64>,
    /// The sync's JSON result: exact row counts are expected, and what it lists as not copied
    /// is what the schema check leaves out.
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

// Every subcommand turns its flags into a typed, checked value (`…Run`) before it connects to
// anything or writes anything: a bad `--format`, `--out`, range or file fails with exit 2 while
// nothing has happened yet.

/// The formats a `prodlike data` report prints in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Print {
    Text,
    Json,
}

/// Checked output flags.
struct Output {
    out: Option<PathBuf>,
    print: Print,
}

impl Common {
    fn validate(&self) -> anyhow::Result<Output> {
        let print = match self.format {
            OutputFormat::Text => Print::Text,
            OutputFormat::Json => Print::Json,
            other => {
                bail!("--format {other} is not supported by `prodlike data`; use text or json")
            }
        };
        if let Some(p) = &self.out {
            super::check_output_file("--out", p)?;
        }
        if self.schema.trim().is_empty() {
            bail!("--schema is empty: name the PostgreSQL schema, e.g. public");
        }
        Ok(Output {
            out: self.out.clone(),
            print,
        })
    }
}

fn share(flag: &str, v: f64) -> anyhow::Result<f64> {
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        bail!("--{flag} {v}: use a share in (0, 1], e.g. 0.1")
    }
}

fn unit(flag: &str, v: f64) -> anyhow::Result<f64> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        bail!("--{flag} {v}: use a number from 0 to 1")
    }
}

fn positive_rows(flag: &str, v: Option<u64>) -> anyhow::Result<Option<u64>> {
    if v == Some(0) {
        bail!("--{flag} 0: use a positive row count, or leave it out to read every row");
    }
    Ok(v)
}

#[allow(clippy::too_many_arguments)]
fn emit(
    output: &Output,
    schema: &str,
    command: &str,
    started: String,
    outcome: Outcome,
    summary: String,
    text: String,
    data: serde_json::Value,
) -> anyhow::Result<Outcome> {
    let result = CommandResult::new(schema, command, started, outcome, summary, data);
    if let Some(p) = &output.out {
        result
            .write_to(p)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    let shown = match output.print {
        Print::Json => {
            serde_json::to_string_pretty(&result).context("serialising the result")? + "\n"
        }
        Print::Text => text,
    };
    // `print!` would panic on a closed pipe (`| head`); an error says what happened instead.
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(shown.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing the report to standard output")?;
    Ok(outcome)
}

/// Where the mask secret comes from. A `--key-file` is read while flags are checked; the
/// environment variable only when some column is masked (a sync without PII needs no key).
enum KeySource {
    Loaded(MaskKey),
    Env(String),
}

impl KeySource {
    fn from_flags(key_file: Option<&Path>, key_env: &str) -> anyhow::Result<Self> {
        match key_file {
            Some(p) => Ok(Self::Loaded(MaskKey::from_file(p).context("--key-file")?)),
            None if key_env.trim().is_empty() => {
                bail!("--key-env is empty: name the environment variable holding the mask secret")
            }
            None => Ok(Self::Env(key_env.to_owned())),
        }
    }

    fn masker(&self) -> prodlike_data::Result<Masker> {
        let key = match self {
            Self::Loaded(k) => k.clone(),
            Self::Env(var) => MaskKey::from_env(var)?,
        };
        Ok(Masker::new(key))
    }
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
        Command::Profile(a) => profile(a.validate()?),
        Command::Sync(a) => sync(a.validate()?),
        Command::Synth(a) => synth(a.validate()?),
        Command::Verify(a) => verify(a.validate()?),
        Command::Plans(a) => super::data_plans::run(a),
        Command::Dump(a) => dump(a.validate()?),
        Command::Restore(a) => restore(a.validate()?),
    }
}

/// A private scratch directory for a tar stream's snapshot (under $TMPDIR), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> anyhow::Result<Self> {
        Ok(Self(prodlike_data::snapshot::tarball::scratch_dir(what)?))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct DumpRun {
    opts: prodlike_data::snapshot::dump::DumpOptions,
    key: KeySource,
    snapshot_key: prodlike_data::snapshot::key::SnapshotKey,
    to_stdout: bool,
    output: Output,
}

impl DumpArgs {
    fn validate(self) -> anyhow::Result<DumpRun> {
        let output = Common {
            out: self.result.clone(),
            format: self.format,
            schema: self.schema.clone(),
        }
        .validate()?;
        let source = url(&self.source, "source")?;
        let jobs = match (self.jobs, &source) {
            (Some(jobs), _) => jobs,
            (None, DbUrl::Postgres { conn, .. }) => prodlike_data::snapshot::default_jobs(conn),
            (None, _) => 4,
        };
        let (rules, rules_file) = load_rules(self.rules.as_deref())?;
        let key = KeySource::from_flags(self.key_file.as_deref(), &self.key_env)?;
        // Refused before anything is read: a dump without the snapshot key could not be
        // checked by any restore.
        let snapshot_key =
            prodlike_data::snapshot::key::SnapshotKey::from_env(&self.snapshot_key_env)
                .context("--snapshot-key-env")?;
        let to_stdout = self.out.as_os_str() == "-";
        if !to_stdout {
            prodlike_data::snapshot::dump::check_out(&self.out).context("--out")?;
        }
        let sync = prodlike_data::sync::SyncOptions {
            target: source.clone(),
            source,
            rules,
            rules_file,
            sample: self.sample.map(|s| share("sample", s)).transpose()?,
            seed: self.seed,
            strict: self.strict,
            jobs,
            namespace: self.schema.clone(),
            keep_previous: false,
            max_rows_per_sec: self.max_rows_per_sec,
            progress: !self.quiet && output.print == Print::Text && !to_stdout,
            dry_run: false,
            fail_after_rows: None,
        };
        sync.validate()?;
        Ok(DumpRun {
            opts: prodlike_data::snapshot::dump::DumpOptions {
                sync,
                shown: self.out.display().to_string(),
                out: self.out,
                compression: self.compression,
            },
            key,
            snapshot_key,
            to_stdout,
            output,
        })
    }
}

fn dump(mut run: DumpRun) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let key = &run.key;
    let scratch = if run.to_stdout {
        let s = Scratch::new("dump")?;
        run.opts.out = s.0.join("snapshot");
        Some(s)
    } else {
        None
    };
    let r = runtime()?
        .block_on(prodlike_data::snapshot::dump::dump(
            &run.opts,
            || key.masker(),
            &run.snapshot_key,
        ))
        .context("dump")?;
    if scratch.is_some() {
        let stdout = std::io::stdout().lock();
        prodlike_data::snapshot::tarball::pack(&run.opts.out, std::io::BufWriter::new(stdout))
            .context("writing the snapshot to standard output")?;
    }
    drop(scratch);
    let summary = format!(
        "{} rows in {} tables, {} columns masked, {} bytes, {:.1}s",
        r.total_rows,
        r.tables.len(),
        r.sync.masked.len(),
        r.bytes,
        r.seconds
    );
    let text = render::dump(&r);
    let data = serde_json::to_value(&r).context("serialising the result")?;
    if run.to_stdout {
        // Standard output carries the snapshot: the report goes to standard error.
        let result = CommandResult::new(
            published::DUMP_SCHEMA,
            "data dump",
            started,
            Outcome::Success,
            summary,
            data,
        );
        if let Some(p) = &run.output.out {
            result
                .write_to(p)
                .with_context(|| format!("writing {}", p.display()))?;
        }
        let shown = match run.output.print {
            Print::Json => {
                serde_json::to_string_pretty(&result).context("serialising the result")? + "\n"
            }
            Print::Text => text,
        };
        let _ = std::io::stderr().write_all(shown.as_bytes());
        return Ok(Outcome::Success);
    }
    emit(
        &run.output,
        published::DUMP_SCHEMA,
        "data dump",
        started,
        Outcome::Success,
        summary,
        text,
        data,
    )
}

struct RestoreRun {
    opts: prodlike_data::snapshot::restore::RestoreOptions,
    snapshot_key: prodlike_data::snapshot::key::SnapshotKey,
    from_stdin: bool,
    output: Output,
}

impl RestoreArgs {
    fn validate(self) -> anyhow::Result<RestoreRun> {
        let output = self.common.validate()?;
        let target = url(&self.target, "target")?;
        if !matches!(target, DbUrl::Postgres { .. }) {
            bail!(
                "--target: a snapshot restores into PostgreSQL only (its rows are PostgreSQL binary COPY)"
            );
        }
        let snapshot_key =
            prodlike_data::snapshot::key::SnapshotKey::from_env(&self.snapshot_key_env)
                .context("--snapshot-key-env")?;
        let from_stdin = self.snapshot.as_os_str() == "-";
        if !from_stdin && !self.snapshot.is_dir() {
            bail!(
                "--snapshot {}: not a directory; give a snapshot directory written by `prodlike data dump`, or - for its tar stream",
                self.snapshot.display()
            );
        }
        if self.jobs == Some(0) {
            bail!(
                "--jobs 0: load at least 1 table at a time (default 4, or this machine's cores when the target is on it)"
            );
        }
        Ok(RestoreRun {
            opts: prodlike_data::snapshot::restore::RestoreOptions {
                shown: self.snapshot.display().to_string(),
                snapshot: self.snapshot,
                target,
                jobs: self.jobs,
                keep_previous: self.keep_previous,
            },
            snapshot_key,
            from_stdin,
            output,
        })
    }
}

fn restore(mut run: RestoreRun) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let scratch = if run.from_stdin {
        let s = Scratch::new("restore")?;
        prodlike_data::snapshot::tarball::unpack(std::io::stdin().lock(), &s.0)
            .context("reading the snapshot from standard input")?;
        run.opts.snapshot = s.0.clone();
        Some(s)
    } else {
        None
    };
    let r = runtime()?
        .block_on(prodlike_data::snapshot::restore::restore(
            &run.opts,
            &run.snapshot_key,
        ))
        .context("restore")?;
    drop(scratch);
    let outcome = if r.passed {
        Outcome::Success
    } else {
        Outcome::Finding
    };
    let summary = format!(
        "{} rows in {} tables{}, {} leaked rows",
        r.total_rows,
        r.tables.len(),
        if r.row_counts_match {
            ", row counts as the manifest"
        } else {
            ", ROW COUNTS DIFFER from the manifest"
        },
        r.leaked_rows
    );
    let text = render::restore(&r);
    emit(
        &run.output,
        published::RESTORE_SCHEMA,
        "data restore",
        started,
        outcome,
        summary,
        text,
        serde_json::to_value(&r).context("serialising the result")?,
    )
}

struct ProfileRun {
    source: DbUrl,
    opts: prodlike_data::profile::ProfileOptions,
    output: Output,
}

impl ProfileArgs {
    fn validate(self) -> anyhow::Result<ProfileRun> {
        let output = self.common.validate()?;
        Ok(ProfileRun {
            source: url(&self.source, "source")?,
            opts: prodlike_data::profile::ProfileOptions {
                namespace: self.common.schema.clone(),
                max_rows: positive_rows("max-rows", self.max_rows)?,
                seed: 0,
            },
            output,
        })
    }
}

fn profile(run: ProfileRun) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let p = runtime()?
        .block_on(prodlike_data::profile::profile(&run.source, &run.opts))
        .context("profiling")?;
    let rows: u64 = p.tables.iter().map(|t| t.rows).sum();
    let summary = format!(
        "{} tables, {rows} rows, {} PII columns",
        p.tables.len(),
        p.pii.columns.len()
    );
    let text = render::profile(&p);
    emit(
        &run.output,
        published::PROFILE_SCHEMA,
        "data profile",
        started,
        Outcome::Success,
        summary,
        text,
        serde_json::to_value(published::profile(&p)).context("serialising the result")?,
    )
}

struct SyncRun {
    opts: prodlike_data::sync::SyncOptions,
    key: KeySource,
    output: Output,
}

impl SyncArgs {
    fn validate(self) -> anyhow::Result<SyncRun> {
        let output = self.common.validate()?;
        let source = url(&self.source, "source")?;
        let target = url(&self.target, "target")?;
        let (rules, rules_file) = load_rules(self.rules.as_deref())?;
        let key = KeySource::from_flags(self.key_file.as_deref(), &self.key_env)?;
        let opts = prodlike_data::sync::SyncOptions {
            source,
            target,
            rules,
            rules_file,
            sample: self.sample.map(|s| share("sample", s)).transpose()?,
            seed: self.seed,
            strict: self.strict,
            jobs: self.jobs,
            namespace: self.common.schema.clone(),
            keep_previous: self.keep_previous,
            max_rows_per_sec: self.max_rows_per_sec,
            progress: !self.quiet && output.print == Print::Text,
            dry_run: self.dry_run,
            fail_after_rows: self.fail_after_rows,
        };
        opts.validate()?;
        Ok(SyncRun { opts, key, output })
    }
}

fn sync(run: SyncRun) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let key = &run.key;
    let r = runtime()?
        .block_on(prodlike_data::sync::sync(&run.opts, || key.masker()))
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
        &run.output,
        published::SYNC_SCHEMA,
        "data sync",
        started,
        Outcome::Success,
        summary,
        text,
        serde_json::to_value(&r).context("serialising the result")?,
    )
}

struct SynthRun {
    profile: prodlike_data::profile::Profile,
    opts: prodlike_data::synth::SynthOptions,
    output: Output,
}

impl SynthArgs {
    fn validate(self) -> anyhow::Result<SynthRun> {
        let output = self.common.validate()?;
        let target = url(&self.target, "target")?;
        let profile = prodlike_data::profile::Profile::load(&self.profile)?;
        let opts = prodlike_data::synth::SynthOptions {
            target,
            scale: self.scale,
            rows: self.rows.into_iter().collect::<HashMap<_, _>>(),
            seed: self.seed,
            jobs: self.jobs,
            namespace: self.common.schema.clone(),
            progress: !self.quiet && output.print == Print::Text,
            keep_previous: self.keep_previous,
        };
        opts.validate(&profile)?;
        Ok(SynthRun {
            profile,
            opts,
            output,
        })
    }
}

fn synth(run: SynthRun) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let r = runtime()?
        .block_on(prodlike_data::synth::synth(&run.profile, &run.opts))
        .context("synth")?;
    let summary = format!(
        "{} rows in {:.1}s ({:.0} rows/s)",
        r.total_rows, r.seconds, r.rows_per_sec
    );
    let text = render::synth(&r);
    emit(
        &run.output,
        published::SYNTH_SCHEMA,
        "data synth",
        started,
        Outcome::Success,
        summary,
        text,
        serde_json::to_value(published::synth(&r)).context("serialising the result")?,
    )
}

/// What a verify compares the target with.
enum VerifyAgainst {
    Source(Box<prodlike_data::verify::VerifyOptions>),
    Snapshot {
        opts: prodlike_data::verify::snapshot::SnapshotVerifyOptions,
        key: prodlike_data::snapshot::key::SnapshotKey,
        /// `--snapshot -`: a tar stream on standard input, unpacked first.
        from_stdin: bool,
    },
}

struct VerifyRun {
    against: VerifyAgainst,
    output: Output,
}

/// The row counts a `prodlike data sync --out` result holds, and what it declared not copied.
fn sync_result(
    p: &Path,
) -> anyhow::Result<(
    prodlike_data::verify::Expected,
    prodlike_data::verify::Declared,
)> {
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", p.display()))?;
    let tables = v["data"]["tables"]
        .as_array()
        .with_context(|| format!("{} is not a `prodlike data sync` result", p.display()))?;
    let rows = tables
        .iter()
        .filter_map(|t| Some((t["table"].as_str()?.to_owned(), t["rows"].as_u64()?)))
        .collect();
    // Absent in results of releases before it was listed: nothing declared.
    let not_copied = v["data"]["not_copied"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| {
                    Some((
                        n["kind"].as_str()?.to_owned(),
                        n["name"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((prodlike_data::verify::Expected::Rows(rows), not_copied))
}

impl VerifyArgs {
    fn validate(self) -> anyhow::Result<VerifyRun> {
        let output = self.common.validate()?;
        let target = url(&self.target, "target")?;
        let min_score = unit("min-score", self.min_score)?;
        let (max_ks, max_tvd) = (unit("max-ks", self.max_ks)?, unit("max-tvd", self.max_tvd)?);
        if let Some(snapshot) = self.snapshot {
            if !matches!(target, DbUrl::Postgres { .. }) {
                bail!(
                    "--target: with --snapshot, a PostgreSQL target (a snapshot restores into PostgreSQL only)"
                );
            }
            let from_stdin = snapshot.as_os_str() == "-";
            if !from_stdin && !snapshot.is_dir() {
                bail!(
                    "--snapshot {}: not a directory; give the snapshot directory the target was restored from, or - for its tar stream",
                    snapshot.display()
                );
            }
            let key = prodlike_data::snapshot::key::SnapshotKey::from_env(&self.snapshot_key_env)
                .context("--snapshot-key-env")?;
            let opts = prodlike_data::verify::snapshot::SnapshotVerifyOptions {
                shown: snapshot.display().to_string(),
                snapshot,
                target,
                min_score,
                max_ks,
                max_tvd,
            };
            return Ok(VerifyRun {
                against: VerifyAgainst::Snapshot {
                    opts,
                    key,
                    from_stdin,
                },
                output,
            });
        }
        let Some(source) = self.source.as_deref() else {
            bail!("--source: give the source, or --snapshot where it cannot be reached");
        };
        let source = url(source, "source")?;
        let (rules, rules_file) = load_rules(self.rules.as_deref())?;
        let (expected, not_copied) = match (&self.sync_result, self.sample) {
            (Some(p), _) => {
                let (rows, declared) = sync_result(p)?;
                (rows, Some(declared))
            }
            (None, Some(f)) => (
                prodlike_data::verify::Expected::Fraction(share("sample", f)?),
                None,
            ),
            (None, None) => (prodlike_data::verify::Expected::Unknown, None),
        };
        let opts = prodlike_data::verify::VerifyOptions {
            source,
            target,
            namespace: self.common.schema.clone(),
            rules,
            rules_file,
            expected,
            min_score,
            max_ks,
            max_tvd,
            max_rows: positive_rows("max-rows", self.max_rows)?,
            synthetic: self.synthetic,
            not_copied,
        };
        Ok(VerifyRun {
            against: VerifyAgainst::Source(Box::new(opts)),
            output,
        })
    }
}

fn verify(mut run: VerifyRun) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let rt = runtime()?;
    // A tar stream is unpacked into a private scratch directory, removed when verify ends.
    let mut scratch = None;
    if let VerifyAgainst::Snapshot {
        opts,
        from_stdin: true,
        ..
    } = &mut run.against
    {
        let s = Scratch::new("verify")?;
        prodlike_data::snapshot::tarball::unpack(std::io::stdin().lock(), &s.0)
            .context("reading the snapshot from standard input")?;
        opts.snapshot = s.0.clone();
        scratch = Some(s);
    }
    let r = match &run.against {
        VerifyAgainst::Source(opts) => rt.block_on(prodlike_data::verify::verify(opts)),
        VerifyAgainst::Snapshot { opts, key, .. } => {
            rt.block_on(prodlike_data::verify::snapshot::verify_snapshot(opts, key))
        }
    }
    .context("verify")?;
    drop(scratch);
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
        &run.output,
        published::VERIFY_SCHEMA,
        "data verify",
        started,
        outcome,
        summary,
        text,
        serde_json::to_value(&r).context("serialising the result")?,
    )
}
