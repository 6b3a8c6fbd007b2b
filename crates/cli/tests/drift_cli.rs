//! `prodlike drift` as a user runs it: the built binary, its exit codes (0 no drift, 1 drift,
//! 2 error), its output formats and its `--out` envelope.
#![allow(clippy::unwrap_used)] // test helpers: a failure here is a test failure

use std::path::Path;
use std::process::{Command, Output};

fn prodlike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn samples(dir: &Path) -> (String, String, String) {
    prodlike_drift::samples::write_to(dir).unwrap();
    let p = |s: &str| dir.join(s).display().to_string();
    (p("production"), p("staging"), p("drift.toml"))
}

#[test]
fn no_drift_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    std::fs::write(&a, "replicas: 3\nimage: web:1\n").unwrap();
    let b = dir.path().join("b.yml");
    std::fs::write(&b, "image: web:1\nreplicas: 3\n").unwrap();
    let o = prodlike(&["drift", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("0 drifts"), "{}", stdout(&o));
}

#[test]
fn drift_exits_1_and_writes_the_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let (prod, staging, rules) = samples(dir.path());
    let out = dir.path().join("result.json");
    let o = prodlike(&[
        "drift",
        &prod,
        &staging,
        "--rules",
        &rules,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("CACHE_TTL_SECONDS"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert!(!text.contains("tok_live_8f2a91c0") && !text.contains("Xk9#prod-2024"));

    let env: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(env["schema"], "prodlike.drift/1");
    assert_eq!(env["command"], "drift");
    assert_eq!(env["exit_code"], 1);
    assert_eq!(env["outcome"], "finding");
    assert_eq!(env["data"]["summary"]["drift"], 1);
    let drift: Vec<&serde_json::Value> = env["data"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "drift")
        .collect();
    assert_eq!(drift[0]["file"], "app/.env");
    assert_eq!(drift[0]["path"], "CACHE_TTL_SECONDS");
    assert_eq!(drift[0]["line"], 5);
    let expired: Vec<_> = env["data"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "expired")
        .collect();
    assert_eq!(expired.len(), 1);
}

#[test]
fn every_format_prints() {
    let dir = tempfile::tempdir().unwrap();
    let (prod, staging, rules) = samples(dir.path());
    let run = |format: &str| {
        let o = prodlike(&[
            "drift", &prod, &staging, "--rules", &rules, "--format", format,
        ]);
        assert_eq!(code(&o), 1, "{format}: {}", stderr(&o));
        stdout(&o)
    };
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["schema"], "prodlike.drift/1");
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let errors: Vec<_> = results.iter().filter(|r| r["level"] == "error").collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        5
    );
    assert!(
        results
            .iter()
            .any(|r| r["suppressions"][0]["kind"] == "external")
    );
    let md = run("markdown");
    assert!(
        md.starts_with("## ❌ prodlike drift") && md.contains("| `app/.env:5` |"),
        "{md}"
    );
    let coloured = prodlike(&[
        "drift", &prod, &staging, "--rules", &rules, "--color", "always",
    ]);
    assert!(stdout(&coloured).contains("\x1b[31m"));
}

#[test]
fn errors_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, "a: 1\n").unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "a: 1\nb: [2,\nc: 3\n").unwrap();
    let g = good.to_str().unwrap();

    let o = prodlike(&["drift", g, bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(
        e.starts_with("error: ") && e.contains("bad.yaml:2:") && e.contains("line 2"),
        "{e}"
    );

    let o = prodlike(&["drift", g, "/nonexistent/staging.yaml"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("/nonexistent/staging.yaml does not exist"));

    let rules = dir.path().join("drift.toml");
    std::fs::write(&rules, "[[rule]]\nkind = \"ignore\"\npath = \"a\"\n").unwrap();
    let o = prodlike(&["drift", g, g, "--rules", rules.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("rule[1].reason"), "{}", stderr(&o));

    let o = prodlike(&["drift", g, g, "--format", "yaml"]);
    assert_eq!(code(&o), 2);
    let o = prodlike(&["drift", g]);
    assert_eq!(code(&o), 2, "a missing CANDIDATE is a usage error");
    let o = prodlike(&["drift", dir.path().to_str().unwrap(), g]);
    assert_eq!(code(&o), 2);
    let o = prodlike(&[
        "drift",
        "schema",
        "--baseline",
        "oracle://x/y",
        "--candidate",
        "sqlite://z",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("unsupported database URL"));
}

#[test]
fn schema_subcommand_exit_codes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str, sql: &str| {
        let path = dir.path().join(name);
        prodlike_drift::schema::testing::execute_sqlite(&path, sql).unwrap();
        format!("sqlite://{}", path.display())
    };
    let a = make("a.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);");
    let b = make(
        "b.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);",
    );
    let o = prodlike(&["drift", "schema", "--baseline", &a, "--candidate", &a]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let o = prodlike(&["drift", "schema", "--baseline", &a, "--candidate", &b]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("columns.v.type"), "{}", stdout(&o));
}

#[test]
fn layers_from_flags_or_the_rules_file_replace_the_positional_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let base = w(
        "values.yaml",
        "replicas: 2\nimage: {repo: web, tag: '1'}\nextra: {a: 1}\n",
    );
    let prod = w("values-production.yaml", "replicas: 4\nimage: {tag: '2'}\n");
    let stg = w(
        "values-staging.yaml",
        "replicas: 2\nimage: {tag: '2'}\nextra: null\n",
    );
    let rules = w(
        "drift.toml",
        "[layers]\nbaseline = [\"values.yaml\", \"values-production.yaml\"]\ncandidate = [\"values.yaml\", \"values-staging.yaml\"]\n\n[[rule]]\nkind = \"scale\"\npath = \"replicas\"\nfactor = 0.5\nreason = \"half the pods\"\n",
    );
    let flags = [
        "drift",
        "--baseline-layers",
        &format!("{base},{prod}"),
        "--candidate-layers",
        &format!("{base},{stg}"),
    ];
    let o = prodlike(&flags);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("replicas changed 4 → 2"), "{text}");
    assert!(text.contains("extra removed"), "{text}");
    assert!(!text.contains("image"), "{text}");
    let o = prodlike(&["drift", "--rules", &rules]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("1 drift, 1 accepted"), "{}", stdout(&o));
    let o = prodlike(&["drift"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--baseline-layers"), "{}", stderr(&o));
}

/// Writes `production/<name>` and `staging/<name>`; returns both directories.
fn terraform_sides(dir: &Path, name: &str, prod: &str, staging: &str) -> (String, String) {
    let (p, s) = (dir.join("production"), dir.join("staging"));
    for (side, text) in [(&p, prod), (&s, staging)] {
        std::fs::create_dir_all(side).unwrap();
        std::fs::write(side.join(name), text).unwrap();
    }
    (p.display().to_string(), s.display().to_string())
}

#[test]
fn terraform_module_calls_are_compared_by_attribute() {
    use prodlike_drift::samples::terraform;
    let dir = tempfile::tempdir().unwrap();
    let (prod, staging) = terraform_sides(
        dir.path(),
        "main.tf",
        terraform::PRODUCTION,
        terraform::STAGING,
    );
    let o = prodlike(&["drift", &prod, &staging]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    for want in [
        "instance_type",
        "instance_count",
        "connection_timeout",
        "hard-coded",
        "var.connection_timeout",
        "3 drifts",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    assert!(!text.contains("bytes,"), "never a whole-file hash:\n{text}");

    let rules = dir.path().join("drift.toml");
    std::fs::write(&rules, terraform::RULES).unwrap();
    let out = dir.path().join("drift.json");
    let o = prodlike(&[
        "drift",
        &prod,
        &staging,
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("1 drift, 2 accepted"), "{}", stdout(&o));
    let env: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let drift: Vec<&serde_json::Value> = env["data"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "drift")
        .collect();
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0]["change"], "hard_coded");
    assert_eq!(drift[0]["path"], "connection_timeout");
    assert_eq!(drift[0]["candidate_at"]["line"], 12);
}

#[test]
fn bad_terraform_input_exits_2_naming_file_and_line() {
    let cases = [
        (
            "main.tf",
            "module \"web\" {\n  source = \"./web\"\n  count  = = 2\n}\n",
            "main.tf:3:",
        ),
        (
            "main.tf",
            "module \"web\" {\n  source = \"./web\"\n}\n\nresourse \"aws_instance\" \"web\" {\n}\n",
            "unknown block type `resourse`",
        ),
        (
            "plan.json",
            "{\n  \"format_version\": \"2.0\",\n  \"terraform_version\": \"2.0.0\",\n  \"resource_changes\": []\n}\n",
            "format_version \"2.0\" is not supported",
        ),
    ];
    for (name, text, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (prod, staging) = terraform_sides(dir.path(), name, text, text);
        let o = prodlike(&["drift", &prod, &staging]);
        assert_eq!(code(&o), 2, "{name}: {}{}", stdout(&o), stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(want), "{want} missing: {err}");
        assert!(err.contains(name), "{name} missing: {err}");
    }
}
