//! Schema drift between two real PostgreSQL databases (created and dropped by testkit) that
//! differ in a column type, an index and a per-database setting; and between two SQLite files.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure here is a test failure
use prodlike_drift::{Change, Date, DriftReport, RuleSet, Status, compare_schemas};
use prodlike_testkit::pg::TempDatabase;

const SCHEMA: &str = "
    CREATE TABLE customers (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE orders (
        id bigserial PRIMARY KEY,
        customer_id bigint NOT NULL REFERENCES customers(id),
        total numeric(10,2) NOT NULL CHECK (total >= 0),
        status text NOT NULL DEFAULT 'new'
    );
    CREATE INDEX orders_customer_idx ON orders (customer_id);
    CREATE VIEW open_orders AS SELECT id, customer_id, total FROM orders WHERE status <> 'done';
";

async fn setup() -> Option<(TempDatabase, TempDatabase)> {
    let prod = TempDatabase::create("drift_prod").await?;
    let staging = TempDatabase::create("drift_staging").await?;
    let p = prod.connect().await.unwrap();
    p.batch_execute(SCHEMA).await.unwrap();
    p.batch_execute(&format!(
        "ALTER DATABASE \"{}\" SET work_mem = '64MB'",
        prod.name
    ))
    .await
    .unwrap();
    let s = staging.connect().await.unwrap();
    // The three planted differences: a column type, an index, a setting.
    s.batch_execute(
        &SCHEMA
            .replace("total numeric(10,2)", "total numeric(12,2)")
            .replace(
                "orders_customer_idx ON orders (customer_id)",
                "orders_status_idx ON orders (status)",
            ),
    )
    .await
    .unwrap();
    s.batch_execute(&format!(
        "ALTER DATABASE \"{}\" SET work_mem = '16MB'",
        staging.name
    ))
    .await
    .unwrap();
    Some((prod, staging))
}

fn finding<'a>(r: &'a DriftReport, object: &str, path: &str) -> &'a prodlike_drift::Finding {
    r.findings
        .iter()
        .find(|f| f.object.as_deref() == Some(object) && f.path == path)
        .unwrap_or_else(|| panic!("no finding {object} {path}: {:#?}", r.findings))
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_databases_differing_in_column_type_index_and_setting() {
    let Some((prod, staging)) = setup().await else {
        return;
    };
    let rules = RuleSet::default();
    let r = compare_schemas(&prod.url, &staging.url, &rules, None)
        .await
        .unwrap();

    let f = finding(&r, "table public.orders", "columns.total.type");
    assert_eq!(f.baseline, Some("numeric(10,2)".into()));
    assert_eq!(f.candidate, Some("numeric(12,2)".into()));
    assert_eq!(f.status, Status::Drift);

    let f = finding(&r, "table public.orders", "indexes.orders_customer_idx");
    assert_eq!(f.change, Change::Removed);
    assert_eq!(
        f.baseline,
        Some("CREATE INDEX orders_customer_idx ON public.orders USING btree (customer_id)".into())
    );
    let f = finding(&r, "table public.orders", "indexes.orders_status_idx");
    assert_eq!(f.change, Change::Added);

    let f = finding(&r, "settings", "work_mem");
    assert_eq!(
        (f.baseline.clone(), f.candidate.clone()),
        (Some("64MB".into()), Some("16MB".into()))
    );

    // Nothing else differs: same server, same extensions, same constraints, sequences, views.
    assert_eq!(r.summary.drift, 4, "{:#?}", r.findings);
    assert!(
        r.findings
            .iter()
            .all(|f| f.object.as_deref() != Some("server"))
    );
    assert_eq!(r.outcome(), prodlike_report::Outcome::Finding);
    // The objects the snapshot reads are there (compared equal).
    let snap = prodlike_drift::schema::snapshot(&prod.url, &rules, true)
        .await
        .unwrap();
    let names: Vec<&str> = snap.objects.iter().map(|o| o.display.as_str()).collect();
    for want in [
        "server",
        "settings",
        "extensions",
        "table public.customers",
        "table public.orders",
        "sequence public.orders_id_seq",
        "sequence public.customers_id_seq",
        "view public.open_orders",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let orders = snap
        .objects
        .iter()
        .find(|o| o.display == "table public.orders")
        .unwrap();
    let constraints = orders.node.get("constraints").unwrap().as_map().unwrap();
    assert!(
        constraints.contains_key("orders_customer_id_fkey")
            && constraints.contains_key("orders_total_check")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn settings_follow_the_same_rules() {
    let Some((prod, staging)) = setup().await else {
        return;
    };
    let rules = RuleSet::parse(
        "[[rule]]\nkind = \"scale\"\nobject = \"settings\"\npath = \"work_mem\"\nfactor = 0.25\nreason = \"smaller instance\"\n\
         [[rule]]\nkind = \"ignore\"\nobject = \"table public.*\"\npath = \"indexes.**\"\nreason = \"index experiments\"\n\
         [[rule]]\nkind = \"must_equal\"\nobject = \"table *\"\npath = \"columns.*.type\"\nreason = \"column types never drift\"\n",
        Date::today(),
    )
    .unwrap();
    let r = compare_schemas(&prod.url, &staging.url, &rules, Some("inline".into()))
        .await
        .unwrap();
    assert_eq!(finding(&r, "settings", "work_mem").status, Status::Accepted);
    assert_eq!(
        finding(&r, "table public.orders", "indexes.orders_status_idx").status,
        Status::Accepted
    );
    let drift: Vec<&str> = r.drift().map(|f| f.path.as_str()).collect();
    assert_eq!(drift, vec!["columns.total.type"]);
}

#[tokio::test(flavor = "current_thread")]
async fn unreachable_or_unknown_urls_are_errors() {
    let e = compare_schemas(
        "oracle://x/y",
        "sqlite://nowhere.db",
        &RuleSet::default(),
        None,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("unsupported database URL"));
    let e = compare_schemas(
        "postgres://postgres:pw@127.0.0.1:1/db",
        "sqlite://nowhere.db",
        &RuleSet::default(),
        None,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("postgres://postgres:***@127.0.0.1:1/db"),
        "{e}"
    );
    assert!(!e.contains(":pw@"));
}

#[tokio::test(flavor = "current_thread")]
async fn sqlite_files() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str, sql: &str| {
        let path = dir.path().join(name);
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(sql).unwrap();
        format!("sqlite://{}", path.display())
    };
    let base = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
                CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total REAL);
                CREATE INDEX orders_user ON orders(user_id);
                CREATE VIEW big AS SELECT * FROM orders WHERE total > 100;";
    let a = make("a.db", &format!("{base} PRAGMA user_version = 7;"));
    let b = make(
        "b.db",
        &base
            .replace("total REAL", "total NUMERIC")
            .replace("CREATE INDEX orders_user ON orders(user_id);", ""),
    );
    let r = compare_schemas(&a, &b, &RuleSet::default(), None)
        .await
        .unwrap();
    let paths: Vec<String> = r
        .drift()
        .map(|f| format!("{} {}", f.object.as_deref().unwrap_or(""), f.path))
        .collect();
    assert_eq!(
        paths,
        vec![
            "settings user_version",
            "table main.orders columns.total.type",
            "table main.orders indexes.orders_user",
        ],
        "{:#?}",
        r.findings
    );
    let same = compare_schemas(&a, &a, &RuleSet::default(), None)
        .await
        .unwrap();
    assert!(same.findings.is_empty());
}
