#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `prodlike alerts` run as a user would: the rules and rule-test files it writes, for the
//! default spec (OpenTelemetry names) and for a spec with custom metric and label names, must
//! pass `promtool check rules` and `promtool test rules` (the tests prove each alert fires on
//! the series built for it and stays silent on the others). Bad input exits 2 with a message
//! naming it, before any file is written. Under CI=true a missing promtool fails.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use prodlike_testkit::require;

fn prodlike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prodlike"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// promtool `check rules` then `test rules`, both must succeed.
fn promtool_passes(promtool: &Path, rules: &Path, tests: &Path) {
    for (verb, file) in [("check", rules), ("test", tests)] {
        let out = Command::new(promtool)
            .args([verb, "rules"])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {verb} rules {} failed:\n{}",
            file.display(),
            text(&out)
        );
    }
}

fn generate(dir: &Path, extra: &[&str], production: &str, staging: &str) -> (PathBuf, PathBuf) {
    let rules = dir.join("rules.yml");
    let tests = dir.join("rules.test.yml");
    let mut args = vec![
        "alerts",
        "--production",
        production,
        "--staging",
        staging,
        "--out",
        rules.to_str().unwrap(),
        "--tests",
        tests.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = prodlike(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    (rules, tests)
}

#[test]
fn default_spec_rules_pass_promtool() {
    let Some(promtool) = require::promtool() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("result.json");
    let (rules, tests) = generate(
        dir.path(),
        &["--result", result.to_str().unwrap()],
        "environment=\"production\"",
        "environment=\"staging\"",
    );
    // The JSON result: valid against its schema in docs/schemas/, read back typed.
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&result).unwrap()).unwrap();
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schemas/prodlike.alerts-1.schema.json");
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&doc), "{doc:#}");
    let prodlike_results::AnyResult::Alerts(back) =
        prodlike_results::from_slice(&std::fs::read(&result).unwrap()).unwrap()
    else {
        panic!("not an alerts result");
    };
    assert_eq!(back.data.alerts.len(), 3);
    assert_eq!(back.data.tests_file.as_deref(), tests.to_str());
    let written = std::fs::read_to_string(&rules).unwrap();
    for name in [
        "environment_route:http_requests:rate5m",
        "http_server_request_duration_seconds_count{environment=\\\"staging\\\"}",
        "StagingProductionDivergence",
        "StagingLatencyDivergence",
        "StagingMissingSeries",
        "prodlike compare prometheus",
    ] {
        assert!(written.contains(name), "{name} not in\n{written}");
    }
    promtool_passes(&promtool, &rules, &tests);
    // The rule tests can fail: without the traffic guard `/low-traffic` fires, with a smaller
    // margin `/small-rise` does.
    for (from, to) in [(" >= 1", " >= 0"), (") > 0.01", ") > 0.0001")] {
        assert!(written.contains(from));
        std::fs::write(&rules, written.replace(from, to)).unwrap();
        let out = Command::new(&promtool)
            .args(["test", "rules"])
            .arg(&tests)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{from} → {to} still passed");
        assert!(text(&out).contains("StagingProductionDivergence"));
    }
}

#[test]
fn custom_names_and_margins_pass_promtool() {
    let Some(promtool) = require::promtool() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("compare.toml");
    std::fs::write(
        &spec,
        "[margins]\nerror_ratio = 0.05\np99 = 1.5\n\n[metrics]\nrequests = \"api_calls_total\"\n\
         histogram = \"api_latency_seconds\"\nroute_label = \"handler\"\n\
         status_label = \"code\"\nerrors = \"5..|429\"\n",
    )
    .unwrap();
    let (rules, tests) = generate(
        dir.path(),
        &["--spec", spec.to_str().unwrap()],
        "env=\"prod\", cluster=\"eu\"",
        "{env=\"stg\", cluster=\"eu\"}",
    );
    let written = std::fs::read_to_string(&rules).unwrap();
    assert!(written.contains("sum by (handler) (rate(api_calls_total{"));
    assert!(written.contains(") > 0.05"));
    assert!(written.contains("environment_route:api_latency_seconds:p99_rate5m"));
    assert!(!written.contains("http_route"));
    promtool_passes(&promtool, &rules, &tests);
    // A relative error margin is tested the same way.
    std::fs::write(&spec, "[margins]\nerror_ratio_relative = 1.0\n").unwrap();
    let (rules, tests) = generate(
        dir.path(),
        &["--spec", spec.to_str().unwrap()],
        "environment=\"production\"",
        "environment=\"staging\"",
    );
    promtool_passes(&promtool, &rules, &tests);
}

/// Each bad input exits 2, names the problem, and writes nothing.
#[test]
fn bad_input_exits_2_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("rules.yml");
    let out = out_file.to_str().unwrap();
    let bad_spec = dir.path().join("bad.toml");
    std::fs::write(&bad_spec, "[margins]\nerorr_ratio = 0.01\n").unwrap();
    let missing_dir = dir.path().join("nope/rules.yml");
    let cases: [(Vec<&str>, &str); 4] = [
        (
            vec![
                "--production",
                "env=\"p\"",
                "--staging",
                "{env=\"p\"}",
                "--out",
                out,
            ],
            "can select the same series",
        ),
        (
            vec![
                "--production",
                "env=\"p\"",
                "--staging",
                "env=\"p\", canary=\"1\"",
                "--out",
                out,
            ],
            "can select the same series",
        ),
        (
            vec![
                "--production",
                "env=\"p\"",
                "--staging",
                "env=\"s\"",
                "--spec",
                bad_spec.to_str().unwrap(),
                "--out",
                out,
            ],
            "erorr_ratio",
        ),
        (
            vec![
                "--production",
                "env=\"p\"",
                "--staging",
                "env=\"s\"",
                "--out",
                missing_dir.to_str().unwrap(),
            ],
            "does not exist",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["alerts"];
        all.extend(args.iter().copied());
        let res = prodlike(&all);
        let said = text(&res);
        assert_eq!(res.status.code(), Some(2), "{args:?}: {said}");
        assert!(
            said.contains(expected),
            "{args:?}: `{expected}` not in {said}"
        );
        assert!(!out_file.exists(), "{args:?} wrote {out}");
        assert!(!missing_dir.parent().unwrap().exists());
    }
}
