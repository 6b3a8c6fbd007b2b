//! Every finding points at the line of its value, in each side's own file: identity keys
//! written last, flow style, multi-document files, anchors, JSON, removed items under the
//! baseline's file; and a property test over YAML written with shuffled key orders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
mod common;

use common::check_lines;
use prodlike_drift::{Change, Date, DriftReport, RuleSet, compare_paths};
use proptest::prelude::*;

fn today() -> Date {
    Date::parse("2026-06-01").unwrap()
}

/// Compares two texts written as `name` in two directories.
fn compare(name: &str, b: &str, c: &str, rules: &str) -> (DriftReport, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (side, text) in [("baseline", b), ("candidate", c)] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
        std::fs::write(dir.path().join(side).join(name), text).unwrap();
    }
    let rules = RuleSet::parse(rules, today()).unwrap();
    let r = compare_paths(
        &dir.path().join("baseline"),
        &dir.path().join("candidate"),
        &rules,
        None,
    )
    .unwrap();
    (r, dir)
}

#[test]
fn identity_keys_last_flow_style_documents_and_anchors() {
    let b = "\
defaults: &defaults
  timeout: 30
  retries: 3
merged:
  <<: *defaults
  name: m
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - image: web:1
        ports: [{containerPort: 80}]
        name: web
      - image: envoy:1
        name: sidecar
  copy:
  - from: a/**
    to: x/
  - from: b/**
    to: y/
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {mode: fast, level: '3', gone: yes-please}
";
    let c = "\
defaults: &defaults
  timeout: 60
  retries: 3
merged:
  <<: *defaults
  name: m
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {mode: slow, level: '3'}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - image: envoy:2
        name: sidecar
      - image: web:1
        ports: [{containerPort: 8080}]
        name: web
  copy:
  - from: a/**
    to: x/
  - from: c/**
    to: y/
";
    let (r, dir) = compare("all.yaml", b, c, "");
    let paths: Vec<(&str, usize, usize)> = r
        .findings
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                f.baseline_at.as_ref().map_or(0, |l| l.line),
                f.candidate_at.as_ref().map_or(0, |l| l.line),
            )
        })
        .collect();
    // Identity keys written last: the image line, not the `name:` line.
    assert!(
        paths.contains(&("spec.template.spec.containers[name=sidecar].image", 19, 21)),
        "{paths:?}"
    );
    // copy[1].from is the second item's line, not the first's.
    assert!(paths.contains(&("spec.copy[1].from", 24, 29)), "{paths:?}");
    // Anchors: a merged value points at where it is defined.
    assert!(paths.contains(&("merged.timeout", 2, 2)), "{paths:?}");
    // Flow style: the item inside the flow list, on its own line.
    assert!(
        paths
            .iter()
            .any(|(p, b, _)| p.ends_with("[containerPort=80]") && *b == 17)
            && paths
                .iter()
                .any(|(p, _, c)| p.ends_with("[containerPort=8080]") && *c == 24),
        "{paths:?}"
    );
    // Removed keys carry the baseline's line only.
    let gone = r.findings.iter().find(|f| f.path == "data.gone").unwrap();
    assert_eq!(gone.change, Change::Removed);
    assert_eq!(gone.baseline_at.as_ref().map(|l| l.line), Some(30));
    assert!(gone.candidate_at.is_none());
    assert_eq!(gone.baseline_at.as_ref().unwrap().column, Some(38));
    let n = check_lines(&r, dir.path());
    assert!(n >= 8, "only {n} locations checked");
}

#[test]
fn removed_items_point_into_the_baseline_file_in_sarif_too() {
    let b = "items:\n- name: a\n  v: 1\n- name: b\n  v: 2\n- name: c\n  v: 3\n";
    let c = "items:\n- name: a\n  v: 1\n";
    let (r, dir) = compare("v.yaml", b, c, "");
    let gone = r
        .findings
        .iter()
        .find(|f| f.path == "items[name=c]")
        .unwrap();
    let at = gone.baseline_at.as_ref().unwrap();
    assert_eq!((at.file.as_str(), at.line), ("v.yaml", 6));
    check_lines(&r, dir.path());
    let sarif = prodlike_drift::render::sarif(&r);
    let res = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| {
            x["message"]["text"]
                .as_str()
                .unwrap()
                .contains("items[name=c]")
        })
        .unwrap();
    let loc = &res["locations"][0]["physicalLocation"];
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .contains("/baseline/v.yaml"),
        "{loc}"
    );
    assert_eq!(loc["region"]["startLine"], 6);
}

#[test]
fn json_values_have_lines_and_columns() {
    let b = "{\n  \"a\": {\"b\": [1, 2, 3]},\n  \"c\": \"x\"\n}\n";
    let c = "{\n  \"c\": \"y\",\n  \"a\": {\"b\": [1, 2, 4]}\n}\n";
    let (r, dir) = compare("v.json", b, c, "");
    let cf = r.findings.iter().find(|f| f.path == "c").unwrap();
    assert_eq!(cf.baseline_at.as_ref().map(|l| l.line), Some(3));
    assert_eq!(cf.candidate_at.as_ref().map(|l| l.line), Some(2));
    assert!(check_lines(&r, dir.path()) >= 4);
}

/// One generated document: keys and scalar values, and a list of named items whose keys are
/// written in a shuffled order (the identity key anywhere).
#[derive(Debug, Clone)]
struct Doc {
    scalars: Vec<(String, String)>,
    items: Vec<Vec<(String, String)>>,
}

fn write_yaml(d: &Doc, order: &[usize], item_orders: &[Vec<usize>]) -> String {
    let mut out = String::new();
    let n = d.scalars.len() + 1;
    for &i in order.iter().filter(|&&i| i < n) {
        if i == d.scalars.len() {
            out.push_str("items:\n");
            for (item, o) in d.items.iter().zip(item_orders) {
                for (k, &j) in o.iter().filter(|&&j| j < item.len()).enumerate() {
                    let (key, v) = &item[j];
                    let lead = if k == 0 { "- " } else { "  " };
                    out.push_str(&format!("{lead}{key}: {v}\n"));
                }
            }
        } else {
            let (k, v) = &d.scalars[i];
            out.push_str(&format!("{k}: {v}\n"));
        }
    }
    out
}

fn word() -> impl Strategy<Value = String> {
    "[a-z]{3,8}"
}

fn doc() -> impl Strategy<Value = Doc> {
    let scalars = prop::collection::btree_map(word(), word(), 1..8).prop_map(|m| {
        m.into_iter()
            .map(|(k, v)| (format!("k{k}"), format!("v{v}")))
            .collect()
    });
    let item = prop::collection::btree_map(word(), word(), 1..5);
    let items = prop::collection::btree_map(word(), item, 1..5).prop_map(|m| {
        m.into_iter()
            .map(|(name, fields)| {
                let mut kv: Vec<(String, String)> = fields
                    .into_iter()
                    .map(|(k, v)| (format!("f{k}"), format!("w{v}")))
                    .collect();
                kv.push(("name".to_string(), format!("n{name}")));
                kv
            })
            .collect::<Vec<_>>()
    });
    (scalars, items).prop_map(|(scalars, items)| Doc { scalars, items })
}

/// The candidate: some values changed, the last item dropped.
fn mutate(d: &Doc, changes: &[bool]) -> Doc {
    let mut c = d.clone();
    for (i, (_, v)) in c.scalars.iter_mut().enumerate() {
        if changes.get(i).copied().unwrap_or(false) {
            v.push_str("zz");
        }
    }
    for (i, item) in c.items.iter_mut().enumerate() {
        if changes.get(i + 3).copied().unwrap_or(false) {
            if let Some((_, v)) = item.first_mut() {
                if !v.starts_with('n') {
                    v.push_str("qq");
                }
            }
        }
    }
    if changes.first().copied().unwrap_or(false) && c.items.len() > 1 {
        c.items.pop();
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_finding_line_holds_its_value(
        d in doc(),
        changes in prop::collection::vec(any::<bool>(), 10),
        b_order in Just((0..10).collect::<Vec<usize>>()).prop_shuffle(),
        c_order in Just((0..10).collect::<Vec<usize>>()).prop_shuffle(),
        item_orders in prop::collection::vec(Just((0..6).collect::<Vec<usize>>()).prop_shuffle(), 5),
        c_item_orders in prop::collection::vec(Just((0..6).collect::<Vec<usize>>()).prop_shuffle(), 5),
    ) {
        let c = mutate(&d, &changes);
        let b_text = write_yaml(&d, &b_order, &item_orders);
        let c_text = write_yaml(&c, &c_order, &c_item_orders);
        let (r, dir) = compare("gen.yaml", &b_text, &c_text, "");
        let expected = changes.iter().any(|x| *x);
        prop_assume!(expected);
        check_lines(&r, dir.path());
    }
}
