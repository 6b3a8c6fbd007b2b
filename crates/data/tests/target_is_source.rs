//! `prodlike data` never writes to its source: a target that is the source database under
//! another spelling of its URL is refused before anything is written, and the source is left
//! exactly as it was. A different database on the same server is still a valid target.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (DEVELOPERS.md)

use prodlike_data::identity::{self, SameDatabase};
use prodlike_data::profile::{ProfileOptions, profile};
use prodlike_data::rules::Rules;
use prodlike_data::sync::{SyncOptions, sync};
use prodlike_data::synth::{SynthOptions, synth};
use prodlike_data::{DataError, DbUrl};
use prodlike_mask::{MaskKey, Masker};
use prodlike_testkit::pg::TempDatabase;
use prodlike_testkit::shopdb::create_shop;

fn masker() -> prodlike_data::Result<Masker> {
    Ok(Masker::new(
        MaskKey::from_secret(b"a test secret of 16+ bytes").unwrap(),
    ))
}

fn opts(source: &str, target: &str) -> SyncOptions {
    SyncOptions {
        source: DbUrl::parse(source).unwrap(),
        target: DbUrl::parse(target).unwrap(),
        rules: Rules::default(),
        rules_file: "(none)".into(),
        sample: Some(0.5),
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

/// Every schema and table of the database, with an md5 of each table's rows in a fixed order:
/// equal before and after means nothing was created, dropped or changed.
async fn fingerprint(db: &TempDatabase) -> Vec<(String, String, String)> {
    let c = db.connect().await.unwrap();
    let tables = c
        .query(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' \
               AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap();
    let schemas: Vec<String> = c
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = vec![("schemas".into(), schemas.join(","), String::new())];
    for r in tables {
        let (ns, t): (String, String) = (r.get(0), r.get(1));
        let sql = format!(
            "SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), 'empty') FROM \"{ns}\".\"{t}\" t"
        );
        let md5: String = c.query_one(&sql, &[]).await.unwrap().get(0);
        out.push((ns, t, md5));
    }
    out
}

/// The same database as `db.url` (`postgres://postgres@127.0.0.1:5432/NAME`), spelt otherwise.
fn spellings(db: &TempDatabase) -> Vec<String> {
    let n = &db.name;
    vec![
        format!("postgres://postgres@localhost:5432/{n}"),
        format!("postgres://postgres@127.0.0.1/{n}"),
        format!("postgresql://postgres@127.0.0.1:5432/{n}?sslmode=disable"),
        format!("postgres://postgres:not-the-password@localhost/{n}?application_name=x"),
        db.url.clone(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_sync_into_its_source_under_any_spelling_is_refused_and_writes_nothing() {
    let Some(src) = TempDatabase::create("ident_src").await else {
        return;
    };
    create_shop(&src, 300).await.unwrap();
    let before = fingerprint(&src).await;
    assert!(before.len() > 3, "the shop has tables: {before:?}");
    for target in spellings(&src) {
        let e = sync(&opts(&src.url, &target), masker).await.unwrap_err();
        match &e {
            DataError::TargetIsSource {
                source_url,
                target_url,
                how,
            } => {
                assert_eq!(source_url, &src.url);
                assert!(!target_url.contains("not-the-password"), "{target_url}");
                assert!(
                    matches!(
                        how,
                        SameDatabase::SystemIdentifier { .. } | SameDatabase::SameUrl
                    ),
                    "{target}: {how:?}"
                );
            }
            other => panic!("{target}: expected TargetIsSource, got {other}"),
        }
        let text = e.to_string();
        assert!(text.contains(&src.url), "{text}");
        // A dry run is refused too: it previews a run that would overwrite the source.
        let mut dry = opts(&src.url, &target);
        dry.dry_run = true;
        assert!(matches!(
            sync(&dry, masker).await,
            Err(DataError::TargetIsSource { .. })
        ));
    }
    let e = sync(&opts(&src.url, &spellings(&src)[0]), masker)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("system identifier") && e.contains("database OID"),
        "{e}"
    );
    assert_eq!(
        fingerprint(&src).await,
        before,
        "a refused sync changed the source"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_database_on_the_same_server_is_still_a_target() {
    let Some(src) = TempDatabase::create("ident_src2").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("ident_dst2").await else {
        return;
    };
    create_shop(&src, 300).await.unwrap();
    let before = fingerprint(&src).await;
    // Spelt like the source's host, so only the database tells them apart.
    let target = format!("postgres://postgres@localhost:5432/{}", dst.name);
    identity::ensure_target_is_not_source(
        &DbUrl::parse(&src.url).unwrap(),
        &DbUrl::parse(&target).unwrap(),
    )
    .await
    .unwrap();
    let report = sync(&opts(&src.url, &target), masker).await.unwrap();
    assert!(report.total_rows > 0);
    let c = dst.connect().await.unwrap();
    let users: i64 = c
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert!(users > 0);
    assert_eq!(fingerprint(&src).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_synth_into_the_profiled_source_is_refused() {
    let Some(src) = TempDatabase::create("ident_synth").await else {
        return;
    };
    let Some(other) = TempDatabase::create("ident_synth_dst").await else {
        return;
    };
    create_shop(&src, 200).await.unwrap();
    let p = profile(
        &DbUrl::parse(&src.url).unwrap(),
        &ProfileOptions {
            namespace: "public".into(),
            max_rows: None,
            seed: 0,
        },
    )
    .await
    .unwrap();
    assert!(p.source_identity.is_some());
    let before = fingerprint(&src).await;
    let synth_opts = |target: &str| SynthOptions {
        target: DbUrl::parse(target).unwrap(),
        scale: 0.5,
        rows: Default::default(),
        seed: 1,
        jobs: 2,
        namespace: "public".into(),
        progress: false,
        keep_previous: false,
    };
    let e = synth(
        &p,
        &synth_opts(&format!("postgres://postgres@localhost/{}", src.name)),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, DataError::TargetIsSource { .. }), "{e}");
    assert!(e.to_string().contains("profiled"), "{e}");
    assert_eq!(fingerprint(&src).await, before);
    // A profile made before identities were recorded still loads and synthesises.
    let mut old = p.clone();
    old.source_identity = None;
    let json = serde_json::to_value(&old).unwrap();
    assert!(json.get("source_identity").is_none());
    let back: prodlike_data::profile::Profile = serde_json::from_value(json).unwrap();
    synth(&back, &synth_opts(&other.url)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sync_into_its_own_file_by_any_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.sqlite");
    prodlike_data::fixture::write_shop_sqlite(
        &file,
        prodlike_data::fixture::ShopSize {
            users: 100,
            seed: 1,
        },
    )
    .unwrap();
    let link = dir.path().join("link.sqlite");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let hard = dir.path().join("hard.sqlite");
    std::fs::hard_link(&file, &hard).unwrap();
    let before = std::fs::read(&file).unwrap();
    let src = format!("sqlite://{}", file.display());
    for target in [
        format!("sqlite://{}", file.display()),
        format!("sqlite://{}/./x.sqlite", dir.path().display()),
        format!("sqlite://{}/sub/../x.sqlite", dir.path().display()),
        format!("sqlite://{}", link.display()),
        format!("sqlite://{}", hard.display()),
    ] {
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        let e = sync(&opts(&src, &target), masker).await.unwrap_err();
        assert!(
            matches!(
                e,
                DataError::TargetIsSource {
                    how: SameDatabase::SameFile { .. } | SameDatabase::SameUrl,
                    ..
                }
            ),
            "{target}: {e}"
        );
    }
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("prodlike-partial")),
        "{names:?}"
    );
}
