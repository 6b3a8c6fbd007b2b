//! The SQLite reader: keys, foreign keys (named and implicit references, actions), generated
//! columns, every index origin, views, and the pragmas stored in the file.
#![allow(clippy::unwrap_used)] // test code: a failure here is a test failure
use prodlike_catalog::{Engine, Generated, IndexKey, IndexOrigin, Options, sqlite};
use rusqlite::Connection;

const SCHEMA: &str = "
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        referred_by INTEGER REFERENCES users(id) ON DELETE SET NULL ON UPDATE CASCADE,
        upper_email TEXT GENERATED ALWAYS AS (upper(email)) VIRTUAL,
        lower_email TEXT GENERATED ALWAYS AS (lower(email)) STORED,
        active BOOLEAN DEFAULT 1,
        CHECK (email <> '')
    );
    CREATE TABLE items (order_id INT, n INT, qty INT, PRIMARY KEY (order_id, n)) WITHOUT ROWID;
    CREATE TABLE parts (order_id INT, n INT, FOREIGN KEY (order_id, n) REFERENCES items);
    CREATE TABLE pairs (a TEXT, b TEXT, UNIQUE (a, b));
    CREATE INDEX pairs_b ON pairs (b);
    CREATE UNIQUE INDEX pairs_lower ON pairs (lower(a));
    CREATE VIEW active_users AS SELECT id FROM users WHERE active;
    CREATE TABLE sqliteish (x);
    CREATE TABLE counters (id INTEGER PRIMARY KEY AUTOINCREMENT);
    PRAGMA user_version = 7;
";

fn read(server: bool) -> prodlike_catalog::Catalog {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    let options = Options {
        server,
        ..Options::everything()
    };
    sqlite::read(&conn, &options).unwrap()
}

#[test]
fn tables_keys_and_columns() {
    let cat = read(false);
    assert_eq!(cat.engine, Engine::Sqlite);
    assert!(cat.server.is_none());
    let names: Vec<&str> = cat.tables.iter().map(|t| t.name.as_str()).collect();
    // By name; SQLite's own sqlite_sequence is left out, a user table that merely starts with
    // "sqlite" is kept.
    assert_eq!(
        names,
        ["counters", "items", "pairs", "parts", "sqliteish", "users"]
    );
    let users = cat.table("main", "users").unwrap();
    assert_eq!(users.primary_key.as_ref().unwrap().columns, vec!["id"]);
    assert!(
        !users.column("id").unwrap().nullable,
        "a key column is never nullable"
    );
    assert_eq!(users.uniques[0].columns, vec!["email"]);
    assert_eq!(
        users.column("active").unwrap().default.as_deref(),
        Some("1")
    );
    assert_eq!(
        users.column("upper_email").unwrap().generated,
        Some(Generated {
            expression: None,
            stored: false
        })
    );
    assert!(
        users
            .column("lower_email")
            .unwrap()
            .generated
            .as_ref()
            .unwrap()
            .stored
    );
    assert!(
        users
            .create_sql
            .as_deref()
            .unwrap()
            .contains("CHECK (email <> '')")
    );
    let fk = &users.foreign_keys[0];
    assert_eq!(
        (fk.ref_table.as_str(), fk.ref_columns.as_slice()),
        ("users", &["id".to_string()][..])
    );
    assert_eq!(
        (fk.on_update.as_str(), fk.on_delete.as_str()),
        ("CASCADE", "SET NULL")
    );
    assert_eq!(fk.name, None);

    let items = cat.table("main", "items").unwrap();
    assert_eq!(
        items.primary_key.as_ref().unwrap().columns,
        vec!["order_id", "n"]
    );
    let parts = cat.table("main", "parts").unwrap();
    assert_eq!(parts.foreign_keys[0].columns, vec!["order_id", "n"]);
    assert!(
        parts.foreign_keys[0].ref_columns.is_empty(),
        "`REFERENCES items` names no columns: the parent's key"
    );
}

#[test]
fn indexes_say_why_they_exist() {
    let cat = read(false);
    let pairs = cat.table("main", "pairs").unwrap();
    assert_eq!(pairs.uniques.len(), 1);
    assert_eq!(pairs.uniques[0].columns, vec!["a", "b"]);
    let find = |name: &str| pairs.indexes.iter().find(|i| i.name == name).unwrap();
    let auto = pairs
        .indexes
        .iter()
        .find(|i| i.name.starts_with("sqlite_autoindex_"))
        .unwrap();
    assert_eq!(
        (auto.origin, auto.unique, auto.definition.as_deref()),
        (IndexOrigin::Unique, true, None)
    );
    assert_eq!(find("pairs_b").origin, IndexOrigin::Created);
    assert_eq!(find("pairs_b").columns, vec![IndexKey::Column("b".into())]);
    assert_eq!(
        find("pairs_b").definition.as_deref(),
        Some("CREATE INDEX pairs_b ON pairs (b)")
    );
    assert_eq!(find("pairs_lower").columns, vec![IndexKey::Expression]);
    assert!(find("pairs_lower").unique);
    let items = cat.table("main", "items").unwrap();
    assert_eq!(items.indexes[0].origin, IndexOrigin::PrimaryKey);
}

#[test]
fn views_and_file_settings() {
    let cat = read(true);
    assert_eq!(cat.views.len(), 1);
    assert_eq!(cat.views[0].name, "active_users");
    assert!(
        cat.views[0]
            .definition
            .starts_with("CREATE VIEW active_users")
    );
    let server = cat.server.unwrap();
    assert_eq!(server.major, 3);
    assert_eq!(server.settings["user_version"], "7");
    assert_eq!(server.settings["encoding"], "UTF-8");
    assert!(server.extensions.is_empty() && server.role_settings.is_empty());
    assert!(cat.sequences.is_empty() && cat.enums.is_empty());
}

#[test]
fn a_failed_read_names_the_part() {
    let empty = sqlite::read(
        &Connection::open_in_memory().unwrap(),
        &Options::everything(),
    );
    assert!(
        empty.unwrap().tables.is_empty(),
        "an empty database reads as empty"
    );
    // A file that is not a database fails at the first read, and the error says which part.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.db");
    std::fs::write(
        &path,
        b"not a database at all, just text that is long enough",
    )
    .unwrap();
    let broken = Connection::open(&path).unwrap();
    let e = sqlite::read(&broken, &Options::everything()).unwrap_err();
    assert_eq!(e.what(), Some("tables"));
    assert!(
        std::error::Error::source(&e).is_some(),
        "the database's error is the source"
    );
}
