//! The observability parity rule pack (samples/otel): two OpenTelemetry Collector
//! configurations compared under its rules. Endpoints, scrape targets, batch sizes and the
//! environment's name are accepted; a reordered or changed pipeline and different sampling are
//! drift, each enforced by its must_equal rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
use prodlike_drift::{Date, RuleSet, Status, compare_paths, samples::otel};

#[test]
fn pipelines_and_sampling_must_match_endpoints_may_differ() {
    let dir = tempfile::tempdir().unwrap();
    otel::write_to(dir.path()).unwrap();
    let rules = RuleSet::load(
        &dir.path().join("drift.toml"),
        Date::parse("2026-06-01").unwrap(),
    )
    .unwrap();
    let r = compare_paths(
        &dir.path().join("production.yaml"),
        &dir.path().join("staging.yaml"),
        &rules,
        None,
    )
    .unwrap();
    let mut drift: Vec<(String, Option<usize>)> =
        r.drift().map(|f| (f.path.clone(), f.rule)).collect();
    drift.sort();
    assert_eq!(
        drift,
        vec![
            (
                "processors.probabilistic_sampler.sampling_percentage".to_string(),
                Some(2)
            ),
            ("service.pipelines.metrics.receivers".to_string(), Some(1)),
            ("service.pipelines.traces.exporters".to_string(), Some(1)),
            (
                "service.pipelines.traces.processors[1]".to_string(),
                Some(1)
            ),
            (
                "service.pipelines.traces.processors[2]".to_string(),
                Some(1)
            ),
        ],
        "{:#?}",
        r.findings
    );
    let accepted: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.status == Status::Accepted)
        .map(|f| f.path.as_str())
        .collect();
    for p in [
        "exporters.otlphttp/traces.endpoint",
        "exporters.prometheusremotewrite.endpoint",
        "processors.batch.send_batch_size",
        "processors.resource.attributes[key=deployment.environment.name].value",
        "exporters.debug.verbosity",
    ] {
        assert!(accepted.contains(&p), "{p} not accepted: {accepted:?}");
    }
    assert!(
        accepted.iter().any(|p| p.contains("static_configs")),
        "scrape targets: {accepted:?}"
    );
}
