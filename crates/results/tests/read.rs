#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The versioned reader: every current schema reads back to the document it came from, version
//! 1 of shadow is accepted and converted, unknown schemas and future versions are refused by
//! name, and no input makes it panic.
use prodlike_results::shadow::RouteVerdict;
use prodlike_results::{AnyResult, DocumentError, ReadError, from_slice, read};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Real `--out` documents, one per current schema (written by the commands; see
/// tests/fixtures/README.md).
const FIXTURES: [(&str, &str); 9] = [
    ("prodlike.shadow/2", include_str!("fixtures/shadow-2.json")),
    ("prodlike.load/2", include_str!("fixtures/load-2.json")),
    // Still read; without a compare section it reads back unchanged.
    ("prodlike.load/1", include_str!("fixtures/load-1.json")),
    ("prodlike.drift/1", include_str!("fixtures/drift-1.json")),
    (
        "prodlike.data.profile/1",
        include_str!("fixtures/data.profile-1.json"),
    ),
    (
        "prodlike.data.sync/1",
        include_str!("fixtures/data.sync-1.json"),
    ),
    (
        "prodlike.data.synth/1",
        include_str!("fixtures/data.synth-1.json"),
    ),
    (
        "prodlike.data.verify/1",
        include_str!("fixtures/data.verify-1.json"),
    ),
    (
        "prodlike.data.plans/1",
        include_str!("fixtures/data.plans-1.json"),
    ),
];

/// The payload back as JSON, to compare with what was read.
fn data_of(r: &AnyResult) -> Value {
    match r {
        AnyResult::Shadow(r) => serde_json::to_value(&r.data),
        AnyResult::Load(r) => serde_json::to_value(&r.data),
        AnyResult::Drift(r) => serde_json::to_value(&r.data),
        AnyResult::DataProfile(r) => serde_json::to_value(&r.data),
        AnyResult::DataSync(r) => serde_json::to_value(&r.data),
        AnyResult::DataSynth(r) => serde_json::to_value(&r.data),
        AnyResult::DataVerify(r) => serde_json::to_value(&r.data),
        AnyResult::DataPlans(r) => serde_json::to_value(&r.data),
        AnyResult::Compare(r) => serde_json::to_value(&r.data),
        AnyResult::Alerts(r) => serde_json::to_value(&r.data),
        AnyResult::Report(r) => serde_json::to_value(&r.data),
    }
    .unwrap()
}

#[test]
fn every_current_schema_round_trips() {
    for (schema, text) in FIXTURES {
        let r = from_slice(text.as_bytes()).unwrap_or_else(|e| panic!("{schema}: {e:?}"));
        assert_eq!(r.schema(), schema);
        let original: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            data_of(&r),
            original["data"],
            "{schema}: payload changed on the way"
        );
        assert_eq!(
            serde_json::to_value(r.outcome()).unwrap(),
            original["outcome"]
        );
    }
}

#[test]
fn the_variant_follows_the_schema() {
    let kinds: Vec<&str> = FIXTURES
        .iter()
        .map(|(_, t)| match from_slice(t.as_bytes()).unwrap() {
            AnyResult::Shadow(_) => "shadow",
            AnyResult::Load(_) => "load",
            AnyResult::Drift(_) => "drift",
            AnyResult::DataProfile(_) => "profile",
            AnyResult::DataSync(_) => "sync",
            AnyResult::DataSynth(_) => "synth",
            AnyResult::DataVerify(_) => "verify",
            AnyResult::DataPlans(_) => "plans",
            AnyResult::Compare(_) => "compare",
            AnyResult::Alerts(_) => "alerts",
            AnyResult::Report(_) => "report",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "shadow", "load", "load", "drift", "profile", "sync", "synth", "verify", "plans"
        ]
    );
}

/// A version 1 document as version 1 wrote it (docs/results.md before version 2).
fn shadow_v1() -> Value {
    let latency = json!({"count": 10, "min_ms": 1.0, "mean_ms": 2.0, "p50_ms": 2.0,
        "p90_ms": 3.0, "p95_ms": 3.0, "p99_ms": 4.0, "p999_ms": 4.0, "max_ms": 4.0});
    let route = |name: &str, compared: u64, mismatched: u64, skipped: u64| {
        json!({
            "route": name, "requests": 100, "mirrored": compared, "compared": compared,
            "mismatched": mismatched, "mismatch_rate": 0.0, "status_diffs": mismatched,
            "header_diffs": 0, "body_diffs": 0, "body_skipped": skipped,
            "staging_failures": 0, "production_latency_ms": latency,
            "staging_latency_ms": latency, "differing_paths": {"/id": 1},
            "examples": [{"at": "2026-01-01T00:00:00Z", "method": "GET", "target": "/a",
                "production_status": 200, "staging_status": 500, "body_diff_count": 0}]
        })
    };
    json!({
        "envelope_version": 1, "schema": "prodlike.shadow/1", "command": "shadow",
        "tool_version": "0.1.0", "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T00:01:00Z", "outcome": "finding", "exit_code": 1,
        "summary": "one route diverged",
        "data": {
            "uptime_s": 60.0,
            "production": [{"url": "http://127.0.0.1:1", "ejected": false}],
            "staging": "http://127.0.0.1:2", "sample": 1.0,
            "totals": {"requests": 300, "mirrored": 60, "compared": 60, "mismatched": 5,
                "mismatch_rate": 0.083, "dropped": {"queue_full": 0}, "queue_depth": 0,
                "queue_capacity": 1024, "inflight": 0, "capture_records": 0,
                "capture_dropped": 0},
            "routes": [route("/a", 40, 5, 10), route("/b", 10, 0, 0), route("/c", 10, 0, 10)]
        }
    })
}

#[test]
fn shadow_version_1_is_read_as_version_2() {
    let doc = serde_json::to_vec(&shadow_v1()).unwrap();
    let AnyResult::Shadow(r) = from_slice(&doc).unwrap() else {
        panic!("not read as shadow")
    };
    assert_eq!(
        r.schema, "prodlike.shadow/1",
        "the envelope says what was read"
    );
    let routes = &r.data.routes;
    // /a: 10 of its 40 exchanges had bodies that were not compared.
    assert_eq!((routes[0].compared, routes[0].mismatched), (30, 5));
    assert_eq!(routes[0].not_compared.get("body_skipped"), Some(&10));
    assert_eq!(routes[0].verdict, RouteVerdict::Mismatching);
    assert!((routes[0].mismatch_rate - 5.0 / 30.0).abs() < 1e-12);
    let [lo, hi] = routes[0].mismatch_rate_ci95;
    assert!(lo < 5.0 / 30.0 && 5.0 / 30.0 < hi, "{lo} {hi}");
    // /b: nothing skipped, all compared and matching.
    assert_eq!(routes[1].compared, 10);
    assert!(routes[1].not_compared.is_empty());
    assert_eq!(routes[1].verdict, RouteVerdict::Matching);
    // /c: every body skipped: nothing was compared in full, so no verdict — never "matching".
    assert_eq!(routes[2].compared, 0);
    assert_eq!(routes[2].verdict, RouteVerdict::NotCompared);
    assert_eq!(routes[2].mismatch_rate_ci95, [0.0, 1.0]);
    let t = &r.data.totals;
    assert_eq!((t.compared, t.mismatched), (40, 5));
    assert_eq!(t.not_compared.get("body_skipped"), Some(&20));
    assert_eq!(t.routes_not_compared, 1);
    assert_eq!(t.queue_capacity, 1024);
    assert!(
        routes
            .iter()
            .all(|r| r.noise.is_empty() && r.noise_probes == 0)
    );
    assert_eq!(routes[0].examples[0].staging_status, 500);
}

#[test]
fn a_skipped_body_never_makes_mismatches_exceed_compared() {
    let mut v1 = shadow_v1();
    // Every one of /a's 40 exchanges had its body skipped, 5 of them with a status mismatch.
    v1["data"]["routes"][0]["body_skipped"] = json!(40);
    let AnyResult::Shadow(r) = from_slice(&serde_json::to_vec(&v1).unwrap()).unwrap() else {
        panic!("not read as shadow")
    };
    assert_eq!(
        (r.data.routes[0].compared, r.data.routes[0].mismatched),
        (5, 5)
    );
}

fn refused(doc: Value) -> DocumentError {
    from_slice(&serde_json::to_vec(&doc).unwrap()).unwrap_err()
}

/// Version 1's compare section, as version 1 wrote it.
fn load_v1_compare() -> Value {
    let latency = json!({"count": 10, "min_ms": 1.0, "mean_ms": 2.0, "p50_ms": 2.0,
        "p90_ms": 3.0, "p95_ms": 3.0, "p99_ms": 4.0, "p999_ms": 4.0, "max_ms": 4.0});
    let counts = json!({"requests": 10, "failed": 0, "error_rate": 0.0, "dropped": 0,
        "drop_rate": 0.0, "retries": 0, "amplification": 1.0, "bytes_in": 0, "bytes_out": 0,
        "latency": latency});
    json!({"target_a": "http://127.0.0.1:1", "target_b": "http://127.0.0.1:2", "alpha": 0.01,
        "min_effect": 0.1, "b": counts, "divergent_routes": 1,
        "routes": [{"route": "GET /", "n_a": 10, "n_b": 10, "p50_a_ms": 2.0, "p50_b_ms": 9.0,
            "p99_a_ms": 4.0, "p99_b_ms": 12.0,
            "latency_test": {"u": 1.0, "z": 3.0, "p_value": 0.001, "prob_a_greater": 0.9,
                "n1": 10, "n2": 10},
            "error_test": {"rate_a": 0.0, "rate_b": 0.0, "difference": 0.0, "z": 0.0,
                "p_value": 1.0, "n_a": 10, "n_b": 10},
            "divergent": true, "why": ["latency: B is slower than A"]}]})
}

#[test]
fn load_version_1_is_read_as_version_2_without_raw_data() {
    let mut doc: Value = serde_json::from_str(include_str!("fixtures/load-1.json")).unwrap();
    assert_eq!(doc["schema"], "prodlike.load/1");
    doc["data"]["compare"] = load_v1_compare();
    let AnyResult::Load(r) = from_slice(&serde_json::to_vec(&doc).unwrap()).unwrap() else {
        panic!("not read as load")
    };
    assert_eq!(
        r.schema, "prodlike.load/1",
        "the envelope says what was read"
    );
    assert!(r.data.totals.latency_histogram.is_none());
    let c = r.data.compare.expect("compare kept");
    // Equality tests cannot be judged again without histograms: no data, never a pass.
    assert_eq!(
        c.routes[0].verdict,
        prodlike_results::compare::Verdict::NoData
    );
    assert_eq!((c.routes[0].n_a, c.routes[0].p50_b_ms), (10, 9.0));
    assert!(
        c.routes[0].why.iter().any(|w| w.contains("B is slower")),
        "{:?}",
        c.routes[0].why
    );
    assert_eq!((c.divergent_routes, c.inconclusive_routes), (0, 1));
}

#[test]
fn unknown_schemas_and_future_versions_are_refused_by_name() {
    let mut doc = shadow_v1();
    // No command writes prodlike.teleport (report/1 is read since crates/score landed).
    doc["schema"] = json!("prodlike.teleport/1");
    let e = refused(doc.clone());
    assert!(
        matches!(&e, DocumentError::UnknownSchema { schema, .. } if schema == "prodlike.teleport/1")
    );
    assert!(e.to_string().contains("prodlike.teleport/1"), "{e}");
    assert!(
        e.to_string().contains("prodlike.shadow/2"),
        "lists what is known: {e}"
    );

    doc["schema"] = json!("prodlike.shadow/3");
    let e = refused(doc.clone());
    assert!(matches!(
        &e,
        DocumentError::UnsupportedVersion { schema, oldest: 1, newest: 2 } if schema == "prodlike.shadow/3"
    ));
    assert!(e.to_string().contains("prodlike.shadow/3"), "{e}");

    doc["schema"] = json!("prodlike.load/0");
    assert!(matches!(
        refused(doc.clone()),
        DocumentError::UnsupportedVersion { .. }
    ));

    for odd in [
        "prodlike.shadow",
        "prodlike.shadow/",
        "prodlike.shadow/+2",
        "prodlike.shadow/2a",
    ] {
        doc["schema"] = json!(odd);
        assert!(
            matches!(refused(doc.clone()), DocumentError::UnknownSchema { .. }),
            "{odd}"
        );
    }
}

#[test]
fn a_document_of_another_layout_is_refused_with_its_cause() {
    let mut doc = shadow_v1();
    // A version 2 name on a version 1 body: `not_compared` and the rest are missing.
    doc["schema"] = json!("prodlike.shadow/2");
    let e = refused(doc);
    let DocumentError::Layout { schema, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(schema, "prodlike.shadow/2");
    assert!(
        std::error::Error::source(&e).is_some(),
        "the serde error is the source"
    );
    assert!(
        !e.to_string().contains("missing field"),
        "the cause is not repeated in the message: {e}"
    );

    assert!(matches!(refused(json!([1, 2])), DocumentError::NoSchema));
    assert!(matches!(
        refused(json!({"schema": 2})),
        DocumentError::NoSchema
    ));
    assert!(matches!(
        from_slice(b"{\"schema\": ").unwrap_err(),
        DocumentError::NotJson(_)
    ));
}

#[test]
fn files_are_read_and_their_errors_name_the_path() {
    let dir = std::env::temp_dir().join(format!("prodlike-results-read-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("r.json");
    std::fs::write(&good, FIXTURES[1].1).unwrap();
    assert!(matches!(read(&good).unwrap(), AnyResult::Load(_)));

    let missing = dir.join("missing.json");
    let e = read(&missing).unwrap_err();
    assert!(matches!(&e, ReadError::Io { path, .. } if path == &missing));
    assert!(e.to_string().contains("missing.json"), "{e}");

    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{}").unwrap();
    let e = read(&bad).unwrap_err();
    assert!(matches!(
        &e,
        ReadError::Document { path, source: DocumentError::NoSchema } if path == &bad
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = from_slice(&bytes);
    }

    #[test]
    fn arbitrary_schema_names_never_panic(schema in ".{0,40}", data in any::<u8>()) {
        let doc = json!({"schema": schema, "data": data});
        let _ = from_slice(&serde_json::to_vec(&doc).unwrap());
    }

    /// Real documents cut short or with a byte changed are read or refused, never a panic.
    #[test]
    fn damaged_documents_never_panic(
        which in 0..FIXTURES.len(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut bytes = FIXTURES[which].1.as_bytes().to_vec();
        let at = flip.index(bytes.len());
        bytes[at] = byte;
        let len = cut.index(bytes.len() + 1);
        let _ = from_slice(&bytes[..len]);
    }
}
