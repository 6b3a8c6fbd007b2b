//! One generated table, in its own task: rows made one by one (sequential identity, parent
//! keys from `parents.rs`, other columns from their profile's generators, a per-parent counter
//! for composite keys), written in batches through the target's table writer, then the keys
//! other tables reference are published to the key store. Input: the table, its row count and
//! the parents' keys; output: the loaded table and its [`SynthTable`] line.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use prodlike_mask::Masker;

use super::SynthTable;
use super::column::ColumnGen;
use super::keys::{KeyMap, KeyStore, Keys, seq_start, sequential_key, snapshot};
use super::parents::{Parents, ParentsInput};
use super::scatter::{self, Layout, SeqIdentity};
use crate::error::Result;
use crate::profile::Profile;
use crate::row::{BATCH_ROWS, Field, Row};
use crate::schema::{Kind, Table};
use crate::source::FieldType;
use crate::target::{TableWriter, Target, copy_columns};
use crate::value::Value;

/// What every table task shares.
pub(super) struct RunShared {
    pub profile: Profile,
    pub counts: HashMap<String, u64>,
    pub seed: u64,
    pub masker: Masker,
    pub store: KeyStore,
    pub target: Arc<Target>,
}

/// Generates `n` rows of `t` into the target and publishes its referenced keys.
pub(super) async fn gen_table(
    run: &RunShared,
    t: &Table,
    n: u64,
    bar: &indicatif::ProgressBar,
) -> Result<SynthTable> {
    let started = Instant::now();
    let cols = copy_columns(t);
    // A stream of its own per table (not per task order), so a seed gives the same data.
    let mut rng =
        fastrand::Rng::with_seed(run.seed ^ crate::plan::unit_hash(run.seed, &t.name, &[]));
    let types = field_types(t, &cols);
    let mut writer = run.target.writer(&t.name, &types).await?;
    let have = snapshot(&run.store);
    let mut rows = RowMaker::new(run, t, &cols, &types, n, &have, &mut rng);
    let written = write_rows(&mut rows, n, &mut rng, &mut writer, bar).await?;
    writer.finish().await?;
    run.target.table_loaded(&t.name).await?;
    rows.publish_keys(&run.store);
    let seconds = started.elapsed().as_secs_f64();
    Ok(SynthTable {
        table: t.name.clone(),
        profiled_rows: run.profile.table(&t.name).map_or(0, |p| p.rows),
        rows: written,
        seconds,
        rows_per_sec: written as f64 / seconds.max(1e-9),
    })
}

/// Every copied column's type as the target writer expects it (values are made, not read).
fn field_types(t: &Table, cols: &[String]) -> Vec<FieldType> {
    cols.iter()
        .map(|c| FieldType {
            oid: 0,
            kind: t.column(c).map_or(Kind::Text, |c| c.kind),
        })
        .collect()
}

/// Makes the rows and writes them in batches; returns the rows written.
async fn write_rows(
    rows: &mut RowMaker<'_>,
    n: u64,
    rng: &mut fastrand::Rng,
    writer: &mut TableWriter,
    bar: &indicatif::ProgressBar,
) -> Result<u64> {
    let mut written = 0u64;
    let mut buf = String::new();
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    for i in 0..n {
        batch.push(rows.next(i, rng, &mut buf)?);
        if batch.len() >= BATCH_ROWS {
            written += batch.len() as u64;
            bar.inc(batch.len() as u64);
            writer
                .write(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(BATCH_ROWS),
                ))
                .await?;
        }
    }
    written += batch.len() as u64;
    bar.inc(batch.len() as u64);
    writer.write(batch).await?;
    Ok(written)
}

/// The state of one table's generation, row after row.
struct RowMaker<'a> {
    t: &'a Table,
    cols: &'a [String],
    /// Scan positions of the identity's columns.
    identity: Vec<usize>,
    /// A sequential integer identity's keys, row by row.
    seq: Option<SeqIdentity>,
    parents: Parents,
    /// A generator per column, `None` for key columns filled otherwise.
    gens: Vec<Option<ColumnGen>>,
    /// Composite keys: the integer member outside any foreign key counts rows per parent.
    group_counter: Option<usize>,
    in_group: i64,
    /// Referenced keys that are not sequential, and their values so far.
    referenced: Vec<Vec<String>>,
    stored: Vec<Vec<Vec<Value>>>,
}

impl<'a> RowMaker<'a> {
    fn new(
        run: &RunShared,
        t: &'a Table,
        cols: &'a [String],
        types: &[FieldType],
        n: u64,
        have: &KeyMap,
        rng: &mut fastrand::Rng,
    ) -> Self {
        let input = ParentsInput {
            profile: &run.profile,
            t,
            cols,
            n,
            counts: &run.counts,
            have,
            seed: run.seed,
        };
        let parents = Parents::plan(&input, rng);
        let identity: Vec<usize> = t
            .identity()
            .map(|id| {
                id.iter()
                    .filter_map(|c| cols.iter().position(|x| x == c))
                    .collect()
            })
            .unwrap_or_default();
        // Laid out as production's when its rows do not follow the key (`scatter.rs`).
        let seq = t.identity().filter(|id| sequential_key(t, id)).map(|id| {
            let layout = Layout::of(scatter::correlation(&run.profile, &t.name, &id[0]));
            let mut layout_rng = scatter::rng(run.seed, &t.name, &id[0]);
            SeqIdentity::new(
                seq_start(&run.profile, &t.name, &id[0]),
                n,
                layout,
                &mut layout_rng,
            )
        });
        let group_counter = if identity.len() > 1 {
            identity
                .iter()
                .copied()
                .find(|i| !parents.fk_columns.contains(i) && types[*i].kind == Kind::Int)
        } else {
            None
        };
        let referenced: Vec<Vec<String>> = run
            .profile
            .schema
            .referenced_keys(&t.name)
            .into_iter()
            .filter(|k| !sequential_key(t, k))
            .collect();
        RowMaker {
            gens: generators(
                run,
                t,
                cols,
                &parents.fk_columns,
                seq.as_ref().map(|_| &identity[..]),
            ),
            stored: referenced.iter().map(|_| Vec::new()).collect(),
            t,
            cols,
            identity,
            seq,
            parents,
            group_counter,
            in_group: 0,
            referenced,
        }
    }

    /// Row `i`, its referenced keys remembered.
    fn next(&mut self, i: u64, rng: &mut fastrand::Rng, buf: &mut String) -> Result<Row> {
        let mut row: Vec<Value> = vec![Value::Null; self.cols.len()];
        if let Some(seq) = &self.seq
            && let Some(&p) = self.identity.first()
        {
            row[p] = Value::Int(seq.key(i));
        }
        if let Some(main) = &mut self.parents.main {
            main.fill(i, &mut row, &mut self.in_group);
        }
        self.in_group += 1;
        for other in &self.parents.others {
            other.fill(i, &mut row, self.seq.as_ref(), rng);
        }
        for (ci, g) in self.gens.iter_mut().enumerate() {
            if let Some(g) = g {
                row[ci] = g.next(rng, i, buf)?;
            }
        }
        if let Some(gc) = self.group_counter {
            row[gc] = Value::Int(self.in_group);
        }
        self.remember_keys(&row);
        Ok(row
            .into_iter()
            .map(|v| {
                if v.is_null() {
                    Field::Null
                } else {
                    Field::Val(v)
                }
            })
            .collect())
    }

    fn remember_keys(&mut self, row: &[Value]) {
        for (key, stored) in self.referenced.iter().zip(&mut self.stored) {
            stored.push(
                key.iter()
                    .map(|c| {
                        self.cols
                            .iter()
                            .position(|x| x == c)
                            .map_or(Value::Null, |j| row[j].clone())
                    })
                    .collect(),
            );
        }
    }

    /// Makes the table's stored keys known to the tables that reference them.
    fn publish_keys(self, store: &KeyStore) {
        let mut s = store.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, vals) in self.referenced.into_iter().zip(self.stored) {
            s.insert((self.t.name.clone(), key), Keys::Stored(Arc::new(vals)));
        }
    }
}

/// A value generator for every column no key fills (foreign keys, sequential identity).
fn generators(
    run: &RunShared,
    t: &Table,
    cols: &[String],
    fk_columns: &[usize],
    seq_identity: Option<&[usize]>,
) -> Vec<Option<ColumnGen>> {
    let tp = run.profile.table(&t.name);
    cols.iter()
        .enumerate()
        .map(|(i, c)| {
            if fk_columns.contains(&i) || seq_identity.is_some_and(|id| id.contains(&i)) {
                return None;
            }
            let col = t.column(c)?;
            Some(ColumnGen::new(
                t,
                col,
                tp.and_then(|p| p.columns.iter().find(|x| x.name == *c)),
                &run.masker,
                i,
            ))
        })
        .collect()
}
