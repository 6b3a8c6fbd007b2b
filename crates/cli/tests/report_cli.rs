#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
//! `prodlike report` as a user runs it: history growing, gate exit codes, inconclusive, the
//! outputs (markdown, json, --show-history, --html checked in headless Chromium with a
//! screenshot), bad input (unknown schema or version, truncated JSON, a locked or corrupt
//! history: exit 2, history untouched) and two reports written at once.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use prodlike_testkit::process::output_text;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_prodlike");

fn prodlike(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("report")
        .args(args)
        .env("PRODLIKE_LOG", "warn")
        .output()
        .unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/tests/fixtures")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// A folder with a history already holding one run of the three fixtures.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let s = Setup {
            dir: tempfile::tempdir().unwrap(),
        };
        let o = s.report(&[]);
        assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
        s
    }

    fn db(&self) -> String {
        self.dir.path().join("history.db").display().to_string()
    }

    fn report(&self, extra: &[&str]) -> Output {
        let (shadow, drift, verify) = (
            fixture("shadow-2.json"),
            fixture("drift-1.json"),
            fixture("data.verify-1.json"),
        );
        let db = self.db();
        let mut args = vec![
            shadow.as_str(),
            drift.as_str(),
            verify.as_str(),
            "--history-db",
            db.as_str(),
            "--project",
            "shop",
        ];
        args.extend_from_slice(extra);
        prodlike(&args)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

fn runs_in(db: &str) -> Vec<(i64, Option<i64>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, previous_run FROM prodlike_report_runs ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_history_grows_and_shows_its_trend() {
    let s = Setup::new();
    let o = s.report(&[]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("since run 1"), "{text}");
    assert!(text.contains("history: run 2"), "{text}");
    assert!(text.contains("Points lost, worst first"), "{text}");
    let o = prodlike(&[
        "--show-history",
        "--history-db",
        &s.db(),
        "--project",
        "shop",
    ]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("History of shop/staging: 2 runs"), "{text}");
    assert!(text.contains("trend"), "{text}");
    // Another project has no runs.
    let o = prodlike(&[
        "--show-history",
        "--history-db",
        &s.db(),
        "--project",
        "other",
    ]);
    assert!(output_text(&o).contains("0 runs"));
}

#[test]
fn the_gate_sets_the_exit_code() {
    let s = Setup::new();
    let o = s.report(&["--min-score", "99"]);
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert!(
        output_text(&o).contains("gate: FAILED: score"),
        "{}",
        output_text(&o)
    );
    let o = s.report(&["--min-score", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    // The drift fixture has a difference to resolve: configuration failed.
    let cfg = s.write(
        "report.toml",
        "critical = [\"configuration\"]\ncritical_cap = 20\n",
    );
    let o = s.report(&["--config", &cfg, "--fail-on", "critical"]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("critical component configuration failed"),
        "{text}"
    );
    assert!(text.contains("capped at 20 from"), "{text}");
    let o = s.report(&["--min-score", "101"]);
    assert_eq!(o.status.code(), Some(2), "{}", output_text(&o));
}

#[test]
fn a_component_that_decided_nothing_is_inconclusive() {
    let s = Setup::new();
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("shadow-2.json")).unwrap()).unwrap();
    for r in doc["data"]["routes"].as_array_mut().unwrap() {
        for f in ["compared", "mismatched", "staging_failures"] {
            r[f] = 0.into();
        }
    }
    let file = s.write("empty-shadow.json", &doc.to_string());
    let o = prodlike(&[&file, "--no-history"]);
    assert_eq!(o.status.code(), Some(3), "{}", output_text(&o));
    let o = Command::new(BIN)
        .args(["--allow-inconclusive", "report", &file, "--no-history"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
}

#[test]
fn markdown_and_json_outputs() {
    let s = Setup::new();
    let o = s.report(&["--format", "markdown"]);
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(md.starts_with("## prodlike: Fidelity score"), "{md}");
    assert!(md.contains("since run 1"), "{md}");
    assert!(
        md.contains("| component | weight | score | points |"),
        "{md}"
    );
    assert!(md.contains("**Top losses**"), "{md}");
    let out = s.dir.path().join("r.json");
    let o = s.report(&["--format", "json", "--out", out.to_str().unwrap()]);
    let printed: Value = serde_json::from_slice(&o.stdout).unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(printed["schema"], "prodlike.report/1");
    assert_eq!(printed["data"], written["data"]);
    let data = &printed["data"];
    let lost: f64 = data["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["points"].as_f64().unwrap())
        .sum();
    let score = data["score"].as_f64().unwrap();
    assert!((lost + score - 100.0).abs() < 0.1, "{lost} + {score}");
    assert_eq!(data["previous"]["run"], 2);
}

#[test]
fn bad_input_exits_2_and_leaves_the_history_intact() {
    let s = Setup::new();
    let before = std::fs::read(s.db()).unwrap();
    let text = std::fs::read_to_string(fixture("drift-1.json")).unwrap();
    let cases = [
        (
            s.write(
                "unknown.json",
                &text.replace("prodlike.drift/1", "prodlike.teleport/1"),
            ),
            "unknown result schema `prodlike.teleport/1`",
        ),
        (
            s.write(
                "future.json",
                &text.replace("prodlike.drift/1", "prodlike.drift/9"),
            ),
            "reads versions 1 to 1",
        ),
        (
            s.write("truncated.json", &text[..text.len() / 2]),
            "not JSON",
        ),
    ];
    for (file, expected) in &cases {
        let o = s.report(&[file.as_str()]);
        let out = output_text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(
            out.contains(expected) && out.contains(file.as_str()),
            "{out}"
        );
        assert_eq!(
            std::fs::read(s.db()).unwrap(),
            before,
            "{file} changed the history"
        );
    }
    assert_eq!(runs_in(&s.db()).len(), 1);
}

#[test]
fn a_corrupt_or_locked_history_exits_2_untouched() {
    let s = Setup::new();
    // Locked: another writer holds the file.
    let holder = rusqlite::Connection::open(s.db()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let o = s.report(&["--history-wait", "100ms"]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("locked by another writer"), "{text}");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(runs_in(&s.db()).len(), 1);
    // Corrupt: not a database at all.
    let corrupt = s.dir.path().join("corrupt.db");
    let garbage = b"this is not a database, it is a note left here by mistake\n".repeat(200);
    std::fs::write(&corrupt, &garbage).unwrap();
    let o = prodlike(&[
        &fixture("drift-1.json"),
        "--history-db",
        corrupt.to_str().unwrap(),
    ]);
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains("not a database") && text.contains("corrupt.db"),
        "{text}"
    );
    assert_eq!(std::fs::read(&corrupt).unwrap(), garbage);
}

#[test]
fn two_reports_at_once_leave_a_consistent_history() {
    let s = Setup::new();
    let db = s.db();
    let spawn = || {
        Command::new(BIN)
            .args([
                "report",
                &fixture("drift-1.json"),
                "--history-db",
                &db,
                "--project",
                "shop",
            ])
            .env("PRODLIKE_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    for _ in 0..3 {
        let (a, b) = (spawn(), spawn());
        for child in [a, b] {
            let o = child.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
        }
    }
    let runs = runs_in(&db);
    assert_eq!(runs.len(), 7);
    for w in runs.windows(2) {
        assert_eq!(w[1].1, Some(w[0].0), "{runs:?}");
    }
}

#[test]
fn the_html_report_renders_in_chromium() {
    let s = Setup::new();
    let html = s.dir.path().join("report.html");
    let o = s.report(&["--html", html.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    let Some(chromium) = prodlike_testkit::browser::Chromium::find() else {
        return;
    };
    let page = format!("file://{}", html.display());
    let dom = chromium.dump_dom(&page, 2000).unwrap();
    for id in [
        "score",
        "delta",
        "components",
        "chart-trend",
        "chart-losses",
        "losses",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert_eq!(dom.matches("<svg").count(), 2);
    assert!(dom.contains("Score per component, by run"));
    assert!(
        dom.contains("/item.json"),
        "the worst traffic loss is listed"
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let png = shots.join("report.png");
    chromium.screenshot(&page, &png, 1280, 1800, 2000).unwrap();
    assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
    eprintln!("screenshot: {}", png.display());
}
