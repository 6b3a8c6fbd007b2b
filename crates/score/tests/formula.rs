#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
//! The score formula (docs/report.md) on real result documents (crates/results/tests/fixtures,
//! written by the commands): a missing component is never perfect, a failed critical component
//! caps the score, weights are respected, and a planted regression lowers the score by its
//! documented amount and heads the losses — also across two runs of the history, which names it
//! as the cause of the drop.
use std::path::PathBuf;
use std::time::Duration;

use prodlike_results::AnyResult;
use prodlike_results::report::{Component, ComponentState, LossKind};
use prodlike_score::{HistoryTarget, Options, ReportConfig, Resolved, evaluate};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../results/tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn doc(v: &Value) -> AnyResult {
    prodlike_results::from_slice(&serde_json::to_vec(v).unwrap()).unwrap()
}

fn config(text: &str) -> Resolved {
    ReportConfig::parse(text).unwrap().resolve().unwrap()
}

/// The drift fixture with nothing to resolve (its one drift finding and expired rule gone).
fn clean_drift() -> Value {
    let mut d = fixture("drift-1.json");
    let findings = d["data"]["findings"].as_array_mut().unwrap();
    findings.retain(|f| f["status"] != "drift");
    d["data"]["summary"]["drift"] = 0.into();
    for r in d["data"]["rules"].as_array_mut().unwrap() {
        if r["state"] == "expired" {
            r["state"] = "unused".into();
        }
    }
    d
}

/// The shadow fixture with every mirrored response answered as production did.
fn clean_shadow() -> Value {
    let mut s = fixture("shadow-2.json");
    for r in s["data"]["routes"].as_array_mut().unwrap() {
        r["mismatched"] = 0.into();
        r["staging_failures"] = 0.into();
    }
    s
}

/// One drift finding no rule accepts: the planted regression.
fn plant_drift(d: &mut Value) {
    let finding = serde_json::json!({
        "file": "app/values.yaml", "object": null, "path": "db.pool_size",
        "change": "changed", "status": "drift", "baseline": 50, "candidate": 5,
        "secret": false, "rule": null, "reason": null, "note": null, "line": 12
    });
    d["data"]["findings"].as_array_mut().unwrap().push(finding);
    d["data"]["summary"]["drift"] = 1.into();
}

fn inputs(docs: &[(&str, &Value)]) -> Vec<(String, AnyResult)> {
    docs.iter()
        .map(|(n, v)| ((*n).to_owned(), doc(v)))
        .collect()
}

#[test]
fn a_missing_component_is_not_perfect() {
    // A configuration without a single difference: configuration scores 100, and the total is
    // still only its share, because the other five components were not measured.
    let cfg = Resolved::default();
    let (c, _) = evaluate(&cfg, &inputs(&[("drift.json", &clean_drift())]));
    let conf = c
        .components
        .iter()
        .find(|x| x.component == Component::Configuration)
        .unwrap();
    assert_eq!(conf.score, Some(100.0));
    assert!((c.score - 15.0).abs() < 1e-9, "{}", c.score);
    for x in c
        .components
        .iter()
        .filter(|x| x.component != Component::Configuration)
    {
        assert_eq!(x.state, ComponentState::Missing, "{x:?}");
        assert_eq!(x.score, None);
        assert_eq!(x.points, 0.0);
    }
    let missing: f64 = c
        .losses
        .iter()
        .filter(|l| l.kind == LossKind::Missing)
        .map(|l| l.points)
        .sum();
    assert!((missing - 85.0).abs() < 1e-9, "{missing}");
    // Losses explain every point: they add up to 100 − score.
    let lost: f64 = c.losses.iter().map(|l| l.points).sum();
    assert!((lost + c.score - 100.0).abs() < 1e-9);
}

#[test]
fn a_result_that_decides_nothing_is_not_a_pass() {
    // A shadow result in which nothing was compared: the component is inconclusive and earns
    // nothing, where "no mismatches" would have been a perfect 100.
    let mut s = fixture("shadow-2.json");
    for r in s["data"]["routes"].as_array_mut().unwrap() {
        for f in ["compared", "mismatched", "staging_failures"] {
            r[f] = 0.into();
        }
    }
    let (c, _) = evaluate(&Resolved::default(), &inputs(&[("shadow.json", &s)]));
    let t = &c.components[0];
    assert_eq!(t.component, Component::Traffic);
    assert_eq!(t.state, ComponentState::Inconclusive);
    assert_eq!(t.points, 0.0);
    assert_eq!(c.score, 0.0);
}

#[test]
fn a_critical_failure_caps_the_score() {
    let drift = fixture("drift-1.json"); // one drift finding: configuration failed
    let verify = fixture("data.verify-1.json");
    let docs = inputs(&[("drift.json", &drift), ("verify.json", &verify)]);
    let weights = "[weights]\ntraffic = 0\nschema = 0\nobservability = 0\nbehaviour = 0\n\
                   configuration = 50\ndata = 50\n";
    let (free, _) = evaluate(&config(weights), &docs);
    assert!(free.cap.is_none());
    assert!(free.score > 90.0, "{}", free.score);
    let (capped, _) = evaluate(
        &config(&format!(
            "critical = [\"configuration\"]\ncritical_cap = 50\n{weights}"
        )),
        &docs,
    );
    eprintln!(
        "critical configuration failed: uncapped {:.2} → capped {:.2}",
        capped.uncapped, capped.score
    );
    assert_eq!(capped.score, 50.0);
    assert!((capped.uncapped - free.score).abs() < 1e-9);
    let cap = capped.cap.as_ref().unwrap();
    assert_eq!(cap.components, [Component::Configuration]);
    // The cap says so, as a loss of its own, the worst here.
    let first = &capped.losses[0];
    assert_eq!(first.kind, LossKind::Cap);
    assert!((first.points - (free.score - 50.0)).abs() < 1e-9);
    assert!(first.subject.contains("configuration"), "{first:?}");
    // A critical component that did not fail caps nothing.
    let (ok, _) = evaluate(
        &config(&format!("critical = [\"data\"]\n{weights}")),
        &inputs(&[
            ("drift.json", &drift),
            ("verify.json", &fixture("data.verify-1.json")),
        ]),
    );
    let data_failed = ok
        .components
        .iter()
        .any(|x| x.component == Component::Data && x.failed);
    assert_eq!(ok.cap.is_some(), data_failed);
}

#[test]
fn the_weights_are_respected() {
    let docs = inputs(&[
        ("drift.json", &fixture("drift-1.json")),
        ("verify.json", &fixture("data.verify-1.json")),
        ("shadow.json", &fixture("shadow-2.json")),
    ]);
    for weights in [
        "[weights]\ntraffic = 1\ndata = 1\nconfiguration = 1\nschema = 0\nobservability = 0\nbehaviour = 0\n",
        "[weights]\ntraffic = 10\ndata = 1\nconfiguration = 1\nschema = 0\nobservability = 0\nbehaviour = 0\n",
        "[weights]\ntraffic = 0\ndata = 3\nconfiguration = 1\nschema = 0\nobservability = 0\nbehaviour = 0\n",
    ] {
        let cfg = config(weights);
        let (c, _) = evaluate(&cfg, &docs);
        let sum: f64 = cfg.weights.values().sum();
        let expected: f64 = c
            .components
            .iter()
            .map(|x| cfg.weights[&x.component] / sum * x.score.unwrap_or(0.0))
            .sum();
        assert!(
            (c.score - expected).abs() < 1e-9,
            "{weights}: {} vs {expected}",
            c.score
        );
        for x in &c.components {
            assert!((x.share - cfg.weights[&x.component] / sum).abs() < 1e-12);
        }
    }
    // Weighting traffic (the worst component here) more lowers the total.
    let (even, _) = evaluate(
        &config(
            "[weights]\ntraffic = 1\ndata = 1\nconfiguration = 1\nschema = 0\nobservability = 0\nbehaviour = 0\n",
        ),
        &docs,
    );
    let (heavy, _) = evaluate(
        &config(
            "[weights]\ntraffic = 10\ndata = 1\nconfiguration = 1\nschema = 0\nobservability = 0\nbehaviour = 0\n",
        ),
        &docs,
    );
    let traffic = even.components[0].score.unwrap();
    assert!(
        traffic < 100.0 && heavy.score < even.score,
        "{} vs {}",
        heavy.score,
        even.score
    );
}

const MEASURED: &str = "[weights]\ntraffic = 25\ndata = 20\nconfiguration = 15\nschema = 0\nobservability = 0\nbehaviour = 0\n";

#[test]
fn a_planted_regression_costs_its_documented_amount_and_heads_the_losses() {
    let cfg = config(MEASURED);
    let (shadow, verify) = (clean_shadow(), fixture("data.verify-1.json"));
    let good = clean_drift();
    let mut bad = clean_drift();
    plant_drift(&mut bad);
    let (before, _) = evaluate(
        &cfg,
        &inputs(&[("s.json", &shadow), ("v.json", &verify), ("d.json", &good)]),
    );
    let (after, _) = evaluate(
        &cfg,
        &inputs(&[("s.json", &shadow), ("v.json", &verify), ("d.json", &bad)]),
    );
    // docs/report.md: one drift finding costs DRIFT_PENALTY (10) points of configuration,
    // i.e. 10 × 15 / (25 + 20 + 15) = 2.5 points of the total.
    let documented = prodlike_score::sources::drift::DRIFT_PENALTY * 15.0 / 60.0;
    assert!((documented - 2.5).abs() < 1e-12);
    assert!(
        ((before.score - after.score) - documented).abs() < 1e-9,
        "{} → {}",
        before.score,
        after.score
    );
    eprintln!(
        "planted drift finding: {:.2} → {:.2} (documented {documented}); head: {:?}",
        before.score, after.score, after.losses[0]
    );
    let head = &after.losses[0];
    assert_eq!(head.component, Component::Configuration);
    assert!(head.subject.contains("db.pool_size"), "{head:?}");
    assert!((head.points - documented).abs() < 1e-9);
    assert!(head.command.starts_with("prodlike drift "), "{head:?}");
}

#[test]
fn the_history_names_the_drop_and_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, v: &Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
        p
    };
    let shadow = write("shadow.json", &clean_shadow());
    let verify = write("verify.json", &fixture("data.verify-1.json"));
    let good = write("good.json", &clean_drift());
    let mut planted = clean_drift();
    plant_drift(&mut planted);
    let bad = write("bad.json", &planted);
    let opts = |drift: &PathBuf| Options {
        config: config(MEASURED),
        files: vec![shadow.clone(), verify.clone(), drift.clone()],
        history: Some(HistoryTarget {
            target: dir.path().join("h/history.db").display().to_string(),
            wait: Duration::from_secs(5),
        }),
        min_score: None,
        fail_on_critical: false,
        trend_runs: 10,
    };
    let first = prodlike_score::run(&opts(&good)).unwrap();
    assert_eq!(first.run, Some(1));
    assert!(first.previous.is_none());
    let second = prodlike_score::run(&opts(&bad)).unwrap();
    assert_eq!(second.run, Some(2));
    let prev = second.previous.as_ref().unwrap();
    assert_eq!(prev.run, 1);
    assert!((prev.delta + 2.5).abs() < 0.011, "{prev:?}");
    let cause = prev.cause.as_deref().unwrap();
    assert!(
        cause.starts_with("configuration fell from 100.0 to 90.0")
            && cause.contains("new: app/values.yaml db.pool_size"),
        "{cause}"
    );
    assert_eq!(second.trend.len(), 2);
    assert_eq!(second.trend[0].run, 1);
    // The gate reads the same score.
    let mut gated = opts(&bad);
    gated.min_score = Some(second.score + 0.5);
    let third = prodlike_score::run(&gated).unwrap();
    assert!(!third.gate.passed);
    assert_eq!(
        prodlike_score::outcome(&third),
        prodlike_report::Outcome::Finding
    );
}

#[test]
fn a_collector_drift_is_scored_as_observability_by_its_file() {
    // Two drift results: the application's files (configuration), and the OpenTelemetry
    // Collector pack's (observability parity, drift's collector rules), told apart by `[files]`.
    let cfg = config("[files]\n\"reports/otel-*.json\" = \"observability\"\n");
    let mut collector = clean_drift();
    plant_drift(&mut collector);
    let (c, described) = evaluate(
        &cfg,
        &inputs(&[
            ("reports/app-drift.json", &clean_drift()),
            ("reports/otel-drift.json", &collector),
        ]),
    );
    let of = |k: Component| c.components.iter().find(|x| x.component == k).unwrap();
    assert_eq!(of(Component::Configuration).score, Some(100.0));
    let obs = of(Component::Observability);
    assert_eq!(obs.state, ComponentState::Scored, "{obs:?}");
    assert!(obs.score.unwrap() < 100.0, "{obs:?}");
    assert!(
        described
            .iter()
            .any(|i| i.file == "reports/otel-drift.json"
                && i.sources == ["drift.files → observability"]),
        "{described:?}"
    );
    // A bad pattern or component names the field.
    let e = ReportConfig::parse("[files]\n\"x.json\" = \"vibes\"\n")
        .and_then(|c| c.resolve())
        .unwrap_err();
    assert!(
        e.contains("files.\"x.json\"") && e.contains("unknown component"),
        "{e}"
    );
}
