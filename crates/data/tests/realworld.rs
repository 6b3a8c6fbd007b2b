//! Masking with no rules on real databases the code was not written against: Northwind
//! (PostgreSQL) and Chinook (SQLite), from testdata/realworld, against the hand labelling in
//! tests/realworld/labels.toml.
//!
//! - Detection precision and recall per text column (the table is printed:
//!   `cargo test -p prodlike-data --test realworld -- --nocapture`): every personal column found,
//!   no lookup (genre, media type, category, country) masked.
//! - A full sync: no personal value left unchanged on its row, free text included (no real name
//!   of the database left in `notes`); every lookup kept; verify passes; one real name put back
//!   into a `notes` row of the target makes it fail.
//! - The profile of both holds none of the source's personal values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use prodlike_data::DbUrl;
use prodlike_data::profile::{ProfileOptions, profile};
use prodlike_data::rules::Rules;
use prodlike_data::schema::Table;
use prodlike_data::source::{Scan, Source, collect};
use prodlike_data::sync::{SyncOptions, sync};
use prodlike_data::verify::{Expected, VerifyOptions, verify};
use prodlike_mask::{MaskKey, Masker};
use prodlike_testkit::pg::TempDatabase;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/realworld")
}

fn masker() -> prodlike_data::Result<Masker> {
    Ok(Masker::new(
        MaskKey::from_secret(b"realworld test secret, 16+ bytes").unwrap(),
    ))
}

/// `table.column` → label, for one database.
fn labels(db: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realworld/labels.toml"),
    )
    .unwrap();
    let all: toml::Table = toml::from_str(&text).unwrap();
    all.get(db).cloned().unwrap().try_into().unwrap()
}

/// `table.column` → the personal words inside that free-text column, for one database.
fn text_labels(db: &str) -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realworld/labels.toml"),
    )
    .unwrap();
    let all: toml::Table = toml::from_str(&text).unwrap();
    all.get(&format!("{db}_text"))
        .cloned()
        .unwrap()
        .try_into()
        .unwrap()
}

fn is_pii(label: &str) -> bool {
    !matches!(label, "no" | "lookup")
}

fn sync_opts(src: &DbUrl, dst: &DbUrl, ns: &str, dry_run: bool) -> SyncOptions {
    SyncOptions {
        source: src.clone(),
        target: dst.clone(),
        rules: Rules::default(),
        rules_file: "(none)".into(),
        sample: None,
        seed: Some(7),
        strict: false,
        jobs: 2,
        namespace: ns.into(),
        keep_previous: false,
        max_rows_per_sec: None,
        progress: false,
        dry_run,
        fail_after_rows: None,
    }
}

fn verify_opts(src: &DbUrl, dst: &DbUrl, ns: &str, rows: HashMap<String, u64>) -> VerifyOptions {
    VerifyOptions {
        source: src.clone(),
        target: dst.clone(),
        namespace: ns.into(),
        rules: Rules::default(),
        rules_file: "(none)".into(),
        expected: Expected::Rows(rows),
        min_score: 0.8,
        max_ks: 0.05,
        max_tvd: 0.02,
        max_rows: None,
        synthetic: false,
        not_copied: None,
    }
}

/// The database's text columns, `table.column`.
async fn text_columns(url: &DbUrl, ns: &str) -> (Vec<Table>, Vec<String>) {
    let s = Source::open(url, ns).await.unwrap();
    let schema = s.schema().await.unwrap();
    let cols = schema
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.kind.is_textual())
                .map(move |c| format!("{}.{}", t.name, c.name))
        })
        .collect();
    (schema.tables, cols)
}

/// Every row of `t`: primary key (as text) → column → text value.
async fn rows(url: &DbUrl, ns: &str, t: &Table) -> HashMap<String, HashMap<String, String>> {
    let s = Source::open(url, ns).await.unwrap();
    let cols: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
    let scan = Scan {
        columns: cols.clone(),
        other_as_text: true,
        ..Default::default()
    };
    let (types, rx) = s.scan(t, &scan).await.unwrap();
    let id = t.identity().unwrap();
    let mut out = HashMap::new();
    for row in collect(rx).await.unwrap() {
        let vals: HashMap<String, String> = row
            .iter()
            .enumerate()
            .filter_map(|(i, f)| types[i].value(f).to_text().map(|v| (cols[i].clone(), v)))
            .collect();
        let key = id
            .iter()
            .map(|c| vals.get(c).cloned().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("|");
        out.insert(key, vals);
    }
    out
}

fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

/// Detection against the labels: prints the table, returns (precision, recall, lookups
/// masked, PII columns missed).
async fn detection_table(
    db: &str,
    src: &DbUrl,
    dst: &DbUrl,
    ns: &str,
) -> (f64, f64, Vec<String>, Vec<String>) {
    let labels = labels(db);
    let (_, cols) = text_columns(src, ns).await;
    let unlabelled: Vec<&String> = cols.iter().filter(|c| !labels.contains_key(*c)).collect();
    assert!(unlabelled.is_empty(), "label these columns: {unlabelled:?}");
    let report = sync(&sync_opts(src, dst, ns, true), masker).await.unwrap();
    let masked: HashMap<String, String> = report
        .masked
        .iter()
        .map(|m| (format!("{}.{}", m.table, m.column), m.transform.clone()))
        .collect();
    let evidence: HashMap<String, String> = report
        .detected
        .iter()
        .map(|d| {
            let shares: Vec<String> = d
                .shares
                .iter()
                .map(|s| format!("{} {}/{}", s.class, s.matched, s.sampled))
                .collect();
            (
                format!("{}.{}", d.table, d.column),
                format!("{:?} {}", d.evidence, shares.join(", ")),
            )
        })
        .chain(report.vetoed.iter().map(|v| {
            let shares: Vec<String> = v
                .shares
                .iter()
                .map(|s| format!("{} {}/{}", s.class, s.matched, s.sampled))
                .collect();
            (
                format!("{}.{}", v.table, v.column),
                format!("vetoed ({} sampled) {}", v.sampled, shares.join(", ")),
            )
        }))
        .collect();
    let (mut tp, mut fp, mut fneg, mut tn) = (0u32, 0u32, 0u32, 0u32);
    let mut lookups_masked = Vec::new();
    let mut missed = Vec::new();
    println!("\n{db}: detection with no rules against labels.toml");
    println!(
        "{:<42} {:<15} {:<12} {:<8} evidence",
        "column", "label", "masked as", "outcome"
    );
    for c in &cols {
        let label = &labels[c];
        let m = masked.get(c);
        let outcome = match (is_pii(label), m.is_some()) {
            (true, true) => {
                tp += 1;
                "TP"
            }
            (true, false) => {
                fneg += 1;
                missed.push(c.clone());
                "FN"
            }
            (false, true) => {
                fp += 1;
                if label == "lookup" {
                    lookups_masked.push(c.clone());
                }
                "FP"
            }
            (false, false) => {
                tn += 1;
                "TN"
            }
        };
        println!(
            "{:<42} {:<15} {:<12} {:<8} {}",
            c,
            label,
            m.map_or("-", String::as_str),
            outcome,
            evidence.get(c).map_or("", String::as_str)
        );
    }
    let precision = f64::from(tp) / f64::from((tp + fp).max(1));
    let recall = f64::from(tp) / f64::from((tp + fneg).max(1));
    println!(
        "{db}: TP {tp} FP {fp} FN {fneg} TN {tn}; precision {precision:.3}, recall {recall:.3}"
    );
    (precision, recall, lookups_masked, missed)
}

/// After a full sync: personal values unchanged on their row (free text: the database's real
/// names still in the text of their row), and lookups changed. Returns (unchanged PII, changed
/// lookups) with examples of columns.
async fn compare_rows(db: &str, src: &DbUrl, dst: &DbUrl, ns: &str) -> (Vec<String>, Vec<String>) {
    let labels = labels(db);
    let in_text = text_labels(db);
    for (c, l) in &labels {
        assert!(
            l != "free_text" || in_text.contains_key(c),
            "{c}: list its personal words under [{db}_text]"
        );
    }
    let (tables, _) = text_columns(src, ns).await;
    let mut src_rows = HashMap::new();
    let mut dst_rows = HashMap::new();
    for t in &tables {
        let s = rows(src, ns, t).await;
        let d = rows(dst, ns, t).await;
        src_rows.insert(t.name.clone(), s);
        dst_rows.insert(t.name.clone(), d);
    }
    let mut unchanged = Vec::new();
    let mut lookups_changed = Vec::new();
    for t in &tables {
        let (s, d) = (&src_rows[&t.name], &dst_rows[&t.name]);
        assert_eq!(s.len(), d.len(), "{}: a full sync copies every row", t.name);
        for (key, srow) in s {
            let drow = &d[key];
            for (c, sv) in srow {
                let Some(label) = labels.get(&format!("{}.{c}", t.name)) else {
                    continue;
                };
                let dv = drow.get(c).map_or("", String::as_str);
                match label.as_str() {
                    "no" => {}
                    "lookup" => {
                        if dv != sv {
                            lookups_changed.push(format!("{}.{c}", t.name));
                        }
                    }
                    "free_text" => {
                        let personal: HashSet<String> = in_text[&format!("{}.{c}", t.name)]
                            .iter()
                            .map(|w| w.to_lowercase())
                            .collect();
                        let left: Vec<String> = words(sv)
                            .intersection(&words(dv))
                            .filter(|w| personal.contains(*w))
                            .cloned()
                            .collect();
                        if !left.is_empty() {
                            unchanged.push(format!(
                                "{}.{c} row {key}: {} real name(s) left: {left:?}",
                                t.name,
                                left.len()
                            ));
                        }
                    }
                    _ => {
                        if !sv.trim().is_empty() && dv == sv {
                            unchanged.push(format!("{}.{c} row {key}", t.name));
                        }
                    }
                }
            }
        }
    }
    lookups_changed.sort();
    lookups_changed.dedup();
    println!(
        "{db}: {} personal values unchanged on their row, lookups changed in {:?}",
        unchanged.len(),
        lookups_changed
    );
    (unchanged, lookups_changed)
}

/// Every string of the profile document.
fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The source's personal values found in its profile: whole values of personal columns, and
/// real names of the database as words. A value also held by a non-personal column (a city that
/// is also a territory's name) is that column's and not looked for.
async fn pii_in_profile(db: &str, url: &DbUrl, ns: &str) -> Vec<String> {
    let labels = labels(db);
    let (tables, _) = text_columns(url, ns).await;
    let mut pii_values: HashSet<String> = HashSet::new();
    let mut name_words: HashSet<String> = HashSet::new();
    let mut public_values: HashSet<String> = HashSet::new();
    let mut public_words: HashSet<String> = HashSet::new();
    for t in &tables {
        for r in rows(url, ns, t).await.values() {
            for (c, v) in r {
                match labels.get(&format!("{}.{c}", t.name)).map(String::as_str) {
                    Some(l) if is_pii(l) => {
                        if v.chars().count() >= 3 {
                            pii_values.insert(v.to_lowercase());
                        }
                        if matches!(l, "name" | "first_name" | "last_name" | "name_list") {
                            name_words.extend(words(v).into_iter().filter(|w| w.len() >= 4));
                        }
                    }
                    // Non-personal and non-text columns (numbers, dates): a postal code
                    // `12209` is also some order's number.
                    _ => {
                        public_values.insert(v.to_lowercase());
                        public_words.extend(words(v));
                    }
                }
            }
        }
    }
    let p = profile(
        url,
        &ProfileOptions {
            namespace: ns.into(),
            max_rows: None,
            seed: 1,
        },
    )
    .await
    .unwrap();
    let doc = serde_json::to_value(prodlike_data::published::profile(&p)).unwrap();
    let mut all = Vec::new();
    strings(&doc, &mut all);
    let mut found = Vec::new();
    for s in &all {
        let low = s.to_lowercase();
        if pii_values.contains(&low) && !public_values.contains(&low) {
            found.push(format!(
                "value of shape {}",
                prodlike_data::profile::shape::shape(s)
            ));
        }
        for w in words(s) {
            if name_words.contains(&w) && !public_words.contains(&w) {
                found.push(format!("name word of {} letters", w.chars().count()));
            }
        }
    }
    println!("{db}: {} personal values in the profile", found.len());
    found
}

async fn northwind() -> Option<TempDatabase> {
    prodlike_testkit::realworld::northwind_pg().await
}

fn chinook(dir: &Path) -> PathBuf {
    let path = dir.join("chinook.sqlite");
    std::fs::copy(testdata().join("chinook/Chinook_Sqlite.sqlite"), &path).unwrap();
    path
}

fn sqlite_url(p: &Path) -> DbUrl {
    DbUrl::parse(&format!("sqlite://{}", p.display())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinook_detection_masking_verify_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_url(&chinook(dir.path()));
    let dst = sqlite_url(&dir.path().join("target.sqlite"));
    let ns = "main";
    let (precision, recall, lookups, missed) = detection_table("chinook", &src, &dst, ns).await;
    assert!(lookups.is_empty(), "lookups masked: {lookups:?}");
    assert_eq!(recall, 1.0, "personal columns missed: {missed:?}");
    assert!(precision >= 0.9, "precision {precision}");

    let report = sync(&sync_opts(&src, &dst, ns, false), masker)
        .await
        .unwrap();
    let (unchanged, lookups_changed) = compare_rows("chinook", &src, &dst, ns).await;
    assert!(
        unchanged.is_empty(),
        "{:?}",
        &unchanged[..unchanged.len().min(20)]
    );
    assert!(lookups_changed.is_empty(), "{lookups_changed:?}");
    let expected: HashMap<String, u64> = report
        .tables
        .iter()
        .map(|t| (t.table.clone(), t.rows))
        .collect();
    let v = verify(&verify_opts(&src, &dst, ns, expected))
        .await
        .unwrap();
    println!(
        "chinook verify: leaked {}, row leaks {:?}, class matches {:?}, failures {:?}",
        v.leaks.leaked_values, v.leaks.row_leaks, v.leaks.class_matches, v.failures
    );
    assert_eq!(v.leaks.leaked_values, 0, "{:#?}", v.leaks);
    assert!(v.passed, "{:?}", v.failures);

    let found = pii_in_profile("chinook", &src, ns).await;
    assert!(found.is_empty(), "{found:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn northwind_detection_masking_verify_planted_leak_and_profile() {
    let Some(src_db) = northwind().await else {
        return;
    };
    let Some(dst_db) = TempDatabase::create("rw_northwind_dst").await else {
        return;
    };
    let src = DbUrl::parse(&src_db.url).unwrap();
    let dst = DbUrl::parse(&dst_db.url).unwrap();
    let ns = "public";
    let (precision, recall, lookups, missed) = detection_table("northwind", &src, &dst, ns).await;
    assert!(lookups.is_empty(), "lookups masked: {lookups:?}");
    assert_eq!(recall, 1.0, "personal columns missed: {missed:?}");
    assert!(precision >= 0.9, "precision {precision}");

    let report = sync(&sync_opts(&src, &dst, ns, false), masker)
        .await
        .unwrap();
    let (unchanged, lookups_changed) = compare_rows("northwind", &src, &dst, ns).await;
    assert!(
        unchanged.is_empty(),
        "{:?}",
        &unchanged[..unchanged.len().min(20)]
    );
    assert!(lookups_changed.is_empty(), "{lookups_changed:?}");
    let expected: HashMap<String, u64> = report
        .tables
        .iter()
        .map(|t| (t.table.clone(), t.rows))
        .collect();
    let v = verify(&verify_opts(&src, &dst, ns, expected.clone()))
        .await
        .unwrap();
    println!(
        "northwind verify: leaked {}, row leaks {:?}, class matches {:?}, failures {:?}",
        v.leaks.leaked_values, v.leaks.row_leaks, v.leaks.class_matches, v.failures
    );
    assert_eq!(v.leaks.leaked_values, 0, "{:#?}", v.leaks);
    assert!(v.passed, "{:?}", v.failures);

    // One real name left in the notes of its own row: verify must fail on it.
    dst_db
        .connect()
        .await
        .unwrap()
        .batch_execute(
            "UPDATE employees SET notes = 'Steven Buchanan. ' || notes WHERE employee_id = 5",
        )
        .await
        .unwrap();
    let v = verify(&verify_opts(&src, &dst, ns, expected))
        .await
        .unwrap();
    println!(
        "northwind verify after the planted leak: leaked {}, row leaks {:?}, failures {:?}",
        v.leaks.leaked_values, v.leaks.row_leaks, v.failures
    );
    assert!(!v.passed);
    assert!(v.leaks.row_leaks.unwrap_or(0) >= 1, "{:#?}", v.leaks);
    let notes = v
        .leaks
        .cross_column
        .iter()
        .find(|c| c.table == "employees" && c.column == "notes")
        .expect("the notes column is reported");
    assert!(notes.leaked, "{notes:?}");

    let found = pii_in_profile("northwind", &src, ns).await;
    assert!(found.is_empty(), "{found:?}");
}
