//! `prodlike data synth`: rows that follow a profile — categorical frequencies, numeric and
//! date percentiles, null rates, string shapes (PII columns get realistic fakes of the same
//! shape), foreign-key fan-out — written through the same atomic load as a sync.
//!
//! Foreign keys: each child table's main foreign key is filled parent by parent, each parent
//! getting a number of children drawn from the profiled fan-out distribution (zeros included);
//! other foreign keys pick parents weighted the same way; self-references point to earlier
//! rows. Integer keys are sequential, so a parent's keys are known without storing them (which
//! is also what lets a cycle with no nullable column reference rows not generated yet). Keys
//! whose production rows are not in key order (the profile's `pg_stats` correlation) are laid
//! out in production's order (`scatter.rs`), since the planner prices index scans by it.
//!
//! The run, step by step (this file): check the options and that the target is not the
//! profiled database, row counts per table, check cycles (`keys.rs`), prepare the target, then
//! generate table by table in waves (`waves.rs`; one table: `table.rs`, its foreign keys
//! `parents.rs` with `fan.rs`, its other columns `column.rs`), and swap the target in
//! atomically, or leave it as it was on error. Output: a [`SynthReport`].

mod column;
mod fan;
mod keys;
mod parents;
mod scatter;
mod table;
mod waves;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use prodlike_mask::{MaskKey, Masker};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::identity;
use crate::plan::plan_order;
use crate::profile::Profile;
use crate::progress::Progress;
use crate::schema::Table;
use crate::target::Target;
use crate::url::DbUrl;
use table::RunShared;

/// Settings of a synth run.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub target: DbUrl,
    /// Rows per table = profiled rows × scale.
    pub scale: f64,
    /// Exact row counts for some tables (override `scale`).
    pub rows: HashMap<String, u64>,
    pub seed: u64,
    pub jobs: usize,
    pub namespace: String,
    pub progress: bool,
    pub keep_previous: bool,
}

impl SynthOptions {
    /// Checks every setting against the profile, naming the flag; `synth` calls it first, the
    /// CLI before it connects to anything.
    pub fn validate(&self, profile: &Profile) -> Result<()> {
        if !(self.scale > 0.0 && self.scale.is_finite()) {
            return Err(DataError::Invalid(format!(
                "--scale {}: use a positive number such as 1 or 10",
                self.scale
            )));
        }
        for t in self.rows.keys() {
            profile.schema.require_table(t, "the profile")?;
        }
        if self.jobs == 0 {
            return Err(DataError::Invalid(
                "--jobs 0: write at least 1 table at a time (default 4)".into(),
            ));
        }
        if self.namespace.trim().is_empty() {
            return Err(DataError::Invalid(
                "--schema is empty: name the PostgreSQL schema to write, e.g. public".into(),
            ));
        }
        Ok(())
    }
}

/// Rows written to one table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynthTable {
    pub table: String,
    pub profiled_rows: u64,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
}

/// The result of a synth (`prodlike.data.synth/1`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynthReport {
    pub target: String,
    pub scale: f64,
    pub seed: u64,
    pub tables: Vec<SynthTable>,
    pub total_rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
}

/// Generates into `opts.target`.
pub async fn synth(profile: &Profile, opts: &SynthOptions) -> Result<SynthReport> {
    let started = Instant::now();
    opts.validate(profile)?;
    if let Some(source) = &profile.source_identity {
        identity::ensure_target_is_not(
            source,
            &format!("{} (the profiled database)", profile.source),
            &opts.target,
        )
        .await?;
    }
    let schema = &profile.schema;
    let order = plan_order(schema);
    keys::check_forward_references(schema, &order)?;
    let tables: Vec<&Table> = schema.tables.iter().collect();
    let target = Arc::new(
        Target::prepare(
            &opts.target,
            schema,
            &tables,
            &opts.namespace,
            opts.jobs,
            opts.keep_previous,
        )
        .await?,
    );
    let run = Arc::new(RunShared {
        masker: Masker::new(MaskKey::from_secret(
            format!("prodlike synth seed {}", opts.seed).as_bytes(),
        )?),
        store: keys::store_with_sequential_keys(profile, schema),
        counts: row_counts(profile, opts),
        profile: profile.clone(),
        seed: opts.seed,
        target: target.clone(),
    });
    let progress = Progress::new(opts.progress);
    let result = waves::generate_all(&run, &order, opts.jobs, &progress).await;
    // Every task has ended: the run's hold on the target is the last one but ours.
    drop(run);
    let mut done = load_or_abort(target, result).await?;
    done.sort_by(|a, b| a.table.cmp(&b.table));
    let total: u64 = done.iter().map(|t| t.rows).sum();
    let seconds = started.elapsed().as_secs_f64();
    Ok(SynthReport {
        target: opts.target.shown(),
        scale: opts.scale,
        seed: opts.seed,
        tables: done,
        total_rows: total,
        seconds,
        rows_per_sec: total as f64 / seconds.max(1e-9),
    })
}

/// Rows per table: `--rows` where given, else the profiled rows × `--scale`.
fn row_counts(profile: &Profile, opts: &SynthOptions) -> HashMap<String, u64> {
    profile
        .tables
        .iter()
        .map(|t| {
            let n = opts
                .rows
                .get(&t.name)
                .copied()
                .unwrap_or_else(|| (t.rows as f64 * opts.scale).round() as u64);
            (t.name.clone(), n)
        })
        .collect()
}

/// Swaps the generated tables in, or, on error, leaves the target as it was (the writer's own
/// error, when one failed, is the cause worth reporting).
async fn load_or_abort(
    target: Arc<Target>,
    result: Result<Vec<SynthTable>>,
) -> Result<Vec<SynthTable>> {
    let mut target = Arc::try_unwrap(target).map_err(|_| DataError::Outlived {
        what: "a synth task",
    })?;
    match result {
        Ok(done) => {
            target.finish().await?;
            Ok(done)
        }
        Err(e) => {
            let e = target.writer_error().unwrap_or(e);
            target.abort().await;
            Err(e)
        }
    }
}
