//! Chinook converted to MySQL by this test (from testdata/realworld's PostgreSQL script), with
//! MySQL's own features added (AUTO_INCREMENT keys and positions, ENUM, SET, JSON, unsigned
//! integers, zero dates, a view, a trigger, a procedure), synced into another MariaDB
//! database: every foreign key kept, the PII masked with the same pseudonyms a PostgreSQL sync
//! of Chinook gives for the same key, AUTO_INCREMENT positions carried, views, triggers and
//! routines recreated after the swap and said so; verify passes on it (its schema check
//! included) and finds a key position moved behind production's; profile reads it too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use prodlike_data::DbUrl;
use prodlike_data::rules::Rules;
use prodlike_data::sync::{SyncOptions, sync};
use prodlike_data::verify::{VerifyOptions, verify};
use prodlike_mask::{MaskKey, Masker};
use prodlike_testkit::mysql::TempMysql;

fn masker() -> prodlike_data::Result<Masker> {
    Ok(Masker::new(
        MaskKey::from_secret(b"a test secret of 16+ bytes").unwrap(),
    ))
}

fn opts(source: &str, target: &str, sample: Option<f64>) -> SyncOptions {
    SyncOptions {
        source: DbUrl::parse(source).unwrap(),
        target: DbUrl::parse(target).unwrap(),
        rules: Rules::default(),
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

/// Chinook's PostgreSQL script as MySQL runs it: DATETIME for TIMESTAMP (MySQL's TIMESTAMP
/// stops at 1970), AUTO_INCREMENT keys for customers, invoices and genres.
fn chinook_mysql() -> String {
    let sql = prodlike_testkit::realworld::chinook_sql().unwrap();
    let mut sql = sql.replace("TIMESTAMP", "DATETIME");
    for (table, key) in [
        ("customer", "customer_id"),
        ("invoice", "invoice_id"),
        ("genre", "genre_id"),
    ] {
        let from = format!("CREATE TABLE {table}\n(\n    {key} INT NOT NULL,");
        assert!(sql.contains(&from), "{from}");
        sql = sql.replace(
            &from,
            &format!("CREATE TABLE {table}\n(\n    {key} INT NOT NULL AUTO_INCREMENT,"),
        );
    }
    sql
}

const MYSQL_FEATURES: &str = "
ALTER TABLE customer AUTO_INCREMENT = 1000;
ALTER TABLE invoice AUTO_INCREMENT = 5000;
CREATE TABLE customer_extra (
  customer_id INT NOT NULL PRIMARY KEY,
  tier ENUM('free','pro','team') NOT NULL DEFAULT 'free',
  tags SET('rock','jazz','metal'),
  prefs JSON,
  visits INT UNSIGNED NOT NULL,
  big BIGINT UNSIGNED,
  since DATE,
  seen DATETIME,
  note VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  CONSTRAINT customer_extra_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id)
) ENGINE=InnoDB;
INSERT INTO customer_extra
  SELECT customer_id,
         ELT(1 + customer_id % 3, 'free', 'pro', 'team'),
         IF(customer_id % 2 = 0, 'rock,jazz', 'metal'),
         JSON_OBJECT('theme', IF(customer_id % 2 = 0, 'dark', 'light'), 'n', customer_id),
         4294967295 - customer_id,
         IF(customer_id = 1, 18446744073709551615, customer_id * 1000),
         IF(customer_id % 5 = 0, '0000-00-00', '2020-01-01' + INTERVAL customer_id DAY),
         IF(customer_id % 7 = 0, '0000-00-00 00:00:00', '2021-03-04 05:06:07'),
         IF(customer_id % 4 = 0, NULL, CONCAT('tab\\there, back\\\\slash ', customer_id))
  FROM customer;
CREATE VIEW big_spenders AS
  SELECT c.customer_id, SUM(i.total) AS spent FROM customer c JOIN invoice i ON i.customer_id = c.customer_id
  GROUP BY c.customer_id HAVING SUM(i.total) > 40;
CREATE TRIGGER invoice_round BEFORE INSERT ON invoice FOR EACH ROW SET NEW.total = ROUND(NEW.total, 2);
CREATE PROCEDURE invoices_of(IN c INT) SELECT * FROM invoice WHERE customer_id = c;
";

async fn chinook_source() -> Option<TempMysql> {
    let db = TempMysql::create("chinook_src").await?;
    let mut conn = db.connect().await.unwrap();
    conn.query_drop("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'")
        .await
        .unwrap();
    conn.query_drop(chinook_mysql()).await.unwrap();
    conn.query_drop("SET SESSION sql_mode = ''").await.unwrap();
    conn.query_drop(MYSQL_FEATURES).await.unwrap();
    conn.disconnect().await.unwrap();
    Some(db)
}

async fn rows(db: &TempMysql, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut conn = db.connect().await.unwrap();
    let rows: Vec<mysql_async::Row> = conn.query(sql).await.unwrap();
    conn.disconnect().await.unwrap();
    rows.into_iter()
        .map(|r| {
            r.unwrap()
                .into_iter()
                .map(|v| match v {
                    mysql_async::Value::NULL => None,
                    mysql_async::Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    other => Some(other.as_sql(true)),
                })
                .collect()
        })
        .collect()
}

async fn one(db: &TempMysql, sql: &str) -> String {
    rows(db, sql).await[0][0].clone().unwrap_or_default()
}

async fn foreign_keys(db: &TempMysql) -> Vec<Vec<Option<String>>> {
    rows(
        db,
        &format!(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE \
             FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = '{}' \
             ORDER BY 1, 2",
            db.name
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
// Long: one database read or synced, then every property checked in turn.
#[allow(clippy::too_many_lines)]
async fn chinook_syncs_with_its_keys_masks_positions_and_objects() {
    let Some(src) = chinook_source().await else {
        return;
    };
    let Some(dst) = TempMysql::create("chinook_dst").await else {
        return;
    };
    // The target's previous contents: replaced whole, its trigger and view gone with them.
    dst.execute(
        "CREATE TABLE old_stuff (id INT PRIMARY KEY); \
         CREATE TRIGGER old_t BEFORE INSERT ON old_stuff FOR EACH ROW SET NEW.id = NEW.id; \
         CREATE VIEW old_v AS SELECT id FROM old_stuff;",
    )
    .await
    .unwrap();
    let report = sync(&opts(&src.url, &dst.url, None), masker).await.unwrap();

    // Every table with every row; every foreign key, none broken.
    let tables: Vec<&str> = report.tables.iter().map(|t| t.table.as_str()).collect();
    assert_eq!(tables.len(), 12, "{tables:?}");
    for t in &report.tables {
        let n: u64 = one(&src, &format!("SELECT count(*) FROM `{}`", t.table))
            .await
            .parse()
            .unwrap();
        assert_eq!(t.rows, n, "{}", t.table);
    }
    let src_fks = foreign_keys(&src).await;
    assert_eq!(src_fks.len(), 12);
    assert_eq!(foreign_keys(&dst).await, src_fks);
    let orphans = one(
        &dst,
        "SELECT count(*) FROM invoice_line l LEFT JOIN invoice i ON i.invoice_id = l.invoice_id \
         WHERE i.invoice_id IS NULL",
    )
    .await;
    assert_eq!(orphans, "0");
    assert_eq!(
        rows(&dst, "SHOW TABLES LIKE 'old_stuff'").await.len(),
        0,
        "the target's previous tables are gone"
    );

    // AUTO_INCREMENT positions as the source's.
    let position = |db: &TempMysql, t: &str| {
        format!(
            "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}' AND TABLE_NAME = '{t}'",
            db.name
        )
    };
    for t in ["customer", "invoice", "genre"] {
        let s = one(&src, &position(&src, t)).await;
        let d = one(&dst, &position(&dst, t)).await;
        assert_eq!(s, d, "{t}");
    }
    assert_eq!(one(&dst, &position(&dst, "customer")).await, "1000");

    // MySQL's own types, unmasked, as they were: ENUM, SET, JSON, unsigned, zero dates, escapes.
    let extra = "SELECT customer_id, tier, tags, prefs, visits, big, since, seen, note \
                 FROM customer_extra ORDER BY customer_id";
    assert_eq!(rows(&dst, extra).await, rows(&src, extra).await);
    assert_eq!(
        one(&dst, "SELECT big FROM customer_extra WHERE customer_id = 1").await,
        "18446744073709551615"
    );
    assert_eq!(
        one(
            &dst,
            "SELECT since FROM customer_extra WHERE customer_id = 5"
        )
        .await,
        "0000-00-00"
    );

    // PII masked: no customer keeps their email or last name.
    let same = one(
        &dst,
        &format!(
            "SELECT count(*) FROM customer d JOIN `{}`.customer s ON s.customer_id = d.customer_id \
             WHERE s.email = d.email OR s.last_name = d.last_name",
            src.name
        ),
    )
    .await;
    assert_eq!(same, "0");
    assert!(
        report
            .masked
            .iter()
            .any(|m| m.table == "customer" && m.column == "email"),
        "{:?}",
        report.masked
    );

    // Views, triggers and routines: made after the swap, and said so.
    let mut made = report.recreated_after_swap.clone();
    made.sort();
    assert_eq!(
        made,
        [
            "procedure invoices_of",
            "trigger invoice_round",
            "view big_spenders"
        ],
        "{:?}",
        report.not_copied
    );
    assert_eq!(
        one(&dst, "SELECT count(*) FROM big_spenders").await,
        one(&src, "SELECT count(*) FROM big_spenders").await
    );
    let triggers = rows(
        &dst,
        &format!(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{}'",
            dst.name
        ),
    )
    .await;
    assert_eq!(triggers, [[Some("invoice_round".to_string())]]);
    assert_eq!(
        rows(&dst, "SHOW FULL TABLES WHERE Table_type = 'VIEW'")
            .await
            .len(),
        1
    );
    // Nothing of this target's load is left behind on the server (the tag is the one
    // mysql/target.rs derives from the target's name; other tests load other targets).
    let tag = &blake3::hash(dst.name.as_bytes()).to_hex()[..8];
    let left = rows(
        &dst,
        &format!(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA \
             WHERE SCHEMA_NAME LIKE 'prodlike\\_load\\_{tag}\\_%' \
                OR SCHEMA_NAME LIKE 'prodlike\\_old\\_{tag}\\_%'"
        ),
    )
    .await;
    assert!(left.is_empty(), "{left:?}");

    // Verify on the real database: integrity, row counts, no PII left, and the schema check
    // (tables, views, triggers, routines, AUTO_INCREMENT positions) finding nothing missing.
    let v = verify(&VerifyOptions {
        expected: common::synced_rows(&report),
        min_score: 0.9,
        ..common::verify_urls(&src.url, &dst.url)
    })
    .await
    .unwrap();
    assert!(
        v.schema_checked
            .contains("triggers, routines and AUTO_INCREMENT"),
        "{}",
        v.schema_checked
    );
    assert!(
        v.schema_differences.is_empty(),
        "{:?}",
        v.schema_differences
    );
    assert_eq!(v.integrity.total_violations, 0, "{:?}", v.integrity);
    assert_eq!(v.leaks.leaked_values, 0, "{:?}", v.leaks);
    assert!(v.passed, "{:?}", v.failures);
    // Staging's invoice keys moved back to just past its rows: found against production's.
    let next_invoice = one(&dst, &position(&dst, "invoice")).await;
    dst.execute(&format!(
        "ALTER TABLE invoice AUTO_INCREMENT = {}",
        1 + one(&dst, "SELECT max(invoice_id) FROM invoice")
            .await
            .parse::<u64>()
            .unwrap()
    ))
    .await
    .unwrap();
    assert_ne!(one(&dst, &position(&dst, "invoice")).await, next_invoice);
    {
        let v = verify(&VerifyOptions {
            min_score: 0.9,
            ..common::verify_urls(&src.url, &dst.url)
        })
        .await
        .unwrap();
        assert!(
            v.schema_differences
                .iter()
                .any(|d| d.kind == "auto_increment" && d.name == "invoice"),
            "{:?}",
            v.schema_differences
        );
        assert!(!v.passed);
    }

    // A 30% sample keeps every foreign key whole too.
    let report = sync(&opts(&src.url, &dst.url, Some(0.3)), masker)
        .await
        .unwrap();
    let customers = report
        .tables
        .iter()
        .find(|t| t.table == "customer")
        .unwrap();
    assert!(customers.rows < 59, "{}", customers.rows);
    assert_eq!(foreign_keys(&dst).await, src_fks);
}

/// The customer columns masked, by key, as text.
type Masked = BTreeMap<i64, BTreeMap<String, Option<String>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
// Long: one database read or synced, then every property checked in turn.
#[allow(clippy::too_many_lines)]
async fn the_same_key_gives_mysql_the_same_pseudonyms_as_postgresql() {
    let Some(src) = chinook_source().await else {
        return;
    };
    let Some(dst) = TempMysql::create("chinook_same_dst").await else {
        return;
    };
    let Some(pg_src) = prodlike_testkit::realworld::chinook_pg().await else {
        return;
    };
    let Some(pg_dst) = prodlike_testkit::pg::TempDatabase::create("chinook_same_pg").await else {
        return;
    };
    let my = sync(&opts(&src.url, &dst.url, None), masker).await.unwrap();
    let pg = sync(&opts(&pg_src.url, &pg_dst.url, None), masker)
        .await
        .unwrap();
    let masked_in = |r: &prodlike_data::sync::SyncReport| -> Vec<String> {
        let mut v: Vec<String> = r
            .masked
            .iter()
            .filter(|m| m.table == "customer" || m.table == "employee")
            .map(|m| format!("{}.{}", m.table, m.column))
            .collect();
        v.sort();
        v
    };
    let columns = masked_in(&pg);
    assert!(
        columns.contains(&"customer.email".to_string()),
        "{columns:?}"
    );
    assert_eq!(
        masked_in(&my),
        columns,
        "both engines mask the same columns"
    );

    for table in ["customer", "employee"] {
        let cols: Vec<&str> = columns
            .iter()
            .filter_map(|c| c.strip_prefix(&format!("{table}.")))
            .filter(|c| !c.ends_with("_date"))
            .collect();
        let key = format!("{table}_id");
        let list = cols.join(", ");
        let mut from_mysql = Masked::new();
        for r in rows(&dst, &format!("SELECT {key}, {list} FROM {table}")).await {
            let id: i64 = r[0].as_deref().unwrap().parse().unwrap();
            let vals = cols
                .iter()
                .map(|c| c.to_string())
                .zip(r[1..].iter().cloned());
            from_mysql.insert(id, vals.collect());
        }
        let c = pg_dst.connect().await.unwrap();
        let mut from_pg = Masked::new();
        for r in c
            .query(&format!("SELECT {key}::int8, {list} FROM {table}"), &[])
            .await
            .unwrap()
        {
            let id: i64 = r.get(0);
            let vals = cols
                .iter()
                .enumerate()
                .map(|(i, c)| (c.to_string(), r.get::<_, Option<String>>(i + 1)));
            from_pg.insert(id, vals.collect());
        }
        assert_eq!(from_mysql.len(), from_pg.len(), "{table}");
        assert_eq!(from_mysql, from_pg, "{table}: the pseudonyms differ");
    }
}
