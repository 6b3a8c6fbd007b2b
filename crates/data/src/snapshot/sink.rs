//! The snapshot's table files, written by `prodlike data dump` through the sync's own copy
//! loop ([`crate::target::Target::snapshot`]): each table's rows, already masked, are encoded
//! exactly as a PostgreSQL target would receive them (`pg/rows.rs`), compressed (`codec.rs`) on
//! a thread of their own, hashed as they are written, into `tables/NNNN.copy.lz4` of a partial
//! directory that `dump.rs` renames into place once the manifest is written.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::error::{DataError, Result};
use crate::pg::copy::{CopyBuf, TupleCounter};
use crate::pg::ddl::PgColumnType;
use crate::pg::rows::RowEncoder;
use crate::row::Batch;
use crate::schema::{Schema, Table};
use crate::snapshot::codec::Compression;
use crate::snapshot::manifest::{FileEntry, TableEntry};
use crate::source::FieldType;

/// Where the dump's tables go.
pub struct SnapshotSink {
    dir: PathBuf,
    types: HashMap<String, Vec<PgColumnType>>,
    index: HashMap<String, usize>,
    written: Arc<Mutex<Vec<(TableEntry, FileEntry)>>>,
    compression: Compression,
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> DataError + 'a {
    move |source| DataError::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

impl SnapshotSink {
    /// A sink writing into `dir` (created, with `tables/`), in the column types a PostgreSQL
    /// target of `schema` has, each table's file compressed with `compression`.
    pub fn new(
        dir: &Path,
        schema: &Schema,
        tables: &[&Table],
        compression: Compression,
    ) -> Result<Self> {
        let t = dir.join("tables");
        std::fs::create_dir_all(&t).map_err(io("creating", &t))?;
        let mut types = HashMap::new();
        let mut index = HashMap::new();
        for (i, table) in tables.iter().enumerate() {
            types.insert(
                table.name.clone(),
                table
                    .columns
                    .iter()
                    .filter(|c| c.generated.is_none())
                    .map(|c| crate::pg::ddl::target_type(schema, c).1)
                    .collect(),
            );
            index.insert(table.name.clone(), i);
        }
        Ok(Self {
            dir: dir.to_owned(),
            types,
            index,
            written: Arc::default(),
            compression,
        })
    }

    /// What every finished table wrote, shared with the dump (which writes the manifest).
    pub fn written(&self) -> Arc<Mutex<Vec<(TableEntry, FileEntry)>>> {
        self.written.clone()
    }

    /// Opens one table's file; `source` are the types of the fields it will receive.
    pub fn writer(&self, table: &str, source: &[FieldType]) -> Result<SnapshotTableWriter> {
        let enc = RowEncoder::new(
            table,
            self.types.get(table).cloned().unwrap_or_default(),
            source,
        );
        self.open(
            table,
            Mode::Rows {
                enc: Box::new(enc),
                out: CopyBuf::new(),
            },
        )
    }

    /// Opens one table's file for its binary COPY stream as the source sent it (a table
    /// neither masked nor filtered): its rows are counted, never built.
    pub fn raw_writer(&self, table: &str) -> Result<SnapshotTableWriter> {
        self.open(table, Mode::Raw(TupleCounter::new()))
    }

    fn open(&self, table: &str, mode: Mode) -> Result<SnapshotTableWriter> {
        let n = self.index.get(table).copied().unwrap_or(self.index.len());
        let rel = format!("tables/{n:04}{}", self.compression.suffix());
        let compression = self.compression;
        let path = self.dir.join(&rel);
        let file = std::fs::File::create(&path).map_err(io("creating", &path))?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(4);
        let shown = path.display().to_string();
        let thread = std::thread::Builder::new()
            .name(format!("{} {table}", compression.name()))
            .spawn(move || -> std::io::Result<(u64, String, u64)> {
                let hashed = Hashed {
                    inner: std::io::BufWriter::with_capacity(1 << 20, file),
                    hash: blake3::Hasher::new(),
                    bytes: 0,
                };
                let mut enc = compression.encoder(hashed);
                let mut raw = 0u64;
                while let Some(chunk) = rx.blocking_recv() {
                    raw += chunk.len() as u64;
                    enc.write_all(&chunk)?;
                }
                let mut hashed = enc.finish()?;
                hashed.inner.flush()?;
                let f = hashed.inner.into_inner().map_err(|e| e.into_error())?;
                f.sync_all()?;
                Ok((
                    hashed.bytes,
                    hashed.hash.finalize().to_hex().to_string(),
                    raw,
                ))
            })
            .map_err(|source| DataError::Spawn {
                what: "a snapshot file writer",
                source,
            })?;
        Ok(SnapshotTableWriter {
            mode,
            tx,
            thread,
            rows: 0,
            table: table.to_owned(),
            rel,
            shown,
            written: self.written.clone(),
        })
    }

    /// Every table is written (the dump writes the manifest next).
    pub fn finish(self) -> Result<()> {
        Ok(())
    }

    /// Removes the partial directory: a failed dump leaves nothing behind.
    pub fn abort(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A writer that hashes and counts what passes through.
struct Hashed {
    inner: std::io::BufWriter<std::fs::File>,
    hash: blake3::Hasher,
    bytes: u64,
}

impl std::io::Write for Hashed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Rows encoded here, or a stream passed through as it is.
enum Mode {
    Rows { enc: Box<RowEncoder>, out: CopyBuf },
    Raw(TupleCounter),
}

/// One table's file being written.
pub struct SnapshotTableWriter {
    mode: Mode,
    tx: tokio::sync::mpsc::Sender<Bytes>,
    thread: std::thread::JoinHandle<std::io::Result<(u64, String, u64)>>,
    rows: u64,
    table: String,
    rel: String,
    shown: String,
    written: Arc<Mutex<Vec<(TableEntry, FileEntry)>>>,
}

impl SnapshotTableWriter {
    pub async fn write(&mut self, batch: Batch) -> Result<()> {
        self.rows += batch.len() as u64;
        let Mode::Rows { enc, out } = &mut self.mode else {
            return Err(self.misuse());
        };
        enc.encode(batch, out)?;
        if out.full() {
            let chunk = out.take();
            self.send(chunk).await?;
        }
        Ok(())
    }

    /// The next chunk of a passed-through COPY stream.
    pub async fn write_raw(&mut self, chunk: Bytes) -> Result<()> {
        let Mode::Raw(counter) = &mut self.mode else {
            return Err(self.misuse());
        };
        counter.push(&chunk).map_err(|reason| DataError::Snapshot {
            path: self.shown.clone(),
            reason: format!("the source's COPY stream of table {}: {reason}", self.table),
        })?;
        self.send(chunk).await
    }

    fn misuse(&self) -> DataError {
        DataError::Snapshot {
            path: self.shown.clone(),
            reason: "rows and a raw stream mixed in one table file".into(),
        }
    }

    async fn send(&mut self, chunk: Bytes) -> Result<()> {
        if self.tx.send(chunk).await.is_err() {
            // The thread stopped early: its error says why.
            return Err(DataError::Snapshot {
                path: self.shown.clone(),
                reason: "the file writer stopped".into(),
            });
        }
        Ok(())
    }

    /// Ends the file; returns the rows it holds.
    pub async fn finish(mut self) -> Result<u64> {
        let last = match &mut self.mode {
            Mode::Rows { out, .. } => Ok(Some(out.end())),
            Mode::Raw(c) if c.finished() => {
                self.rows = c.rows();
                Ok(None)
            }
            Mode::Raw(_) => Err(DataError::Snapshot {
                path: self.shown.clone(),
                reason: format!(
                    "the source's COPY stream of table {} ended before its end marker",
                    self.table
                ),
            }),
        };
        let sent = match last {
            Ok(Some(chunk)) => self.send(chunk).await,
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        let Self {
            tx,
            thread,
            rows,
            table,
            rel,
            shown,
            written,
            ..
        } = self;
        drop(tx);
        let joined = tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|source| DataError::Task {
                what: "a snapshot file writer",
                source,
            })?;
        let (bytes, blake3, copy_bytes) = match joined {
            Ok(Ok(r)) => r,
            Ok(Err(source)) => {
                return Err(DataError::Io {
                    what: "writing",
                    path: shown,
                    source,
                });
            }
            Err(_) => {
                return Err(DataError::Snapshot {
                    path: shown,
                    reason: "the file writer panicked".into(),
                });
            }
        };
        sent?;
        let n = rows;
        written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((
                TableEntry {
                    table,
                    file: rel.clone(),
                    rows,
                    copy_bytes,
                },
                FileEntry {
                    path: rel,
                    bytes,
                    blake3,
                },
            ));
        Ok(n)
    }
}
