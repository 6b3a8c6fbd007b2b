#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike data plans --from-stat-statements N`: the heaviest statements of production's
//! `pg_stat_statements`, planned generically with values sampled from staging's own data.
//! The shared server does not preload the extension: there the run names it and exits 2, and
//! the queries file is still compared. The working path runs on a private cluster the test
//! starts (`initdb` as the `postgres` user, `shared_preload_libraries = 'pg_stat_statements'`),
//! with staging's ids apart from production's, so a sampled value shows where it came from.

use prodlike_testkit::pg::TempDatabase;
use prodlike_testkit::private_pg::PrivatePostgres;
use prodlike_testkit::process::output_text;

mod plans_common;
use plans_common::{plans, rt, sql};

const SCHEMA: &str = "CREATE TABLE users(id int PRIMARY KEY, name text);
    CREATE TABLE orders(id int PRIMARY KEY, user_id int REFERENCES users, total numeric);";

/// `users` users from id `first`, ten orders each.
fn fill(first: i64, users: i64) -> String {
    format!(
        "INSERT INTO users SELECT {first} + g, 'u' || g FROM generate_series(0, {users} - 1) g;
         INSERT INTO orders SELECT g, {first} + (g % {users}), g FROM generate_series(1, {}) g;",
        users * 10
    )
}

#[test]
fn absent_pg_stat_statements_is_named_and_the_file_still_compared() {
    let rt = rt();
    let Some(prod) = rt.block_on(TempDatabase::create("plans_pgss_prod")) else {
        return;
    };
    let stag = rt
        .block_on(TempDatabase::create("plans_pgss_stag"))
        .unwrap();
    for db in [&prod, &stag] {
        sql(&rt, &db.url, &format!("{SCHEMA} {} ANALYZE;", fill(1, 100)));
    }
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.sql");
    std::fs::write(&q, "-- count users\nSELECT count(*) FROM users;\n").unwrap();
    let (o, v) = plans(
        dir.path(),
        &prod.url,
        &stag.url,
        None,
        &[
            "--from-stat-statements",
            "5",
            "--queries",
            q.to_str().unwrap(),
        ],
    );
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains("pg_stat_statements cannot be read")
            && text.contains("shared_preload_libraries"),
        "{text}"
    );
    assert!(
        v["data"]["problems"][0]
            .as_str()
            .unwrap()
            .contains("pg_stat_statements"),
        "{v}"
    );
    assert_eq!(v["data"]["queries"][0]["name"], "count users");
    assert_eq!(v["data"]["queries"][0]["verdict"], "same_plan");
}

#[test]
// Long: one cluster's setup, workload and the assertions on what it reports.
#[allow(clippy::too_many_lines)]
fn the_heaviest_statements_planned_with_values_sampled_from_staging() {
    let Some(pg) = PrivatePostgres::start(&["shared_preload_libraries = 'pg_stat_statements'"])
    else {
        return;
    };
    let rt = rt();
    // CREATE DATABASE runs outside a transaction: one statement at a time.
    sql(&rt, &pg.url("postgres"), "CREATE DATABASE prod");
    sql(&rt, &pg.url("postgres"), "CREATE DATABASE stag");
    let (prod, stag) = (pg.url("prod"), pg.url("stag"));
    sql(
        &rt,
        &prod,
        &format!(
            "CREATE EXTENSION pg_stat_statements; {SCHEMA} {}
             CREATE INDEX orders_user_idx ON orders(user_id); ANALYZE;",
            fill(1, 20_000)
        ),
    );
    // Staging's ids start at 1,000,000: production has none of them.
    sql(
        &rt,
        &stag,
        &format!("{SCHEMA} {} ANALYZE;", fill(1_000_000, 200)),
    );
    let mut workload = String::from("SELECT pg_stat_statements_reset();");
    for i in 0..30 {
        workload.push_str(&format!("SELECT * FROM orders WHERE user_id = {};", 40 + i));
    }
    for _ in 0..10 {
        workload.push_str("SELECT count(*) FROM users;");
    }
    workload.push_str("SELECT lower('SOME TEXT');");
    sql(&rt, &prod, &workload);

    let dir = tempfile::tempdir().unwrap();
    let (o, v) = plans(
        dir.path(),
        &prod,
        &stag,
        None,
        &["--from-stat-statements", "5"],
    );
    let text = output_text(&o);
    // A different plan: a finding; the statement with nothing to sample is not an input error.
    assert_eq!(o.status.code(), Some(1), "{text}");
    let queries = v["data"]["queries"].as_array().unwrap();
    assert!(
        queries
            .iter()
            .all(|q| !q["sql"].as_str().unwrap().contains("pg_stat_statements")),
        "{v}"
    );
    let find = |part: &str| {
        queries
            .iter()
            .find(|q| q["sql"].as_str().unwrap().contains(part))
            .unwrap_or_else(|| panic!("no statement with {part}: {v}"))
    };
    let lookup = find("user_id = $1");
    assert_eq!(lookup["generic_plan"], true);
    assert_eq!(lookup["stat_statement"]["calls"], 30, "{lookup}");
    assert!(lookup["name"].as_str().unwrap().starts_with("queryid "));
    // The value came from staging's rows: its ids start at 1,000,000.
    let value = lookup["params"][0].as_str().unwrap();
    let id: i64 = value
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(id >= 1_000_000 && value.ends_with("::integer"), "{value}");
    assert_eq!(lookup["verdict"], "different_plan", "{lookup}");
    assert!(
        lookup["causes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "missing_index"),
        "{lookup}"
    );
    assert_eq!(
        find("count(*) FROM users")["verdict"],
        "same_shape_scaled",
        "{v}"
    );
    let lower = find("lower($1)");
    assert_eq!(lower["verdict"], "not_comparable");
    assert!(
        lower["why"]
            .as_str()
            .unwrap()
            .contains("$1 is not compared with a column"),
        "{lower}"
    );
    assert_eq!(v["data"]["counts"]["failed"], 0);
}
