//! Whole-schema drift: two PostgreSQL databases (created and dropped by testkit) that differ in a
//! domain, a trigger, a partition, a function body and a grant. Each difference is found, under
//! its own object, and each can be accepted by a rule; roles differ by environment and are
//! mapped by `[grants] map`; partitions are objects of their own, a materialized view is one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
use prodlike_drift::{Date, DriftReport, RuleSet, Status, compare_schemas};
use prodlike_testkit::pg::TempDatabase;

fn schema(role: &str, variant: bool) -> String {
    let (check, body, partition, trigger, grant) = if variant {
        (
            "VALUE ~ '^[^@]+@[^@]+$'",
            "SELECT round(p * 1.21, 2)",
            "CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');",
            "",
            format!("GRANT SELECT ON orders TO {role};"),
        )
    } else {
        (
            "VALUE ~ '^[^@]+@[^@]+\\.[a-z]+$'",
            "SELECT round(p * 1.2, 2)",
            "CREATE TABLE events_2026_03 PARTITION OF events FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');",
            "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();",
            format!("GRANT SELECT, INSERT ON orders TO {role};"),
        )
    };
    format!(
        "
    CREATE DOMAIN email AS text CHECK ({check});
    CREATE TYPE status AS ENUM ('new', 'paid', 'shipped');
    CREATE TABLE orders (id bigserial PRIMARY KEY, buyer email, status status NOT NULL DEFAULT 'new',
                         total numeric(10,2), updated_at timestamptz);
    COMMENT ON TABLE orders IS 'one row per order';
    CREATE FUNCTION gross(p numeric) RETURNS numeric LANGUAGE sql AS $$ {body} $$;
    CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
    {trigger}
    CREATE TABLE events (at date NOT NULL, what text) PARTITION BY RANGE (at);
    CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
    {partition}
    CREATE MATERIALIZED VIEW order_totals AS SELECT status, sum(total) AS total FROM orders GROUP BY status;
    CREATE INDEX order_totals_status ON order_totals (status);
    {grant}
"
    )
}

async fn role(client: &tokio_postgres::Client, name: &str) {
    client
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {name} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ))
        .await
        .unwrap();
}

async fn setup() -> Option<(Roles, TempDatabase, TempDatabase, String, String)> {
    let prod = TempDatabase::create("drift_objs_prod").await?;
    let staging = TempDatabase::create("drift_objs_stg").await?;
    // Roles are cluster-wide: named after the databases, so runs never share them.
    let (rp, rs) = (
        format!("{}_app", prod.name),
        format!("{}_app", staging.name),
    );
    let roles = Roles(vec![rp.clone(), rs.clone()]);
    let p = prod.connect().await.unwrap();
    role(&p, &rp).await;
    role(&p, &rs).await;
    p.batch_execute(&schema(&rp, false)).await.unwrap();
    let s = staging.connect().await.unwrap();
    s.batch_execute(&schema(&rs, true)).await.unwrap();
    Some((roles, prod, staging, rp, rs))
}

/// Drops the test's roles once the databases that hold their grants are gone (declared before
/// them, so dropped after them), on success and failure alike.
struct Roles(Vec<String>);

impl Drop for Roles {
    fn drop(&mut self) {
        let roles = std::mem::take(&mut self.0);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let c =
                    prodlike_testkit::pg::connect("postgres://postgres@127.0.0.1:5432/postgres")
                        .await
                        .unwrap();
                for r in roles {
                    let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {r}")).await;
                }
            });
        })
        .join();
    }
}

fn has(r: &DriftReport, object: &str, path: &str) -> Status {
    r.findings
        .iter()
        .find(|f| f.object.as_deref() == Some(object) && f.path == path)
        .unwrap_or_else(|| panic!("no finding {object} {path}: {:#?}", r.findings))
        .status
}

#[tokio::test(flavor = "current_thread")]
async fn domains_triggers_partitions_functions_and_grants_are_found_and_accepted() {
    let Some((_roles, prod, staging, rp, rs)) = setup().await else {
        return;
    };
    let today = Date::parse("2026-06-01").unwrap();
    let map = format!("[grants]\nmap = {{ {rp} = \"{rs}\" }}\n");
    let rules = RuleSet::parse(&map, today).unwrap();
    let r = compare_schemas(&prod.url, &staging.url, &rules, None)
        .await
        .unwrap();
    let function = "function public.gross(p numeric)";
    let found = [
        ("domain public.email", "checks.email_check"),
        ("table public.orders", "triggers.orders_touch"),
        ("table public.events_2026_03", ""),
        ("table public.events_2026_02", ""),
        ("table public.events", "partitions.public.events_2026_03"),
        (function, "body"),
        ("grants public", "table orders"),
    ];
    let grants: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.object.as_deref() == Some("grants public"))
        .collect();
    let n = r.findings.len();
    for (o, p) in found {
        let any = r.findings.iter().any(|f| {
            f.object.as_deref() == Some(o) && (f.path == p || f.path.starts_with(&format!("{p}.")))
        });
        assert!(any, "no finding {o} {p}: {:#?}", r.findings);
    }
    // The grant difference is INSERT, not the role's name: the map pairs the roles.
    assert_eq!(grants.len(), 1, "{grants:#?}");
    assert_eq!(grants[0].path, format!("table orders.{rs}"));
    assert_eq!(grants[0].baseline, Some("INSERT, SELECT".into()));
    assert_eq!(grants[0].candidate, Some("SELECT".into()));
    // A materialized view is one object (its index inside), a partition is its own.
    let snap = prodlike_drift::schema::snapshot(&prod.url, &rules, true)
        .await
        .unwrap();
    let names: Vec<&str> = snap.objects.iter().map(|o| o.display.as_str()).collect();
    assert_eq!(
        names.iter().filter(|n| n.ends_with("order_totals")).count(),
        1,
        "{names:?}"
    );
    assert!(names.contains(&"table public.events_2026_01"), "{names:?}");
    assert!(
        names.contains(&"enum public.status") && names.contains(&"comments"),
        "{names:?}"
    );

    // Each can be accepted by a rule.
    let accept = format!(
        "{map}
[[rule]]
kind = \"ignore\"
path = \"checks.*\"
object = \"domain public.email\"
reason = \"staging accepts any domain\"

[[rule]]
kind = \"ignore\"
path = \"triggers.orders_touch\"
object = \"table public.orders\"
reason = \"no audit trigger in staging\"

[[rule]]
kind = \"ignore\"
path = \"**\"
object = \"table public.events_2026_0*\"
reason = \"staging keeps other months\"

[[rule]]
kind = \"ignore\"
path = \"partitions.**\"
object = \"table public.events\"
reason = \"staging keeps other months\"

[[rule]]
kind = \"ignore\"
path = \"body\"
object = \"function public.gross*\"
reason = \"tax rate under test\"

[[rule]]
kind = \"ignore\"
path = \"**\"
object = \"grants public\"
reason = \"staging's app only reads\"
"
    );
    let rules = RuleSet::parse(&accept, today).unwrap();
    let r2 = compare_schemas(&prod.url, &staging.url, &rules, None)
        .await
        .unwrap();
    assert_eq!(r2.findings.len(), n);
    let drift: Vec<_> = r2.drift().collect();
    assert!(drift.is_empty(), "{drift:#?}");
    assert_eq!(has(&r2, function, "body"), Status::Accepted);
}
