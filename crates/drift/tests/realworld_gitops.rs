//! `prodlike drift` on a public GitOps repository with production and staging clusters
//! (testdata/realworld/gitops/flux2-kustomize-helm-example, Apache-2.0): the differing part of
//! long and multi-line values is shown in every rendering, every reported line is the value's
//! line in its own file, and the rules say what they accepted, rejected and lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
mod common;

use std::path::{Path, PathBuf};

use common::check_lines;
use prodlike_drift::report::RuleState;
use prodlike_drift::{Date, DriftReport, RuleSet, Status, compare_paths, render};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/realworld/gitops/flux2-kustomize-helm-example")
        .join(rel)
}

fn run(b: &str, c: &str, rules: &str) -> DriftReport {
    let rules = RuleSet::parse(rules, Date::parse("2026-06-01").unwrap()).unwrap();
    compare_paths(&repo(b), &repo(c), &rules, None).unwrap()
}

fn roots(b: &str, c: &str) -> PathBuf {
    PathBuf::from(format!("{}|{}", repo(b).display(), repo(c).display()))
}

#[test]
fn the_acme_server_difference_is_shown_inside_the_patch() {
    let r = run("clusters/production", "clusters/staging", "");
    let patch = r
        .findings
        .iter()
        .find(|f| f.path.ends_with(".patch"))
        .expect("the patch differs");
    let text = render::text(&r, false);
    assert!(
        text.contains("-  value: https://acme-v02.api.letsencrypt.org/directory"),
        "{text}"
    );
    assert!(
        text.contains("+  value: https://acme-staging-v02.api.letsencrypt.org/directory"),
        "{text}"
    );
    let md = render::markdown(&r);
    assert!(
        md.contains("```diff") && md.contains("acme-staging-v02"),
        "{md}"
    );
    let sarif = render::sarif(&r).to_string();
    assert!(sarif.contains("acme-staging-v02"), "{sarif}");
    // JSON keeps the full values.
    let full = patch.candidate.as_ref().unwrap().as_str().unwrap();
    assert!(
        full.starts_with("- op: replace\n") && full.ends_with("directory\n"),
        "{full}"
    );
    // The patch's line: `- patch: |` is line 35; the differing `value:` line is 38.
    assert_eq!(patch.baseline_at.as_ref().map(|l| l.line), Some(38));
    assert_eq!(patch.candidate_at.as_ref().map(|l| l.line), Some(38));
    let n = check_lines(&r, &roots("clusters/production", "clusters/staging"));
    assert!(n >= 6, "{n} locations checked");
    // copy[1].from is on its own line (23 in both files), not copy[0]'s (21).
    let from = r
        .findings
        .iter()
        .find(|f| f.path.ends_with("copy[1].from"))
        .unwrap();
    assert_eq!(from.baseline_at.as_ref().map(|l| l.line), Some(23));
    assert_eq!(from.candidate_at.as_ref().map(|l| l.line), Some(23));
}

#[test]
fn rules_say_what_they_accepted_rejected_and_lost() {
    let rules = r#"
[[rule]]
kind = "rename"
from = "production"
to = "staging"
reason = "environment name"

[[rule]]
kind = "scale"
path = "spec.interval"
factor = 0.5
reason = "staging reconciles twice as often"

[[rule]]
kind = "pattern"
path = "spec.values.httpRoute.hostnames"
regex = '\.staging$'
reason = "staging hosts"

[[rule]]
kind = "ignore"
path = "spec.values.**"
reason = "values are reviewed elsewhere"

[[rule]]
kind = "map"
path = "spec.chart.spec.version"
values = { ">=1.0.0" = ">=1.0.0" }
reason = "charts pinned alike"

[[rule]]
kind = "ignore"
path = "spec.nothing.here"
reason = "a typo"
"#;
    let r = run("apps/production", "apps/staging", rules);
    let state = |i: usize| r.rules.iter().find(|u| u.index == i).unwrap();
    // The hostname: accepted by the rename (rule 1); the pattern (3) and the ignore (4) lose to it.
    let host = r
        .findings
        .iter()
        .find(|f| f.path.contains("hostnames"))
        .unwrap();
    assert_eq!(
        (host.status, host.rule),
        (Status::Accepted, Some(1)),
        "{host:#?}"
    );
    assert_eq!(state(3).shadowed, 1, "{:#?}", state(3));
    assert_eq!(state(3).state, RuleState::Shadowed);
    assert_eq!(state(4).shadowed, 1);
    // The chart version: the map rule matched but rejected it, with the reason.
    assert_eq!(state(5).state, RuleState::Rejected, "{:#?}", state(5));
    assert_eq!(state(5).rejected_count, 1);
    assert!(
        state(5).rejected[0].contains("map rule 5 allows >=1.0.0 → >=1.0.0, found >=1.0.0-alpha"),
        "{:?}",
        state(5).rejected
    );
    assert_eq!(state(6).state, RuleState::Unused);
    let text = render::text(&r, false);
    assert!(text.contains("matched but rejected 1"), "{text}");
    assert!(text.contains("shadowed by an earlier rule 1"), "{text}");
    assert!(text.contains("matched nothing"), "{text}");
    check_lines(&r, &roots("apps/production", "apps/staging"));
}
