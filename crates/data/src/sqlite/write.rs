//! The SQLite target: one writer thread owns a new database file next to the target, takes
//! batches for any table, and at the end renames the file over the target (atomic on POSIX).
//! Until then the target is untouched; a killed run leaves only a `.…prodlike-partial-PID` file,
//! which the next run removes.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use tokio::sync::mpsc;

use super::read::to_sqlite;
use crate::error::{DataError, Result};
use crate::pg::codec;
use crate::row::{Batch, Field};
use crate::schema::Kind;
use crate::value::Value;

/// How the writer decodes a column arriving in PostgreSQL binary form.
#[derive(Debug, Clone, Copy)]
pub struct SourceType {
    pub oid: u32,
    pub kind: Kind,
}

/// One table the writer inserts into.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub insert_sql: String,
    pub source_types: Vec<SourceType>,
}

enum Msg {
    Rows(usize, Batch),
    Finish(Vec<String>),
}

/// The writer thread's handle.
pub struct SqliteLoad {
    tx: mpsc::Sender<Msg>,
    handle: Option<std::thread::JoinHandle<Result<()>>>,
    partial: PathBuf,
    target: PathBuf,
}

/// `dir/.name.prodlike-partial-PID`.
pub fn partial_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "target.db".into());
    target.with_file_name(format!(".{name}.prodlike-partial-{}", std::process::id()))
}

/// Removes partial files of runs whose process is gone.
pub fn remove_stale_partials(target: &Path) {
    let Some(dir) = target.parent().map(|d| {
        if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        }
    }) else {
        return;
    };
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{name}.prodlike-partial-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = file.strip_prefix(&prefix)
            && let Ok(pid) = pid.parse::<u32>()
            && pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn field_value(f: Field, t: SourceType) -> Value {
    match f {
        Field::Null => Value::Null,
        Field::Val(v) => v,
        Field::Raw(b) => codec::decode(t.oid, t.kind, &b).unwrap_or(Value::Bytes(b.to_vec())),
    }
}

impl SqliteLoad {
    /// Creates the partial database with `create` statements and starts the writer.
    pub fn start(target: &Path, create: Vec<String>, tables: Vec<TableSpec>) -> Result<Self> {
        remove_stale_partials(target);
        let partial = partial_path(target);
        let _ = std::fs::remove_file(&partial);
        let conn = Connection::open(&partial)
            .map_err(DataError::sqlite(format!("creating {}", partial.display())))?;
        let ctx = |what: &str| DataError::sqlite(format!("{what} in {}", partial.display()));
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF; BEGIN",
        )
        .map_err(ctx("preparing"))?;
        for sql in &create {
            conn.execute_batch(sql).map_err(ctx("creating tables"))?;
        }
        let (tx, mut rx) = mpsc::channel::<Msg>(32);
        let partial_c = partial.clone();
        let handle = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || -> Result<()> {
                let ctx =
                    |what: String| DataError::sqlite(format!("{what} in {}", partial_c.display()));
                while let Some(msg) = rx.blocking_recv() {
                    match msg {
                        Msg::Rows(t, rows) => {
                            let spec = &tables[t];
                            let mut stmt = conn
                                .prepare_cached(&spec.insert_sql)
                                .map_err(ctx(format!("preparing `{}`", spec.insert_sql)))?;
                            for row in rows {
                                let vals: Vec<rusqlite::types::Value> = row
                                    .into_iter()
                                    .zip(&spec.source_types)
                                    .map(|(f, t)| to_sqlite(field_value(f, *t)))
                                    .collect();
                                stmt.execute(rusqlite::params_from_iter(vals)).map_err(ctx(
                                    format!("inserting with `{}`", spec.insert_sql),
                                ))?;
                            }
                        }
                        Msg::Finish(indexes) => {
                            for sql in &indexes {
                                conn.execute_batch(sql)
                                    .map_err(ctx(format!("running `{sql}`")))?;
                            }
                            let violations: i64 = conn
                                .query_row(
                                    "SELECT count(*) FROM pragma_foreign_key_check",
                                    [],
                                    |r| r.get(0),
                                )
                                .map_err(ctx("checking foreign keys".into()))?;
                            if violations > 0 {
                                return Err(DataError::Aborted(format!(
                                    "{violations} rows would break foreign keys in the new database"
                                )));
                            }
                            conn.execute_batch("COMMIT")
                                .map_err(ctx("committing".into()))?;
                            drop(conn);
                            return Ok(());
                        }
                    }
                }
                Err(DataError::Aborted("the load was cancelled".into()))
            })
            .map_err(|source| DataError::Spawn {
                what: "the SQLite writer",
                source,
            })?;
        Ok(Self {
            tx,
            handle: Some(handle),
            partial,
            target: target.to_path_buf(),
        })
    }

    /// A sender for table `index`'s batches.
    pub fn sender(&self) -> SqliteSender {
        SqliteSender {
            tx: self.tx.clone(),
        }
    }

    fn join(&mut self) -> Result<()> {
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(DataError::Aborted("the SQLite writer panicked".into())),
            None => Ok(()),
        }
    }

    /// Builds indexes, checks foreign keys, commits, then swaps the file into place.
    // Joining the writer thread blocks: data runs on its own multi-threaded runtime (never
    // production's), where block_in_place hands this worker's tasks to the others.
    #[allow(clippy::disallowed_methods)]
    pub async fn finish(mut self, indexes: Vec<String>) -> Result<()> {
        if self.tx.send(Msg::Finish(indexes)).await.is_err() {
            return tokio::task::block_in_place(|| self.join());
        }
        let (tx, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, tx));
        tokio::task::block_in_place(|| self.join())?;
        swap_into_place(&self.partial, &self.target)
    }

    /// Stops the writer and deletes the partial file; the target is untouched.
    // As in finish: data's own multi-threaded runtime.
    #[allow(clippy::disallowed_methods)]
    pub fn abort(mut self) {
        let (tx, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, tx));
        let _ = tokio::task::block_in_place(|| self.join());
        let _ = std::fs::remove_file(&self.partial);
    }

    /// The error that stopped the writer, if it stopped.
    pub fn writer_error(&mut self) -> Option<DataError> {
        if self.handle.as_ref().is_some_and(|h| h.is_finished()) {
            return self.join().err();
        }
        None
    }
}

/// Sends batches to the writer thread.
#[derive(Clone)]
pub struct SqliteSender {
    tx: mpsc::Sender<Msg>,
}

impl SqliteSender {
    pub async fn send(&self, table: usize, rows: Batch) -> Result<()> {
        self.tx
            .send(Msg::Rows(table, rows))
            .await
            .map_err(|_| DataError::Aborted("the SQLite writer stopped".into()))
    }
}

/// Replaces `target` by `partial` with one rename, after making the partial durable and folding
/// any WAL of the old target into it (a stale WAL must never be replayed onto the new file).
pub fn swap_into_place(partial: &Path, target: &Path) -> Result<()> {
    let io = |what: &'static str, source: std::io::Error| DataError::Io {
        what,
        path: target.display().to_string(),
        source,
    };
    if target.exists()
        && let Ok(c) = Connection::open(target)
    {
        let _ = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("syncing the new database", e))?;
    std::fs::rename(partial, target).map_err(|e| io("moving the new database into place", e))?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = target.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        if std::fs::metadata(&p).is_ok_and(|m| m.len() == 0) {
            let _ = std::fs::remove_file(p);
        }
    }
    if let Some(dir) = target.parent()
        && let Ok(d) = std::fs::File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        let _ = d.sync_all();
    }
    Ok(())
}
