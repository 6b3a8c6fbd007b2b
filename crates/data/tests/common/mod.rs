//! Pieces shared by the PostgreSQL sync tests: the test key and a sync's settings between two
//! throwaway databases (callers change fields with struct update syntax).
// Each test file uses what it needs of this module.
#![allow(dead_code, clippy::unwrap_used)]

use prodlike_data::DbUrl;
use prodlike_data::rules::Rules;
use prodlike_data::sync::SyncOptions;
use prodlike_mask::{MaskKey, Masker};
use prodlike_testkit::pg::TempDatabase;

/// The masking key of every test sync.
pub fn masker() -> prodlike_data::Result<Masker> {
    Ok(Masker::new(
        MaskKey::from_secret(b"a test secret of 16+ bytes").unwrap(),
    ))
}

/// A full copy of `public` from `src` to `dst`, no rules, seed 3, two tables at once.
pub fn sync_options(src: &TempDatabase, dst: &TempDatabase) -> SyncOptions {
    SyncOptions {
        source: DbUrl::parse(&src.url).unwrap(),
        target: DbUrl::parse(&dst.url).unwrap(),
        rules: Rules::default(),
        rules_file: "(none)".into(),
        sample: None,
        seed: Some(3),
        strict: false,
        jobs: 2,
        namespace: "public".into(),
        keep_previous: false,
        max_rows_per_sec: None,
        progress: false,
        dry_run: false,
        fail_after_rows: None,
    }
}
