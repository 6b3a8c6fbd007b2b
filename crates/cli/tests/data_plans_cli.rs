#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike data plans` as a user runs it, on throwaway PostgreSQL databases: production large
//! and indexed, staging a hundredth of it without the index. A lookup planned differently is
//! `different_plan` with the table-size and missing-index causes; scans that only shrink are
//! `same_shape_scaled`; a query production cannot explain exits 2 and the others are still
//! compared; a rule accepts an intended difference; production is read through a role that can
//! only read and is never analyzed; staging grown to production's size plans as production
//! does. On Northwind (../shared/realworld), a primary key dropped in staging is found as the
//! cause.

use prodlike_testkit::pg::TempDatabase;
use prodlike_testkit::process::output_text;
use prodlike_testkit::realworld;

mod plans_common;
use plans_common::{plans, prodlike, query, rt, sql};

fn one_i64(rt: &tokio::runtime::Runtime, db: &TempDatabase, q: &str) -> i64 {
    rt.block_on(async { db.connect().await.unwrap().query_one(q, &[]).await })
        .unwrap()
        .get(0)
}

const SCHEMA: &str = "CREATE TABLE users(id int PRIMARY KEY, name text);
    CREATE TABLE orders(id int PRIMARY KEY, user_id int REFERENCES users, total numeric);";

fn fill(users: i64) -> String {
    format!(
        "INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, {users}) g;
         INSERT INTO orders SELECT g, 1 + (g % {users}), g FROM generate_series(1, {}) g;",
        users * 10
    )
}

const QUERIES: &str = "-- orders of one user
SELECT * FROM orders WHERE user_id = 42;

-- count users
SELECT count(*) FROM users;

-- revenue by user
SELECT u.name, sum(o.total) FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.name;
";

#[test]
// Long: one story on one pair of databases (each step changes what the next one sees).
#[allow(clippy::too_many_lines)]
fn plans_compared_with_their_causes_and_production_only_read() {
    let rt = rt();
    let Some(prod) = rt.block_on(TempDatabase::create("plans_prod")) else {
        return;
    };
    let stag = rt.block_on(TempDatabase::create("plans_stag")).unwrap();
    sql(
        &rt,
        &prod.url,
        &format!(
            "{SCHEMA} {} CREATE INDEX orders_user_idx ON orders(user_id); ANALYZE;",
            fill(20_000)
        ),
    );
    sql(&rt, &stag.url, &format!("{SCHEMA} {} ANALYZE;", fill(200)));
    // Production is read by a role that can read and nothing else.
    let role = format!("prodlike_ro_{}", std::process::id());
    sql(
        &rt,
        &prod.url,
        &format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN;
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
        ),
    );
    let source = format!("postgres://{role}@127.0.0.1:5432/{}", prod.name);
    let analyzes = "SELECT sum(analyze_count + autoanalyze_count)::int8 FROM pg_stat_user_tables";
    // Statistics reach pg_stat_user_tables when a session ends: wait for the setup's ANALYZE
    // of both tables to show, so that only a later ANALYZE can change the count.
    let mut before = 0;
    for _ in 0..200 {
        before = one_i64(&rt, &prod, analyzes);
        if before >= 2 {
            break;
        }
        #[allow(clippy::disallowed_methods)] // polling for a condition, not timing
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(before >= 2, "the setup's ANALYZE never showed: {before}");
    let dir = tempfile::tempdir().unwrap();

    // A query production cannot explain: exit 2, named, and the others still compared.
    let broken = format!("{QUERIES}\n-- broken\nSELECT * FROM nowhere;\n");
    let (o, v) = plans(
        dir.path(),
        &source,
        &stag.url,
        Some(&broken),
        &["--analyze-staging"],
    );
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains("`broken` (line 11)") && text.contains("nowhere"),
        "{text}"
    );
    assert_eq!(v["schema"], "prodlike.data.plans/1");
    let lookup = query(&v, "orders of one user");
    assert_eq!(lookup["verdict"], "different_plan", "{lookup}");
    let causes: Vec<&str> = lookup["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(
        causes.contains(&"table_size") && causes.contains(&"missing_index"),
        "{lookup}"
    );
    let size = lookup["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "table_size")
        .unwrap();
    assert!(
        size["detail"].as_str().unwrap().contains("public.orders"),
        "{size}"
    );
    assert!(
        size["fix"].as_str().unwrap().contains("--scale 100"),
        "{size}"
    );
    assert_eq!(query(&v, "count users")["verdict"], "same_shape_scaled");
    assert_eq!(query(&v, "broken")["verdict"], "not_comparable");
    assert_eq!(v["data"]["counts"]["failed"], 1);
    assert!(
        (v["data"]["volume_ratio"].as_f64().unwrap() - 0.01).abs() < 0.002,
        "{}",
        v["data"]["volume_ratio"]
    );
    assert_eq!(v["data"]["analyzed_staging"], true);
    // Staging was analyzed on request; production never.
    assert_eq!(one_i64(&rt, &prod, analyzes), before);

    // Without it: the different plan is a finding (exit 1)…
    let (o, _) = plans(dir.path(), &source, &stag.url, Some(QUERIES), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    // …unless a rule declares it intended.
    let rules = dir.path().join("plans.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nkind = \"ignore\"\nobject = \"orders of *\"\npath = \"plan\"\n\
         reason = \"staging keeps a hundredth of the orders\"\nowner = \"data-team\"\n",
    )
    .unwrap();
    let (o, v) = plans(
        dir.path(),
        &source,
        &stag.url,
        Some(QUERIES),
        &["--rules", rules.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let accepted = &query(&v, "orders of one user")["accepted_by"];
    assert_eq!(accepted["rule"], 1);
    assert_eq!(accepted["owner"], "data-team");

    // Staging grown to production's size, with its index: production's plan.
    sql(
        &rt,
        &stag.url,
        &format!(
            "TRUNCATE orders, users; {} CREATE INDEX orders_user_idx ON orders(user_id); ANALYZE;",
            fill(20_000)
        ),
    );
    let (o, v) = plans(dir.path(), &source, &stag.url, Some(QUERIES), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    for name in ["orders of one user", "count users", "revenue by user"] {
        assert_eq!(query(&v, name)["verdict"], "same_plan", "{name}: {v}");
    }
    assert_eq!(one_i64(&rt, &prod, analyzes), before);
    sql(
        &rt,
        &prod.url,
        &format!("DROP OWNED BY {role}; DROP ROLE {role};"),
    );
}

#[test]
fn bad_input_exits_2_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.sql");
    for (text, says) in [
        ("SELECT 1", "no `;`"),
        ("SELECT 'open;", "unterminated string"),
        ("-- nothing\n", "no statements"),
    ] {
        std::fs::write(&q, text).unwrap();
        let o = prodlike(&[
            "data",
            "plans",
            "--source",
            "postgres://postgres@127.0.0.1:9/none",
            "--target",
            "postgres://postgres@127.0.0.1:9/none",
            "--queries",
            q.to_str().unwrap(),
        ]);
        let t = output_text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains("--queries") && t.contains(says), "{says}: {t}");
    }
    std::fs::write(&q, "SELECT 1;").unwrap();
    let rules = dir.path().join("r.toml");
    std::fs::write(&rules, "[[rule]]\nkind = \"ignore\"\npath = \"plan\"\n").unwrap();
    let o = prodlike(&[
        "data",
        "plans",
        "--source",
        "postgres://postgres@127.0.0.1:9/none",
        "--target",
        "postgres://postgres@127.0.0.1:9/none",
        "--queries",
        q.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    let t = output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("rule[1].reason"), "{t}");
}

/// Northwind in both, staging without the orders' primary key: the lookup by key production
/// plans as an index scan is a different plan in staging, and the missing index is its cause.
#[test]
fn a_missing_index_on_northwind_is_the_cause() {
    let rt = rt();
    let Some(prod) = rt.block_on(realworld::northwind_pg()) else {
        return;
    };
    let stag = rt.block_on(realworld::northwind_pg()).unwrap();
    sql(&rt, &prod.url, "ANALYZE;");
    sql(
        &rt,
        &stag.url,
        "ALTER TABLE orders DROP CONSTRAINT pk_orders CASCADE; ANALYZE;",
    );
    let dir = tempfile::tempdir().unwrap();
    let (o, v) = plans(
        dir.path(),
        &prod.url,
        &stag.url,
        Some(
            "-- one order\nSELECT * FROM orders WHERE order_id = 10250;\n\n\
         -- customers by country\nSELECT country, count(*) FROM customers GROUP BY country;\n",
        ),
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let one = query(&v, "one order");
    assert_eq!(one["verdict"], "different_plan", "{one}");
    let missing = one["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "missing_index")
        .unwrap_or_else(|| panic!("{one}"));
    assert!(
        missing["detail"].as_str().unwrap().contains("pk_orders"),
        "{missing}"
    );
    assert_eq!(query(&v, "customers by country")["verdict"], "same_plan");
}

/// `-- param:` lines bind `$n` (planned through PREPARE and EXPLAIN EXECUTE); SQL that does not
/// parse, a `$n` without a value, a malformed literal and a value of the wrong type are each an
/// input error naming the query (exit 2), and the other queries are still compared.
#[test]
fn parameters_bound_and_bad_input_named() {
    let rt = rt();
    let Some(prod) = rt.block_on(TempDatabase::create("plans_param_prod")) else {
        return;
    };
    let stag = rt
        .block_on(TempDatabase::create("plans_param_stag"))
        .unwrap();
    sql(
        &rt,
        &prod.url,
        &format!(
            "{SCHEMA} {} CREATE INDEX orders_user_idx ON orders(user_id); ANALYZE;",
            fill(5_000)
        ),
    );
    sql(&rt, &stag.url, &format!("{SCHEMA} {} ANALYZE;", fill(50)));
    let dir = tempfile::tempdir().unwrap();
    let queries = "-- orders of one user
-- param: $1 = 42
SELECT * FROM orders WHERE user_id = $1;

-- count users
SELECT count(*) FROM users;

-- does not parse
SELEC * FROM users;

-- no value
-- param: $1 = 1
SELECT * FROM orders WHERE user_id = $1 AND total > $2;

-- bad literal
-- param: $1 = 1); DROP TABLE users; --
SELECT * FROM users WHERE id = $1;

-- wrong type
-- param: $1 = 'forty-two'
SELECT * FROM users WHERE id = $1;
";
    let (o, v) = plans(dir.path(), &prod.url, &stag.url, Some(queries), &[]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    for (name, says) in [
        ("does not parse", "syntax error"),
        ("no value", "$2 has no value"),
        ("bad literal", "not a literal"),
        ("wrong type", "cannot be bound ($1 = 'forty-two')"),
    ] {
        assert_eq!(query(&v, name)["verdict"], "not_comparable", "{name}: {v}");
        let line = text
            .lines()
            .find(|l| l.contains(&format!("query `{name}`")))
            .unwrap_or_else(|| panic!("{name} not named: {text}"));
        assert!(line.contains(says), "{name}: {line}");
    }
    assert_eq!(v["data"]["counts"]["failed"], 4);
    // The others compared: the bound lookup plans as its literal does.
    let lookup = query(&v, "orders of one user");
    assert_eq!(lookup["verdict"], "different_plan", "{lookup}");
    assert_eq!(lookup["params"], serde_json::json!(["42"]));
    assert!(
        lookup["production"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("orders_user_idx")),
        "{lookup}"
    );
    assert_eq!(query(&v, "count users")["verdict"], "same_shape_scaled");
    // Users' table was not dropped by the "literal".
    assert_eq!(one_i64(&rt, &prod, "SELECT count(*) FROM users"), 5_000);
}

/// Production's orders scattered over its users, staging's written user by user: the same
/// sizes, indexes and settings, but `pg_stats` correlation of `orders.user_id` ~0 against 1.
/// Production looks one user's orders up with a bitmap scan, staging with an index scan, and
/// the column's statistics are named as the cause (no size, no index, nothing unexplained).
#[test]
fn a_physical_order_that_differs_is_a_column_statistics_cause() {
    let rt = rt();
    let Some(prod) = rt.block_on(TempDatabase::create("plans_corr_prod")) else {
        return;
    };
    let stag = rt
        .block_on(TempDatabase::create("plans_corr_stag"))
        .unwrap();
    let users = "INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 20000) g;";
    let index = "CREATE INDEX orders_user_idx ON orders(user_id); ANALYZE;";
    // 7919 is prime to 20,000: every user gets 10 orders, spread over the whole table.
    sql(
        &rt,
        &prod.url,
        &format!(
            "{SCHEMA} {users} INSERT INTO orders SELECT g, 1 + (g * 7919 % 20000), g \
             FROM generate_series(1, 200000) g; {index}"
        ),
    );
    sql(
        &rt,
        &stag.url,
        &format!(
            "{SCHEMA} {users} INSERT INTO orders SELECT g, 1 + (g - 1) / 10, g \
             FROM generate_series(1, 200000) g; {index}"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let (o, v) = plans(dir.path(), &prod.url, &stag.url, Some(QUERIES), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    let lookup = query(&v, "orders of one user");
    assert_eq!(lookup["verdict"], "different_plan", "{lookup}");
    let causes = lookup["causes"].as_array().unwrap();
    let kinds: Vec<&str> = causes.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["column_statistics"], "{lookup}");
    let detail = causes[0]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("public.orders.user_id: correlation 1.00 in staging against"),
        "{detail}"
    );
    assert!(
        causes[0]["fix"].as_str().unwrap().contains("data synth"),
        "{lookup}"
    );
    assert_eq!(query(&v, "count users")["verdict"], "same_plan", "{v}");
}
