//! `prodlike data synth`: rows that follow a profile — categorical frequencies, numeric and
//! date percentiles, null rates, string shapes (PII columns get realistic fakes of the same
//! shape), foreign-key fan-out — written through the same atomic load as a sync.
//!
//! Foreign keys: each child table's main foreign key is filled parent by parent, each parent
//! getting a number of children drawn from the profiled fan-out distribution (zeros included);
//! other foreign keys pick parents weighted the same way; self-references point to earlier
//! rows. Integer keys are sequential, so a parent's keys are known without storing them (which
//! is also what lets a cycle with no nullable column reference rows not generated yet).

mod column;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use prodlike_mask::{MaskKey, Masker};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::identity;
use crate::plan::plan_order;
use crate::profile::{FanOut, Profile};
use crate::progress::Progress;
use crate::row::{BATCH_ROWS, Field};
use crate::schema::{Kind, Table};
use crate::source::FieldType;
use crate::target::{Target, copy_columns};
use crate::url::DbUrl;
use crate::value::Value;
use column::{ColumnGen, draw_percentile};

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

/// How a table's key values are known to children.
#[derive(Clone)]
enum Keys {
    /// `start + index` (single integer key).
    Sequential { start: i64 },
    /// Stored tuples.
    Stored(Arc<Vec<Vec<Value>>>),
}

type KeyStore = Arc<Mutex<HashMap<(String, Vec<String>), Keys>>>;

fn seq_start(profile: &Profile, table: &str, col: &str) -> i64 {
    profile
        .table(table)
        .and_then(|t| t.columns.iter().find(|c| c.name == col))
        .and_then(|c| c.percentiles.first().copied())
        .map_or(1, |x| (x as i64).max(1))
}

fn sequential_key(t: &Table, cols: &[String]) -> bool {
    cols.len() == 1
        && t.identity().as_deref() == Some(cols)
        && t.column(&cols[0]).is_some_and(|c| c.kind == Kind::Int)
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
    let counts: HashMap<String, u64> = profile
        .tables
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                opts.rows
                    .get(&t.name)
                    .copied()
                    .unwrap_or_else(|| (t.rows as f64 * opts.scale).round() as u64),
            )
        })
        .collect();
    let tables: Vec<&Table> = schema.tables.iter().collect();
    // Forward references (cycles) need sequential keys in the parent.
    let order = plan_order(schema);
    for t in &tables {
        for fk in &t.foreign_keys {
            let Some(p) = schema.table(&fk.ref_table) else {
                continue;
            };
            let later = order.iter().position(|x| *x == fk.ref_table)
                >= order.iter().position(|x| *x == t.name);
            if later
                && fk.ref_table != t.name
                && !sequential_key(p, &fk.ref_columns)
                && !t.fk_nullable(fk)
            {
                return Err(DataError::Invalid(format!(
                    "cannot synthesise `{}`: its foreign key {:?} → {} closes a cycle through a non-integer key",
                    t.name, fk.columns, fk.ref_table
                )));
            }
        }
    }
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
    let masker = Masker::new(MaskKey::from_secret(
        format!("prodlike synth seed {}", opts.seed).as_bytes(),
    )?);
    let store: KeyStore = Arc::new(Mutex::new(HashMap::new()));
    for t in &tables {
        for key in schema.referenced_keys(&t.name) {
            if sequential_key(t, &key) {
                let start = seq_start(profile, &t.name, &key[0]);
                store
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert((t.name.clone(), key), Keys::Sequential { start });
            }
        }
    }
    let progress = Progress::new(opts.progress);
    let shared = Arc::new(profile.clone());
    let counts = Arc::new(counts);
    let mut done: Vec<SynthTable> = Vec::new();
    let mut remaining: Vec<String> = order.clone();
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let result: Result<()> = async {
        while !remaining.is_empty() {
            let have = store.lock().unwrap_or_else(PoisonError::into_inner).clone();
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
            let ready = if ready.is_empty() {
                vec![remaining[0].clone()]
            } else {
                ready
            };
            remaining.retain(|n| !ready.contains(n));
            // Each table in its own task, so generation uses every core.
            let mut set = tokio::task::JoinSet::new();
            for name in &ready {
                let Some(t) = schema.table(name) else {
                    continue;
                };
                let n = counts.get(name).copied().unwrap_or(0);
                let bar = progress.bar(name, n);
                let (sem, store, masker, target, counts, profile, t, seed) = (
                    sem.clone(),
                    store.clone(),
                    masker.clone(),
                    target.clone(),
                    counts.clone(),
                    shared.clone(),
                    t.clone(),
                    opts.seed,
                );
                set.spawn(async move {
                    let _p = sem
                        .acquire_owned()
                        .await
                        .map_err(|e| DataError::Invalid(e.to_string()))?;
                    let r = gen_table(
                        &profile, &t, n, &counts, seed, &masker, &store, &target, &bar,
                    )
                    .await;
                    bar.finish();
                    r
                });
            }
            let mut first_err = None;
            while let Some(r) = set.join_next().await {
                match r
                    .map_err(|e| DataError::Invalid(format!("a synth task failed: {e}")))
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
            if let Some(e) = first_err {
                return Err(e);
            }
        }
        Ok(())
    }
    .await;
    let target = Arc::try_unwrap(target)
        .map_err(|_| DataError::Invalid("a synth task outlived the run".into()))?;
    if let Err(e) = result {
        let mut target = target;
        let e = target.writer_error().unwrap_or(e);
        target.abort().await;
        return Err(e);
    }
    target.finish().await?;
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

/// Children per parent for `n_children` over `n_parents`, following the fan-out percentiles.
fn fan_counts(
    fan: Option<&FanOut>,
    n_parents: u64,
    n_children: u64,
    rng: &mut fastrand::Rng,
) -> Vec<u64> {
    if n_parents == 0 {
        return vec![];
    }
    let mut draws: Vec<f64> = (0..n_parents)
        .map(|_| match fan {
            Some(f) if !f.percentiles.is_empty() => {
                draw_percentile(&f.percentiles, rng.f64()).max(0.0)
            }
            _ => 1.0,
        })
        .collect();
    let sum: f64 = draws.iter().sum();
    let factor = if sum > 0.0 {
        n_children as f64 / sum
    } else {
        0.0
    };
    let mut out: Vec<u64> = Vec::with_capacity(draws.len());
    let mut total = 0u64;
    for d in draws.iter_mut() {
        let x = *d * factor;
        let k = x.floor() as u64 + u64::from(rng.f64() < x.fract());
        out.push(k);
        total += k;
    }
    // Settle the exact total with unit steps on random parents that can take them.
    let len = out.len();
    let mut guard = 0u64;
    while total != n_children && guard < 10 * n_children + 1000 {
        guard += 1;
        let i = rng.usize(..len);
        if total < n_children {
            if out[i] > 0 || sum == 0.0 || guard > 4 * n_children + 100 {
                out[i] += 1;
                total += 1;
            }
        } else if out[i] > 0 {
            out[i] -= 1;
            total -= 1;
        }
    }
    out
}

fn key_values(keys: &Keys, index: u64) -> Vec<Value> {
    match keys {
        Keys::Sequential { start } => vec![Value::Int(start + index as i64)],
        Keys::Stored(v) => v.get(index as usize).cloned().unwrap_or_default(),
    }
}

fn key_len(keys: &Keys, fallback: u64) -> u64 {
    match keys {
        Keys::Sequential { .. } => fallback,
        Keys::Stored(v) => v.len() as u64,
    }
}

#[allow(clippy::too_many_arguments)]
async fn gen_table(
    profile: &Profile,
    t: &Table,
    n: u64,
    counts: &HashMap<String, u64>,
    seed: u64,
    masker: &Masker,
    store: &KeyStore,
    target: &Target,
    bar: &indicatif::ProgressBar,
) -> Result<SynthTable> {
    let started = Instant::now();
    let schema = &profile.schema;
    let tp = profile.table(&t.name);
    let cols = copy_columns(t);
    let mut rng = fastrand::Rng::with_seed(seed ^ crate::plan::unit_hash(seed, &t.name, &[]));
    let types: Vec<FieldType> = cols
        .iter()
        .map(|c| {
            let col = t.column(c);
            FieldType {
                oid: 0,
                kind: col.map_or(Kind::Text, |c| c.kind),
            }
        })
        .collect();
    let mut writer = target.writer(&t.name, &types).await?;
    let have = store.lock().unwrap_or_else(PoisonError::into_inner).clone();

    // The main foreign key: part of the primary key, else the first non-nullable one.
    let main_fk = t
        .foreign_keys
        .iter()
        .filter(|fk| fk.ref_table != t.name)
        .max_by_key(|fk| {
            (
                t.primary_key
                    .as_ref()
                    .is_some_and(|pk| fk.columns.iter().all(|c| pk.columns.contains(c))),
                !t.fk_nullable(fk),
            )
        });
    let fan_of = |fk: &crate::schema::ForeignKey| {
        profile
            .fan_out
            .iter()
            .find(|f| f.child == t.name && f.columns == fk.columns)
    };
    let mut main_counts: Vec<u64> = vec![];
    let mut main_keys: Option<Keys> = None;
    if let Some(fk) = main_fk
        && let Some(k) = have.get(&(fk.ref_table.clone(), fk.ref_columns.clone()))
    {
        let parents = key_len(k, counts.get(&fk.ref_table).copied().unwrap_or(0));
        let null_share = fan_of(fk).map_or(0.0, |f| {
            let total = profile.table(&t.name).map_or(0, |x| x.rows);
            if total == 0 {
                0.0
            } else {
                f.null_children as f64 / total as f64
            }
        });
        let non_null = ((n as f64) * (1.0 - null_share)).round() as u64;
        main_counts = fan_counts(fan_of(fk), parents, non_null, &mut rng);
        main_keys = Some(k.clone());
    }
    // Other foreign keys: cumulative weights over parents.
    struct Other {
        cols: Vec<usize>,
        keys: Option<Keys>,
        cum: Vec<f64>,
        self_ref: bool,
        null_rate: f64,
    }
    let mut others = Vec::new();
    for fk in &t.foreign_keys {
        if main_keys.is_some() && main_fk.is_some_and(|m| std::ptr::eq(m, fk)) {
            continue;
        }
        let idx: Vec<usize> = fk
            .columns
            .iter()
            .filter_map(|c| cols.iter().position(|x| x == c))
            .collect();
        let null_rate = tp
            .and_then(|p| p.columns.iter().find(|c| c.name == fk.columns[0]))
            .map_or(0.0, |c| c.null_fraction);
        if fk.ref_table == t.name {
            others.push(Other {
                cols: idx,
                keys: None,
                cum: vec![],
                self_ref: true,
                null_rate,
            });
            continue;
        }
        let keys = have
            .get(&(fk.ref_table.clone(), fk.ref_columns.clone()))
            .cloned();
        let parents = keys.as_ref().map_or(0, |k| {
            key_len(k, counts.get(&fk.ref_table).copied().unwrap_or(0))
        });
        let mut cum = Vec::with_capacity(parents as usize);
        let mut acc = 0.0;
        let fan = fan_of(fk);
        for _ in 0..parents {
            acc += match fan {
                Some(f) if !f.percentiles.is_empty() => {
                    draw_percentile(&f.percentiles, rng.f64()).max(0.0) + 1e-9
                }
                _ => 1.0,
            };
            cum.push(acc);
        }
        others.push(Other {
            cols: idx,
            keys,
            cum,
            self_ref: false,
            null_rate,
        });
    }
    let fk_cols: Vec<usize> = t
        .foreign_keys
        .iter()
        .flat_map(|fk| {
            fk.columns
                .iter()
                .filter_map(|c| cols.iter().position(|x| x == c))
        })
        .collect();
    let main_idx: Vec<usize> = main_fk
        .filter(|_| main_keys.is_some())
        .map(|fk| {
            fk.columns
                .iter()
                .filter_map(|c| cols.iter().position(|x| x == c))
                .collect()
        })
        .unwrap_or_default();
    let pk: Vec<usize> = t
        .identity()
        .map(|id| {
            id.iter()
                .filter_map(|c| cols.iter().position(|x| x == c))
                .collect()
        })
        .unwrap_or_default();
    let seq_pk = t.identity().is_some_and(|id| sequential_key(t, &id));
    let pk_start = if seq_pk {
        t.identity()
            .map_or(1, |id| seq_start(profile, &t.name, &id[0]))
    } else {
        1
    };
    let mut gens: Vec<Option<ColumnGen>> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if fk_cols.contains(&i) || (seq_pk && pk.contains(&i)) {
                return None;
            }
            let col = t.column(c)?;
            Some(ColumnGen::new(
                t,
                col,
                tp.and_then(|p| p.columns.iter().find(|x| x.name == *c)),
                masker,
                i,
            ))
        })
        .collect();
    // Composite keys: integer members not in a foreign key count rows within their group.
    let group_counter: Option<usize> = if pk.len() > 1 {
        pk.iter()
            .copied()
            .find(|i| !fk_cols.contains(i) && types[*i].kind == Kind::Int)
    } else {
        None
    };
    let referenced: Vec<Vec<String>> = schema
        .referenced_keys(&t.name)
        .into_iter()
        .filter(|k| !sequential_key(t, k))
        .collect();
    let mut stored: Vec<Vec<Vec<Value>>> = referenced.iter().map(|_| Vec::new()).collect();

    let mut parent_cursor = 0usize;
    let mut left_in_parent = main_counts.first().copied().unwrap_or(0);
    let mut in_group = 0i64;
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let non_null_main: u64 = main_counts.iter().sum();
    let mut written = 0u64;
    let mut buf = String::new();
    for i in 0..n {
        let mut row: Vec<Value> = vec![Value::Null; cols.len()];
        if seq_pk && let Some(&p) = pk.first() {
            row[p] = Value::Int(pk_start + i as i64);
        }
        if let Some(keys) = &main_keys {
            if i < non_null_main {
                while left_in_parent == 0 && parent_cursor + 1 < main_counts.len() {
                    parent_cursor += 1;
                    left_in_parent = main_counts[parent_cursor];
                    in_group = 0;
                }
                left_in_parent = left_in_parent.saturating_sub(1);
                for (j, v) in main_idx.iter().zip(key_values(keys, parent_cursor as u64)) {
                    row[*j] = v;
                }
            }
        }
        in_group += 1;
        for o in &others {
            if o.null_rate > 0.0 && rng.f64() < o.null_rate {
                continue;
            }
            let vals = if o.self_ref {
                if !seq_pk {
                    continue;
                }
                let j = if i == 0 { 0 } else { rng.u64(..i) };
                vec![Value::Int(pk_start + j as i64)]
            } else if let Some(keys) = &o.keys {
                if o.cum.is_empty() {
                    continue;
                }
                let total = o.cum[o.cum.len() - 1];
                let x = rng.f64() * total;
                let p = o.cum.partition_point(|c| *c < x).min(o.cum.len() - 1);
                key_values(keys, p as u64)
            } else {
                continue;
            };
            for (j, v) in o.cols.iter().zip(vals) {
                row[*j] = v;
            }
        }
        for (ci, g) in gens.iter_mut().enumerate() {
            if let Some(g) = g {
                row[ci] = g.next(&mut rng, i, &mut buf)?;
            }
        }
        if let Some(gc) = group_counter {
            row[gc] = Value::Int(in_group);
        }
        for (k, key) in referenced.iter().enumerate() {
            stored[k].push(
                key.iter()
                    .map(|c| {
                        cols.iter()
                            .position(|x| x == c)
                            .map_or(Value::Null, |j| row[j].clone())
                    })
                    .collect(),
            );
        }
        batch.push(
            row.into_iter()
                .map(|v| {
                    if v.is_null() {
                        Field::Null
                    } else {
                        Field::Val(v)
                    }
                })
                .collect(),
        );
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
    writer.finish().await?;
    target.table_loaded(&t.name).await?;
    {
        let mut s = store.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, vals) in referenced.into_iter().zip(stored) {
            s.insert((t.name.clone(), key), Keys::Stored(Arc::new(vals)));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(SynthTable {
        table: t.name.clone(),
        profiled_rows: tp.map_or(0, |p| p.rows),
        rows: written,
        seconds,
        rows_per_sec: written as f64 / seconds.max(1e-9),
    })
}
