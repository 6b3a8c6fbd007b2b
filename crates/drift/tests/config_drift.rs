//! End-to-end comparisons on realistic Kubernetes manifests and Helm values written for these
//! tests (tests/fixtures), with unit-aware scale rules and every other rule kind.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure here is a test failure
use std::path::{Path, PathBuf};

use prodlike_drift::report::RuleState;
use prodlike_drift::{Change, Date, DriftReport, Finding, RuleSet, Status, compare_paths, render};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn today() -> Date {
    Date::parse("2026-06-01").unwrap()
}

fn run(baseline: &str, candidate: &str, rules_path: &str) -> DriftReport {
    let rules = RuleSet::load(&fixture(rules_path), today()).unwrap();
    compare_paths(
        &fixture(baseline),
        &fixture(candidate),
        &rules,
        Some(rules_path.to_string()),
    )
    .unwrap()
}

fn find<'a>(r: &'a DriftReport, object: Option<&str>, path: &str) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| f.object.as_deref() == object && f.path == path)
        .unwrap_or_else(|| {
            panic!(
                "no finding at {object:?} {path}; findings: {:#?}",
                r.findings
            )
        })
}

fn accepted_by(r: &DriftReport, object: Option<&str>, path: &str, rule: usize) {
    let f = find(r, object, path);
    assert_eq!((f.status, f.rule), (Status::Accepted, Some(rule)), "{f:#?}");
}

const API: Option<&str> = Some("Deployment/payments/api");
const API_C: &str = "spec.template.spec.containers[name=api]";

#[test]
fn kubernetes_manifests_with_unit_aware_scale_rules() {
    let r = run("k8s/production", "k8s/staging", "k8s/drift.toml");

    // Objects are matched by identity although the staging file lists them in another order.
    accepted_by(&r, API, "spec.replicas", 1);
    accepted_by(
        &r,
        API,
        "metadata.annotations.deployment.kubernetes.io/revision",
        11,
    );
    // Units: "2" CPUs against 1000m, 2Gi against 1Gi, 1 CPU against 500m.
    accepted_by(&r, API, &format!("{API_C}.resources.limits.cpu"), 3);
    accepted_by(&r, API, &format!("{API_C}.resources.limits.memory"), 3);
    accepted_by(&r, API, &format!("{API_C}.resources.requests.cpu"), 3);
    // 1Gi × 0.5 is 512Mi; 768Mi is drift, and the note says what was expected.
    let f = find(&r, API, &format!("{API_C}.resources.requests.memory"));
    assert_eq!(f.status, Status::Drift);
    let note = f.note.as_deref().unwrap();
    assert!(
        note.contains("expects 512Mi") && note.contains("768Mi"),
        "{note}"
    );
    assert!(
        f.line.is_some(),
        "the drift points at its line in the staging file"
    );

    // Env entries are matched by name; the rename rule explains the DNS name.
    accepted_by(&r, API, &format!("{API_C}.env[name=DB_HOST].value"), 9);
    // An expired waiver no longer accepts, and says so.
    let f = find(&r, API, &format!("{API_C}.env[name=LOG_LEVEL].value"));
    assert_eq!(f.status, Status::Drift);
    assert!(
        f.note
            .as_deref()
            .unwrap()
            .contains("rule 14 would accept this but expired on 2025-01-31")
    );
    // The Stripe key is a secret: accepted, compared by hash, never printed.
    let f = find(&r, API, &format!("{API_C}.env[name=STRIPE_API_KEY].value"));
    assert!(f.secret && f.status == Status::Accepted);

    // must_equal wins over the broader ignore of the collector container...
    let otel = "spec.template.spec.containers[name=otel-collector]";
    let f = find(&r, API, &format!("{otel}.image"));
    assert_eq!((f.status, f.rule), (Status::Drift, Some(8)));
    // ...which still accepts the collector's other differences.
    accepted_by(&r, API, &format!("{otel}.resources.limits.memory"), 7);
    // Port order and container order carry no meaning.
    assert!(
        !r.findings.iter().any(|f| f.path.contains("ports")),
        "{:#?}",
        r.findings
    );

    let sts = Some("StatefulSet/payments/payments-db");
    accepted_by(&r, sts, "spec.replicas", 6);
    accepted_by(
        &r,
        sts,
        "spec.template.spec.containers[name=postgres].resources.limits.memory",
        5,
    );
    accepted_by(
        &r,
        sts,
        "spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage",
        4,
    );

    let ing = Some("Ingress/payments/api");
    accepted_by(&r, ing, "spec.rules[0].host", 10);
    accepted_by(&r, ing, "spec.tls[0].hosts", 10);

    // An API version bump is a change of the same object, not a removal and an addition.
    let hpa = Some("HorizontalPodAutoscaler/payments/api");
    let f = find(&r, hpa, "apiVersion");
    assert_eq!((f.change, f.status), (Change::Changed, Status::Drift));
    accepted_by(&r, hpa, "spec.minReplicas", 2);
    accepted_by(&r, hpa, "spec.maxReplicas", 2);

    accepted_by(&r, Some("Secret/payments/payments-db"), "data.password", 12);
    let f = find(&r, Some("CronJob/payments/report-export"), "");
    assert_eq!((f.change, f.status), (Change::Removed, Status::Drift));
    let f = find(&r, Some("ConfigMap/payments/debug-toolbox"), "");
    assert_eq!((f.change, f.status), (Change::Added, Status::Drift));

    let drift: Vec<String> = r
        .drift()
        .map(|f| format!("{} {}", f.object.as_deref().unwrap_or(""), f.path))
        .collect();
    assert_eq!(drift.len(), 6, "{drift:#?}");
    assert_eq!(r.summary.drift, 6);
    assert_eq!(r.outcome(), prodlike_report::Outcome::Finding);

    let state = |i: usize| r.rules[i - 1].state;
    assert_eq!(state(14), RuleState::Expired);
    assert_eq!(state(15), RuleState::Unused);
    assert_eq!(state(8), RuleState::Used);
    assert_eq!(r.summary.rules_expired, 1);
    assert_eq!(r.summary.rules_unused, 1);
}

#[test]
fn secrets_never_reach_any_output() {
    let r = run("k8s/production", "k8s/staging", "k8s/drift.toml");
    let json = serde_json::to_string(&r.envelope("t".into())).unwrap();
    let outputs = [
        json,
        render::text(&r, true),
        render::markdown(&r),
        render::sarif(&r).to_string(),
    ];
    for out in &outputs {
        for secret in [
            "cHJvZC1zdXBlci1zZWNyZXQ=",
            "c3RhZ2luZy1zZWNyZXQ=",
            "sk_live_51HxProdKey",
            "sk_test_51HxStagingKey",
        ] {
            assert!(!out.contains(secret), "{secret} leaked");
        }
        assert!(out.contains("<secret:"), "secrets show as fingerprints");
    }
}

#[test]
fn helm_values_with_units_maps_renames_and_must_equal() {
    let r = run(
        "helm/values-production.yaml",
        "helm/values-staging.yaml",
        "helm/drift.toml",
    );
    accepted_by(&r, None, "replicaCount", 1);
    accepted_by(&r, None, "autoscaling.minReplicas", 2);
    accepted_by(&r, None, "autoscaling.maxReplicas", 2);
    // 750m → 375m, 1536Mi → 768Mi, "1.5" → 750m, 3Gi → 1.5Gi.
    for p in [
        "requests.cpu",
        "requests.memory",
        "limits.cpu",
        "limits.memory",
    ] {
        accepted_by(&r, None, &format!("resources.{p}"), 3);
    }
    accepted_by(&r, None, "redis.master.persistence.size", 4);
    // 1Ti × 0.25 = 256Gi.
    accepted_by(&r, None, "postgresql.primary.persistence.size", 5);
    accepted_by(&r, None, "nodeSelector.instance-type", 6);
    accepted_by(&r, None, "extraEnv[name=SEARCH_URL].value", 7);
    accepted_by(&r, None, "global.environment", 8);
    accepted_by(&r, None, "postgresql.auth.password", 9);
    accepted_by(&r, None, "extraEnv[name=ADMIN_PASSWORD].value", 10);
    accepted_by(&r, None, "jvm.heap", 11);
    // 2min and 120s are the same duration.
    accepted_by(&r, None, "timeouts.idle", 12);

    let drift: Vec<&str> = r.drift().map(|f| f.path.as_str()).collect();
    assert_eq!(drift, vec!["featureFlags.newCheckout"]);
    assert_eq!(
        r.rules[12].state,
        RuleState::Held,
        "image.** exists and agrees"
    );
    assert_eq!(r.rules[13].state, RuleState::Unused);
    assert!(!render::text(&r, false).contains("correct-horse"));
}

#[test]
fn a_scale_rule_that_does_not_fit_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yaml"),
        "replicas: 4\nmemory: 2Gi\ncpu: 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "replicas: 3\nmemory: 1Gi\ncpu: 600m\n",
    )
    .unwrap();
    let rules = RuleSet::parse(
        "[[rule]]\nkind = \"scale\"\npath = \"*\"\nfactor = 0.5\ntolerance = 0.1\nreason = \"half\"\n",
        today(),
    )
    .unwrap();
    let r = compare_paths(
        &dir.path().join("p.yaml"),
        &dir.path().join("s.yaml"),
        &rules,
        None,
    )
    .unwrap();
    // replicas: 4 × 0.5 = 2 (±10% rounds to 2..=3): 3 is accepted.
    accepted_by(&r, None, "replicas", 1);
    accepted_by(&r, None, "memory", 1);
    // 1 CPU × 0.5 = 500m ± 50m: 600m is drift.
    let f = find(&r, None, "cpu");
    assert_eq!(f.status, Status::Drift);
    assert!(
        f.note.as_deref().unwrap().contains("expects 0.5 ±10%"),
        "{f:?}"
    );
}

#[test]
fn directories_pair_files_by_relative_path_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (p, s) = (dir.path().join("prod"), dir.path().join("staging"));
    let write = |root: &Path, rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        &p,
        "app/config.json",
        r#"{"pool": {"size": 40, "timeout_ms": 500}, "regions": ["eu", "us"]}"#,
    );
    write(
        &s,
        "app/config.json",
        r#"{"pool": {"size": 40, "timeout_ms": "500"}, "regions": ["us", "eu"]}"#,
    );
    write(
        &p,
        "app/settings.toml",
        "[server]\nport = 8080\nworkers = 16\n",
    );
    write(
        &s,
        "app/settings.toml",
        "[server]\nport = 8080\nworkers = 8\n",
    );
    write(&p, ".env", "LOG_LEVEL=info\nSECRET_KEY=abc\n");
    write(&s, ".env", "LOG_LEVEL=info\nSECRET_KEY=abc\n");
    write(&p, "app/app.properties", "pool.max=10\n");
    write(&s, "app/app.properties", "pool.max=10\npool.min=2\n");
    write(
        &p,
        "infra/prod.tfvars",
        "instance_type = \"t3.xlarge\"\nzones = [\"a\", \"b\"]\n",
    );
    write(
        &s,
        "infra/prod.tfvars",
        "instance_type = \"t3.large\"\nzones = [\"b\", \"a\"]\n",
    );
    write(&p, "only-prod.yaml", "a: 1\n");
    write(&s, "only-staging.yaml", "a: 1\n");
    write(&p, "templates/deploy.yaml", "{{ .Values.broken }}: [\n");
    write(&s, "templates/deploy.yaml", "{{ .Values.broken }}: [\n");

    let mut rules = RuleSet::parse(
        "exclude = [\"templates/**\"]\n[[rule]]\nkind = \"map\"\npath = \"instance_type\"\nvalues = { \"t3.xlarge\" = \"t3.large\" }\nreason = \"smaller\"\n",
        today(),
    )
    .unwrap();
    let r = compare_paths(&p, &s, &rules, None).unwrap();
    let f = |file: &str, path: &str| {
        r.findings
            .iter()
            .find(|f| f.file == file && f.path == path)
            .unwrap_or_else(|| panic!("{file} {path}: {:#?}", r.findings))
    };
    assert_eq!(
        f("app/config.json", "pool.timeout_ms").change,
        Change::TypeChanged
    );
    assert_eq!(
        f("app/settings.toml", "server.workers").change,
        Change::Changed
    );
    assert_eq!(f("app/app.properties", "pool.min").change, Change::Added);
    assert_eq!(
        f("infra/prod.tfvars", "instance_type").status,
        Status::Accepted
    );
    assert_eq!(f("only-prod.yaml", "").change, Change::Removed);
    assert_eq!(f("only-staging.yaml", "").change, Change::Added);
    assert!(
        !r.findings
            .iter()
            .any(|f| f.file == ".env" || f.path == "regions" || f.path == "zones")
    );
    assert_eq!(r.summary.drift, 5, "{:#?}", r.findings);
    assert_eq!(r.summary.files, 7);

    // Without the exclusion the Helm template is a malformed YAML file, named with its line.
    rules.exclude.clear();
    let e = compare_paths(&p, &s, &rules, None).unwrap_err().to_string();
    assert!(e.contains("templates/deploy.yaml:1:"), "{e}");
}

#[test]
fn identical_trees_have_no_drift() {
    let p = fixture("k8s/production");
    let r = compare_paths(&p, &p, &RuleSet::default(), None).unwrap();
    assert!(r.findings.is_empty());
    assert_eq!(r.outcome(), prodlike_report::Outcome::Success);
}
