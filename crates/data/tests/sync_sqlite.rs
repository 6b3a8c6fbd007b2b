//! Sync between SQLite databases: subset integrity, masking, atomic replacement.

use prodlike_data::fixture::{ShopSize, write_shop_sqlite};
use prodlike_data::rules::Rules;
use prodlike_data::sync::{SyncOptions, sync};
use prodlike_data::DbUrl;
use prodlike_mask::{MaskKey, Masker};
use rusqlite::Connection;

fn masker() -> prodlike_data::Result<Masker> {
    Ok(Masker::new(MaskKey::from_secret(b"a test secret of 16+ bytes").unwrap()))
}

fn opts(src: &std::path::Path, dst: &std::path::Path, sample: Option<f64>) -> SyncOptions {
    SyncOptions {
        source: DbUrl::parse(&format!("sqlite://{}", src.display())).unwrap(),
        target: DbUrl::parse(&format!("sqlite://{}", dst.display())).unwrap(),
        rules: Rules::default(),
        rules_file: "(none)".into(),
        sample,
        seed: Some(1),
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

fn count(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampled_sync_keeps_integrity_and_masks_pii() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("prod.db"), dir.path().join("staging.db"));
    write_shop_sqlite(&src, ShopSize { users: 2000, seed: 3 }).unwrap();
    let report = sync(&opts(&src, &dst, Some(0.1)), masker).await.unwrap();
    let c = Connection::open(&dst).unwrap();
    assert_eq!(count(&c, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    let users = count(&c, "SELECT count(*) FROM users");
    assert!(users > 150 && users < 1000, "users {users}");
    // Cluster sampling: orders follow users.
    let sel = report.selection.iter().find(|s| s.table == "orders").unwrap();
    assert!(sel.mode_json["mode"] == "follow", "{sel:?}");
    // PII masked: no source email survives.
    let s = Connection::open(&src).unwrap();
    let src_emails: std::collections::HashSet<String> = s.prepare("SELECT email FROM users").unwrap().query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
    let mut stmt = c.prepare("SELECT email, full_name, prefs FROM users").unwrap();
    let rows: Vec<(String, String, String)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(|r| r.unwrap()).collect();
    for (email, _, prefs) in &rows {
        assert!(!src_emails.contains(email), "leaked {email}");
        assert!(!src_emails.iter().any(|e| prefs.contains(e.as_str())), "leaked in JSON: {prefs}");
    }
    // Rare values survive.
    assert_eq!(count(&c, "SELECT count(DISTINCT plan) FROM users"), count(&s, "SELECT count(DISTINCT plan) FROM users"));
    assert!(report.masked.iter().any(|m| m.table == "users" && m.column == "email"));
}
