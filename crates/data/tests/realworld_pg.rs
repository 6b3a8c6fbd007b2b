//! Real databases (Northwind, Chinook; testdata/realworld) synced in full and 10%: the target's
//! catalog has every table with the source's columns, keys, indexes, checks and sequences; no
//! sequence is behind its keys; no foreign key has an orphan.
//!
//! Each database is synced twice over: with every detected column kept as it is, and with no
//! rules at all (default masks, fitted to `varchar(n)` columns such as Northwind's
//! `city varchar(15)` and Chinook's `varchar(20)` names).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)

mod common;

use prodlike_catalog::{Catalog, Options, Table};
use prodlike_data::DbUrl;
use prodlike_data::rules::Rules;
use prodlike_data::sync::{SyncOptions, sync};
use prodlike_data::verify::{VerifyOptions, verify};
use prodlike_mask::{MaskKey, Masker};
use prodlike_testkit::pg::TempDatabase;
use prodlike_testkit::realworld::{chinook_pg, northwind_pg};

fn masker() -> prodlike_data::Result<Masker> {
    Ok(Masker::new(
        MaskKey::from_secret(b"a test secret of 16+ bytes").unwrap(),
    ))
}

fn opts(src: &TempDatabase, dst: &TempDatabase, sample: Option<f64>, rules: &Rules) -> SyncOptions {
    SyncOptions {
        source: DbUrl::parse(&src.url).unwrap(),
        target: DbUrl::parse(&dst.url).unwrap(),
        rules: rules.clone(),
        rules_file: "(none)".into(),
        sample,
        seed: Some(5),
        strict: false,
        jobs: 3,
        namespace: "public".into(),
        keep_previous: false,
        max_rows_per_sec: None,
        progress: false,
        dry_run: false,
        fail_after_rows: None,
    }
}

async fn catalog(db: &TempDatabase) -> Catalog {
    let c = db.connect().await.unwrap();
    c.batch_execute("SET search_path = public").await.unwrap();
    prodlike_catalog::postgres::read(&c, &Options::schema("public"))
        .await
        .unwrap()
}

/// What must be the same in source and target, table by table, as text.
fn shape(t: &Table) -> Vec<String> {
    let mut out: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            format!(
                "column {} {} null={} default={:?} generated={:?} identity={:?} collation={:?}",
                c.name, c.sql_type, c.nullable, c.default, c.generated, c.identity, c.collation
            )
        })
        .collect();
    out.push(format!(
        "kind {:?} partition {:?} key {:?} inherits {:?}",
        t.kind, t.partition_of, t.partition_key, t.inherits
    ));
    out.extend(
        t.primary_key
            .iter()
            .map(|k| format!("pk {:?}", k.definition)),
    );
    out.extend(
        t.uniques
            .iter()
            .map(|k| format!("unique {:?}", k.definition)),
    );
    out.extend(
        t.foreign_keys
            .iter()
            .map(|k| format!("fk {:?} {:?}", k.name, k.definition)),
    );
    out.extend(
        t.checks
            .iter()
            .map(|k| format!("check {} {}", k.name, k.definition)),
    );
    out.extend(
        t.indexes
            .iter()
            .map(|i| format!("index {} {:?}", i.name, i.definition)),
    );
    out
}

/// Compares the two catalogs; every difference, as text.
fn differences(src: &Catalog, dst: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    for t in &src.tables {
        match dst.table(&t.schema, &t.name) {
            None => out.push(format!("table {} missing", t.name)),
            Some(d) => {
                let (a, b) = (shape(t), shape(d));
                for line in &a {
                    if !b.contains(line) {
                        out.push(format!("{}: lost {line}", t.name));
                    }
                }
                for line in &b {
                    if !a.contains(line) {
                        out.push(format!("{}: gained {line}", t.name));
                    }
                }
            }
        }
    }
    let seq = |c: &Catalog| -> Vec<String> {
        c.sequences
            .iter()
            .map(|s| {
                format!(
                    "{} {} {} {} {} {} {} {} {:?} {}",
                    s.name,
                    s.data_type,
                    s.start,
                    s.min,
                    s.max,
                    s.increment,
                    s.cycle,
                    s.cache,
                    s.owned_by,
                    s.identity
                )
            })
            .collect()
    };
    let (a, b) = (seq(src), seq(dst));
    out.extend(
        a.iter()
            .filter(|s| !b.contains(s))
            .map(|s| format!("sequence lost: {s}")),
    );
    let types = |c: &Catalog| -> Vec<String> {
        c.enums
            .iter()
            .map(|e| format!("enum {} {:?}", e.name, e.labels))
            .chain(c.domains.iter().map(|d| {
                format!(
                    "domain {} {} {} {:?} {:?}",
                    d.name, d.base_type, d.not_null, d.default, d.checks
                )
            }))
            .chain(
                c.composites
                    .iter()
                    .map(|t| format!("composite {} {:?}", t.name, t.attributes)),
            )
            .collect()
    };
    let (a, b) = (types(src), types(dst));
    out.extend(
        a.iter()
            .filter(|s| !b.contains(s))
            .map(|s| format!("type lost: {s}")),
    );
    out
}

async fn count(db: &TempDatabase, sql: &str) -> i64 {
    db.connect()
        .await
        .unwrap()
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .get(0)
}

fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Every foreign key of the source, checked in the target: no child row without its parent.
async fn orphans(src: &Catalog, dst: &TempDatabase) -> Vec<String> {
    let mut out = Vec::new();
    for t in &src.tables {
        for fk in &t.foreign_keys {
            let on: Vec<String> = fk
                .columns
                .iter()
                .zip(&fk.ref_columns)
                .map(|(c, r)| format!("p.{} = c.{}", ident(r), ident(c)))
                .collect();
            let not_null: Vec<String> = fk
                .columns
                .iter()
                .map(|c| format!("c.{} IS NOT NULL", ident(c)))
                .collect();
            let sql = format!(
                "SELECT count(*) FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {})",
                ident(&t.name),
                not_null.join(" AND "),
                ident(&fk.ref_table),
                on.join(" AND ")
            );
            let n = count(dst, &sql).await;
            if n != 0 {
                out.push(format!("{}.{:?}: {n} orphans", t.name, fk.name));
            }
        }
    }
    out
}

/// Every sequence is past the keys drawn from it: the next insert cannot collide.
async fn sequences_behind(dst: &TempDatabase, cat: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    for s in &cat.sequences {
        let Some(o) = &s.owned_by else { continue };
        let next = count(dst, &format!("SELECT nextval('{}')", ident(&s.name))).await;
        let max = count(
            dst,
            &format!(
                "SELECT coalesce(max({})::bigint, 0) FROM {}",
                ident(&o.column),
                ident(&o.table)
            ),
        )
        .await;
        if next <= max {
            out.push(format!("{}: next {next} <= max {max}", s.name));
        }
    }
    out
}

/// Rules keeping every column a sync with no rules would mask (found by a dry run).
async fn keep_detected(src: &TempDatabase) -> Rules {
    let dst = TempDatabase::create("dry_run_dst").await.unwrap();
    let mut dry = opts(src, &dst, None, &Rules::default());
    dry.dry_run = true;
    let report = sync(&dry, masker).await.unwrap();
    assert!(!report.masked.is_empty(), "real data has personal columns");
    let toml: String = report
        .masked
        .iter()
        .map(|m| {
            format!(
                "tables.\"{}\".columns.\"{}\" = \"keep\"\n",
                m.table, m.column
            )
        })
        .collect();
    Rules::parse(&toml, "(kept)").unwrap()
}

async fn check(name: &str, src: TempDatabase, rules: &Rules) {
    let source = catalog(&src).await;
    assert!(!source.tables.is_empty(), "{name} loaded");
    for sample in [None, Some(0.1)] {
        let Some(dst) = TempDatabase::create(&format!("{name}_dst")).await else {
            return;
        };
        let report = sync(&opts(&src, &dst, sample, rules), masker)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{name} sample {sample:?}: {}",
                    prodlike_common::error::chain(&e)
                )
            });
        assert_eq!(
            report.tables.len(),
            source.tables.len(),
            "{name}: every table copied"
        );
        let target = catalog(&dst).await;
        let diff = differences(&source, &target);
        assert!(diff.is_empty(), "{name} sample {sample:?}: {diff:#?}");
        let lost = orphans(&source, &dst).await;
        assert!(lost.is_empty(), "{name} sample {sample:?}: {lost:#?}");
        let behind = sequences_behind(&dst, &target).await;
        assert!(behind.is_empty(), "{name} sample {sample:?}: {behind:#?}");
        let v = verify(&VerifyOptions {
            rules: rules.clone(),
            expected: common::synced_rows(&report),
            min_score: 0.9,
            ..common::verify_options(&src, &dst)
        })
        .await
        .unwrap();
        assert_eq!(v.integrity.total_violations, 0, "{:?}", v.integrity);
        assert!(
            v.schema_differences.is_empty(),
            "{name} sample {sample:?}: {:?}",
            v.schema_differences
        );
        eprintln!(
            "{name} sample {sample:?}: verify passed={} failures={:?}",
            v.passed, v.failures
        );
        // With no rules every personal column is masked, so verify passes outright; rules
        // that keep them raw (to compare rows) leak by design and fail only its leak check.
        if rules.tables.is_empty() {
            assert!(v.passed, "{name} sample {sample:?}: {:?}", v.failures);
        } else {
            assert!(
                v.failures.iter().all(|f| f.contains("PII values leaked")),
                "{name} sample {sample:?}: {:?}",
                v.failures
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn northwind_copies_whole_in_full_and_sampled() {
    let Some(src) = northwind_pg().await else {
        return;
    };
    let rules = keep_detected(&src).await;
    check("northwind", src, &rules).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinook_copies_whole_in_full_and_sampled() {
    let Some(src) = chinook_pg().await else {
        return;
    };
    let rules = keep_detected(&src).await;
    check("chinook", src, &rules).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn northwind_copies_whole_with_no_rules() {
    let Some(src) = northwind_pg().await else {
        return;
    };
    check("northwind", src, &Rules::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinook_copies_whole_with_no_rules() {
    let Some(src) = chinook_pg().await else {
        return;
    };
    check("chinook", src, &Rules::default()).await;
}
