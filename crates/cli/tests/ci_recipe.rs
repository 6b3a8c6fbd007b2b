#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
//! examples/ci/prodlike-nightly.yml, the CI recipe of docs/report.md: valid YAML with the shape
//! of a GitHub Actions workflow, its steps in the order the recipe promises (masked sync,
//! verify, drift, compare, report with a gate, Markdown into the job summary), and every
//! prodlike command in it accepted by this build's argument parser.
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn workflow() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ci/prodlike-nightly.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn steps(w: &Value) -> Vec<(String, String)> {
    let jobs = w["jobs"].as_object().expect("jobs");
    assert_eq!(jobs.len(), 1);
    let job = jobs.values().next().unwrap();
    assert!(job["runs-on"].is_string());
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert!(s["name"].is_string(), "every step is named: {s}");
            assert!(
                s["run"].is_string() ^ s["uses"].is_string(),
                "a step runs or uses: {s}"
            );
            (
                s["name"].as_str().unwrap().to_owned(),
                s["run"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_workflow_is_a_valid_github_actions_workflow() {
    let w = workflow();
    assert!(w["name"].is_string());
    // `on` is a YAML 1.1 boolean to some parsers; serde-saphyr reads it as the key it is.
    let on = &w["on"];
    assert!(on["schedule"][0]["cron"].is_string(), "{w}");
    assert!(w["concurrency"]["group"].is_string(), "one sync at a time");
}

#[test]
fn the_steps_come_in_the_recipes_order() {
    let steps = steps(&workflow());
    let position = |needle: &str| {
        steps
            .iter()
            .position(|(_, run)| run.contains(needle))
            .unwrap_or_else(|| panic!("no step runs `{needle}`: {steps:?}"))
    };
    let order = [
        position("prodlike data sync"),
        position("prodlike data verify"),
        position("prodlike drift deploy/"),
        position("compare prometheus"),
        position("prodlike report"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    let report = &steps[order[4]].1;
    for flag in [
        "--min-score",
        "--fail-on critical",
        "--format markdown",
        "GITHUB_STEP_SUMMARY",
        "--history-db",
    ] {
        assert!(report.contains(flag), "{flag}: {report}");
    }
}

/// Splits a folded `run:` into words as a shell would for these simple commands: quotes
/// removed, variables replaced by a placeholder path.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn every_prodlike_command_parses() {
    for (name, run) in steps(&workflow()) {
        let Some(start) = run.find("prodlike ") else {
            continue;
        };
        if run.contains("cargo install") {
            continue;
        }
        // The command ends where the shell takes over (`||`, `|`).
        let cmd = run[start..].split(" |").next().unwrap();
        let mut args: Vec<String> = words(cmd)
            .into_iter()
            .skip(1)
            .map(|w| w.replace("$RESULTS", "/nonexistent/results"))
            .collect();
        // Parsing only: `--help` after the arguments makes clap check them, then print help.
        args.push("--help".into());
        let o = Command::new(env!("CARGO_BIN_EXE_prodlike"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{name}: {args:?}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
