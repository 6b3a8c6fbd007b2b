#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every command that writes `--out`, run for real on loopback, writes a document that its JSON
//! Schema in docs/schemas/ accepts (validated with the `jsonschema` crate, draft 2020-12), and
//! that prodlike-results reads back typed. The schemas come from prodlike-results' types
//! (crates/results/tests/schemas_current.rs keeps them current), so a field renamed or dropped
//! in a command's output fails here.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use prodlike_data::fixture::{ShopSize, write_shop_sqlite};
use prodlike_testkit::services::{Flavour, RunningService, sample_api, serve};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_prodlike");
const KEY: &str = "results schema test secret of 16+ bytes";

fn prodlike(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("PRODLIKE_MASK_KEY", KEY)
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why `doc` does not satisfy `schema`, one line per error (empty when it does).
fn violations(schema: &Value, doc: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{} (at {})", e, e.instance_path()))
        .collect()
}

/// The committed schema a document names.
fn schema_of(doc: &Value) -> Value {
    let name = doc["schema"]
        .as_str()
        .expect("the document names its schema");
    let file = repo()
        .join("docs/schemas")
        .join(prodlike_results::schema_file_name(name));
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("no schema file for {name}: {}: {e}", file.display()));
    serde_json::from_str(&text).unwrap()
}

/// Reads an `--out` document, validates it against its schema and reads it back typed.
fn check(out: &Path, schema: &str) -> Value {
    let bytes = std::fs::read(out).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["schema"], schema);
    let errors = violations(&schema_of(&doc), &doc);
    assert!(
        errors.is_empty(),
        "{} does not match docs/schemas ({schema}):\n{}",
        out.display(),
        errors.join("\n")
    );
    let read = prodlike_results::read(out).unwrap();
    assert_eq!(read.schema(), schema);
    doc
}

#[test]
fn drift_writes_what_its_schema_says() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("drift.json");
    let samples = repo().join("crates/drift/samples/demo");
    let o = prodlike(&[
        "drift",
        samples.join("production").to_str().unwrap(),
        samples.join("staging").to_str().unwrap(),
        "--rules",
        samples.join("drift.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the samples drift: {}",
        prodlike_testkit::process::output_text(&o)
    );
    let doc = check(&out, "prodlike.drift/1");
    assert!(!doc["data"]["findings"].as_array().unwrap().is_empty());
}

#[test]
fn report_writes_what_its_schema_says() {
    let dir = tempfile::tempdir().unwrap();
    // A drift result as `prodlike drift --out` wrote it (crates/results/tests/fixtures).
    let drift = repo().join("crates/results/tests/fixtures/drift-1.json");
    let out = dir.path().join("report.json");
    let history = dir.path().join("history.db");
    let o = prodlike(&[
        "report",
        drift.to_str().unwrap(),
        "--history-db",
        history.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let doc = check(&out, "prodlike.report/1");
    assert_eq!(doc["data"]["run"], 1);
    assert!(!doc["data"]["losses"].as_array().unwrap().is_empty());
}

#[test]
fn data_profile_sync_synth_and_verify_write_what_their_schemas_say() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = d.join("prod.db");
    write_shop_sqlite(&src, ShopSize { users: 60, seed: 5 }).unwrap();
    let url = |p: &Path| format!("sqlite://{}", p.display());
    let out = |name: &str| d.join(name).to_str().unwrap().to_owned();

    let o = prodlike(&[
        "data",
        "profile",
        "--source",
        &url(&src),
        "--out",
        &out("profile.json"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let profile = check(&d.join("profile.json"), "prodlike.data.profile/1");
    assert!(
        !profile["data"]["pii"]["columns"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let o = prodlike(&[
        "data",
        "sync",
        "--source",
        &url(&src),
        "--target",
        &url(&d.join("staging.db")),
        "--sample",
        "0.5",
        "--seed",
        "3",
        "--quiet",
        "--out",
        &out("sync.json"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let sync = check(&d.join("sync.json"), "prodlike.data.sync/1");
    assert!(!sync["data"]["masked"].as_array().unwrap().is_empty());

    let o = prodlike(&[
        "data",
        "synth",
        "--profile",
        &out("profile.json"),
        "--target",
        &url(&d.join("synth.db")),
        "--seed",
        "3",
        "--quiet",
        "--out",
        &out("synth.json"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    check(&d.join("synth.json"), "prodlike.data.synth/1");

    let o = prodlike(&[
        "data",
        "verify",
        "--source",
        &url(&src),
        "--target",
        &url(&d.join("staging.db")),
        "--sync-result",
        &out("sync.json"),
        "--out",
        &out("verify.json"),
    ]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let verify = check(&d.join("verify.json"), "prodlike.data.verify/1");
    assert!(!verify["data"]["columns"].as_array().unwrap().is_empty());
}

/// A server on a thread of its own, alive while the returned runtime lives.
fn on_runtime(
    start: impl std::future::Future<Output = String> + Send + 'static,
) -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(start);
    (rt, url)
}

fn pausing() -> (tokio::runtime::Runtime, String) {
    on_runtime(async {
        let s = prodlike_testkit::pausing_server::start(u64::MAX, Duration::ZERO)
            .await
            .unwrap();
        let url = s.url();
        tokio::spawn(async move {
            let _keep = s;
            std::future::pending::<()>().await;
        });
        url
    })
}

#[test]
fn load_writes_what_its_schema_says_in_compare_mode() {
    let (_a, a) = pausing();
    let (_b, b) = pausing();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("load.json");
    let o = prodlike(&[
        "load",
        "--target",
        &a,
        "--compare",
        &b,
        "--rate",
        "40",
        "--duration",
        "1s",
        "--threshold",
        "error_rate<0.5",
        "--max-send-lag",
        "5s",
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    // Two identical servers for one second: pass, or inconclusive (3) on too few requests.
    assert!(
        matches!(o.status.code(), Some(0 | 1 | 3)),
        "{}",
        prodlike_testkit::process::output_text(&o)
    );
    let doc = check(&out, "prodlike.load/2");
    assert!(
        doc["data"]["compare"]["routes"].is_array(),
        "{}",
        doc["data"]["compare"]
    );
    assert_eq!(doc["data"]["thresholds"][0]["passed"], true);
}

fn sample(flavour: Flavour) -> (tokio::runtime::Runtime, String) {
    on_runtime(async move {
        let s: RunningService = serve(sample_api(flavour)).await.unwrap();
        let url = s.url();
        tokio::spawn(async move {
            let _keep = s;
            std::future::pending::<()>().await;
        });
        url
    })
}

#[test]
fn shadow_writes_what_its_schema_says() {
    let (_p, production) = sample(Flavour::Production);
    let (_s, staging) = sample(Flavour::StagingWithDifferences);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shadow.json");
    let port = prodlike_testkit::process::free_port().unwrap();
    let child = Command::new(BIN)
        .args(["shadow", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--production", &production, "--staging", &staging])
        .args(["--sample", "1.0", "--workers", "1", "--admin", ""])
        .args(["--out", out.to_str().unwrap()])
        .env("PRODLIKE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        prodlike_testkit::process::wait_for_port(port),
        "proxy did not start on {}",
        port
    );
    for i in 0..6 {
        for path in [
            "/api/items/1",
            "/api/checkout",
            "/api/users/2",
            "/api/items",
        ] {
            let reply = prodlike_testkit::process::http_get(port, &format!("{path}?n={i}"));
            assert!(reply.starts_with("HTTP/1.1"), "{reply}");
        }
    }
    // Copies are compared on the mirror's own runtime; give it a moment before stopping (the
    // assertions below do not depend on how many were compared).
    #[allow(clippy::disallowed_methods)] // lets copies finish; no assertion depends on it
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        prodlike_testkit::process::terminate(&child)
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1 | 3)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc = check(&out, "prodlike.shadow/2");
    assert_eq!(doc["data"]["totals"]["requests"], 24);
}

/// The validation is strict enough to notice a renamed, dropped or mistyped field: the real
/// documents above pass, and the same documents with one field changed do not.
#[test]
fn a_renamed_or_mistyped_field_fails_validation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("drift.json");
    let samples = repo().join("crates/drift/samples/demo");
    prodlike(&[
        "drift",
        samples.join("production").to_str().unwrap(),
        samples.join("staging").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let schema = schema_of(&doc);
    assert!(violations(&schema, &doc).is_empty());

    let mut renamed = doc.clone();
    let drift = renamed["data"]["summary"]
        .as_object_mut()
        .unwrap()
        .remove("drift")
        .unwrap();
    renamed["data"]["summary"]["drift_count"] = drift;
    let errors = violations(&schema, &renamed);
    assert!(
        errors.iter().any(|e| e.contains("drift")),
        "a renamed field passed: {errors:?}"
    );

    let mut mistyped = doc.clone();
    mistyped["data"]["findings"][0]["change"] = Value::from("moved");
    assert!(
        !violations(&schema, &mistyped).is_empty(),
        "an unknown change kind passed"
    );

    let mut other_schema = doc;
    other_schema["schema"] = Value::from("prodlike.drift/2");
    assert!(
        !violations(&schema, &other_schema).is_empty(),
        "another schema name passed"
    );
}
