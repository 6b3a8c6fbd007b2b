#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The spec file: defaults per ../shared/DECISIONS.md, unknown fields refused by name, bad
//! values refused naming their field.
use prodlike_compare::CompareSpec;

#[test]
fn an_empty_spec_has_the_decided_margins() {
    let s = CompareSpec::parse("").unwrap();
    assert_eq!(s.alpha, 0.05);
    assert_eq!(s.margins.error_ratio, 0.01);
    assert_eq!(s.margins.p50, 0.10);
    assert_eq!(s.margins.p99, 0.25);
    assert_eq!(s.metrics.errors, "5..");
}

#[test]
fn a_typo_is_refused_with_the_field_named() {
    let e = CompareSpec::parse("[margins]\np50 = 0.1\np99x = 0.3\n").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("p99x"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
    let e = CompareSpec::parse("critical_route = [\"/a\"]\n").unwrap_err();
    assert!(e.to_string().contains("critical_route"), "{e}");
}

#[test]
fn bad_values_name_their_field() {
    for (text, field) in [
        ("alpha = 0.7", "alpha"),
        ("[margins]\np50 = -1", "margins.p50"),
        ("[margins]\nerror_ratio = 2.0", "margins.error_ratio"),
        (
            "critical_metrics = [\"latency_p95\"]",
            "critical_metrics[0]",
        ),
        ("[traffic]\nstep = \"10 parsecs\"", "traffic.step"),
        ("[traffic]\nexpected_ratio = 0", "traffic.expected_ratio"),
        (
            "[metrics]\nroute_label = \"my-route\"",
            "metrics.route_label",
        ),
        (
            "[selection]\njoin = \"target_info\"\non = []",
            "selection.on",
        ),
    ] {
        let e = CompareSpec::parse(text).expect_err(text).to_string();
        assert!(e.contains(&format!("`{field}`")), "{text}: {e}");
    }
}

#[test]
fn critical_routes_match_names_and_globs() {
    let s = CompareSpec::parse("critical_routes = [\"/checkout\", \"/api/pay/**\"]").unwrap();
    assert!(s.is_critical_route("/checkout"));
    assert!(s.is_critical_route("/api/pay/card"));
    assert!(!s.is_critical_route("/search"));
}
