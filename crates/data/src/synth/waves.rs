//! The order tables are generated in: in waves, each wave every remaining table whose parents'
//! keys are known (self-references and nullable foreign keys do not wait), each table in its
//! own task so generation uses every core, at most `jobs` at a time. A wave with no ready table
//! takes the first remaining one in plan order (its sequential parents are known in advance).
//! Input: the plan order; output: a [`SynthTable`] per generated table.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::SynthTable;
use super::keys::{KeyMap, snapshot};
use super::table::{RunShared, gen_table};
use crate::error::{DataError, Result};
use crate::progress::Progress;
use crate::schema::Schema;

/// Generates every table of `order`; the first error stops the run (other tasks are aborted).
pub(super) async fn generate_all(
    run: &Arc<RunShared>,
    order: &[String],
    jobs: usize,
    progress: &Progress,
) -> Result<Vec<SynthTable>> {
    let schema = &run.profile.schema;
    let sem = Arc::new(Semaphore::new(jobs.max(1)));
    let mut done = Vec::new();
    let mut remaining: Vec<String> = order.to_vec();
    while !remaining.is_empty() {
        let ready = next_wave(schema, &remaining, &snapshot(&run.store));
        remaining.retain(|n| !ready.contains(n));
        done.extend(run_wave(run, &ready, &sem, progress).await?);
    }
    Ok(done)
}

/// The remaining tables whose parents' keys are all known, else the first remaining one.
fn next_wave(schema: &Schema, remaining: &[String], have: &KeyMap) -> Vec<String> {
    let ready: Vec<String> = remaining
        .iter()
        .filter(|n| {
            let Some(t) = schema.table(n) else {
                return true;
            };
            t.foreign_keys.iter().all(|fk| {
                fk.ref_table == t.name
                    || have.contains_key(&(fk.ref_table.clone(), fk.ref_columns.clone()))
                    || t.fk_nullable(fk)
            })
        })
        .cloned()
        .collect();
    if ready.is_empty() {
        remaining.first().cloned().into_iter().collect()
    } else {
        ready
    }
}

/// Generates the tables of one wave in parallel.
async fn run_wave(
    run: &Arc<RunShared>,
    ready: &[String],
    sem: &Arc<Semaphore>,
    progress: &Progress,
) -> Result<Vec<SynthTable>> {
    let mut set = JoinSet::new();
    for name in ready {
        let Some(t) = run.profile.schema.table(name) else {
            continue;
        };
        let n = run.counts.get(name).copied().unwrap_or(0);
        let bar = progress.bar(name, n);
        let (sem, run, t) = (sem.clone(), run.clone(), t.clone());
        set.spawn(async move {
            let _permit = sem
                .acquire_owned()
                .await
                .map_err(|source| DataError::PoolClosed {
                    what: "generating a table",
                    source,
                })?;
            let r = gen_table(&run, &t, n, &bar).await;
            bar.finish();
            r
        });
    }
    let mut done = Vec::new();
    let mut first_err = None;
    while let Some(r) = set.join_next().await {
        match r
            .map_err(|source| DataError::Task {
                what: "a synth task",
                source,
            })
            .and_then(|x| x)
        {
            Ok(t) => done.push(t),
            Err(e) => {
                if first_err.is_none() {
                    first_err = Some(e);
                    set.abort_all();
                }
            }
        }
    }
    first_err.map_or(Ok(done), Err)
}
