//! `prodlike data restore`: a snapshot into a PostgreSQL target, with the sync's own loading
//! (`target.rs`): a load schema beside the target's contents, the advisory lock, keys and
//! foreign keys as tables land, views, functions and triggers planned from the snapshot's
//! catalog, and one swap transaction that carries the target's owner and grants over.
//!
//! Before the target is touched: the manifest's MAC is checked under the snapshot key, then
//! every file's length and BLAKE3 ([`manifest::open`]), then the target's identity against the
//! source the manifest records. A bad snapshot is refused whole, and the target keeps what it
//! had. While loading, each table's row count must equal the manifest's (else the load is
//! aborted, the target untouched), and the leak check (`stream_leaks.rs`) hashes each table's
//! rows as they stream into COPY. A leak aborts the swap: the target keeps what it had, and the
//! report says which rows leaked.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::error::{DataError, Result};
use crate::identity;
use crate::pg;
use crate::pg::copy::CopyReader;
use crate::snapshot::codec::Compression;
use crate::snapshot::key::SnapshotKey;
use crate::snapshot::leaks::{LeakColumn, row_hash};
use crate::snapshot::manifest::{self, Opened, TableEntry};
use crate::snapshot::stream_leaks::StreamLeaks;
use crate::target::Target;
use crate::url::DbUrl;

pub use prodlike_results::data::snapshot::{RestoreLeak, RestoreReport, RestoredTable};

/// Settings of one restore.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// The snapshot directory (a tar stream is unpacked into one first).
    pub snapshot: PathBuf,
    /// Shown in the report (`-` for standard input).
    pub shown: String,
    pub target: DbUrl,
    /// Tables loaded at once; `None`: [`super::default_jobs`].
    pub jobs: Option<usize>,
    pub keep_previous: bool,
}

/// Checks the snapshot whole (MAC, files), without a database: `restore` calls it first.
pub async fn check(dir: PathBuf, key: &SnapshotKey) -> Result<Opened> {
    let key = key.clone();
    tokio::task::spawn_blocking(move || manifest::open(&dir, &key))
        .await
        .map_err(|source| DataError::Task {
            what: "checking the snapshot",
            source,
        })?
}

/// Restores a snapshot.
pub async fn restore(opts: &RestoreOptions, key: &SnapshotKey) -> Result<RestoreReport> {
    let started = Instant::now();
    if opts.jobs == Some(0) {
        return Err(DataError::Invalid(
            "--jobs 0: load at least 1 table at a time".into(),
        ));
    }
    let DbUrl::Postgres { conn, .. } = &opts.target else {
        return Err(DataError::Invalid(
            "--target: a snapshot restores into PostgreSQL only (its rows are PostgreSQL binary COPY)".into(),
        ));
    };
    let jobs = opts.jobs.unwrap_or_else(|| super::default_jobs(conn));
    let snap = check(opts.snapshot.clone(), key).await?;
    let m = &snap.manifest;
    if let Some(id) = &m.source_identity {
        identity::ensure_target_is_not(id, &m.source, &opts.target).await?;
    }
    let schema = &snap.schema.schema;
    let tables: Vec<&crate::schema::Table> = schema.tables.iter().collect();
    if let Some(cat) = &snap.schema.catalog {
        pg::objects::refuse_unswappable(cat, &opts.target, &m.namespace).await?;
    }
    let mut target = Target::prepare(
        &opts.target,
        schema,
        &tables,
        &m.namespace,
        jobs,
        opts.keep_previous,
    )
    .await?;
    let mut not_copied = snap.sync.not_copied.clone();
    match target
        .add_objects(
            snap.schema.catalog.as_ref(),
            schema,
            &tables,
            &BTreeMap::new(),
        )
        .await
    {
        Ok(lost) => not_copied.extend(lost),
        Err(e) => {
            target.abort().await;
            return Err(e);
        }
    }
    let target = Arc::new(target);
    let loaded = load_all(&snap, &target, jobs, key).await;
    let target = Arc::try_unwrap(target).map_err(|_| DataError::Outlived {
        what: "a restore task",
    })?;
    let (loaded, mut leaks) = match loaded {
        Ok(l) => l,
        Err(e) => {
            target.abort().await;
            return Err(e);
        }
    };
    leaks.sort_by(|a, b| (&a.table, &a.column).cmp(&(&b.table, &b.column)));
    let leaked_rows = leaks.iter().map(|l| l.leaked_rows).sum::<u64>();
    // A leak found in the loaded rows keeps them out of the target: "nothing leaks" holds for
    // staging, not only for the report.
    let swapped = leaked_rows == 0;
    if swapped {
        not_copied.extend(target.finish_reporting().await?);
    } else {
        target.abort().await;
    }
    Ok(report(
        opts,
        &snap,
        Restored {
            tables: loaded,
            leaks,
            not_copied,
            swapped,
        },
        started,
    ))
}

/// What a restore did, for its report.
struct Restored {
    tables: Vec<RestoredTable>,
    leaks: Vec<RestoreLeak>,
    not_copied: Vec<prodlike_results::data::sync::NotCopied>,
    swapped: bool,
}

fn report(opts: &RestoreOptions, snap: &Opened, r: Restored, started: Instant) -> RestoreReport {
    let m = &snap.manifest;
    let total_rows = r.tables.iter().map(|t| t.rows).sum();
    let row_counts_match = r.tables.iter().all(|t| t.rows == t.manifest_rows);
    let leaked_rows = r.leaks.iter().map(|l| l.leaked_rows).sum::<u64>();
    let seconds = started.elapsed().as_secs_f64();
    RestoreReport {
        snapshot: opts.shown.clone(),
        target: opts.target.shown(),
        source: m.source.clone(),
        created: m.created.clone(),
        snapshot_key_fingerprint: m.snapshot_key_fingerprint.clone(),
        mask_key_fingerprint: m.mask_key_fingerprint.clone(),
        rules_digest: m.rules_digest.clone(),
        tables: r.tables,
        total_rows,
        row_counts_match,
        leaks: r.leaks,
        leaked_rows,
        leak_not_checked: snap.leaks.published_not_checked(),
        not_copied: r.not_copied,
        swapped: r.swapped,
        passed: row_counts_match && leaked_rows == 0,
        seconds,
        rows_per_sec: total_rows as f64 / seconds.max(1e-9),
    }
}

/// Loads every table, at most `jobs` at once, small tables first, then the largest first
/// (`sync::copy_order`); each table's leak check runs on its rows as they stream in.
async fn load_all(
    snap: &Opened,
    target: &Arc<Target>,
    jobs: usize,
    key: &SnapshotKey,
) -> Result<(Vec<RestoredTable>, Vec<RestoreLeak>)> {
    let sem = Arc::new(Semaphore::new(jobs.max(1)));
    let order = crate::sync::copy_order(snap.manifest.tables.clone(), |t| t.copy_bytes);
    let compression = snap.compression;
    let mut set = tokio::task::JoinSet::new();
    let (mut out, mut leaks) = (Vec::new(), Vec::new());
    for t in order {
        let columns: Vec<LeakColumn> = snap
            .leaks
            .columns
            .iter()
            .filter(|c| c.table == t.table)
            .cloned()
            .collect();
        let check = if columns.is_empty() {
            None
        } else {
            let table = snap
                .schema
                .schema
                .table(&t.table)
                .ok_or_else(|| DataError::Snapshot {
                    path: snap.dir.display().to_string(),
                    reason: format!(
                        "leaks.json checks table {}, which schema.json lacks",
                        t.table
                    ),
                })?;
            Some(
                StreamLeaks::new(table, columns, key.clone()).map_err(|reason| {
                    DataError::Snapshot {
                        path: snap.dir.display().to_string(),
                        reason,
                    }
                })?,
            )
        };
        let (target, path) = (target.clone(), manifest::safe_path(&snap.dir, &t.file)?);
        // The permit is taken here, in `order`, so the tables start in that order (tasks
        // spawned all at once would queue in any order, and a large table starting last is
        // the restore's tail).
        let permit = sem
            .clone()
            .acquire_owned()
            .await
            .map_err(|source| DataError::PoolClosed {
                what: "restoring a table",
                source,
            })?;
        while let Some(r) = set.try_join_next() {
            if let Err(e) = take(r, &mut out, &mut leaks) {
                set.abort_all();
                return Err(e);
            }
        }
        set.spawn(async move {
            let (loaded, leaks) = load_table(&target, &t, path, compression, check).await?;
            // The next table starts loading while this one's keys build, on permits of their
            // own (`Target::table_loaded`).
            drop(permit);
            target.table_loaded(&t.table).await?;
            Ok::<_, DataError>((loaded, leaks))
        });
    }
    while let Some(r) = set.join_next().await {
        if let Err(e) = take(r, &mut out, &mut leaks) {
            set.abort_all();
            return Err(e);
        }
    }
    out.sort_by(|a, b| a.table.cmp(&b.table));
    Ok((out, leaks))
}

type Loaded = (RestoredTable, Vec<RestoreLeak>);

/// One finished table task's result into `out` and `leaks`, or its error.
fn take(
    r: std::result::Result<Result<Loaded>, tokio::task::JoinError>,
    out: &mut Vec<RestoredTable>,
    leaks: &mut Vec<RestoreLeak>,
) -> Result<()> {
    let (t, mut l) = r.map_err(|source| DataError::Task {
        what: "a restore task",
        source,
    })??;
    out.push(t);
    leaks.append(&mut l);
    Ok(())
}

/// Bytes of inflated COPY stream per chunk sent to PostgreSQL. Small enough for the allocator
/// to reuse freed chunks: 256 KiB chunks came fresh from the kernel each time, and zeroing
/// their pages was a tenth of the restore's own CPU.
const READ_CHUNK: usize = 64 * 1024;

/// One table: its file inflated on a thread of its own, sent as it is into COPY; the rows
/// PostgreSQL took must be the manifest's.
async fn load_table(
    target: &Target,
    t: &TableEntry,
    path: PathBuf,
    compression: Compression,
    check: Option<StreamLeaks>,
) -> Result<(RestoredTable, Vec<RestoreLeak>)> {
    let started = Instant::now();
    let mut w = target.raw_writer(&t.table).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let shown = path.display().to_string();
    // The reader thread inflates the file and checks its rows for leaks as they pass; it
    // returns the check's result (an error: the stream is not whole binary COPY).
    let reader = std::thread::Builder::new()
        .name(format!("un{} {}", compression.name(), t.table))
        .spawn(move || -> std::result::Result<Vec<RestoreLeak>, String> {
            let mut check = check;
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return Ok(Vec::new());
                }
            };
            let mut inflate = compression.decoder(std::io::BufReader::with_capacity(1 << 20, file));
            loop {
                let mut buf = vec![0u8; READ_CHUNK];
                match read_full(&mut inflate, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        let chunk = Bytes::from(buf);
                        if let Some(c) = check.as_mut() {
                            c.push(chunk.clone())?;
                        }
                        if tx.blocking_send(Ok(chunk)).is_err() {
                            return Ok(Vec::new());
                        }
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return Ok(Vec::new());
                    }
                }
            }
            check.map_or(Ok(Vec::new()), StreamLeaks::finish)
        })
        .map_err(|source| DataError::Spawn {
            what: "a snapshot file reader",
            source,
        })?;
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk.map_err(|source| DataError::Io {
            what: "inflating",
            path: shown.clone(),
            source,
        })?;
        w.send(chunk).await?;
    }
    // The thread has ended (its sender is gone).
    let leaks = reader
        .join()
        .map_err(|_| DataError::Outlived {
            what: "a snapshot file reader",
        })?
        .map_err(|reason| DataError::Snapshot {
            path: shown.clone(),
            reason,
        })?;
    let rows = w.finish().await?;
    if rows != t.rows {
        return Err(DataError::Snapshot {
            path: shown,
            reason: format!(
                "PostgreSQL took {rows} rows of table {}, the manifest says {}",
                t.table, t.rows
            ),
        });
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok((
        RestoredTable {
            table: t.table.clone(),
            manifest_rows: t.rows,
            rows,
            seconds,
        },
        leaks,
    ))
}

/// Reads until `buf` is full or the stream ends: LZ4 hands out one block per read, and a full
/// chunk per message keeps the COPY's messages large.
fn read_full(r: &mut dyn std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The leak check of restored rows (`conn`, schema `ns`) against a snapshot's hashes
/// (`LeakHashes::columns`, or those of one table): per checked column, the rows whose value is
/// their own source row's.
pub async fn leak_check(
    conn: &str,
    shown: &str,
    ns: &str,
    columns: &[LeakColumn],
    key: &SnapshotKey,
) -> Result<Vec<RestoreLeak>> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let admin = pg::connect(conn, shown).await?;
    check_leaks(&admin, ns, columns, key).await
}

/// [`leak_check`] on an open connection: one scan per table and key reads the key and every
/// checked column of that table together (a table with six masked columns was read six times).
pub(crate) async fn check_leaks(
    client: &tokio_postgres::Client,
    ns: &str,
    columns: &[LeakColumn],
    key: &SnapshotKey,
) -> Result<Vec<RestoreLeak>> {
    let mut groups: BTreeMap<(&str, &[String]), Vec<&LeakColumn>> = BTreeMap::new();
    for c in columns {
        groups.entry((&c.table, &c.key)).or_default().push(c);
    }
    let mut out = Vec::with_capacity(columns.len());
    for ((table, keys), cols) in groups {
        out.extend(check_table_leaks(client, ns, table, keys, &cols, key).await?);
    }
    Ok(out)
}

/// Counts, per column of `cols` (all of `table`, keyed by `keys`), the restored rows whose value
/// is their own source row's.
async fn check_table_leaks(
    client: &tokio_postgres::Client,
    ns: &str,
    table: &str,
    keys: &[String],
    cols: &[&LeakColumn],
    key: &SnapshotKey,
) -> Result<Vec<RestoreLeak>> {
    let select: Vec<String> = keys
        .iter()
        .chain(cols.iter().map(|c| &c.column))
        .map(|k| pg::ident(k))
        .collect();
    let any_value: Vec<String> = cols
        .iter()
        .map(|c| format!("{} IS NOT NULL", pg::ident(&c.column)))
        .collect();
    let sql = format!(
        "COPY (SELECT {} FROM {} WHERE {}) TO STDOUT (FORMAT binary)",
        select.join(", "),
        pg::qualified(ns, table),
        any_value.join(" OR ")
    );
    let names: Vec<&str> = cols.iter().map(|c| c.column.as_str()).collect();
    let what = format!("table {table} (leak check of {})", names.join(", "));
    let stream = client
        .copy_out(&sql)
        .await
        .map_err(DataError::pg(format!("reading {what}")))?;
    let mut reader = CopyReader::new(stream, what);
    let n = keys.len();
    let (mut leaked, mut checked) = (vec![0u64; cols.len()], vec![0u64; cols.len()]);
    while let Some(row) = reader.next().await? {
        if row.len() != n + cols.len() {
            continue;
        }
        let key_fields: Option<Vec<&[u8]>> = row[..n]
            .iter()
            .map(|f| match f {
                crate::row::Field::Raw(b) => Some(&b[..]),
                _ => None,
            })
            .collect();
        let Some(key_fields) = key_fields else {
            continue;
        };
        for (j, c) in cols.iter().enumerate() {
            let crate::row::Field::Raw(v) = &row[n + j] else {
                continue;
            };
            checked[j] += 1;
            if c.hashes
                .binary_search(&row_hash(key, &c.column, &key_fields, v))
                .is_ok()
            {
                leaked[j] += 1;
            }
        }
    }
    Ok(cols
        .iter()
        .zip(leaked.into_iter().zip(checked))
        .map(|(c, (leaked_rows, rows_checked))| RestoreLeak {
            table: c.table.clone(),
            column: c.column.clone(),
            leaked_rows,
            rows_checked,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use crate::snapshot::default_jobs;

    #[test]
    fn the_default_jobs_follow_this_machine_only_when_postgres_runs_on_it() {
        let cores = std::thread::available_parallelism()
            .map_or(4, std::num::NonZeroUsize::get)
            .clamp(2, 4);
        for local in [
            "postgres://u@127.0.0.1:5432/db",
            "postgres://u@localhost/db",
            "postgres://u@[::1]/db",
            "host=/var/run/postgresql dbname=db",
        ] {
            assert_eq!(default_jobs(local), cores, "{local}");
        }
        for remote in [
            "postgres://u@db.internal:5432/db",
            "postgres://u@10.0.0.5/db",
            "postgres://u@127.0.0.1,db.internal/db",
            "not a connection string at all",
        ] {
            assert_eq!(default_jobs(remote), 4, "{remote}");
        }
    }
}
