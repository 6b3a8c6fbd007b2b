//! Masked snapshots for networks that never meet: `prodlike data dump` writes on production's
//! side what `prodlike data sync` would load (the same plan, masks and binary COPY bytes), into
//! a directory or a tar stream; `prodlike data restore` loads it on staging's side with the
//! sync's atomic swap, after checking that the snapshot is whole and authentic.
//!
//! A snapshot directory (format `prodlike.snapshot/4`; `/1` to `/3` are read too):
//! - `manifest.json`: format, source identity, namespace, key fingerprints, rules digest, every
//!   file's length and BLAKE3, every table's rows (`manifest.rs`);
//! - `manifest.mac`: keyed BLAKE3 of `manifest.json` under the snapshot key (`key.rs`);
//! - `schema.json`: the data model and the source's catalog (views, functions, triggers…);
//! - `sync.json`: the sync report of the rows (selection, masks, detections, not copied);
//! - `leaks.json`: keyed row hashes of masked columns' source values (`leaks.rs`);
//! - `profile.json`: the source's side of verify, no masked column's values
//!   (`verify/stored.rs`), which `data verify --snapshot` compares a restored target with;
//! - `tables/NNNN.copy.lz4` (or `.copy.gz`, `.copy`): each table's binary COPY stream, compressed
//!   as the manifest's `compression` says (`codec.rs`, written by `sink.rs`).
//!
//! `dump.rs` writes it, `restore.rs` reads it (`stream_leaks.rs`: its leak check on the rows as
//! they load), `tarball.rs` streams it.

pub mod codec;
pub mod dump;
pub mod key;
pub mod leaks;
pub mod manifest;
pub mod restore;
pub mod sink;
pub mod stream_leaks;
pub mod tarball;
