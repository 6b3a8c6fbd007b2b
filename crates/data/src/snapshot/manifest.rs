//! A snapshot's manifest: what the snapshot holds (every file with its length and BLAKE3 hash,
//! every table with its row count), where it came from (the source's identity, never its
//! credentials), the masking rules' digest and the keys' fingerprints. `manifest.mac` holds the
//! keyed BLAKE3 of `manifest.json`'s bytes under the snapshot key. [`open`] checks the MAC, then
//! every file's length and hash, before anything reads a row: a truncated, changed or foreign
//! snapshot is refused whole.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::identity::DbIdentity;
use crate::schema::Schema;
use crate::snapshot::codec::Compression;
use crate::snapshot::key::SnapshotKey;

/// The format this build writes: `/2` added the table files' choice of compression (LZ4 by
/// default), so a build that reads only `/1` refuses it by name instead of failing to inflate;
/// `/3` writes `leaks.json`'s hashes packed into one hex string per column (`leaks.rs`), which
/// a build that reads only `/2` would fail to parse; `/4` adds `profile.json`, the source's
/// side of verify (`verify/stored.rs`).
pub const FORMAT: &str = "prodlike.snapshot/4";
/// The formats this build reads: `/3` is `/4` without a profile (it restores, and verify
/// refuses it by name), `/2` is `/3` with the hashes as arrays of numbers, `/1` is `/2` with
/// every table file gzip.
pub const READS: [&str; 4] = [
    "prodlike.snapshot/1",
    "prodlike.snapshot/2",
    "prodlike.snapshot/3",
    FORMAT,
];
pub const MANIFEST: &str = "manifest.json";
pub const MAC: &str = "manifest.mac";
pub const SCHEMA: &str = "schema.json";
pub const SYNC: &str = "sync.json";
pub const LEAKS: &str = "leaks.json";
pub const PROFILE: &str = "profile.json";
/// The largest manifest or JSON part read into memory (a bad file cannot exhaust memory).
const MAX_JSON: u64 = 256 * 1024 * 1024;

/// One file of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative path, `/`-separated (`tables/0003.copy.lz4`).
    pub path: String,
    pub bytes: u64,
    /// BLAKE3 of the file's bytes as stored, hex.
    pub blake3: String,
}

/// One table's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    pub table: String,
    /// The file holding its binary COPY stream (compressed as the manifest says).
    pub file: String,
    pub rows: u64,
    /// Uncompressed bytes of the COPY stream.
    pub copy_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created: String,
    /// The source as shown (no password).
    pub source: String,
    /// Which database the rows came from: a restore refuses to write into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<DbIdentity>,
    /// The PostgreSQL schema the rows came from, and which a restore replaces.
    pub namespace: String,
    /// The table files' compression: `lz4`, `gzip` or `none` (`codec.rs`).
    pub compression: String,
    /// The mask key's fingerprint (`None`: nothing was masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_key_fingerprint: Option<String>,
    pub snapshot_key_fingerprint: String,
    /// BLAKE3 of the masking rules as applied (their JSON form), hex.
    pub rules_digest: String,
    pub files: Vec<FileEntry>,
    pub tables: Vec<TableEntry>,
}

/// The schema part: the data model and, for a PostgreSQL source, the whole catalog the views,
/// functions, triggers and comments are planned from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SchemaPart {
    pub schema: Schema,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<prodlike_catalog::Catalog>,
}

/// The BLAKE3 of a file and its length, streamed.
pub fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut f = std::fs::File::open(path).map_err(|source| DataError::Io {
        what: "reading",
        path: path.display().to_string(),
        source,
    })?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(|source| DataError::Io {
            what: "reading",
            path: path.display().to_string(),
            source,
        })?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((n, h.finalize().to_hex().to_string()))
}

/// A file path of the manifest, checked to stay inside the snapshot.
pub fn safe_path(dir: &Path, rel: &str) -> Result<PathBuf> {
    let ok = !rel.is_empty()
        && !rel.starts_with('/')
        && rel
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
        && rel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    if ok {
        Ok(dir.join(rel))
    } else {
        Err(refused(
            dir,
            format!("the manifest names the file `{rel}`, which is not a path inside the snapshot"),
        ))
    }
}

fn refused(dir: &Path, reason: String) -> DataError {
    DataError::Snapshot {
        path: dir.display().to_string(),
        reason,
    }
}

/// Reads a whole file, refusing one above [`MAX_JSON`].
fn read_small(dir: &Path, rel: &str) -> Result<Vec<u8>> {
    let p = dir.join(rel);
    let f = std::fs::File::open(&p).map_err(|e| {
        refused(
            dir,
            format!("cannot open {rel} ({e}); is this a snapshot written by `prodlike data dump`?"),
        )
    })?;
    // Sized from the file's length: grown by doubling instead, reading the 6 MB `leaks.json` of
    // the bench database took about 40 ms, mostly the kernel zeroing each new, larger buffer.
    let len = f.metadata().map_or(0, |m| m.len()).min(MAX_JSON + 1);
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    f.take(MAX_JSON + 1)
        .read_to_end(&mut out)
        .map_err(|source| DataError::Io {
            what: "reading",
            path: p.display().to_string(),
            source,
        })?;
    if out.len() as u64 > MAX_JSON {
        return Err(refused(
            dir,
            format!("{rel} is larger than {MAX_JSON} bytes"),
        ));
    }
    Ok(out)
}

/// Checks every file's length, then its BLAKE3, the largest files first on two threads: the
/// restore waits for this before it touches the target, with PostgreSQL idle meanwhile.
fn check_files(dir: &Path, files: &[FileEntry]) -> Result<()> {
    let mut order: Vec<(&FileEntry, PathBuf)> = Vec::with_capacity(files.len());
    for f in files {
        let p = safe_path(dir, &f.path)?;
        let len = std::fs::metadata(&p)
            .map_err(|e| refused(dir, format!("{} is missing ({e})", f.path)))?
            .len();
        if len != f.bytes {
            return Err(refused(
                dir,
                format!(
                    "{} is {len} bytes, the manifest says {} (truncated or changed)",
                    f.path, f.bytes
                ),
            ));
        }
        order.push((f, p));
    }
    order.sort_by_key(|(f, _)| std::cmp::Reverse(f.bytes));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let check = || -> Result<()> {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some((f, p)) = order.get(i) else {
                return Ok(());
            };
            let (_, h) = hash_file(p)?;
            if h != f.blake3 {
                return Err(refused(
                    dir,
                    format!(
                        "{}: its BLAKE3 hash is not the manifest's (changed after the dump)",
                        f.path
                    ),
                ));
            }
        }
    };
    std::thread::scope(|s| {
        let other = s.spawn(check);
        let mine = check();
        let theirs = other
            .join()
            .unwrap_or_else(|_| Err(refused(dir, "checking the files: a thread panicked".into())));
        mine.and(theirs)
    })
}

/// A snapshot whose MAC and files were checked.
#[derive(Debug)]
pub struct Opened {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// How the table files are compressed.
    pub compression: Compression,
    pub schema: SchemaPart,
    pub sync: crate::sync::SyncReport,
    /// Keyed hashes of the masked columns' source values (see `snapshot/leaks.rs`).
    pub leaks: crate::snapshot::leaks::LeakHashes,
}

/// Checks the manifest's MAC under `key`, then every file's length and hash, then reads the
/// JSON parts. Nothing of the snapshot is trusted before its MAC is checked.
pub fn open(dir: &Path, key: &SnapshotKey) -> Result<Opened> {
    let bytes = read_small(dir, MANIFEST)?;
    let mac = read_small(dir, MAC)?;
    let mac = std::str::from_utf8(&mac).unwrap_or("").trim();
    let want = key.mac(&bytes);
    let given = blake3::Hash::from_hex(mac).ok();
    // blake3::Hash compares in constant time.
    if given != Some(want) {
        // Only to say which of the two it is; the claim itself is not trusted.
        let claimed = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| {
                v.get("snapshot_key_fingerprint")?
                    .as_str()
                    .map(str::to_owned)
            });
        let reason = match claimed {
            Some(fp) if fp != key.fingerprint() => format!(
                "the manifest's MAC does not match: the snapshot says it was written with the snapshot key {fp}, and this key is {}; use the dumping side's key",
                key.fingerprint()
            ),
            _ => "the manifest's MAC does not match: manifest.json or manifest.mac was changed after the dump (or the snapshot key is not the dumping side's)".into(),
        };
        return Err(refused(dir, reason));
    }
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| refused(dir, format!("manifest.json: {e}")))?;
    if !READS.contains(&manifest.format.as_str()) {
        return Err(refused(
            dir,
            format!(
                "format {} is not one this prodlike reads ({})",
                manifest.format,
                READS.join(", ")
            ),
        ));
    }
    let compression = Compression::from_name(&manifest.compression).ok_or_else(|| {
        refused(
            dir,
            format!(
                "the table files' compression `{}` is not one this prodlike reads (lz4, gzip, none)",
                manifest.compression
            ),
        )
    })?;
    check_files(dir, &manifest.files)?;
    let listed = |rel: &str| manifest.files.iter().any(|f| f.path == rel);
    for rel in [SCHEMA, SYNC, LEAKS]
        .into_iter()
        .chain(manifest.tables.iter().map(|t| t.file.as_str()))
    {
        if !listed(rel) {
            return Err(refused(dir, format!("the manifest does not list {rel}")));
        }
    }
    let schema: SchemaPart = serde_json::from_slice(&read_small(dir, SCHEMA)?)
        .map_err(|e| refused(dir, format!("{SCHEMA}: {e}")))?;
    let sync = serde_json::from_slice(&read_small(dir, SYNC)?)
        .map_err(|e| refused(dir, format!("{SYNC}: {e}")))?;
    let leaks = serde_json::from_slice(&read_small(dir, LEAKS)?)
        .map_err(|e| refused(dir, format!("{LEAKS}: {e}")))?;
    for t in &manifest.tables {
        if !schema.schema.tables.iter().any(|s| s.name == t.table) {
            return Err(refused(
                dir,
                format!("the manifest lists table {} that its schema lacks", t.table),
            ));
        }
    }
    Ok(Opened {
        dir: dir.to_owned(),
        manifest,
        compression,
        schema,
        sync,
        leaks,
    })
}

/// The source's side of verify, from a snapshot [`open`] checked; `None` for a snapshot
/// written before format `/4`, which holds none.
pub fn read_profile(snap: &Opened) -> Result<Option<crate::verify::stored::StoredProfile>> {
    if !snap.manifest.files.iter().any(|f| f.path == PROFILE) {
        return Ok(None);
    }
    serde_json::from_slice(&read_small(&snap.dir, PROFILE)?)
        .map(Some)
        .map_err(|e| refused(&snap.dir, format!("{PROFILE}: {e}")))
}
