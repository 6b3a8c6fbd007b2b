#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The judge wiring over the neutral input: planted differences come out as planted, a route
//! missing in staging is never a pass, the correction and the score are applied.
use prodlike_compare::CompareSpec;
use prodlike_compare::input::{ComparisonInput, LatencyInput, RouteInput, Sides};
use prodlike_compare::judge::judge;
use prodlike_results::compare::Verdict;
use prodlike_stats::{Buckets, ErrorCounts};

fn bounds() -> Vec<f64> {
    let mut b: Vec<f64> = (0..40).map(|i| 0.01 * 1.08f64.powi(i)).collect();
    b.push(f64::INFINITY);
    b
}

/// 30/40/25/3/2 per hundred in buckets k..k+4, `scale` hundreds.
fn hist(k: usize, scale: u64) -> Buckets {
    let mut counts = vec![0u64; 41];
    for (o, w) in [30u64, 40, 25, 3, 2].iter().enumerate() {
        counts[k + o] = w * scale;
    }
    let mut run = 0;
    let cumulative = counts
        .iter()
        .map(|c| {
            run += c;
            run
        })
        .collect();
    Buckets::new(bounds(), cumulative)
}

fn route(name: &str, p: (u64, u64), s: (u64, u64), latency: LatencyInput) -> RouteInput {
    RouteInput {
        route: name.into(),
        errors: Some(Sides {
            production: ErrorCounts::new(p.0, p.1),
            staging: ErrorCounts::new(s.0, s.1),
        }),
        latency,
    }
}

fn buckets(p: Buckets, s: Buckets) -> LatencyInput {
    LatencyInput::Buckets(Sides {
        production: p,
        staging: s,
    })
}

#[test]
fn planted_differences_come_out_as_planted() {
    let input = ComparisonInput {
        routes: vec![
            route(
                "/users",
                (0, 20_000),
                (0, 20_000),
                buckets(hist(10, 200), hist(10, 200)),
            ),
            route(
                "/checkout",
                (100, 20_000),
                (900, 20_000),
                buckets(hist(20, 200), hist(20, 200)),
            ),
            route(
                "/search",
                (0, 20_000),
                (0, 20_000),
                buckets(hist(15, 200), hist(21, 200)),
            ),
            route("/gone", (0, 5_000), (0, 0), LatencyInput::None),
        ],
        rate: Some(Sides {
            production: vec![1000.0; 60],
            staging: vec![1000.0; 60],
        }),
    };
    let spec = CompareSpec::parse("critical_routes = [\"/checkout\"]").unwrap();
    let j = judge(&input, &spec).unwrap();
    let verdict = |route: &str, metric: &str| {
        j.routes
            .iter()
            .find(|r| r.route == route)
            .and_then(|r| r.comparisons.iter().find(|c| c.metric == metric))
            .map(|c| c.judgement.verdict)
            .unwrap()
    };
    for m in ["error_ratio", "latency_p50", "latency_p90", "latency_p99"] {
        assert_eq!(verdict("/users", m), Verdict::Pass, "/users {m}");
    }
    assert_eq!(verdict("/checkout", "error_ratio"), Verdict::Diverged);
    assert_eq!(verdict("/checkout", "latency_p50"), Verdict::Pass);
    assert_eq!(verdict("/search", "latency_p50"), Verdict::Diverged);
    assert_eq!(verdict("/search", "error_ratio"), Verdict::Pass);
    assert_eq!(verdict("/gone", "error_ratio"), Verdict::NoData);
    assert_eq!(
        j.traffic.as_ref().unwrap().shape.judgement.verdict,
        Verdict::Pass
    );
    assert!(j.correction.comparisons > 10);
    // A critical route diverged: the score is forced to 0.
    assert_eq!(j.score.score, Some(0.0));
    assert!(
        j.routes
            .iter()
            .find(|r| r.route == "/checkout")
            .unwrap()
            .critical
    );
}

#[test]
fn refused_latency_is_listed_not_judged() {
    let input = ComparisonInput {
        routes: vec![route(
            "/legacy",
            (0, 1000),
            (0, 1000),
            LatencyInput::Refused("buckets differ".into()),
        )],
        rate: None,
    };
    let j = judge(&input, &CompareSpec::default()).unwrap();
    assert_eq!(j.refused.len(), 1);
    assert_eq!(j.refused[0].reason, "buckets differ");
    assert_eq!(j.routes[0].comparisons.len(), 1);
}

fn report(routes: Vec<RouteInput>) -> prodlike_results::compare::CompareReport {
    use prodlike_results::compare::{ResultsSource, Source};
    let spec = CompareSpec::default();
    let judged = judge(&ComparisonInput { routes, rate: None }, &spec).unwrap();
    let source = Source::Results(ResultsSource {
        results: "load".into(),
        production: "a.json".into(),
        staging: "b.json".into(),
        schemas: vec![],
    });
    prodlike_compare::report::build(source, &spec, Vec::new(), judged)
}

#[test]
fn outcomes_follow_the_verdicts() {
    use prodlike_report::Outcome;
    let equal = || route("/a", (10, 20_000), (10, 20_000), LatencyInput::None);
    let r = report(vec![equal()]);
    assert_eq!((r.counts.pass, r.outcome()), (1, Outcome::Success));
    // Too few requests to tell 1 point: undecided, exit 3, never a pass.
    let sparse = route("/b", (0, 100), (1, 100), LatencyInput::None);
    let r = report(vec![equal(), sparse]);
    assert_eq!(r.counts.inconclusive, 1);
    assert_eq!(r.outcome(), Outcome::Inconclusive);
    assert_eq!(r.outcome().exit_code(), 3);
    // A divergence wins over inconclusive.
    let worse = route("/c", (10, 20_000), (900, 20_000), LatencyInput::None);
    let r = report(vec![
        equal(),
        route("/b", (0, 100), (1, 100), LatencyInput::None),
        worse,
    ]);
    assert_eq!(r.outcome().exit_code(), 1);
    // A route missing in staging is without data, and, at a volume where chance cannot
    // explain the absence, a finding: exit 1.
    let gone = route("/d", (0, 5_000), (0, 0), LatencyInput::None);
    let r = report(vec![equal(), gone]);
    assert_eq!((r.counts.no_data, r.outcome().exit_code()), (1, 1));
}

#[test]
fn a_route_missing_in_staging_is_a_finding_when_chance_cannot_explain_it() {
    use prodlike_report::Outcome;
    // Staging sees 95% of production's volume, and none of /gone's 1,000 requests: about 950
    // were expected, so zero is no accident.
    let r = report(vec![
        route("/a", (10, 20_000), (10, 20_000), LatencyInput::None),
        route("/gone", (0, 1_000), (0, 0), LatencyInput::None),
    ]);
    assert_eq!(r.missing_in_staging, vec!["/gone".to_string()]);
    assert_eq!(r.counts.missing_in_staging, 1);
    assert_eq!(r.outcome(), Outcome::Finding);
    assert!(
        r.summary().contains("1 route(s) missing in staging"),
        "{}",
        r.summary()
    );
    assert!(
        prodlike_compare::render::text(&r, "ms").contains("missing in staging: 1 route"),
        "{}",
        prodlike_compare::render::text(&r, "ms")
    );

    // Staging sees 5% of the volume and production served /rare twice: 0.1 expected, so its
    // absence proves nothing. It stays without data (inconclusive), never a pass.
    let r = report(vec![
        route("/a", (10, 20_000), (1, 1_000), LatencyInput::None),
        route("/rare", (0, 2), (0, 0), LatencyInput::None),
    ]);
    assert!(
        r.missing_in_staging.is_empty(),
        "{:?}",
        r.missing_in_staging
    );
    assert!(r.counts.no_data > 0);
    assert_ne!(r.outcome(), Outcome::Success);
}
