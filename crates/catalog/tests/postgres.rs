//! The PostgreSQL reader against a real server (a temporary database per test): every kind of
//! constraint, column and index it models, views, sequences (with positions), enum, domain and
//! composite types, partitions and inheritance, the server's state,
//! scopes, and reads that stay inside the caller's transaction.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failure here is a test failure
use prodlike_catalog::{
    Catalog, CatalogError, ConstraintKind, Generated, Identity, IndexKey, IndexOrigin, Options,
    PgTypeKind, Scope, TableKind, postgres,
};
use prodlike_testkit::pg::TempDatabase;

const SCHEMA: &str = "
    CREATE EXTENSION btree_gist;
    CREATE EXTENSION pg_stat_statements;
    CREATE EXTENSION file_fdw;
    CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
    CREATE FOREIGN TABLE log_lines (line text) SERVER files OPTIONS (filename '/dev/null');
    CREATE SCHEMA other;
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
    CREATE TABLE other.regions (code text PRIMARY KEY);
    CREATE TABLE users (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email text NOT NULL UNIQUE,
        name text COLLATE \"C\",
        mood mood DEFAULT 'ok',
        score posint,
        region text REFERENCES other.regions(code),
        upper_email text GENERATED ALWAYS AS (upper(email)) STORED,
        referred_by bigint REFERENCES users(id) ON DELETE SET NULL DEFERRABLE,
        CONSTRAINT users_name_check CHECK (name <> '')
    );
    CREATE TABLE bookings (
        id serial PRIMARY KEY,
        user_id bigint NOT NULL,
        room int NOT NULL,
        during tsrange NOT NULL,
        CONSTRAINT bookings_user_fk FOREIGN KEY (user_id) REFERENCES users(id)
            ON UPDATE CASCADE ON DELETE RESTRICT,
        CONSTRAINT bookings_room_user_key UNIQUE (room, user_id),
        CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)
    );
    CREATE INDEX bookings_expr_idx ON bookings ((room * 2));
    CREATE INDEX bookings_incl_idx ON bookings (user_id) INCLUDE (room);
    CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
    CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    CREATE SEQUENCE invoice_no START 1000 INCREMENT 5 CACHE 10 CYCLE;
    CREATE VIEW big_bookings AS SELECT id, room FROM bookings WHERE room > 100;
    CREATE MATERIALIZED VIEW rooms AS SELECT room, count(*) AS n FROM bookings GROUP BY room;
    CREATE INDEX rooms_idx ON rooms (room);
";

async fn setup(label: &str) -> Option<(TempDatabase, tokio_postgres::Client)> {
    let db = TempDatabase::create(label).await?;
    let client = db.connect().await.unwrap();
    client.batch_execute(SCHEMA).await.unwrap();
    Some((db, client))
}

fn table<'a>(cat: &'a Catalog, schema: &str, name: &str) -> &'a prodlike_catalog::Table {
    cat.table(schema, name)
        .unwrap_or_else(|| panic!("no table {schema}.{name}"))
}

#[tokio::test(flavor = "current_thread")]
async fn a_table_with_every_constraint_kind() {
    let Some((_db, client)) = setup("catalog_constraints").await else {
        return;
    };
    let cat = postgres::read(&client, &Options::schema("public"))
        .await
        .unwrap();
    let b = table(&cat, "public", "bookings");
    let pk = b.primary_key.as_ref().unwrap();
    assert_eq!(
        (pk.name.as_deref(), pk.columns.as_slice()),
        (Some("bookings_pkey"), &["id".to_string()][..])
    );
    assert_eq!(pk.definition.as_deref(), Some("PRIMARY KEY (id)"));
    assert_eq!(b.uniques.len(), 1);
    assert_eq!(b.uniques[0].columns, vec!["room", "user_id"]);
    let fk = &b.foreign_keys[0];
    assert_eq!(fk.name.as_deref(), Some("bookings_user_fk"));
    assert_eq!(
        (fk.ref_schema.as_str(), fk.ref_table.as_str()),
        ("public", "users")
    );
    assert_eq!(
        (fk.columns.clone(), fk.ref_columns.clone()),
        (vec!["user_id".to_string()], vec!["id".to_string()])
    );
    assert_eq!(
        (fk.on_update.as_str(), fk.on_delete.as_str()),
        ("CASCADE", "RESTRICT")
    );
    assert!(!fk.deferrable);
    assert_eq!(b.other_constraints.len(), 1);
    assert_eq!(b.other_constraints[0].kind, ConstraintKind::Exclusion);
    assert!(
        b.other_constraints[0]
            .definition
            .starts_with("EXCLUDE USING gist")
    );

    // Every index, each with why it exists; expressions and INCLUDE columns as such.
    let origin = |name: &str| {
        b.indexes
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("no index {name}: {:?}", b.indexes))
    };
    assert_eq!(origin("bookings_pkey").origin, IndexOrigin::PrimaryKey);
    assert_eq!(origin("bookings_room_user_key").origin, IndexOrigin::Unique);
    assert_eq!(origin("bookings_no_overlap").origin, IndexOrigin::Exclusion);
    assert_eq!(origin("bookings_expr_idx").origin, IndexOrigin::Created);
    assert_eq!(
        origin("bookings_expr_idx").columns,
        vec![IndexKey::Expression]
    );
    assert_eq!(origin("bookings_expr_idx").column_names(), None);
    assert_eq!(
        origin("bookings_incl_idx").column_names(),
        Some(vec!["user_id".to_string(), "room".to_string()])
    );
    let names: Vec<&str> = b.indexes.iter().map(|i| i.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "indexes by name");

    let u = table(&cat, "public", "users");
    assert_eq!(u.checks.len(), 1);
    assert_eq!(u.checks[0].name, "users_name_check");
    let self_ref = u
        .foreign_keys
        .iter()
        .find(|f| f.ref_table == "users")
        .unwrap();
    assert!(self_ref.deferrable);
    assert_eq!(self_ref.on_delete, "SET NULL");
    let outside = u
        .foreign_keys
        .iter()
        .find(|f| f.ref_table == "regions")
        .unwrap();
    assert_eq!(
        outside.ref_schema, "other",
        "a key may point outside the scope"
    );
    assert_eq!(outside.ref_columns, vec!["code"]);
}

#[tokio::test(flavor = "current_thread")]
async fn columns_types_and_other_objects() {
    let Some((_db, client)) = setup("catalog_columns").await else {
        return;
    };
    let cat = postgres::read(&client, &Options::schema("public"))
        .await
        .unwrap();
    assert!(cat.server.is_none(), "not asked for");
    let u = table(&cat, "public", "users");
    let names: Vec<&str> = u.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "email",
            "name",
            "mood",
            "score",
            "region",
            "upper_email",
            "referred_by"
        ]
    );
    let col = |n: &str| u.column(n).unwrap();
    assert_eq!(col("id").identity, Some(Identity::Always));
    assert_eq!(col("id").sql_type, "bigint");
    assert!(!col("id").nullable && col("name").nullable);
    assert_eq!(col("name").collation.as_deref(), Some("C"));
    assert_eq!(col("mood").default.as_deref(), Some("'ok'::mood"));
    assert_eq!(col("mood").pg_type.as_ref().unwrap().kind, PgTypeKind::Enum);
    assert_eq!(
        col("score").pg_type.as_ref().unwrap().kind,
        PgTypeKind::Domain
    );
    assert_eq!(col("email").pg_type.as_ref().unwrap().oid, 25);
    assert_eq!(
        col("upper_email").generated,
        Some(Generated {
            expression: Some("upper(email)".into()),
            stored: true
        })
    );
    assert_eq!(
        col("upper_email").default,
        None,
        "a generation expression is no default"
    );

    let events = table(&cat, "public", "events");
    assert_eq!(events.kind, TableKind::Partitioned);
    let part = table(&cat, "public", "events_2026");
    assert!(part.is_partition && part.kind == TableKind::Ordinary);

    assert_eq!(cat.enums.len(), 1);
    assert_eq!(cat.enums[0].labels, vec!["sad", "ok", "happy"]);

    let seq = |n: &str| cat.sequences.iter().find(|s| s.name == n).unwrap();
    let invoice = seq("invoice_no");
    assert_eq!(
        (
            invoice.start,
            invoice.increment,
            invoice.cache,
            invoice.cycle
        ),
        (1000, 5, 10, true)
    );
    assert_eq!(invoice.owned_by, None);
    let serial = seq("bookings_id_seq");
    assert_eq!(serial.owned_by.as_ref().unwrap().column, "id");
    assert!(!serial.identity);
    assert!(seq("users_id_seq").identity);
    assert_eq!(seq("users_id_seq").data_type, "bigint");

    let view = cat.views.iter().find(|v| v.name == "big_bookings").unwrap();
    assert!(!view.materialized && view.definition.contains("room > 100"));
    let mv = cat.views.iter().find(|v| v.name == "rooms").unwrap();
    assert!(mv.materialized);
    assert_eq!(mv.indexes.len(), 1);
    assert_eq!(mv.indexes[0].name, "rooms_idx");

    assert_eq!(table(&cat, "public", "log_lines").kind, TableKind::Foreign);
    // An extension's own objects are marked as such, not dropped: consumers decide.
    let statements = cat.views.iter().find(|v| v.name == "pg_stat_statements");
    assert!(statements.unwrap().extension_member);
    assert!(!view.extension_member);
    assert!(cat.tables.iter().all(|t| !t.extension_member));
}

#[tokio::test(flavor = "current_thread")]
async fn scopes_server_state_and_table_sizes() {
    let Some((db, client)) = setup("catalog_scope").await else {
        return;
    };
    client
        .batch_execute(&format!(
            "ALTER DATABASE \"{0}\" SET work_mem = '64MB'; \
             ALTER ROLE postgres IN DATABASE \"{0}\" SET statement_timeout = '30s'",
            db.name
        ))
        .await
        .unwrap();
    let all = postgres::read(&client, &Options::everything())
        .await
        .unwrap();
    let schemas: std::collections::BTreeSet<&str> =
        all.tables.iter().map(|t| t.schema.as_str()).collect();
    assert_eq!(schemas, ["other", "public"].into());
    let server = all.server.as_ref().unwrap();
    assert!(server.major >= 10, "{server:?}");
    assert_eq!(
        server.settings.get("work_mem").map(String::as_str),
        Some("64MB")
    );
    assert_eq!(
        server.role_settings["postgres"]
            .get("statement_timeout")
            .map(String::as_str),
        Some("30s")
    );
    assert!(server.extensions.contains_key("btree_gist"));

    let other = postgres::read(&client, &Options::schema("other"))
        .await
        .unwrap();
    let names: Vec<&str> = other.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["regions"]);
    assert!(other.sequences.is_empty() && other.enums.is_empty());

    let e = postgres::read(&client, &Options::schema("nowhere"))
        .await
        .unwrap_err();
    assert!(matches!(e, CatalogError::NoSuchSchema { ref schema } if schema == "nowhere"));

    client
        .batch_execute("INSERT INTO other.regions SELECT 'r' || g FROM generate_series(1, 2000) g")
        .await
        .unwrap();
    let sizes = postgres::table_sizes(&client, &Scope::Schema("other".into()))
        .await
        .unwrap();
    assert_eq!(sizes.len(), 1);
    assert!(sizes[0].bytes >= 8192, "{sizes:?}");
    // `regions` has its primary key's index, and nothing else counts toward it.
    assert!(sizes[0].index_bytes >= 8192, "{sizes:?}");
    client
        .batch_execute("CREATE INDEX ON other.regions (lower(code))")
        .await
        .unwrap();
    let more = postgres::table_sizes(&client, &Scope::Schema("other".into()))
        .await
        .unwrap();
    assert_eq!(more[0].bytes, sizes[0].bytes, "{more:?}");
    assert!(more[0].index_bytes > sizes[0].index_bytes, "{more:?}");
}

/// The reader uses the caller's session: inside a REPEATABLE READ transaction it sees that
/// transaction's snapshot (as a copy's schema read must), not what others commit meanwhile.
#[tokio::test(flavor = "current_thread")]
async fn reads_stay_inside_the_callers_snapshot() {
    let Some((db, client)) = setup("catalog_snapshot").await else {
        return;
    };
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .unwrap();
    let before = postgres::read(&client, &Options::schema("public"))
        .await
        .unwrap();
    let other = db.connect().await.unwrap();
    other
        .batch_execute("CREATE TABLE late (id int PRIMARY KEY)")
        .await
        .unwrap();
    let during = postgres::read(&client, &Options::schema("public"))
        .await
        .unwrap();
    assert!(
        during.table("public", "late").is_none(),
        "a table committed after the snapshot"
    );
    assert_eq!(before.tables.len(), during.tables.len());
    client.batch_execute("COMMIT").await.unwrap();
    let after = postgres::read(&client, &Options::schema("public"))
        .await
        .unwrap();
    assert!(after.table("public", "late").is_some());
}

#[tokio::test]
async fn partitions_inheritance_user_types_and_sequence_positions() {
    let Some(db) = TempDatabase::create("catalog_layout").await else {
        return;
    };
    let client = db.connect().await.unwrap();
    client
        .batch_execute(
            "CREATE DOMAIN year AS integer DEFAULT 2000 NOT NULL CONSTRAINT year_check CHECK (VALUE > 1900);
             CREATE TYPE price AS (currency char(3), cents bigint);
             CREATE TABLE events (id serial, at date NOT NULL, y year) PARTITION BY RANGE (at);
             CREATE TABLE events_2026 PARTITION OF events
                 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY LIST (id);
             CREATE TABLE events_2026_a PARTITION OF events_2026 DEFAULT;
             CREATE TABLE city (id int, name text);
             CREATE TABLE place (kind text);
             CREATE TABLE capital (country text) INHERITS (city, place);
             SELECT setval('events_id_seq', 41);",
        )
        .await
        .unwrap();
    let cat = postgres::read(&client, &Options::schema("public"))
        .await
        .unwrap();
    let events = table(&cat, "public", "events");
    assert_eq!(events.partition_key.as_deref(), Some("RANGE (at)"));
    assert_eq!(events.partition_of, None);
    let p = table(&cat, "public", "events_2026");
    let of = p.partition_of.as_ref().unwrap();
    assert_eq!(
        (of.table.as_str(), of.bound.as_str()),
        ("events", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    );
    assert_eq!(p.partition_key.as_deref(), Some("LIST (id)"));
    let leaf = table(&cat, "public", "events_2026_a");
    assert_eq!(leaf.partition_of.as_ref().unwrap().bound, "DEFAULT");
    assert!(
        leaf.inherits.is_empty(),
        "a partition's parent is not INHERITS"
    );
    assert_eq!(
        table(&cat, "public", "capital").inherits,
        vec![
            ("public".to_string(), "city".to_string()),
            ("public".to_string(), "place".to_string())
        ]
    );
    let year = cat.domains.iter().find(|d| d.name == "year").unwrap();
    assert_eq!(year.base_type, "integer");
    assert!(year.not_null);
    assert_eq!(year.default.as_deref(), Some("2000"));
    assert_eq!(
        year.checks,
        vec![(
            "year_check".to_string(),
            "CHECK ((VALUE > 1900))".to_string()
        )]
    );
    let price = cat.composites.iter().find(|c| c.name == "price").unwrap();
    assert_eq!(
        price.attributes,
        vec![
            ("currency".to_string(), "character(3)".to_string()),
            ("cents".to_string(), "bigint".to_string())
        ]
    );
    assert!(
        cat.composites.iter().all(|c| c.name != "events"),
        "a table's row type is not a composite type"
    );
    let seq = cat
        .sequences
        .iter()
        .find(|s| s.name == "events_id_seq")
        .unwrap();
    assert_eq!(seq.last_value, Some(41));
}
