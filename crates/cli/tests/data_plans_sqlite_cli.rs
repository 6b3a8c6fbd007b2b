#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike data plans` on two SQLite files (the embedded case): the demo's shop at 3,000
//! users as production and at 10 as staging. SQLite's `EXPLAIN QUERY PLAN` on analyzed copies:
//! a lookup through a subquery SQLite plans by size (an index search on the large file, a scan
//! on the small one) is `different_plan` with the table-size cause; an index dropped from
//! staging is the missing-index cause; a bound parameter works; and neither file changes by a
//! byte (ANALYZE ran on `VACUUM INTO` copies).
use std::process::Command;

use prodlike_data::fixture::{ShopSize, write_shop_sqlite};
use prodlike_testkit::process::output_text;
use serde_json::Value;

mod plans_common;
use plans_common::query;

const QUERIES: &str = "-- orders from one country
SELECT * FROM orders WHERE user_id IN (SELECT id FROM users WHERE country = 'DE');

-- one user's orders
-- param: $1 = 42
SELECT * FROM orders WHERE user_id = $1;

-- items of one product
SELECT * FROM order_items WHERE product_id = 3;

-- does not parse
SELEC 1;
";

#[test]
fn sqlite_plans_compared_on_analyzed_copies() {
    let dir = tempfile::tempdir().unwrap();
    let (prod, stag) = (dir.path().join("prod.db"), dir.path().join("stag.db"));
    write_shop_sqlite(
        &prod,
        ShopSize {
            users: 3000,
            seed: 7,
        },
    )
    .unwrap();
    write_shop_sqlite(&stag, ShopSize { users: 10, seed: 7 }).unwrap();
    rusqlite::Connection::open(&stag)
        .unwrap()
        .execute_batch("DROP INDEX items_product")
        .unwrap();
    let before = (std::fs::read(&prod).unwrap(), std::fs::read(&stag).unwrap());
    let q = dir.path().join("q.sql");
    std::fs::write(&q, QUERIES).unwrap();
    let out = dir.path().join("plans.json");
    let o = Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(["data", "plans", "--source"])
        .arg(format!("sqlite://{}", prod.display()))
        .arg("--target")
        .arg(format!("sqlite://{}", stag.display()))
        .arg("--queries")
        .arg(&q)
        .arg("--out")
        .arg(&out)
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap();
    let text = output_text(&o);
    println!("{text}");
    // The query that does not parse: exit 2, named; the others compared.
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("query `does not parse`"), "{text}");
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["data"]["engine"], "sqlite");
    let country = query(&v, "orders from one country");
    assert_eq!(country["verdict"], "different_plan", "{country}");
    assert_eq!(
        country["production"]["nodes"][0],
        "SEARCH using orders_user on orders"
    );
    assert_eq!(country["staging"]["nodes"][0], "SCAN on orders");
    assert!(
        country["causes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "table_size"
                && c["detail"].as_str().unwrap().contains("main.orders")),
        "{country}"
    );
    let items = query(&v, "items of one product");
    assert_eq!(items["verdict"], "different_plan", "{items}");
    assert!(
        items["causes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "missing_index"
                && c["detail"].as_str().unwrap().contains("items_product")),
        "{items}"
    );
    let one = query(&v, "one user's orders");
    assert_eq!(one["params"], serde_json::json!(["42"]));
    assert!(
        ["same_plan", "same_shape_scaled"].contains(&one["verdict"].as_str().unwrap()),
        "{one}"
    );
    // Neither file was written: ANALYZE ran on copies.
    assert_eq!(std::fs::read(&prod).unwrap(), before.0);
    assert_eq!(std::fs::read(&stag).unwrap(), before.1);
    assert!(
        !dir.path().join("prod.db-journal").exists() && !dir.path().join("prod.db-wal").exists()
    );
}
