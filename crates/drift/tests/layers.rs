//! Layered Helm values: base plus a production overlay compared with base plus a staging
//! overlay (tests/fixtures/layers), merged as Helm merges (maps deep, lists replaced, null
//! deletes); findings point into the layer that supplied each value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
use std::path::{Path, PathBuf};

use prodlike_drift::{Change, Date, DriftReport, RuleSet, Status, compare_layers};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/layers")
        .join(rel)
}

fn line_of(f: &prodlike_drift::Finding, side: &str) -> (String, usize) {
    let at = if side == "baseline" {
        &f.baseline_at
    } else {
        &f.candidate_at
    };
    let at = at
        .as_ref()
        .unwrap_or_else(|| panic!("no {side} location: {f:#?}"));
    let file = Path::new(&at.file)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    (file, at.line)
}

fn run(rules: &RuleSet) -> DriftReport {
    let (b, c) = rules.layers.clone().unwrap();
    compare_layers(&b, &c, rules, None).unwrap()
}

#[test]
fn overlays_on_one_base_compare_as_helm_merges_them() {
    let rules = RuleSet::load(&fixture("drift.toml"), Date::parse("2026-06-01").unwrap()).unwrap();
    let r = run(&rules);
    let find = |p: &str| {
        r.findings
            .iter()
            .find(|f| f.path == p)
            .unwrap_or_else(|| panic!("no {p}: {:#?}", r.findings))
    };
    // Keys only in the base are on both sides: nothing of the base is reported as added.
    assert!(
        r.findings
            .iter()
            .all(|f| !f.path.starts_with("image.repository"))
    );
    assert!(
        r.findings
            .iter()
            .all(|f| !f.path.starts_with("podAnnotations.team"))
    );
    // Overlay values, each located in its own layer.
    let tag = find("image.tag");
    assert_eq!(tag.change, Change::Changed);
    assert_eq!(
        line_of(tag, "baseline"),
        ("values-production.yaml".into(), 3)
    );
    assert_eq!(line_of(tag, "candidate"), ("values-staging.yaml".into(), 3));
    // `null` deletes: tracing and the whole autoscaling map are gone from staging.
    let tracing = find("podAnnotations.tracing");
    assert_eq!(tracing.change, Change::Removed);
    assert_eq!(line_of(tracing, "baseline"), ("values.yaml".into(), 17));
    let auto = find("autoscaling");
    assert_eq!(auto.change, Change::Removed);
    assert_eq!(
        line_of(auto, "baseline"),
        ("values-production.yaml".into(), 11)
    );
    // Lists are replaced, not merged: the host differs by position.
    let host = find("ingress.hosts[0].host");
    assert_eq!((host.status, host.rule), (Status::Accepted, Some(3)));
    assert_eq!(
        line_of(host, "candidate"),
        ("values-staging.yaml".into(), 9)
    );
    // Rules judge the merged values: half the pods, half the memory.
    assert_eq!(find("replicaCount").status, Status::Accepted);
    assert_eq!(find("resources.limits.memory").status, Status::Accepted);
    assert_eq!(r.summary.drift, 3, "{:#?}", r.findings);
}

#[test]
fn a_layer_that_does_not_exist_is_named() {
    let rules = RuleSet::default();
    let e = compare_layers(
        &[fixture("values.yaml"), fixture("nope.yaml")],
        &[fixture("values.yaml")],
        &rules,
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("nope.yaml"), "{e}");
    let e = RuleSet::parse(
        "[layers]\nbaseline = []\ncandidate = [\"a.yaml\"]\n",
        Date::parse("2026-06-01").unwrap(),
    )
    .unwrap_err();
    assert_eq!(e.place, "layers.baseline");
}
