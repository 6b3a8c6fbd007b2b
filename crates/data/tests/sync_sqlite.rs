//! Sync between SQLite databases: subset integrity, masking, atomic replacement.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (DEVELOPERS.md)

use prodlike_data::DbUrl;
use prodlike_data::fixture::{ShopSize, write_shop_sqlite};
use prodlike_data::rules::Rules;
use prodlike_data::sync::{SyncOptions, sync};
use prodlike_mask::{MaskKey, Masker};
use rusqlite::Connection;

fn masker() -> prodlike_data::Result<Masker> {
    Ok(Masker::new(
        MaskKey::from_secret(b"a test secret of 16+ bytes").unwrap(),
    ))
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
    write_shop_sqlite(
        &src,
        ShopSize {
            users: 2000,
            seed: 3,
        },
    )
    .unwrap();
    let report = sync(&opts(&src, &dst, Some(0.1)), masker).await.unwrap();
    let c = Connection::open(&dst).unwrap();
    assert_eq!(
        count(&c, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );
    let users = count(&c, "SELECT count(*) FROM users");
    assert!(users > 150 && users < 1000, "users {users}");
    // Cluster sampling: orders follow users.
    let sel = report
        .selection
        .iter()
        .find(|s| s.table == "orders")
        .unwrap();
    assert!(sel.mode_json["mode"] == "follow", "{sel:?}");
    // PII masked: no source email survives.
    let s = Connection::open(&src).unwrap();
    let src_emails: std::collections::HashSet<String> = s
        .prepare("SELECT email FROM users")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut stmt = c
        .prepare("SELECT email, full_name, prefs FROM users")
        .unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for (email, _, prefs) in &rows {
        assert!(!src_emails.contains(email), "leaked {email}");
        assert!(
            !src_emails.iter().any(|e| prefs.contains(e.as_str())),
            "leaked in JSON: {prefs}"
        );
    }
    // Rare values survive.
    assert_eq!(
        count(&c, "SELECT count(DISTINCT plan) FROM users"),
        count(&s, "SELECT count(DISTINCT plan) FROM users")
    );
    assert!(
        report
            .masked
            .iter()
            .any(|m| m.table == "users" && m.column == "email")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sync_leaves_the_previous_target_intact() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("prod.db"), dir.path().join("staging.db"));
    write_shop_sqlite(
        &src,
        ShopSize {
            users: 1500,
            seed: 4,
        },
    )
    .unwrap();
    // The previous staging contents.
    let c = Connection::open(&dst).unwrap();
    c.execute_batch("CREATE TABLE old_staging (x INTEGER); INSERT INTO old_staging VALUES (42);")
        .unwrap();
    drop(c);
    let before = std::fs::read(&dst).unwrap();
    let mut o = opts(&src, &dst, None);
    o.fail_after_rows = Some(3000);
    let err = sync(&o, masker).await.unwrap_err().to_string();
    assert!(err.contains("injected failure"), "{err}");
    assert_eq!(std::fs::read(&dst).unwrap(), before, "the target changed");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "partial files left: {leftovers:?}");
    // A good run then replaces it.
    sync(&opts(&src, &dst, None), masker).await.unwrap();
    let c = Connection::open(&dst).unwrap();
    assert!(
        c.query_row("SELECT count(*) FROM old_staging", [], |r| r
            .get::<_, i64>(0))
            .is_err()
    );
    assert!(count(&c, "SELECT count(*) FROM users") == 1500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// Long: profile, synth and verify in a row, checking each step's output before the next.
#[allow(clippy::too_many_lines)]
async fn profile_synth_and_verify_round_trip() {
    use prodlike_data::profile::{ProfileOptions, profile};
    use prodlike_data::synth::{SynthOptions, synth};
    use prodlike_data::verify::{Expected, VerifyOptions, verify};
    let dir = tempfile::tempdir().unwrap();
    let (src, dst, syn) = (
        dir.path().join("prod.db"),
        dir.path().join("staging.db"),
        dir.path().join("synth.db"),
    );
    write_shop_sqlite(
        &src,
        ShopSize {
            users: 3000,
            seed: 5,
        },
    )
    .unwrap();
    let src_url = DbUrl::parse(&format!("sqlite://{}", src.display())).unwrap();
    let p = profile(
        &src_url,
        &ProfileOptions {
            namespace: "public".into(),
            max_rows: None,
            seed: 0,
        },
    )
    .await
    .unwrap();
    // No PII value in the profile.
    let text = serde_json::to_string(&p).unwrap();
    let s = Connection::open(&src).unwrap();
    let emails: Vec<String> = s
        .prepare("SELECT email FROM users LIMIT 50")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for e in &emails {
        assert!(!text.contains(e.as_str()), "profile holds {e}");
    }
    assert!(p.pii.columns.iter().any(|d| d.column == "email"));
    assert!(
        p.fan_out
            .iter()
            .any(|f| f.child == "orders" && f.parent == "users")
    );

    let report = sync(&opts(&src, &dst, Some(0.1)), masker).await.unwrap();
    let vopts = |target: &std::path::Path, expected, synthetic| VerifyOptions {
        source: src_url.clone(),
        target: DbUrl::parse(&format!("sqlite://{}", target.display())).unwrap(),
        namespace: "public".into(),
        rules: Rules::default(),
        rules_file: "(none)".into(),
        expected,
        min_score: 0.9,
        max_ks: 0.05,
        max_tvd: 0.02,
        max_rows: None,
        synthetic,
        not_copied: None,
    };
    let v = verify(&vopts(
        &dst,
        Expected::Rows(
            report
                .tables
                .iter()
                .map(|t| (t.table.clone(), t.rows))
                .collect(),
        ),
        false,
    ))
    .await
    .unwrap();
    assert_eq!(v.integrity.total_violations, 0, "{:?}", v.integrity);
    assert_eq!(v.leaks.leaked_values, 0, "{:?}", v.leaks);
    assert!(v.score > 0.9, "score {} worst {:?}", v.score, v.worst);
    assert!(v.passed, "{:?}", v.failures);

    let r = synth(
        &p,
        &SynthOptions {
            target: DbUrl::parse(&format!("sqlite://{}", syn.display())).unwrap(),
            scale: 2.0,
            rows: Default::default(),
            seed: 1,
            jobs: 2,
            namespace: "public".into(),
            progress: false,
            keep_previous: false,
        },
    )
    .await
    .unwrap();
    let users = r.tables.iter().find(|t| t.table == "users").unwrap();
    assert_eq!(users.rows, 6000);
    let v = verify(&vopts(&syn, Expected::Unknown, true)).await.unwrap();
    assert_eq!(v.integrity.total_violations, 0, "{:?}", v.integrity);
    assert_eq!(v.leaks.leaked_values, 0, "{:?}", v.leaks);
    assert!(v.score > 0.85, "score {} worst {:?}", v.score, v.worst);

    // A leak is caught: copy raw (every PII column kept) and verify.
    let keep: Rules =
        Rules::parse("[tables.users.columns]\nemail = \"keep\"\n", "keep.toml").unwrap();
    let mut o = opts(&src, &dst, Some(0.1));
    o.rules = keep;
    sync(&o, masker).await.unwrap();
    let v = verify(&vopts(&dst, Expected::Unknown, false))
        .await
        .unwrap();
    assert!(v.leaks.leaked_values > 0 && !v.passed, "{:?}", v.leaks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_sources_views_are_listed_as_not_copied() {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("prod.db"), dir.path().join("staging.db"));
    write_shop_sqlite(&src, ShopSize { users: 50, seed: 3 }).unwrap();
    Connection::open(&src)
        .unwrap()
        .execute_batch("CREATE VIEW big_users AS SELECT * FROM users WHERE id > 10;")
        .unwrap();
    for dry_run in [true, false] {
        let mut o = opts(&src, &dst, None);
        o.dry_run = dry_run;
        let report = sync(&o, masker).await.unwrap();
        assert!(
            report
                .not_copied
                .iter()
                .any(|n| n.kind == "view" && n.name == "big_users" && !n.reason.is_empty()),
            "{:?}",
            report.not_copied
        );
    }
}
