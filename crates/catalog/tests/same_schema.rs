//! The same schema created in PostgreSQL and in SQLite reads as the same model: tables,
//! columns (order, nullability, defaults), primary and unique keys, foreign keys with their
//! actions, indexes and views agree; only what the engines spell differently (type names,
//! constraint names) differs.
#![allow(clippy::unwrap_used)] // test code: a failure here is a test failure
use std::collections::BTreeMap;

use prodlike_catalog::{Catalog, IndexOrigin, Options, postgres, sqlite};
use prodlike_testkit::pg::TempDatabase;

/// Written once, run on both engines.
const SCHEMA: &str = "
    CREATE TABLE customers (
        id integer PRIMARY KEY,
        email text NOT NULL UNIQUE,
        country text DEFAULT 'fr',
        referred_by integer REFERENCES customers (id) ON DELETE SET NULL
    );
    CREATE TABLE orders (
        id integer PRIMARY KEY,
        customer_id integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
        n integer NOT NULL,
        total numeric(10, 2),
        UNIQUE (customer_id, n),
        CHECK (total >= 0)
    );
    CREATE TABLE order_lines (
        order_id integer NOT NULL REFERENCES orders (id),
        line integer NOT NULL,
        sku text,
        PRIMARY KEY (order_id, line)
    );
    CREATE INDEX orders_total ON orders (total);
    CREATE UNIQUE INDEX lines_sku ON order_lines (order_id, sku);
    CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
";

/// A foreign key: columns, referenced table, referenced columns, on update, on delete.
type Reference = (Vec<String>, String, Vec<String>, String, String);

/// What both engines can say about a table, in one comparable shape.
#[derive(Debug, PartialEq)]
struct Shape {
    /// name, nullable, default
    columns: Vec<(String, bool, Option<String>)>,
    primary_key: Vec<String>,
    uniques: Vec<Vec<String>>,
    foreign_keys: Vec<Reference>,
    /// name, columns, unique: the indexes made with CREATE INDEX
    indexes: Vec<(String, Option<Vec<String>>, bool)>,
}

fn shapes(cat: &Catalog) -> (BTreeMap<String, Shape>, Vec<String>) {
    let tables = cat
        .tables
        .iter()
        .map(|t| {
            let mut uniques: Vec<Vec<String>> =
                t.uniques.iter().map(|k| k.columns.clone()).collect();
            uniques.sort();
            let mut foreign_keys: Vec<_> = t
                .foreign_keys
                .iter()
                .map(|f| {
                    (
                        f.columns.clone(),
                        f.ref_table.clone(),
                        f.ref_columns.clone(),
                        f.on_update.clone(),
                        f.on_delete.clone(),
                    )
                })
                .collect();
            foreign_keys.sort();
            let mut indexes: Vec<_> = t
                .indexes
                .iter()
                .filter(|i| i.origin == IndexOrigin::Created)
                .map(|i| (i.name.clone(), i.column_names(), i.unique))
                .collect();
            indexes.sort();
            let shape = Shape {
                columns: t
                    .columns
                    .iter()
                    // Defaults differ only in PostgreSQL's casts: 'fr'::text.
                    .map(|c| {
                        let default = c
                            .default
                            .as_ref()
                            .map(|d| d.trim_end_matches("::text").to_string());
                        (c.name.clone(), c.nullable, default)
                    })
                    .collect(),
                primary_key: t.primary_key.as_ref().unwrap().columns.clone(),
                uniques,
                foreign_keys,
                indexes,
            };
            (t.name.clone(), shape)
        })
        .collect();
    let views = cat.views.iter().map(|v| v.name.clone()).collect();
    (tables, views)
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_and_sqlite_read_the_same_schema_alike() {
    let Some(db) = TempDatabase::create("catalog_same").await else {
        return;
    };
    let client = db.connect().await.unwrap();
    client.batch_execute(SCHEMA).await.unwrap();
    let pg = postgres::read(&client, &Options::schema("public"))
        .await
        .unwrap();

    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    let lite = sqlite::read(&conn, &Options::everything()).unwrap();

    let (pg_tables, pg_views) = shapes(&pg);
    let (lite_tables, lite_views) = shapes(&lite);
    assert_eq!(
        pg_tables.keys().collect::<Vec<_>>(),
        ["customers", "order_lines", "orders"]
    );
    for (name, shape) in &pg_tables {
        assert_eq!(Some(shape), lite_tables.get(name), "table {name}");
    }
    assert_eq!(pg_tables.len(), lite_tables.len());
    assert_eq!(pg_views, lite_views);
    // Where the engines differ, the model says so rather than inventing: SQLite needs no
    // index for an INTEGER PRIMARY KEY (the rowid), and keeps CHECK constraints only in the
    // table's SQL.
    let orders = (
        pg.table("public", "orders").unwrap(),
        lite.table("main", "orders").unwrap(),
    );
    let key_indexes = |t: &prodlike_catalog::Table| {
        let mut origins: Vec<IndexOrigin> = t
            .indexes
            .iter()
            .map(|i| i.origin)
            .filter(|o| *o != IndexOrigin::Created)
            .collect();
        origins.sort_by_key(|o| format!("{o:?}"));
        origins
    };
    assert_eq!(
        key_indexes(orders.0),
        [IndexOrigin::PrimaryKey, IndexOrigin::Unique]
    );
    assert_eq!(key_indexes(orders.1), [IndexOrigin::Unique]);
    assert_eq!((orders.0.checks.len(), orders.1.checks.len()), (1, 0));
    assert!(
        orders
            .1
            .create_sql
            .as_deref()
            .unwrap()
            .contains("CHECK (total >= 0)")
    );
}
