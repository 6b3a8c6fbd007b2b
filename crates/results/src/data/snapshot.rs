//! `prodlike.data.dump/1` and `prodlike.data.restore/1`: a masked snapshot written on
//! production's side and loaded on staging's (networks that never meet). Built by
//! `crates/data` (snapshot/dump.rs, snapshot/restore.rs). No payload holds a value of a PII
//! column; the snapshot itself holds masked rows and keyed hashes only.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::sync::SyncReport;

pub const DUMP_SCHEMA: &str = "prodlike.data.dump/1";
pub const RESTORE_SCHEMA: &str = "prodlike.data.restore/1";

/// One table's file in a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SnapshotTable {
    pub table: String,
    pub rows: u64,
    /// The file, relative to the snapshot (`tables/0003.copy.lz4`).
    pub file: String,
    /// Bytes on disk (compressed).
    pub bytes: u64,
    /// Bytes of the binary COPY stream before compression.
    pub copy_bytes: u64,
}

/// A masked column the restore's leak check cannot judge, and why.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LeakNotChecked {
    pub table: String,
    pub column: String,
    pub reason: String,
}

/// The result of `prodlike data dump` (`prodlike.data.dump/1`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DumpReport {
    /// Where the snapshot was written (`-`: a tar stream on standard output).
    pub snapshot: String,
    /// The snapshot's format (`prodlike.snapshot/4`).
    pub format: String,
    /// The table files' compression: `lz4`, `gzip` or `none`.
    #[serde(default)]
    pub compression: String,
    pub tables: Vec<SnapshotTable>,
    pub total_rows: u64,
    /// Bytes of every file of the snapshot.
    pub bytes: u64,
    pub copy_bytes: u64,
    pub snapshot_key_fingerprint: String,
    /// BLAKE3 of the masking rules as applied, hex.
    pub rules_digest: String,
    /// `table.column`s whose source values have keyed row hashes for the restore's leak check.
    pub leak_checked: Vec<String>,
    pub leak_not_checked: Vec<LeakNotChecked>,
    pub seconds: f64,
    pub rows_per_sec: f64,
    /// The sync that produced the rows: selection, masks, detections, not copied.
    pub sync: SyncReport,
}

/// One table of a restore: the rows the manifest promised and the rows PostgreSQL took.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RestoredTable {
    pub table: String,
    pub manifest_rows: u64,
    pub rows: u64,
    pub seconds: f64,
}

/// One column of the leak check after a restore.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RestoreLeak {
    pub table: String,
    pub column: String,
    /// Target rows whose value is their own source row's value (a leak).
    pub leaked_rows: u64,
    pub rows_checked: u64,
}

/// The result of `prodlike data restore` (`prodlike.data.restore/1`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RestoreReport {
    pub snapshot: String,
    pub target: String,
    /// The source as the manifest names it (no credentials).
    pub source: String,
    pub created: String,
    pub snapshot_key_fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_key_fingerprint: Option<String>,
    pub rules_digest: String,
    pub tables: Vec<RestoredTable>,
    pub total_rows: u64,
    /// Every table holds the rows the manifest promised.
    pub row_counts_match: bool,
    pub leaks: Vec<RestoreLeak>,
    pub leaked_rows: u64,
    pub leak_not_checked: Vec<LeakNotChecked>,
    /// What the target did not get (objects the sync could not recreate), with reasons.
    pub not_copied: Vec<crate::data::sync::NotCopied>,
    /// The restored rows replaced the target's. False when the leak check, run on the loaded
    /// rows before the swap, found a value on its own source row: the target keeps what it had.
    #[serde(default)]
    pub swapped: bool,
    /// True when row counts match and no value leaked.
    pub passed: bool,
    pub seconds: f64,
    pub rows_per_sec: f64,
}
