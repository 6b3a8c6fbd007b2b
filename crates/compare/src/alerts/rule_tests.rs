//! The `promtool test rules` file: input series built so that each alert both fires and stays
//! silent. Production serves every route at 10 requests/s with a 1% error ratio; staging
//! diverges on purpose on some routes:
//!
//! | route          | staging                                   | expected                      |
//! |----------------|-------------------------------------------|-------------------------------|
//! | `/error-rise`  | error ratio above production's by > δ     | StagingProductionDivergence   |
//! | `/small-rise`  | error ratio above production's by < δ     | silent                        |
//! | `/low-traffic` | half errors, but 0.5 request/s            | silent (traffic guard)        |
//! | `/slow`        | p99 2ᵏ times production's, > 1 + margin   | StagingLatencyDivergence      |
//! | `/missing`     | no series                                 | StagingMissingSeries          |
//!
//! Nothing fires before the `for:` duration has passed (checked two intervals before it ends).
//!
//! The test's clock is scaled to the rules' timing: one series interval is a fifth of the rate
//! window (1m for the default 5m), so a rate always sees five samples; counts are per interval,
//! and the low-traffic route's are scaled so that it stays at 0.5 request/s whatever the
//! interval.
use super::rules::{DIVERGENCE, LATENCY, MISSING, annotations};
use super::yaml::{self, Node};
use super::{AlertsOptions, Matchers, Names, prom_duration};
use crate::error::CompareError;
use crate::spec::CompareSpec;

/// Requests per series interval of a route with normal traffic (10/s at the default 1m).
const PER_MINUTE: u64 = 600;
/// Production's errors per interval on every route (a 1% ratio).
const PROD_ERRORS: u64 = 6;
/// Requests per second of the low-traffic route: below the guard's `MIN_RATE`.
const LOW_RATE: f64 = 0.5;
/// Histogram bounds 0.1 × 2ⁱ: a request in bucket i + 1 has a p99 2ⁱ times one in bucket 1.
const BUCKETS: u32 = 12;

/// One series family of one environment, route and status.
struct Traffic {
    route: &'static str,
    status: String,
    /// Requests per series interval (a fraction for the low-traffic route at short intervals).
    per_minute: f64,
    /// The histogram bucket all its requests fall in.
    bucket: u32,
}

/// The test's clock, in whole seconds.
#[derive(Clone, Copy)]
struct Clock {
    /// The series and evaluation interval.
    unit: u64,
    /// When the alerts must still be pending (two intervals before `for:` ends), if `for:`
    /// is long enough for a pending check.
    pending_at: Option<u64>,
    /// When every alert must fire: well past `for:` plus one rate window.
    firing_at: u64,
    /// Samples per input series.
    samples: u64,
}

impl Clock {
    fn new(options: &AlertsOptions) -> Clock {
        let unit = (options.range.as_secs() / 5).max(1);
        let for_ = options.for_duration.as_secs();
        let firing_at = (30 * unit).max(for_ + options.range.as_secs() + 5 * unit);
        Clock {
            unit,
            pending_at: (for_ >= 3 * unit).then(|| for_ - 2 * unit),
            firing_at,
            samples: firing_at / unit + 10,
        }
    }

    fn at(secs: u64) -> String {
        prom_duration(std::time::Duration::from_secs(secs))
    }
}

pub(super) fn tests(
    names: &Names,
    spec: &CompareSpec,
    production: &Matchers,
    staging: &Matchers,
    options: &AlertsOptions,
    rule_file: &str,
) -> Result<String, CompareError> {
    let bad = |problem: String| CompareError::Flag {
        flag: "--tests",
        problem,
    };
    for m in [production, staging] {
        if m.parts.iter().any(|(_, op, _)| op != "=") {
            return Err(bad(format!(
                "{} `{}`: rule tests need series carrying each environment's labels, so only \
                 equality matchers (label=\"value\") can be used with --tests",
                m.flag, m.text
            )));
        }
    }
    let plan = plan(names, spec)?;
    let clock = Clock::new(options);
    let (above, k) = (plan.above, plan.k);
    let n = PER_MINUTE as f64;
    let input = input(names, production, staging, &plan, &clock);
    let expected = |alert: &'static str, route: &str, value: String| {
        Node::map([
            (
                "exp_labels",
                Node::map([
                    ("severity", Node::s("warning")),
                    (names.route_label.as_str(), Node::s(route)),
                ]),
            ),
            (
                "exp_annotations",
                Node::map(annotations(
                    alert, spec, options, production, staging, route, &value,
                )),
            ),
        ])
    };
    let diff = (above - PROD_ERRORS) as f64 / n;
    let mut late = vec![(
        DIVERGENCE,
        vec![expected(DIVERGENCE, "/error-rise", format!("{diff:.4}"))],
    )];
    if names.histogram.is_some() {
        let ratio = f64::from(1u32 << k);
        late.push((
            LATENCY,
            vec![expected(LATENCY, "/slow", format!("{ratio:.2}"))],
        ));
    }
    late.push((
        MISSING,
        vec![expected(
            MISSING,
            "/missing",
            format!("{:.2}", n / clock.unit as f64),
        )],
    ));
    let mut checks = Vec::new();
    if let Some(at) = clock.pending_at {
        for (alert, _) in &late {
            // Pending, not firing: the condition has held for less than `for:`.
            checks.push(check(&Clock::at(at), alert, Vec::new()));
        }
    }
    for (alert, exp) in late {
        checks.push(check(&Clock::at(clock.firing_at), alert, exp));
    }
    let doc = Node::map([
        ("rule_files", Node::Seq(vec![Node::s(rule_file)])),
        ("evaluation_interval", Node::s(Clock::at(clock.unit))),
        (
            "tests",
            Node::Seq(vec![Node::map([
                ("interval", Node::s(Clock::at(clock.unit))),
                ("input_series", Node::Seq(input)),
                ("alert_rule_test", Node::Seq(checks)),
            ])]),
        ),
    ]);
    Ok(yaml::to_string(&doc))
}

/// The rule tests' numbers, from the spec.
#[derive(Clone, Copy)]
struct Plan {
    /// A status code the spec's `metrics.errors` counts as an error.
    error_status: &'static str,
    /// Staging's errors per minute on `/error-rise` (above the threshold) and `/small-rise`.
    above: u64,
    below: u64,
    /// `/slow`'s p99 is 2ᵏ times production's.
    k: u32,
}

const OK_STATUS: &str = "200";

fn plan(names: &Names, spec: &CompareSpec) -> Result<Plan, CompareError> {
    let bad = |problem: String| CompareError::Flag {
        flag: "--tests",
        problem,
    };
    let errors = regex::Regex::new(&format!("^(?:{})$", names.errors))
        .map_err(|e| bad(format!("metrics.errors `{}`: {e}", names.errors)))?;
    let ok_status = OK_STATUS;
    let error_status = ["500", "503", "502", "504", "429", "400", "404"]
        .into_iter()
        .find(|s| errors.is_match(s));
    let Some(error_status) = error_status.filter(|_| !errors.is_match(ok_status)) else {
        return Err(bad(format!(
            "metrics.errors `{}` must match a 4xx or 5xx code and not 200 for the rule tests",
            names.errors
        )));
    };
    // The error ratios: production's p, the alert's threshold t, one rise above and one below.
    let p = PROD_ERRORS as f64 / PER_MINUTE as f64;
    let t = match spec.margins.error_ratio_relative {
        None => p + spec.margins.error_ratio,
        Some(r) => p * (1.0 + r),
    };
    if t >= 1.0 {
        return Err(bad(format!(
            "an error-ratio margin this wide (a threshold of {t} over production's {p}) cannot \
             be exceeded, so no test can make the alert fire"
        )));
    }
    let n = PER_MINUTE as f64;
    let above = ((n * (p + 3.0 * (t - p)).min((t + 1.0) / 2.0)).ceil() as u64)
        .max((n * t).floor() as u64 + 1);
    let below = (n * (p + (t - p) / 3.0)).floor() as u64;
    // The slow route's staging bucket: the first power of two above 1 + margins.p99.
    let k = (1..BUCKETS - 1).find(|k| f64::from(1u32 << k) > 1.0 + spec.margins.p99);
    let k = match (names.histogram.is_some(), k) {
        (false, _) => 0,
        (true, Some(k)) => k,
        (true, None) => {
            return Err(bad(format!(
                "margins.p99 {} is beyond the test histogram's range",
                spec.margins.p99
            )));
        }
    };
    Ok(Plan {
        error_status,
        above,
        below,
        k,
    })
}

/// Every input series: production's five routes, staging's four.
fn input(
    names: &Names,
    production: &Matchers,
    staging: &Matchers,
    plan: &Plan,
    clock: &Clock,
) -> Vec<Node> {
    let Plan {
        error_status,
        above,
        below,
        k,
    } = *plan;
    let ok_status = OK_STATUS;
    let route = |route, total: f64, errors: f64, bucket| {
        let mut out = vec![Traffic {
            route,
            status: ok_status.into(),
            per_minute: total - errors,
            bucket,
        }];
        if errors > 0.0 {
            out.push(Traffic {
                route,
                status: error_status.into(),
                per_minute: errors,
                bucket,
            });
        }
        out
    };
    let n = PER_MINUTE as f64;
    let mut input = Vec::new();
    for r in [
        "/error-rise",
        "/small-rise",
        "/low-traffic",
        "/slow",
        "/missing",
    ] {
        input.extend(series(
            names,
            production,
            &route(r, n, PROD_ERRORS as f64, 1),
            clock,
        ));
    }
    let low = LOW_RATE * clock.unit as f64;
    let staged = [
        route("/error-rise", n, above as f64, 1),
        route("/small-rise", n, below as f64, 1),
        route("/low-traffic", low, low / 2.0, 1),
        route("/slow", n, PROD_ERRORS as f64, k + 1),
    ];
    for t in &staged {
        input.extend(series(names, staging, t, clock));
    }
    input
}

fn check(at: &str, alert: &str, exp: Vec<Node>) -> Node {
    Node::map([
        ("eval_time", Node::s(at)),
        ("alertname", Node::s(alert)),
        ("exp_alerts", Node::Seq(exp)),
    ])
}

/// The input series of one environment's traffic: the request counter and, with a histogram,
/// its buckets (every request in `bucket`).
fn series(names: &Names, env: &Matchers, traffic: &[Traffic], clock: &Clock) -> Vec<Node> {
    let mut out = Vec::new();
    for t in traffic {
        let mut labels: Vec<(String, String)> = env.labels();
        labels.push((names.route_label.clone(), t.route.into()));
        labels.push((names.status_label.clone(), t.status.clone()));
        let one = |name: &str, extra: Option<String>, per_minute: f64| {
            let mut ls: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            ls.extend(extra.map(|le| format!("le=\"{le}\"")));
            Node::map([
                ("series", Node::s(format!("{name}{{{}}}", ls.join(", ")))),
                (
                    "values",
                    Node::s(format!("0+{per_minute}x{}", clock.samples)),
                ),
            ])
        };
        out.push(one(&names.requests, None, t.per_minute));
        if let Some(h) = &names.histogram {
            for i in 0..BUCKETS {
                let le = f64::from(1u32 << i) / 10.0;
                let count = if i >= t.bucket { t.per_minute } else { 0.0 };
                out.push(one(&format!("{h}_bucket"), Some(le.to_string()), count));
            }
            out.push(one(
                &format!("{h}_bucket"),
                Some("+Inf".into()),
                t.per_minute,
            ));
            if names.requests != format!("{h}_count") {
                out.push(one(&format!("{h}_count"), None, t.per_minute));
            }
        }
    }
    out
}
