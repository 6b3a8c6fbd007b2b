#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Default masking on real data it was not written against: the rows of Chinook (SQLite) and
//! Northwind (PostgreSQL), served as JSON responses through the proxy and captured. Measures
//! the share of personal values masked and of non-personal values masked by mistake, per
//! column, and prints the table (`cargo test -p prodlike-shadow --test realworld_masking --
//! --nocapture`).
mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query};
use axum::routing::get as get_route;
use common::*;
use prodlike_testkit::pg::TempDatabase;
use prodlike_testkit::services::serve;
use serde_json::{Map, Value};

/// Rows per table served (the first ones), and per response.
const ROWS_PER_TABLE: usize = 600;
const PAGE: usize = 50;

/// Columns holding personal data, labelled by hand from each schema.
const PERSONAL: &[(&str, &str)] = &[
    ("Customer", "FirstName"),
    ("Customer", "LastName"),
    ("Customer", "Address"),
    ("Customer", "City"),
    ("Customer", "PostalCode"),
    ("Customer", "Phone"),
    ("Customer", "Fax"),
    ("Customer", "Email"),
    ("Employee", "FirstName"),
    ("Employee", "LastName"),
    ("Employee", "BirthDate"),
    ("Employee", "Address"),
    ("Employee", "City"),
    ("Employee", "PostalCode"),
    ("Employee", "Phone"),
    ("Employee", "Fax"),
    ("Employee", "Email"),
    ("Invoice", "BillingAddress"),
    ("Invoice", "BillingCity"),
    ("Invoice", "BillingPostalCode"),
    ("customers", "contact_name"),
    ("customers", "address"),
    ("customers", "city"),
    ("customers", "postal_code"),
    ("customers", "phone"),
    ("customers", "fax"),
    ("employees", "last_name"),
    ("employees", "first_name"),
    ("employees", "birth_date"),
    ("employees", "address"),
    ("employees", "city"),
    ("employees", "postal_code"),
    ("employees", "home_phone"),
    ("orders", "ship_name"),
    ("orders", "ship_address"),
    ("orders", "ship_city"),
    ("orders", "ship_postal_code"),
    ("suppliers", "contact_name"),
    ("suppliers", "address"),
    ("suppliers", "city"),
    ("suppliers", "postal_code"),
    ("suppliers", "phone"),
    ("suppliers", "fax"),
    ("shippers", "phone"),
];

/// Personal, but with no identifier in it for a detector to find: free text about a person.
/// Reported, not counted in the detectors' recall.
const PERSONAL_PROSE: &[(&str, &str)] = &[("employees", "notes")];

/// Names of public figures (artists, composers): reported apart.
const PUBLIC_FIGURES: &[(&str, &str)] = &[("Artist", "Name"), ("Track", "Composer")];

/// Non-personal columns that must stay readable for staging to be useful.
const MUST_STAY_READABLE: &[(&str, &str)] = &[
    ("Genre", "Name"),
    ("Track", "Name"),
    ("Album", "Title"),
    ("MediaType", "Name"),
    ("Playlist", "Name"),
    ("products", "product_name"),
    ("categories", "category_name"),
    ("categories", "description"),
];

type Tables = BTreeMap<String, Vec<Map<String, Value>>>;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/realworld")
}

fn chinook() -> Tables {
    let path = testdata().join("chinook/Chinook_Sqlite.sqlite");
    let db =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let names: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut tables = Tables::new();
    for t in names {
        let mut stmt = db
            .prepare(&format!("SELECT * FROM \"{t}\" LIMIT {ROWS_PER_TABLE}"))
            .unwrap();
        let cols: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
        let rows = stmt
            .query_map([], |r| {
                let mut m = Map::new();
                for (i, c) in cols.iter().enumerate() {
                    let v = match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Null => Value::Null,
                        rusqlite::types::ValueRef::Integer(n) => Value::from(n),
                        rusqlite::types::ValueRef::Real(f) => Value::from(f),
                        rusqlite::types::ValueRef::Text(s) => {
                            Value::from(String::from_utf8_lossy(s).into_owned())
                        }
                        rusqlite::types::ValueRef::Blob(_) => continue,
                    };
                    m.insert(c.clone(), v);
                }
                Ok(m)
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        tables.insert(t, rows);
    }
    tables
}

async fn northwind() -> Option<(TempDatabase, Tables)> {
    let db = TempDatabase::create("realworld_northwind").await?;
    let client = db.connect().await.unwrap();
    let sql = std::fs::read_to_string(testdata().join("northwind/northwind.sql")).unwrap();
    client.batch_execute(&sql).await.unwrap();
    let names: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut tables = Tables::new();
    for t in names {
        // Pictures (bytea) are binary, not text a detector reads.
        let cols: Vec<String> = client
            .query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1 AND data_type <> 'bytea' \
                 ORDER BY ordinal_position",
                &[&t],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let list = cols
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<Map<String, Value>> = client
            .query(
                &format!(
                    "SELECT row_to_json(t)::text FROM (SELECT {list} FROM \"{t}\" LIMIT {ROWS_PER_TABLE}) t"
                ),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| serde_json::from_str(r.get::<_, &str>(0)).unwrap())
            .collect();
        tables.insert(t, rows);
    }
    Some((db, tables))
}

/// Serves `/<table>?page=N` as a JSON array of `PAGE` rows.
fn api(tables: Arc<Tables>) -> Router {
    Router::new().route(
        "/{table}",
        get_route(
            move |Path(table): Path<String>, Query(q): Query<HashMap<String, usize>>| {
                let tables = tables.clone();
                async move {
                    let page = q.get("page").copied().unwrap_or(0);
                    let rows = tables.get(&table).cloned().unwrap_or_default();
                    let slice: Vec<Value> = rows
                        .into_iter()
                        .skip(page * PAGE)
                        .take(PAGE)
                        .map(Value::Object)
                        .collect();
                    axum::Json(Value::Array(slice))
                }
            },
        ),
    )
}

#[derive(Default, Clone)]
struct Count {
    values: u64,
    changed: u64,
    /// The first values masked (public data: safe to print), to explain a mistake.
    examples: Vec<String>,
}

impl Count {
    fn share(&self) -> f64 {
        if self.values == 0 {
            0.0
        } else {
            self.changed as f64 / self.values as f64
        }
    }
}

/// Serves every table through the proxy with a capture and no mask configuration, and counts,
/// per (table, column), the values the capture holds changed.
async fn masked_counts(tables: Tables) -> BTreeMap<(String, String), Count> {
    let tables = Arc::new(tables);
    let upstream = serve(api(tables.clone())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("realworld.jsonl");
    let mut cfg = config(&upstream.url(), None);
    cfg.capture.path = Some(capture.clone());
    cfg.capture.max_body = 1 << 20;
    cfg.mask.key_env = "PRODLIKE_TEST_KEY_THAT_IS_NEVER_SET".into();
    let shadow = start(cfg).await;
    let c = client();
    let mut expected = 0;
    for (t, rows) in tables.iter() {
        for page in 0..rows.len().div_ceil(PAGE) {
            let r = get(&c, &format!("http://{}/{t}?page={page}", shadow.addr)).await;
            assert_eq!(r.status, 200);
            expected += 1;
        }
    }
    let report = shadow.shutdown().await;
    assert_eq!(report.totals.capture_dropped, 0);

    let text = std::fs::read_to_string(&capture).unwrap();
    let mut counts: BTreeMap<(String, String), Count> = BTreeMap::new();
    let mut records = 0;
    for line in text.lines().skip(1) {
        let rec: Value = serde_json::from_str(line).unwrap();
        records += 1;
        assert_eq!(rec["masked"], true);
        let target = rec["request"]["target"].as_str().unwrap();
        let (path, query) = target.split_once("?page=").unwrap();
        let table = path.trim_start_matches('/');
        let page: usize = query.parse().unwrap();
        let body = rec["production"]["body"]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{rec}"));
        let masked: Vec<Value> = serde_json::from_str(body).unwrap();
        let raw = &tables[table][page * PAGE..];
        for (m, r) in masked.iter().zip(raw) {
            for (col, rv) in r {
                if rv.is_null() {
                    continue;
                }
                let c = counts.entry((table.to_string(), col.clone())).or_default();
                c.values += 1;
                if m.get(col) != Some(rv) {
                    c.changed += 1;
                    if c.examples.len() < 6 {
                        c.examples.push(rv.to_string());
                    }
                }
            }
        }
    }
    assert_eq!(records, expected, "every response was captured");
    counts
}

fn is_in(list: &[(&str, &str)], t: &str, c: &str) -> bool {
    list.iter().any(|(lt, lc)| *lt == t && *lc == c)
}

fn report(name: &str, counts: &BTreeMap<(String, String), Count>) -> (Count, Count) {
    let mut personal = Count::default();
    let mut other = Count::default();
    println!("\n{name}: values changed by default masking, per column");
    println!(
        "{:<44} {:>8} {:>8} {:>7}  label",
        "column", "values", "masked", "share"
    );
    for ((t, c), n) in counts {
        let label = if is_in(PERSONAL, t, c) {
            personal.values += n.values;
            personal.changed += n.changed;
            "personal"
        } else if is_in(PERSONAL_PROSE, t, c) {
            "personal prose (no identifier to detect)"
        } else if is_in(PUBLIC_FIGURES, t, c) {
            "public figure"
        } else {
            other.values += n.values;
            other.changed += n.changed;
            "not personal"
        };
        println!(
            "{:<44} {:>8} {:>8} {:>6.1}%  {label}",
            format!("{t}.{c}"),
            n.values,
            n.changed,
            100.0 * n.share()
        );
        if label != "personal" && n.changed > 0 {
            println!("{:<44} e.g. {}", "", n.examples.join(", "));
        }
    }
    println!(
        "{name}: personal values masked {}/{} ({:.1}%); non-personal values masked by mistake {}/{} ({:.2}%)",
        personal.changed,
        personal.values,
        100.0 * personal.share(),
        other.changed,
        other.values,
        100.0 * other.share()
    );
    (personal, other)
}

fn check(counts: &BTreeMap<(String, String), Count>, personal: Count, other: Count) {
    // Every labelled personal column is present in the data.
    for (t, c) in PERSONAL {
        if let Some(n) = counts.get(&(t.to_string(), c.to_string())) {
            assert!(n.values > 0, "{t}.{c}");
        }
    }
    assert!(
        personal.share() >= 0.97,
        "personal values masked: {:.3}",
        personal.share()
    );
    assert!(
        other.share() <= 0.01,
        "non-personal values masked by mistake: {:.4}",
        other.share()
    );
    for (t, c) in MUST_STAY_READABLE {
        if let Some(n) = counts.get(&(t.to_string(), c.to_string())) {
            assert!(
                n.share() <= 0.01,
                "{t}.{c} must stay readable, yet {}/{} values were masked",
                n.changed,
                n.values
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinook_rows_as_json_responses() {
    let counts = masked_counts(chinook()).await;
    assert!(counts.contains_key(&("Customer".into(), "Email".into())));
    let (personal, other) = report("Chinook", &counts);
    check(&counts, personal, other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn northwind_rows_as_json_responses() {
    let Some((_db, tables)) = northwind().await else {
        return;
    };
    let counts = masked_counts(tables).await;
    assert!(counts.contains_key(&("customers".into(), "contact_name".into())));
    let (personal, other) = report("Northwind", &counts);
    check(&counts, personal, other);
}
