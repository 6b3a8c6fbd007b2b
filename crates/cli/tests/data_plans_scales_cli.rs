#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The must-show of `prodlike data plans`, on the bench database of `scripts/gen-testdb.sql`
//! (bench/data-plans.sh at a test's size): production built with 30,000 users, staging with
//! 3,000. PostgreSQL plans the category revenue report over `order_items` in parallel at
//! production's size (its 1,500-odd pages pass `min_parallel_table_scan_size`, 8 MB) and
//! serially at a tenth: `different_plan`, with the table-size cause. Staging synthesised ×10
//! from the tenth (`data synth --scale 10`) plans it as production does: `same_shape_scaled`,
//! and so does every other query, among them the one-user lookup that production runs as a
//! bitmap scan because its orders are scattered over the table (pg_stats correlation ~0), which
//! a synth writing orders user by user (correlation 1) turned into an index scan.

use prodlike_testkit::pg::TempDatabase;
use prodlike_testkit::process::output_text;
use prodlike_testkit::shopdb::create_shop;

mod plans_common;
use plans_common::{cause_kinds, plans, prodlike, query, rt, sql};

fn correlation(rt: &tokio::runtime::Runtime, db: &TempDatabase, table: &str, col: &str) -> f64 {
    rt.block_on(async {
        db.connect()
            .await
            .unwrap()
            .query_one(
                "SELECT correlation::float8 FROM pg_stats WHERE schemaname = 'public' \
                 AND tablename = $1 AND attname = $2",
                &[&table, &col],
            )
            .await
    })
    .unwrap()
    .get(0)
}

/// The queries of bench/data-plans.sh.
const QUERIES: &str = "-- orders of one country's users last month
SELECT o.id, o.total FROM orders o JOIN users u ON u.id = o.user_id
 WHERE u.country = 'DE' AND o.created_at > now() - interval '30 days';

-- one user's orders
SELECT * FROM orders WHERE user_id = 2424;

-- revenue per product category
SELECT c.name, sum(i.quantity * i.unit_price) FROM order_items i
  JOIN products p ON p.id = i.product_id JOIN categories c ON c.id = p.category_id
 GROUP BY c.name;

-- events of a kind
SELECT count(*) FROM events WHERE kind = 'login';

-- top spenders
SELECT u.id, sum(o.total) AS spent FROM users u JOIN orders o ON o.user_id = u.id
 GROUP BY u.id ORDER BY spent DESC LIMIT 20;
";

#[test]
fn a_tenth_plans_differently_and_a_x10_synth_of_it_plans_as_production() {
    let rt = rt();
    let Some(prod) = rt.block_on(TempDatabase::create("plans_scale_prod")) else {
        return;
    };
    let small = rt
        .block_on(TempDatabase::create("plans_scale_small"))
        .unwrap();
    let synth = rt
        .block_on(TempDatabase::create("plans_scale_synth"))
        .unwrap();
    rt.block_on(create_shop(&prod, 30_000)).unwrap();
    rt.block_on(create_shop(&small, 3_000)).unwrap();
    // As bench/data-plans.sh does: the visibility map set and statistics fresh on both.
    sql(&rt, &prod.url, "VACUUM ANALYZE");
    sql(&rt, &small.url, "VACUUM ANALYZE");
    let dir = tempfile::tempdir().unwrap();

    // Staging at a tenth: the revenue report is planned serially, production's in parallel.
    let (o, v) = plans(dir.path(), &prod.url, &small.url, Some(QUERIES), &[]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let revenue = query(&v, "revenue per product category");
    assert_eq!(revenue["verdict"], "different_plan", "{revenue}");
    assert!(cause_kinds(revenue).contains(&"table_size"), "{revenue}");
    let size = revenue["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["kind"] == "table_size" && c["detail"].as_str().unwrap().contains("order_items")
        })
        .unwrap_or_else(|| panic!("{revenue}"));
    assert!(
        size["fix"].as_str().unwrap().contains("--scale 10"),
        "{size}"
    );
    for name in [
        "orders of one country's users last month",
        "one user's orders",
        "events of a kind",
        "top spenders",
    ] {
        let q = query(&v, name);
        assert!(
            q["verdict"] == "same_plan" || q["verdict"] == "same_shape_scaled",
            "{name} at a tenth: {q}"
        );
    }

    // The tenth profiled (its statistics only, from pg_stats) and synthesised ×10.
    let profile = dir.path().join("profile.json");
    let o = prodlike(&[
        "data",
        "profile",
        "--source",
        &small.url,
        "--out",
        profile.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let o = prodlike(&[
        "data",
        "synth",
        "--profile",
        profile.to_str().unwrap(),
        "--target",
        &synth.url,
        "--scale",
        "10",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    sql(&rt, &synth.url, "VACUUM ANALYZE");
    // The synth's rows lie in the profiled database's physical order (what its profile holds):
    // orders scattered over the users, keys in whichever order the generator script left.
    for (table, col) in [
        ("orders", "user_id"),
        ("orders", "id"),
        ("users", "id"),
        ("addresses", "user_id"),
    ] {
        let (p, s) = (
            correlation(&rt, &small, table, col),
            correlation(&rt, &synth, table, col),
        );
        assert!(
            (p - s).abs() < 0.2,
            "{table}.{col}: profiled {p}, synth {s}"
        );
    }

    let (o, v) = plans(dir.path(), &prod.url, &synth.url, Some(QUERIES), &[]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    let revenue = query(&v, "revenue per product category");
    assert_eq!(revenue["verdict"], "same_shape_scaled", "{revenue}");
    for name in [
        "orders of one country's users last month",
        "one user's orders",
        "events of a kind",
        "top spenders",
    ] {
        let q = query(&v, name);
        assert!(
            q["verdict"] == "same_plan" || q["verdict"] == "same_shape_scaled",
            "{name} after a ×10 synth: {q}"
        );
    }
}
