//! PostgreSQL, issue 16: masks that fit the column (length, CHECK, uniqueness; a mask that can
//! never fit is a dry-run error naming the column), and errors that say what PostgreSQL said,
//! once, with the table, column and constraint.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (DEVELOPERS.md)

use prodlike_common::error::chain;
use prodlike_data::DbUrl;
use prodlike_data::rules::Rules;
use prodlike_data::sync::{SyncOptions, sync};
use prodlike_mask::{MaskKey, Masker};
use prodlike_testkit::pg::TempDatabase;

fn masker() -> prodlike_data::Result<Masker> {
    Ok(Masker::new(
        MaskKey::from_secret(b"a test secret of 16+ bytes").unwrap(),
    ))
}

fn opts(src: &TempDatabase, dst: &TempDatabase, rules: &str, dry_run: bool) -> SyncOptions {
    SyncOptions {
        source: DbUrl::parse(&src.url).unwrap(),
        target: DbUrl::parse(&dst.url).unwrap(),
        rules: Rules::parse(rules, "data.toml").unwrap(),
        rules_file: "data.toml".into(),
        sample: None,
        seed: Some(3),
        strict: false,
        jobs: 2,
        namespace: "public".into(),
        keep_previous: false,
        max_rows_per_sec: None,
        progress: false,
        dry_run,
        fail_after_rows: None,
    }
}

async fn exec(db: &TempDatabase, sql: &str) {
    db.connect()
        .await
        .unwrap()
        .batch_execute(sql)
        .await
        .unwrap();
}

async fn texts(db: &TempDatabase, sql: &str) -> Vec<String> {
    db.connect()
        .await
        .unwrap()
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect()
}

/// Names, cities, emails and codes whose fakes are longer than their columns allow, one of them
/// unique and one limited by a CHECK.
const PEOPLE: &str = "
CREATE TABLE people (
    id int PRIMARY KEY,
    surname varchar(5) NOT NULL UNIQUE,
    city varchar(6),
    email varchar(16),
    code varchar(12) CHECK (char_length(code) <= 4),
    grade text CHECK (grade IN ('low', 'mid', 'high'))
);
INSERT INTO people
SELECT i,
       substr(md5(i::text), 1, 5),
       (ARRAY['Paris', 'Lyon', 'Nice', 'Berlin', 'Bonn'])[1 + i % 5],
       'a' || i || '@ex.io',
       'c' || (i % 1000),
       (ARRAY['low', 'mid', 'high'])[1 + i % 3]
FROM generate_series(1, 800) i;
";

const PEOPLE_RULES: &str = r#"
[tables.people.columns]
surname = "last_name"
city = "city"
email = "email"
code = "last_name"
grade = "first_name"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masked_values_fit_their_columns_and_unique_ones_stay_unique() {
    let Some(src) = TempDatabase::create("fit_src").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("fit_dst").await else {
        return;
    };
    exec(&src, PEOPLE).await;
    // Before: `value too long for type character varying(5)` from the COPY.
    let report = sync(&opts(&src, &dst, PEOPLE_RULES, false), masker).await;
    let report = report.map_err(|e| chain(&e).to_string()).unwrap();
    assert!(!report.masked.is_empty());
    let surnames = texts(&dst, "SELECT surname FROM people").await;
    assert_eq!(surnames.len(), 800);
    assert!(surnames.iter().all(|s| s.chars().count() <= 5));
    let distinct: std::collections::HashSet<&String> = surnames.iter().collect();
    assert_eq!(distinct.len(), 800, "the unique column stayed unique");
    for (col, max) in [("city", 6), ("email", 16), ("code", 4)] {
        let vals = texts(&dst, &format!("SELECT {col} FROM people")).await;
        assert!(
            vals.iter().all(|v| v.chars().count() <= max),
            "{col}: {:?}",
            vals.iter().find(|v| v.chars().count() > max)
        );
    }
    let grades = texts(&dst, "SELECT DISTINCT grade FROM people").await;
    assert!(
        grades
            .iter()
            .all(|g| ["low", "mid", "high"].contains(&g.as_str()))
    );
    let emails = texts(&dst, "SELECT email FROM people").await;
    assert!(emails.iter().all(|e| e.contains('@')));
    // Deterministic: a second sync gives the same values.
    let Some(dst2) = TempDatabase::create("fit_dst2").await else {
        return;
    };
    sync(&opts(&src, &dst2, PEOPLE_RULES, false), masker)
        .await
        .unwrap();
    let q = "SELECT surname || '|' || coalesce(city, '') || '|' || email || '|' || code FROM people ORDER BY id";
    assert_eq!(texts(&dst, q).await, texts(&dst2, q).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mask_that_cannot_fit_is_a_dry_run_error_naming_the_column() {
    let Some(src) = TempDatabase::create("fit_dry_src").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("fit_dry_dst").await else {
        return;
    };
    exec(
        &src,
        "CREATE TABLE users (id int PRIMARY KEY, code varchar(3)); INSERT INTO users VALUES (1, 'abc');",
    )
    .await;
    let rules = "[tables.users.columns]\ncode = \"email\"\n";
    let err = sync(&opts(&src, &dst, rules, true), masker)
        .await
        .map(|_| ())
        .unwrap_err();
    let text = chain(&err).to_string();
    assert!(text.contains("masking `users.code`"), "{text}");
    assert!(
        text.contains("`email` values need at least 6 characters and the column holds at most 3"),
        "{text}"
    );
    assert!(text.contains("character varying(3)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_where_says_what_postgresql_said_once() {
    let Some(src) = TempDatabase::create("err_where_src").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("err_where_dst").await else {
        return;
    };
    exec(&src, "CREATE TABLE users (id int PRIMARY KEY);").await;
    let rules = "[tables.users]\nwhere = \"no_such_column > 1\"\n";
    let err = sync(&opts(&src, &dst, rules, true), masker)
        .await
        .map(|_| ())
        .unwrap_err();
    let text = chain(&err).to_string();
    assert_eq!(
        text,
        "rules data.toml: tables.users.where: the source database refused it: PostgreSQL checking `where` of table users: column \"no_such_column\" does not exist [SQLSTATE 42703]"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_row_names_the_table_and_constraint_once() {
    let Some(src) = TempDatabase::create("err_check_src").await else {
        return;
    };
    let Some(dst) = TempDatabase::create("err_check_dst").await else {
        return;
    };
    // A CHECK that fitting does not evaluate (a regular expression): fake cities break it.
    exec(
        &src,
        "CREATE TABLE shops (id int PRIMARY KEY, city text CONSTRAINT city_is_a_code CHECK (city ~ '^[A-Z]{3}$'));
         INSERT INTO shops SELECT i, 'PAR' FROM generate_series(1, 20) i;",
    )
    .await;
    let rules = "[tables.shops.columns]\ncity = \"city\"\n";
    let err = sync(&opts(&src, &dst, rules, false), masker)
        .await
        .map(|_| ())
        .unwrap_err();
    let text = chain(&err).to_string();
    assert!(!text.contains("db error"), "{text}");
    assert_eq!(text.matches("city_is_a_code").count(), 1, "{text}");
    assert!(text.contains("[SQLSTATE 23514]"), "{text}");
    assert!(text.contains("check constraint"), "{text}");
    assert!(text.contains("\"shops\""), "{text}");
}

/// `(id, column values…)` of a table, by id.
async fn rows(db: &TempDatabase, sql: &str) -> Vec<(i32, Vec<Option<String>>)> {
    db.connect()
        .await
        .unwrap()
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let id: i32 = r.get(0);
            (id, (1..r.len()).map(|i| r.get(i)).collect())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinook_and_northwind_sync_with_no_rules_and_their_masks_are_consistent() {
    // Before: `value too long for type character varying(15)` on Northwind's `city`, and
    // Chinook's `1 (780) …` phones lost their country code.
    let Some(src) = prodlike_testkit::realworld::chinook_pg().await else {
        return;
    };
    let Some(dst) = TempDatabase::create("chinook_fit_dst").await else {
        return;
    };
    let report = sync(&opts(&src, &dst, "", false), masker)
        .await
        .map_err(|e| chain(&e).to_string())
        .unwrap();
    let masked = |t: &str, c: &str| {
        report
            .masked
            .iter()
            .any(|m| m.table == t && m.column == c && m.transform != "json_paths")
    };
    let q = "SELECT employee_id, first_name, last_name, email, phone FROM employee ORDER BY 1";
    let (before, after) = (rows(&src, q).await, rows(&dst, q).await);
    assert_eq!(before.len(), after.len());
    for ((id, b), (_, a)) in before.iter().zip(&after) {
        for (i, col) in ["first_name", "last_name", "email", "phone"]
            .iter()
            .enumerate()
        {
            if masked("employee", col) && b[i].is_some() {
                assert_ne!(a[i], b[i], "employee {id}.{col} kept its value");
            }
        }
        // `steve@chinookcorp.com` goes with `Steve`: the same pseudonym in both.
        if masked("employee", "first_name")
            && masked("employee", "email")
            && let (Some(bf), Some(be), Some(af), Some(ae)) = (&b[0], &b[2], &a[0], &a[2])
            && be.split('@').next() == Some(bf.to_lowercase().as_str())
        {
            let login: String = af
                .chars()
                .filter(char::is_ascii_alphabetic)
                .map(|c| c.to_ascii_lowercase())
                .collect();
            assert_eq!(ae.split('@').next(), Some(login.as_str()), "employee {id}");
        }
        // The country code stays, with or without `+`.
        if masked("employee", "phone")
            && let (Some(bp), Some(ap)) = (&b[3], &a[3])
        {
            let cc = |p: &str| p.split(' ').next().map(str::to_owned);
            assert_eq!(cc(ap), cc(bp), "employee {id}: {bp} -> {ap}");
        }
    }

    let Some(src) = prodlike_testkit::realworld::northwind_pg().await else {
        return;
    };
    let Some(dst) = TempDatabase::create("northwind_fit_dst").await else {
        return;
    };
    sync(&opts(&src, &dst, "", false), masker)
        .await
        .map_err(|e| chain(&e).to_string())
        .unwrap();
    let cities = texts(&dst, "SELECT coalesce(city, '') FROM customers").await;
    assert!(!cities.is_empty());
    assert!(cities.iter().all(|c| c.chars().count() <= 15));
}
