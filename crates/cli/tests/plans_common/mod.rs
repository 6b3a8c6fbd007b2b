//! What the `data plans` CLI tests share: running the binary, a runtime and SQL on a database
//! by URL, one `data plans` run read back from its JSON result, and finding a query in it.
// Each test file uses a part of these.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs `prodlike` (warnings only in its log; a mask key for the tests that synthesise).
pub fn prodlike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(args)
        .env("PRODLIKE_LOG", "warn")
        .env("PRODLIKE_MASK_KEY", "plans-test-key-0123456789abcdef")
        .output()
        .unwrap()
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `text` (statements separated by `;`) on the database at `url`.
pub fn sql(rt: &tokio::runtime::Runtime, url: &str, text: &str) {
    rt.block_on(async {
        prodlike_testkit::pg::connect(url)
            .await
            .unwrap()
            .batch_execute(text)
            .await
    })
    .unwrap();
}

/// `data plans --source --target [--queries <queries written to a file>] <extra>` with its
/// result written into `dir`: the process and the result (`Null` when none was written).
pub fn plans(
    dir: &Path,
    source: &str,
    target: &str,
    queries: Option<&str>,
    extra: &[&str],
) -> (Output, Value) {
    let q = dir.join("queries.sql");
    let out = dir.join("plans.json");
    let _ = std::fs::remove_file(&out);
    let mut args = vec!["data", "plans", "--source", source, "--target", target];
    if let Some(queries) = queries {
        std::fs::write(&q, queries).unwrap();
        args.extend(["--queries", q.to_str().unwrap()]);
    }
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(extra);
    let o = prodlike(&args);
    let v = std::fs::read(&out)
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(Value::Null);
    (o, v)
}

/// The query named `name` in a plans result.
pub fn query<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["data"]["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == name)
        .unwrap_or_else(|| panic!("no query {name}: {v}"))
}

/// The kinds of a query's causes, in order.
pub fn cause_kinds(q: &Value) -> Vec<&str> {
    q["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect()
}
