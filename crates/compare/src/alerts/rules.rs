//! The rules file: per side, recording rules of summed rates by route (`level:metric:operations`
//! names), then the error ratio and p99 of both sides from those sums — ratios of summed rates,
//! never averages of ratios — and three alerts comparing the sides route by route.
use super::yaml::{self, Node};
use super::{AlertsOptions, Generated, MIN_RATE, Matchers, Names};
use crate::spec::CompareSpec;

/// The recorded series' names, shared with the rule tests.
pub(super) struct Records {
    pub requests: String,
    pub errors: String,
    pub ratio: String,
    pub bucket: Option<String>,
    pub p99: Option<String>,
}

impl Records {
    pub fn new(names: &Names, options: &AlertsOptions) -> Records {
        let range = options.range_text();
        Records {
            requests: format!("environment_route:http_requests:rate{range}"),
            errors: format!("environment_route:http_requests_errors:rate{range}"),
            ratio: format!("environment_route:http_requests_errors:ratio_rate{range}"),
            bucket: names
                .histogram
                .as_ref()
                .map(|h| format!("environment_route:{h}_bucket:rate{range}")),
            p99: names
                .histogram
                .as_ref()
                .map(|h| format!("environment_route:{h}:p99_rate{range}")),
        }
    }
}

pub(super) const DIVERGENCE: &str = "StagingProductionDivergence";
pub(super) const LATENCY: &str = "StagingLatencyDivergence";
pub(super) const MISSING: &str = "StagingMissingSeries";

/// The annotations of each alert, with `route` and `value` as Prometheus will expand them:
/// the rules pass Go-template expressions, the rule tests the expected text.
pub(super) fn annotations(
    alert: &str,
    spec: &CompareSpec,
    options: &AlertsOptions,
    production: &Matchers,
    staging: &Matchers,
    route: &str,
    value: &str,
) -> Vec<(&'static str, Node)> {
    let (for_, range) = (options.for_text(), options.range_text());
    let command = format!(
        "prodlike compare prometheus --url {} --production {} --staging {} --window 1h{}",
        options.url.as_deref().unwrap_or("PROMETHEUS_URL"),
        shell_quote(&production.text),
        shell_quote(&staging.text),
        options
            .spec
            .as_deref()
            .map(|s| format!(" --spec {}", shell_quote(s)))
            .unwrap_or_default(),
    );
    let (summary, description) = match alert {
        DIVERGENCE => match spec.margins.error_ratio_relative {
            None => (
                format!("Staging's error ratio on {route} is {value} above production's"),
                format!(
                    "Over {range}, staging's error ratio minus production's is above the margin \
                     {} (margins.error_ratio), both sides serving at least {MIN_RATE} request/s \
                     on the route, for {for_}.",
                    spec.margins.error_ratio
                ),
            ),
            Some(r) => (
                format!("Staging's error ratio on {route} is {value} above production's"),
                format!(
                    "Over {range}, staging's error ratio is above production's times {} \
                     (margins.error_ratio_relative {r}), both sides serving at least \
                     {MIN_RATE} request/s on the route, for {for_}.",
                    1.0 + r
                ),
            ),
        },
        LATENCY => (
            format!("Staging's p99 latency on {route} is {value} times production's"),
            format!(
                "Over {range}, staging's p99 latency (from the histograms) is above production's \
                 times {} (margins.p99 {}), both sides serving at least {MIN_RATE} request/s on \
                 the route, for {for_}.",
                1.0 + spec.margins.p99,
                spec.margins.p99
            ),
        ),
        _ => (
            format!(
                "Staging reports no requests on {route}, which production serves at {value} \
                 requests/s"
            ),
            format!(
                "Production has series for the route and staging has had none for {for_}: \
                 staging stopped reporting, lost the route, or labels it differently."
            ),
        ),
    };
    vec![
        ("summary", Node::s(summary)),
        ("description", Node::s(description)),
        ("explain", Node::s(command)),
    ]
}

/// The rules file's text.
pub(super) fn rules(
    names: &Names,
    spec: &CompareSpec,
    production: &Matchers,
    staging: &Matchers,
    options: &AlertsOptions,
) -> Generated {
    let r = Records::new(names, options);
    let route = &names.route_label;
    let mut rules = recording(names, &r, production, staging, &options.range_text());
    let records = rules.len();
    let side = |name: &str, env: &str| format!("{name}{{environment=\"{env}\"}}");
    let guard = format!(
        "and ignoring(environment) {} >= {MIN_RATE}\nand ignoring(environment) {} >= {MIN_RATE}",
        side(&r.requests, "staging"),
        side(&r.requests, "production")
    );
    let s_ratio = side(&r.ratio, "staging");
    let p_ratio = side(&r.ratio, "production");
    let divergence = match spec.margins.error_ratio_relative {
        None => format!(
            "(\n  {s_ratio}\n  - ignoring(environment)\n  {p_ratio}\n) > {}\n{guard}",
            spec.margins.error_ratio
        ),
        Some(rel) => format!(
            "(\n  {s_ratio}\n  - ignoring(environment)\n  {p_ratio}\n)\n\
             and ignoring(environment) ({s_ratio} > ignoring(environment) {p_ratio} * {})\n{guard}",
            1.0 + rel
        ),
    };
    let template_route = format!("{{{{ index $labels \"{route}\" }}}}");
    let mut alerts = vec![DIVERGENCE];
    let alert = |name: &'static str, expr: String, value: &str| {
        Node::map([
            ("alert", Node::s(name)),
            ("expr", Node::s(expr)),
            ("for", Node::s(options.for_text())),
            ("labels", Node::map([("severity", Node::s("warning"))])),
            (
                "annotations",
                Node::map(annotations(
                    name,
                    spec,
                    options,
                    production,
                    staging,
                    &template_route,
                    &format!("{{{{ $value | printf \"{value}\" }}}}"),
                )),
            ),
        ])
    };
    rules.push(alert(DIVERGENCE, divergence, "%.4f"));
    if let Some(p99) = &r.p99 {
        alerts.push(LATENCY);
        rules.push(alert(
            LATENCY,
            format!(
                "(\n  {}\n  / ignoring(environment)\n  {}\n) > {}\n{guard}",
                side(p99, "staging"),
                side(p99, "production"),
                1.0 + spec.margins.p99
            ),
            "%.2f",
        ));
    }
    alerts.push(MISSING);
    rules.push(alert(
        MISSING,
        format!(
            "sum by ({route}) ({})\nunless on({route})\n{}",
            side(&r.requests, "production"),
            side(&r.requests, "staging")
        ),
        "%.2f",
    ));
    let doc = Node::map([(
        "groups",
        Node::Seq(vec![Node::map([
            ("name", Node::s("prodlike-staging-production")),
            ("rules", Node::Seq(rules)),
        ])]),
    )]);
    Generated {
        rules: yaml::to_string(&doc),
        alerts,
        records,
        names: names.clone(),
        production: production.text.clone(),
        staging: staging.text.clone(),
        for_duration: options.for_text(),
    }
}

/// Per side the summed rates by route, then both sides' error ratio and p99 from them.
fn recording(
    names: &Names,
    r: &Records,
    production: &Matchers,
    staging: &Matchers,
    range: &str,
) -> Vec<Node> {
    let route = &names.route_label;
    let mut rules = Vec::new();
    for (env, m) in [("production", production), ("staging", staging)] {
        let labels = || Node::map([("environment", Node::s(env))]);
        let sel = |extra: &str| {
            if extra.is_empty() {
                format!("{{{}}}", m.text)
            } else {
                format!("{{{}, {extra}}}", m.text)
            }
        };
        rules.push(record(
            &r.requests,
            format!(
                "sum by ({route}) (rate({}{}[{range}]))",
                names.requests,
                sel("")
            ),
            labels(),
        ));
        rules.push(record(
            &r.errors,
            format!(
                "sum by ({route}) (rate({}{}[{range}]))",
                names.requests,
                sel(&format!("{}=~\"{}\"", names.status_label, names.errors))
            ),
            labels(),
        ));
        if let (Some(h), Some(bucket)) = (&names.histogram, &r.bucket) {
            rules.push(record(
                bucket,
                format!(
                    "sum by ({route}, le) (rate({h}_bucket{}[{range}]))",
                    sel("")
                ),
                labels(),
            ));
        }
    }
    // A route without error series has a ratio of 0, not none: `or … * 0`.
    rules.push(record(
        &r.ratio,
        format!("({e} or {q} * 0) / {q}", e = r.errors, q = r.requests),
        Node::Map(vec![]),
    ));
    if let (Some(bucket), Some(p99)) = (&r.bucket, &r.p99) {
        rules.push(record(
            p99,
            format!("histogram_quantile(0.99, {bucket})"),
            Node::Map(vec![]),
        ));
    }
    rules
}

fn record(name: &str, expr: String, labels: Node) -> Node {
    let mut pairs = vec![
        ("record".to_string(), Node::s(name)),
        ("expr".to_string(), Node::s(expr)),
    ];
    if labels != Node::Map(vec![]) {
        pairs.push(("labels".to_string(), labels));
    }
    Node::Map(pairs)
}

/// A POSIX shell word: single-quoted, a single quote written as `'\''`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
