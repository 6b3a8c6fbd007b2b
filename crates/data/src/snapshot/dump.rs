//! `prodlike data dump`: the sync's plan, masks and copy loop (`sync::run`) into a snapshot
//! directory instead of a database. Everything is written into a partial directory beside
//! `--out`; the manifest (every file's length and BLAKE3, every table's rows) and its MAC come
//! last, then one rename puts the snapshot in place. A failed dump removes the partial
//! directory, so a snapshot that exists is whole. Rows are masked before they are encoded, so
//! no unmasked value is ever written, not even to the partial directory.

use std::path::{Path, PathBuf};
use std::time::Instant;

use prodlike_mask::Masker;

use crate::error::{DataError, Result};
use crate::identity;
use crate::snapshot::codec::Compression;
use crate::snapshot::key::SnapshotKey;
use crate::snapshot::manifest::{self, FileEntry, Manifest, SchemaPart};
use crate::sync::{self, SnapshotDest, SyncOptions};

pub use prodlike_results::data::snapshot::{DumpReport, LeakNotChecked, SnapshotTable};

/// Settings of one dump: a sync's (its `target` is not used) and the directory to create.
#[derive(Debug, Clone)]
pub struct DumpOptions {
    pub sync: SyncOptions,
    pub out: PathBuf,
    /// Shown as the snapshot's place in the report (`-` for a tar stream).
    pub shown: String,
    /// How the table files are compressed (`--compression`).
    pub compression: Compression,
}

/// Refuses an `--out` that exists (other than an empty directory) or whose folder is missing;
/// checked before anything is read.
pub fn check_out(out: &Path) -> Result<()> {
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(DataError::File {
                path: out.display().to_string(),
                reason: "exists; dump writes a new snapshot directory (remove it, or name another)"
                    .into(),
            });
        }
    }
    if let Some(dir) = out.parent()
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        return Err(DataError::File {
            path: out.display().to_string(),
            reason: format!("folder {} does not exist", dir.display()),
        });
    }
    Ok(())
}

fn write_json<T: serde::Serialize>(dir: &Path, rel: &str, value: &T) -> Result<FileEntry> {
    let p = dir.join(rel);
    let bytes = serde_json::to_vec(value).map_err(|e| DataError::Snapshot {
        path: p.display().to_string(),
        reason: format!("serialising: {e}"),
    })?;
    std::fs::write(&p, &bytes).map_err(|source| DataError::Io {
        what: "writing",
        path: p.display().to_string(),
        source,
    })?;
    Ok(FileEntry {
        path: rel.to_owned(),
        bytes: bytes.len() as u64,
        blake3: blake3::hash(&bytes).to_hex().to_string(),
    })
}

/// Writes a snapshot. `key` is called only when some column is masked.
pub async fn dump(
    opts: &DumpOptions,
    key: impl FnOnce() -> Result<Masker>,
    snapshot_key: &SnapshotKey,
) -> Result<DumpReport> {
    let started = Instant::now();
    check_out(&opts.out)?;
    opts.sync.validate()?;
    let name = opts
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".into());
    let partial = opts
        .out
        .with_file_name(format!(".{name}.partial-{:08x}", fastrand::u32(..)));
    let r = write_snapshot(opts, key, snapshot_key, &partial, started).await;
    if r.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    r
}

async fn write_snapshot(
    opts: &DumpOptions,
    key: impl FnOnce() -> Result<Masker>,
    snapshot_key: &SnapshotKey,
    partial: &Path,
    started: Instant,
) -> Result<DumpReport> {
    let source_identity = identity::resolve(&opts.sync.source).await.ok();
    let dest = SnapshotDest {
        dir: partial.to_owned(),
        key: snapshot_key.clone(),
        compression: opts.compression,
    };
    let (mut report, dumped) = sync::run(&opts.sync, key, Some(&dest)).await?;
    let dumped = dumped.ok_or(DataError::Outlived {
        what: "the dump's copy",
    })?;
    report.target = opts.shown.clone();
    let mut files = vec![
        write_json(
            partial,
            manifest::SCHEMA,
            &SchemaPart {
                schema: dumped.schema,
                catalog: dumped.catalog,
            },
        )?,
        write_json(partial, manifest::SYNC, &report)?,
        write_json(partial, manifest::LEAKS, &dumped.leaks)?,
        write_json(partial, manifest::PROFILE, &dumped.profile)?,
    ];
    let mut written = dumped.written;
    written.sort_by(|a, b| a.1.path.cmp(&b.1.path));
    files.extend(written.iter().map(|(_, f)| f.clone()));
    let rules = serde_json::to_vec(&opts.sync.rules).unwrap_or_default();
    let m = Manifest {
        format: manifest::FORMAT.into(),
        created: prodlike_report::now_rfc3339(),
        source: report.source.clone(),
        source_identity,
        namespace: opts.sync.namespace.clone(),
        compression: opts.compression.name().into(),
        mask_key_fingerprint: report.key_fingerprint.clone(),
        snapshot_key_fingerprint: snapshot_key.fingerprint(),
        rules_digest: blake3::hash(&rules).to_hex().to_string(),
        files,
        tables: written.iter().map(|(t, _)| t.clone()).collect(),
    };
    let bytes = serde_json::to_vec_pretty(&m).map_err(|e| DataError::Snapshot {
        path: partial.display().to_string(),
        reason: format!("serialising the manifest: {e}"),
    })?;
    let write = |rel: &str, b: &[u8]| {
        let p = partial.join(rel);
        std::fs::write(&p, b).map_err(|source| DataError::Io {
            what: "writing",
            path: p.display().to_string(),
            source,
        })
    };
    write(manifest::MANIFEST, &bytes)?;
    write(
        manifest::MAC,
        format!("{}\n", snapshot_key.mac(&bytes).to_hex()).as_bytes(),
    )?;
    if opts.out.exists() {
        // An empty directory (checked before the dump): replaced by the snapshot.
        std::fs::remove_dir(&opts.out).map_err(|source| DataError::Io {
            what: "replacing the empty directory",
            path: opts.out.display().to_string(),
            source,
        })?;
    }
    std::fs::rename(partial, &opts.out).map_err(|source| DataError::Io {
        what: "moving the finished snapshot into place at",
        path: opts.out.display().to_string(),
        source,
    })?;
    Ok(published(
        opts,
        &m,
        &written,
        &dumped.leaks,
        bytes.len() as u64,
        started,
        report,
    ))
}

/// The dump's result from what it wrote.
fn published(
    opts: &DumpOptions,
    m: &Manifest,
    written: &[(crate::snapshot::manifest::TableEntry, FileEntry)],
    leaks: &crate::snapshot::leaks::LeakHashes,
    manifest_bytes: u64,
    started: Instant,
    report: crate::sync::SyncReport,
) -> DumpReport {
    let tables: Vec<SnapshotTable> = written
        .iter()
        .map(|(t, f)| SnapshotTable {
            table: t.table.clone(),
            rows: t.rows,
            file: t.file.clone(),
            bytes: f.bytes,
            copy_bytes: t.copy_bytes,
        })
        .collect();
    let total_rows = tables.iter().map(|t| t.rows).sum();
    let seconds = started.elapsed().as_secs_f64();
    DumpReport {
        snapshot: opts.shown.clone(),
        format: manifest::FORMAT.into(),
        compression: m.compression.clone(),
        total_rows,
        bytes: m.files.iter().map(|f| f.bytes).sum::<u64>() + manifest_bytes,
        copy_bytes: tables.iter().map(|t| t.copy_bytes).sum(),
        tables,
        snapshot_key_fingerprint: m.snapshot_key_fingerprint.clone(),
        rules_digest: m.rules_digest.clone(),
        leak_checked: leaks
            .columns
            .iter()
            .map(|c| format!("{}.{}", c.table, c.column))
            .collect(),
        leak_not_checked: leaks.published_not_checked(),
        seconds,
        rows_per_sec: total_rows as f64 / seconds.max(1e-9),
        sync: report,
    }
}
