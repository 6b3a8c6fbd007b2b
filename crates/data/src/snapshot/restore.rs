//! `prodlike data restore`: a snapshot into a PostgreSQL target, with the sync's own loading
//! (`target.rs`): a load schema beside the target's contents, the advisory lock, keys and
//! foreign keys as tables land, views, functions and triggers planned from the snapshot's
//! catalog, and one swap transaction that carries the target's owner and grants over.
//!
//! Before the target is touched: the manifest's MAC is checked under the snapshot key, then
//! every file's length and BLAKE3 ([`manifest::open`]), then the target's identity against the
//! source the manifest records. A bad snapshot is refused whole, and the target keeps what it
//! had. While loading, each table's row count must equal the manifest's (else the load is
//! aborted, the target untouched), and the leak check (`leaks.rs`) reads each table's loaded
//! rows back from the load schema beside its index builds. A leak aborts the swap: the target
//! keeps what it had, and the report says which rows leaked.

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
    /// Tables loaded at once.
    pub jobs: usize,
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
    if opts.jobs == 0 {
        return Err(DataError::Invalid(
            "--jobs 0: load at least 1 table at a time (default 4)".into(),
        ));
    }
    let DbUrl::Postgres { conn, shown } = &opts.target else {
        return Err(DataError::Invalid(
            "--target: a snapshot restores into PostgreSQL only (its rows are PostgreSQL binary COPY)".into(),
        ));
    };
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
        opts.jobs,
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
    let checks = Arc::new(LeakContext {
        conn: conn.clone(),
        shown: shown.clone(),
        ns: target.load_namespace().unwrap_or(&m.namespace).to_owned(),
        key: key.clone(),
    });
    let loaded = load_all(&snap, &target, opts.jobs, &checks).await;
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
        leak_not_checked: snap
            .leaks
            .not_checked
            .iter()
            .map(|n| prodlike_results::data::snapshot::LeakNotChecked {
                table: n.table.clone(),
                column: n.column.clone(),
                reason: n.reason.clone(),
            })
            .collect(),
        not_copied: r.not_copied,
        swapped: r.swapped,
        passed: row_counts_match && leaked_rows == 0,
        seconds,
        rows_per_sec: total_rows as f64 / seconds.max(1e-9),
    }
}

/// Where the leak check reads the loaded rows: the target's load schema, before the swap.
struct LeakContext {
    conn: String,
    shown: String,
    ns: String,
    key: SnapshotKey,
}

/// Loads every table, at most `jobs` at once, largest first; each table's leak check runs
/// beside its keys and indexes, while other tables still load.
async fn load_all(
    snap: &Opened,
    target: &Arc<Target>,
    jobs: usize,
    checks: &Arc<LeakContext>,
) -> Result<(Vec<RestoredTable>, Vec<RestoreLeak>)> {
    let sem = Arc::new(Semaphore::new(jobs.max(1)));
    let mut order: Vec<TableEntry> = snap.manifest.tables.clone();
    order.sort_by_key(|t| std::cmp::Reverse(t.copy_bytes));
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
        let (target, checks, path) = (
            target.clone(),
            checks.clone(),
            manifest::safe_path(&snap.dir, &t.file)?,
        );
        // The permit is taken here, in `order`, so the largest tables start first (tasks
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
            let _permit = permit;
            let loaded = load_table(&target, &t, path, compression).await?;
            let (keyed, leaks) = tokio::join!(
                target.table_loaded(&t.table),
                leak_check(
                    &checks.conn,
                    &checks.shown,
                    &checks.ns,
                    &columns,
                    &checks.key
                )
            );
            keyed?;
            Ok::<_, DataError>((loaded, leaks?))
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
) -> Result<RestoredTable> {
    let started = Instant::now();
    let mut w = target.raw_writer(&t.table).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let shown = path.display().to_string();
    let reader = std::thread::Builder::new()
        .name(format!("un{} {}", compression.name(), t.table))
        .spawn(move || {
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            };
            let mut inflate = compression.decoder(std::io::BufReader::with_capacity(1 << 20, file));
            loop {
                let mut buf = vec![0u8; READ_CHUNK];
                match read_full(&mut inflate, &mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        buf.truncate(n);
                        if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
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
    let _ = reader.join();
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
    Ok(RestoredTable {
        table: t.table.clone(),
        manifest_rows: t.rows,
        rows,
        seconds,
    })
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
    let mut out = Vec::new();
    for c in columns {
        out.push(check_leaks(&admin, ns, c, key).await?);
    }
    Ok(out)
}

/// Counts the restored rows of `c` whose value is their own source row's.
async fn check_leaks(
    admin: &tokio_postgres::Client,
    ns: &str,
    c: &LeakColumn,
    key: &SnapshotKey,
) -> Result<RestoreLeak> {
    let cols: Vec<String> = c
        .key
        .iter()
        .chain([&c.column])
        .map(|k| pg::ident(k))
        .collect();
    let sql = format!(
        "COPY (SELECT {} FROM {} WHERE {} IS NOT NULL) TO STDOUT (FORMAT binary)",
        cols.join(", "),
        pg::qualified(ns, &c.table),
        pg::ident(&c.column)
    );
    let what = format!("table {} (leak check of {})", c.table, c.column);
    let stream = admin
        .copy_out(&sql)
        .await
        .map_err(DataError::pg(format!("reading {what}")))?;
    let mut reader = CopyReader::new(stream, what);
    let (mut leaked, mut checked) = (0u64, 0u64);
    let n = c.key.len();
    while let Some(row) = reader.next().await? {
        let fields: Option<Vec<&[u8]>> = row
            .iter()
            .map(|f| match f {
                crate::row::Field::Raw(b) => Some(&b[..]),
                _ => None,
            })
            .collect();
        let Some(fields) = fields else { continue };
        if fields.len() != n + 1 {
            continue;
        }
        checked += 1;
        let h = row_hash(key, &c.column, &fields[..n], fields[n]);
        if c.hashes.binary_search(&h).is_ok() {
            leaked += 1;
        }
    }
    Ok(RestoreLeak {
        table: c.table.clone(),
        column: c.column.clone(),
        leaked_rows: leaked,
        rows_checked: checked,
    })
}
