//! The real-world databases load into databases of their own, whole.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (DEVELOPERS.md)

use prodlike_testkit::pg::TempDatabase;
use prodlike_testkit::realworld::{chinook_pg, northwind_pg};

async fn count(db: &TempDatabase, sql: &str) -> i64 {
    db.connect()
        .await
        .unwrap()
        .query_one(sql, &[])
        .await
        .unwrap()
        .get(0)
}

const TABLES: &str = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'";

#[tokio::test]
async fn northwind_and_chinook_load_into_databases_of_their_own() {
    let Some(nw) = northwind_pg().await else {
        return;
    };
    let Some(ck) = chinook_pg().await else {
        return;
    };
    assert_ne!(nw.name, ck.name);
    assert_eq!(count(&nw, TABLES).await, 14);
    assert_eq!(count(&ck, TABLES).await, 11);
    assert_eq!(count(&ck, "SELECT count(*) FROM track").await, 3503);
    assert_eq!(count(&nw, "SELECT count(*) FROM orders").await, 830);
}
