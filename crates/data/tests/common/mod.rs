//! Pieces shared by the PostgreSQL sync tests: the test key and a sync's settings between two
//! throwaway databases (callers change fields with struct update syntax).
// Each test file uses what it needs of this module.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use prodlike_data::DbUrl;
use prodlike_data::rules::Rules;
use prodlike_data::sync::{SyncOptions, SyncReport};
use prodlike_data::verify::{Expected, VerifyOptions};
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

/// Verify of `public` from `src` against `dst`: no rules, nothing expected, lenient
/// thresholds (callers change fields with struct update syntax).
pub fn verify_options(src: &TempDatabase, dst: &TempDatabase) -> VerifyOptions {
    verify_urls(&src.url, &dst.url)
}

/// [`verify_options`] between two databases of any engine, by URL.
pub fn verify_urls(src: &str, dst: &str) -> VerifyOptions {
    VerifyOptions {
        source: DbUrl::parse(src).unwrap(),
        target: DbUrl::parse(dst).unwrap(),
        namespace: "public".into(),
        rules: Rules::default(),
        rules_file: "(none)".into(),
        expected: Expected::Unknown,
        min_score: 0.5,
        max_ks: 0.05,
        max_tvd: 0.02,
        max_rows: None,
        synthetic: false,
        not_copied: None,
    }
}

/// The rows a sync wrote per table, as verify expects them.
pub fn synced_rows(report: &SyncReport) -> Expected {
    Expected::Rows(
        report
            .tables
            .iter()
            .map(|t| (t.table.clone(), t.rows))
            .collect(),
    )
}

/// The first column of the one row `sql` returns in `db`.
pub async fn one<T: for<'a> tokio_postgres::types::FromSql<'a>>(db: &TempDatabase, sql: &str) -> T {
    db.connect()
        .await
        .unwrap()
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .get(0)
}

/// Runs `sql` in `db`, panicking with the statement on failure.
pub async fn run(db: &TempDatabase, sql: &str) {
    db.connect()
        .await
        .unwrap()
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
}

/// A role of the cluster, dropped (with what it owns and was granted) when the value goes.
pub struct Role(pub String);

impl Role {
    pub async fn create(label: &str) -> Role {
        let name = format!(
            "prodlike_{label}_{}_{}",
            std::process::id(),
            fastrand::u32(..)
        );
        let c = prodlike_testkit::pg::connect(prodlike_testkit::pg::ADMIN_URL)
            .await
            .unwrap();
        c.batch_execute(&format!("CREATE ROLE {name} NOLOGIN"))
            .await
            .unwrap();
        Role(name)
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(c) = prodlike_testkit::pg::connect(prodlike_testkit::pg::ADMIN_URL).await
                {
                    let _ = c
                        .batch_execute(&format!("DROP ROLE IF EXISTS {name}"))
                        .await;
                }
            });
        })
        .join();
    }
}
