//! Rendered overlays pair without rules: `kubectl kustomize` renders a production and a staging
//! overlay of one base (tests/fixtures/kustomize: `namePrefix` and a namespace per environment),
//! and drift pairs every object by environment token or name prefix, reports the name and
//! namespace differences as renames that rules can accept, and the real differences inside.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
mod common;

use std::path::Path;

use common::check_lines;
use prodlike_drift::{Change, Date, DriftReport, RuleSet, Status, compare_paths};

fn render(overlay: &str, out: &Path) -> bool {
    let Some(kubectl) = prodlike_testkit::require::program("kubectl", "kubectl") else {
        return false;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kustomize")
        .join(overlay);
    let o = std::process::Command::new(kubectl)
        .arg("kustomize")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(out, o.stdout).unwrap();
    true
}

fn run(rules: &str) -> Option<(DriftReport, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    for side in ["baseline", "candidate"] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
    }
    let (b, c) = (
        dir.path().join("baseline/rendered.yaml"),
        dir.path().join("candidate/rendered.yaml"),
    );
    if !render("production", &b) || !render("staging", &c) {
        return None;
    }
    let rules = RuleSet::parse(rules, Date::parse("2026-06-01").unwrap()).unwrap();
    let r = compare_paths(&b, &c, &rules, None).unwrap();
    Some((r, dir))
}

#[test]
fn rendered_overlays_pair_every_object_without_rules() {
    let Some((r, dir)) = run("") else { return };
    let whole: Vec<_> = r
        .findings
        .iter()
        .filter(|f| matches!(f.change, Change::Added | Change::Removed) && f.path.is_empty())
        .collect();
    assert!(whole.is_empty(), "unpaired objects: {whole:#?}");
    assert_eq!(r.summary.objects, 3);
    let renames: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.change == Change::Renamed)
        .map(|f| (f.object.clone().unwrap_or_default(), f.path.clone()))
        .collect();
    for o in [
        "ConfigMap/staging/stg-settings",
        "Service/staging/stg-web",
        "Deployment/staging/stg-web",
    ] {
        for p in ["metadata.name", "metadata.namespace"] {
            assert!(
                renames.contains(&(o.to_string(), p.to_string())),
                "{o} {p}: {renames:?}"
            );
        }
    }
    let name = r
        .findings
        .iter()
        .find(|f| {
            f.path == "metadata.name" && f.object.as_deref() == Some("Deployment/staging/stg-web")
        })
        .unwrap();
    assert!(
        name.note
            .as_deref()
            .unwrap()
            .contains("Deployment/prod/prod-web paired with Deployment/staging/stg-web"),
        "{name:#?}"
    );
    // The real differences inside are reported.
    let has = |p: &str| {
        r.findings
            .iter()
            .any(|f| f.path == p && f.status == Status::Drift)
    };
    assert!(has("spec.replicas"));
    assert!(has("spec.template.spec.containers[name=web].image"));
    assert!(has("data.FEATURE_CHECKOUT_V2"));
    let root = format!(
        "{}|{}",
        dir.path().join("baseline").display(),
        dir.path().join("candidate").display()
    );
    assert!(check_lines(&r, Path::new(&root)) >= 10);
}

#[test]
fn rules_accept_the_environment_renames() {
    let rules = r#"
[[rule]]
kind = "rename"
from = "prod-"
to = "stg-"
reason = "kustomize namePrefix per environment"

[[rule]]
kind = "map"
path = "metadata.namespace"
values = { prod = "staging" }
reason = "one namespace per environment"

[[rule]]
kind = "scale"
path = "spec.replicas"
factor = 0.5
reason = "staging runs half the pods"
"#;
    let Some((r, _dir)) = run(rules) else { return };
    let drift: Vec<_> = r.drift().map(|f| f.path.as_str()).collect();
    // Only the real differences remain: the image tag and the feature flag.
    assert_eq!(
        drift,
        vec![
            "data.FEATURE_CHECKOUT_V2",
            "spec.template.spec.containers[name=web].image"
        ],
        "{:#?}",
        r.findings
    );
    assert!(
        r.findings
            .iter()
            .filter(|f| f.change == Change::Renamed)
            .all(|f| f.status == Status::Accepted)
    );
}
