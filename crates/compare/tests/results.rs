#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `compare results` on prodlike's own result documents: two load runs with a route planted
//! slower (+50%) diverge on that route and pass on the other; a shadow result with a planted
//! staging error rise diverges there; a run without histograms gives no data, never a pass; a
//! file of another schema is refused by name. The documents are real `--out` documents
//! (crates/results/tests/fixtures) with their requests or routes replaced by seeded ones.
//! Two real runs through the binary: crates/cli/tests/compare_results_cli.rs.
use std::path::{Path, PathBuf};

use prodlike_compare::CompareSpec;
use prodlike_compare::results::{ResultsError, compare_results};
use prodlike_results::compare::{CompareReport, Verdict};
use prodlike_stats::LatencyHistogram;
use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../results/tests/fixtures");

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()).unwrap()
}

/// `n` latencies of `base_us`, spread deterministically over +0..10% (seeded by `seed`), each
/// times `factor`.
fn histogram(n: u64, base_us: u64, factor: f64, seed: u64) -> String {
    let mut h = LatencyHistogram::new();
    for i in 0..n {
        let spread = (i.wrapping_mul(7919).wrapping_add(seed * 104_729)) % (base_us / 10);
        h.record_us(((base_us + spread) as f64 * factor) as u64);
    }
    h.to_base64().unwrap()
}

/// A load/2 document whose requests are `(name, requests, failed, histogram)`.
fn load_doc(requests: &[(&str, u64, u64, Option<String>)]) -> Value {
    let mut doc = fixture("load-1.json");
    doc["schema"] = json!("prodlike.load/2");
    let template = doc["data"]["requests"][0].clone();
    doc["data"]["requests"] = requests
        .iter()
        .map(|(name, n, failed, h)| {
            let mut r = template.clone();
            r["name"] = json!(name);
            r["requests"] = json!(n);
            r["failed"] = json!(failed);
            if let Some(h) = h {
                r["latency_histogram"] = json!(h);
            }
            r
        })
        .collect();
    doc
}

fn write(dir: &Path, name: &str, doc: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(doc).unwrap()).unwrap();
    p
}

fn route<'a>(r: &'a CompareReport, name: &str) -> &'a prodlike_results::compare::RouteComparison {
    r.routes.iter().find(|x| x.route == name).expect(name)
}

fn verdict_of(r: &CompareReport, route_name: &str, metric: &str) -> Verdict {
    route(r, route_name)
        .comparisons
        .iter()
        .find(|c| c.metric == metric)
        .unwrap_or_else(|| panic!("{route_name} {metric}"))
        .judgement
        .verdict
}

#[test]
fn two_load_runs_find_the_route_planted_slower() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2000;
    let baseline = load_doc(&[
        ("GET /fast", n, 0, Some(histogram(n, 10_000, 1.0, 1))),
        ("GET /slow", n, 0, Some(histogram(n, 20_000, 1.0, 2))),
    ]);
    let candidate = load_doc(&[
        ("GET /fast", n, 0, Some(histogram(n, 10_000, 1.0, 3))),
        ("GET /slow", n, 0, Some(histogram(n, 20_000, 1.5, 4))),
    ]);
    let a = write(dir.path(), "a.json", &baseline);
    let b = write(dir.path(), "b.json", &candidate);
    let r = compare_results(&[a, b], &CompareSpec::default()).unwrap();
    for metric in ["latency_shift", "latency_p50", "latency_p90", "latency_p99"] {
        assert_eq!(
            verdict_of(&r, "GET /slow", metric),
            Verdict::Diverged,
            "{metric}"
        );
        assert_eq!(
            verdict_of(&r, "GET /fast", metric),
            Verdict::Pass,
            "{metric}"
        );
    }
    assert_eq!(verdict_of(&r, "GET /slow", "error_ratio"), Verdict::Pass);
    assert_eq!(verdict_of(&r, "GET /fast", "error_ratio"), Verdict::Pass);
    assert_eq!(r.outcome(), prodlike_report::Outcome::Finding);
    let prodlike_results::compare::Source::Results(s) = &r.source else {
        panic!("source {:?}", r.source)
    };
    assert_eq!(s.results, "load");
    assert_eq!(s.schemas, ["prodlike.load/2", "prodlike.load/2"]);
    // The same two files the other way round: the candidate is faster, which is no divergence.
    let r = compare_results(
        &[dir.path().join("b.json"), dir.path().join("a.json")],
        &CompareSpec::default(),
    )
    .unwrap();
    assert_eq!(verdict_of(&r, "GET /slow", "latency_shift"), Verdict::Pass);
}

#[test]
fn a_run_without_histograms_or_a_missing_route_is_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let n = 500;
    let v1 = fixture("load-1.json");
    let candidate = load_doc(&[("GET /", n, 0, Some(histogram(n, 10_000, 1.0, 1)))]);
    let a = write(dir.path(), "v1.json", &v1);
    let b = write(dir.path(), "b.json", &candidate);
    let r = compare_results(&[a, b], &CompareSpec::default()).unwrap();
    let name = v1["data"]["requests"][0]["name"].as_str().unwrap();
    if name == "GET /" {
        assert_eq!(verdict_of(&r, name, "latency_shift"), Verdict::NoData);
    } else {
        // Names differ: each route is missing on one side.
        assert_eq!(verdict_of(&r, name, "error_ratio"), Verdict::NoData);
        assert_eq!(verdict_of(&r, "GET /", "error_ratio"), Verdict::NoData);
    }
    assert!(
        r.routes
            .iter()
            .flat_map(|x| &x.comparisons)
            .filter(|c| c.metric.starts_with("latency"))
            .all(|c| c.judgement.verdict == Verdict::NoData)
    );
    assert_ne!(r.outcome(), prodlike_report::Outcome::Success);
}

/// Answers and 5xx answers of one environment on a route.
type Answered = (u64, u64);

/// A shadow/2 document with one route per `(route, production, staging)`.
fn shadow_doc(routes: &[(&str, Answered, Answered)]) -> Value {
    let mut doc = fixture("shadow-2.json");
    let template = doc["data"]["routes"][0].clone();
    let answers = |(n, errors): Answered, seed| {
        json!({"answered": n, "status_classes": {"2xx": n - errors, "5xx": errors},
            "errors_5xx": errors, "latency_histogram": histogram(n, 5_000, 1.0, seed)})
    };
    doc["data"]["routes"] = routes
        .iter()
        .enumerate()
        .map(|(i, (name, p, s))| {
            let mut r = template.clone();
            r["route"] = json!(name);
            r["production_answers"] = answers(*p, i as u64);
            r["staging_answers"] = answers(*s, i as u64 + 100);
            r
        })
        .collect();
    doc
}

#[test]
fn a_shadow_result_with_a_staging_error_rise_diverges_there() {
    let dir = tempfile::tempdir().unwrap();
    // /orders: 1% of production's answers are 5xx, 6% of staging's (a five-point rise, over
    // the one-point margin); /items: the same 1% on both sides.
    let doc = shadow_doc(&[
        ("/orders", (4000, 40), (4000, 240)),
        ("/items", (4000, 40), (4000, 40)),
    ]);
    let p = write(dir.path(), "shadow.json", &doc);
    let r = compare_results(&[p], &CompareSpec::default()).unwrap();
    assert_eq!(verdict_of(&r, "/orders", "error_ratio"), Verdict::Diverged);
    assert_eq!(verdict_of(&r, "/items", "error_ratio"), Verdict::Pass);
    assert_eq!(route(&r, "/orders").production_requests, 4000);
    assert_eq!(r.outcome(), prodlike_report::Outcome::Finding);
}

#[test]
fn a_file_of_another_schema_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let drift = write(dir.path(), "drift.json", &fixture("drift-1.json"));
    let load = write(dir.path(), "load.json", &load_doc(&[]));
    let e = compare_results(&[load.clone(), drift.clone()], &CompareSpec::default()).unwrap_err();
    assert!(matches!(e, ResultsError::WrongInputs { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("prodlike.drift/1") && text.contains("drift.json"),
        "{text}"
    );
    // One load result alone is not a comparison either.
    let e = compare_results(&[load], &CompareSpec::default()).unwrap_err();
    assert!(matches!(e, ResultsError::WrongInputs { .. }), "{e:?}");
    // Not JSON at all: the reader's error, naming the file.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, b"not json").unwrap();
    let e = compare_results(&[junk], &CompareSpec::default()).unwrap_err();
    assert!(matches!(e, ResultsError::Read(_)), "{e:?}");
    // A damaged histogram is named with its route and side.
    let mut doc = load_doc(&[("GET /", 10, 0, Some("AAAA".into()))]);
    let ok = write(dir.path(), "ok.json", &load_doc(&[("GET /", 10, 0, None)]));
    doc["schema"] = json!("prodlike.load/2");
    let bad = write(dir.path(), "bad.json", &doc);
    let e = compare_results(&[ok, bad], &CompareSpec::default()).unwrap_err();
    assert!(
        matches!(&e, ResultsError::Histogram { route, side: "candidate", .. } if route == "GET /"),
        "{e:?}"
    );
}
