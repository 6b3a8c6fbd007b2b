//! The MySQL reader against the local MariaDB: every part of a database with MySQL's own types
//! (ENUM, SET, JSON, unsigned integers, zero dates), AUTO_INCREMENT positions, keys, foreign
//! keys, checks, views, triggers, routines, and the server's variables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prodlike_catalog::mysql::{self, url};
use prodlike_catalog::{Engine, FunctionKind, Identity, IndexOrigin, Options, Scope};
use prodlike_testkit::mysql::TempMysql;

const SHOP: &str = "
CREATE TABLE customers (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(80) NOT NULL,
  tier ENUM('free','pro','team') NOT NULL DEFAULT 'free',
  tags SET('a','b','c'),
  prefs JSON,
  born DATE DEFAULT '0000-00-00',
  big BIGINT UNSIGNED,
  UNIQUE KEY customers_email (email),
  CONSTRAINT tier_ok CHECK (tier <> 'team' OR big IS NOT NULL)
) ENGINE=InnoDB AUTO_INCREMENT=42;
CREATE TABLE orders (
  id BIGINT NOT NULL AUTO_INCREMENT,
  customer_id INT UNSIGNED NOT NULL,
  total DECIMAL(10,2) NOT NULL,
  note VARCHAR(200) COLLATE utf8mb4_bin,
  PRIMARY KEY (id),
  KEY orders_total (total),
  KEY orders_note (note(10)),
  CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB;
INSERT INTO customers (email) VALUES ('a@example.com');
CREATE VIEW big_orders AS SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100;
CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = ROUND(NEW.total, 2);
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
CREATE PROCEDURE touch(IN n INT) SELECT n;
";

async fn shop() -> Option<(TempMysql, mysql_async::Conn)> {
    let db = TempMysql::create("catalog").await?;
    db.execute(&format!("SET SESSION sql_mode = ''; {SHOP}"))
        .await
        .unwrap();
    let u = url::parse(&db.url).unwrap();
    let conn = url::connect(&u).await.unwrap();
    Some((db, conn))
}

#[tokio::test]
// Long: one database read or synced, then every property checked in turn.
#[allow(clippy::too_many_lines)]
async fn reads_every_part_of_a_database() {
    let Some((db, mut conn)) = shop().await else {
        return;
    };
    let cat = mysql::read(&mut conn, &Options::schema(&db.name))
        .await
        .unwrap();
    assert_eq!(cat.engine, Engine::Mysql);
    assert!(cat.server.is_none());
    let names: Vec<&str> = cat.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["customers", "orders"]);

    let c = cat.table(&db.name, "customers").unwrap();
    let col = |n: &str| c.column(n).unwrap();
    assert_eq!(col("id").sql_type, "int(10) unsigned");
    assert_eq!(col("id").identity, Some(Identity::AutoIncrement));
    assert_eq!(col("tier").sql_type, "enum('free','pro','team')");
    assert_eq!(col("tier").default.as_deref(), Some("'free'"));
    assert_eq!(col("tags").sql_type, "set('a','b','c')");
    assert_eq!(col("big").sql_type, "bigint(20) unsigned");
    assert!(
        col("born")
            .default
            .as_deref()
            .unwrap()
            .contains("0000-00-00")
    );
    assert!(!col("email").nullable && col("big").nullable);
    assert_eq!(c.auto_increment, Some(43), "42 was taken by the one insert");
    assert!(
        c.create_sql
            .as_deref()
            .unwrap()
            .contains("AUTO_INCREMENT=43")
    );
    assert_eq!(c.primary_key.as_ref().unwrap().columns, ["id"]);
    assert_eq!(c.uniques.len(), 1);
    assert_eq!(c.uniques[0].name.as_deref(), Some("customers_email"));
    // MariaDB's JSON is LONGTEXT with a json_valid check; the explicit check is there too.
    let checks: Vec<&str> = c.checks.iter().map(|k| k.name.as_str()).collect();
    assert!(checks.contains(&"tier_ok"), "{checks:?}");
    assert!(
        c.checks.iter().any(|k| k.definition.contains("json_valid")),
        "{:?}",
        c.checks
    );

    let o = cat.table(&db.name, "orders").unwrap();
    assert_eq!(o.auto_increment, Some(1));
    assert_eq!(
        o.column("note").unwrap().collation.as_deref(),
        Some("utf8mb4_bin")
    );
    assert_eq!(o.column("total").unwrap().collation, None);
    let fk = &o.foreign_keys[0];
    assert_eq!(fk.name.as_deref(), Some("orders_customer"));
    assert_eq!(
        (fk.columns.as_slice(), fk.ref_table.as_str()),
        (&["customer_id".to_string()][..], "customers")
    );
    assert_eq!(fk.on_delete, "CASCADE");
    let idx: Vec<(&str, IndexOrigin)> = o
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.origin))
        .collect();
    assert!(
        idx.contains(&("PRIMARY", IndexOrigin::PrimaryKey)),
        "{idx:?}"
    );
    assert!(
        idx.contains(&("orders_total", IndexOrigin::Created)),
        "{idx:?}"
    );
    let prefix = o.indexes.iter().find(|i| i.name == "orders_note").unwrap();
    assert_eq!(
        prefix.definition.as_deref(),
        Some("KEY `orders_note` (`note`(10))")
    );

    assert_eq!(cat.views.len(), 1);
    let v = &cat.views[0];
    assert_eq!(v.name, "big_orders");
    assert!(!v.definition.contains(&db.name), "{}", v.definition);

    let t = &cat.objects.triggers[0];
    assert_eq!((t.table.as_str(), t.name.as_str()), ("orders", "orders_bi"));
    assert!(
        t.definition
            .starts_with("CREATE TRIGGER `orders_bi` BEFORE INSERT ON `orders`")
    );

    let f: Vec<(&str, FunctionKind, &str)> = cat
        .objects
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.kind, f.arguments.as_str()))
        .collect();
    assert_eq!(
        f,
        [
            ("touch", FunctionKind::Procedure, "IN n int(11)"),
            ("twice", FunctionKind::Function, "x int(11)")
        ]
    );
    for f in &cat.objects.functions {
        let def = f.definition.as_deref().unwrap();
        assert!(!def.contains("DEFINER"), "{def}");
    }
    // Each table's engine and collation are its settings.
    let s = cat
        .objects
        .settings
        .iter()
        .find(|s| s.name == "orders")
        .unwrap();
    assert!(
        s.options.iter().any(|o| o == "engine=InnoDB"),
        "{:?}",
        s.options
    );
}

#[tokio::test]
async fn server_state_and_the_database_defaults() {
    let Some((db, mut conn)) = shop().await else {
        return;
    };
    let cat = mysql::read(
        &mut conn,
        &Options {
            scope: Scope::Schema(db.name.clone()),
            server: true,
        },
    )
    .await
    .unwrap();
    let server = cat.server.unwrap();
    assert!(server.major >= 5, "{server:?}");
    assert!(!server.version.is_empty());
    assert!(
        server.settings.contains_key("collation_database"),
        "{server:?}"
    );
    assert!(server.settings.contains_key("character_set_database"));
}

#[tokio::test]
async fn a_missing_database_is_named() {
    let Some((_db, mut conn)) = shop().await else {
        return;
    };
    let e = mysql::read(&mut conn, &Options::schema("prodlike_no_such_db"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("prodlike_no_such_db"), "{e}");
}

#[tokio::test]
async fn wrong_credentials_and_unreachable_servers_are_errors() {
    if !prodlike_testkit::require::mysql() {
        return;
    }
    let u = url::parse("mysql://nobody:wrong@127.0.0.1:3306/test").unwrap();
    let e = url::connect(&u).await.unwrap_err();
    let chain = prodlike_common::error::chain(&e).to_string();
    assert!(
        chain.contains("connecting to mysql://nobody:***@127.0.0.1:3306/test"),
        "{chain}"
    );
    assert!(chain.contains("Access denied"), "{chain}");
    assert!(!chain.contains("wrong@"), "{chain}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let u = url::parse(&format!("mysql://root@127.0.0.1:{port}/test")).unwrap();
    assert!(url::connect(&u).await.is_err());
}
