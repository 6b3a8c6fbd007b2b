//! The comparison spec (`--spec compare.toml`): margins, α, critical routes and metrics, the
//! declared volume ratio, which metrics and labels to read, and how each environment is
//! selected. Every field has a default, so an empty file (or no file) is a valid spec;
//! unknown fields are refused by name (`deny_unknown_fields`), and [`CompareSpec::validate`]
//! names the field whose value is wrong. docs/compare.md documents the file.
//!
//! Shared by every `prodlike compare` source: `compare prometheus` reads all of it, a source
//! without metrics or selectors ignores `[metrics]` and `[selection]`.
use std::path::Path;
use std::time::Duration;

use prodlike_common::glob::Glob;
use prodlike_stats::{
    ErrorMargin, ErrorRatioSpec, LatencySpec, QuantileMargin, StatsError, TrafficShapeSpec,
};
use serde::Deserialize;

use crate::error::SpecError;

/// Metric names a spec may mark critical (`critical_metrics`).
pub const METRIC_NAMES: [&str; 7] = [
    "error_ratio",
    "latency_shift",
    "latency_p50",
    "latency_p90",
    "latency_p99",
    "traffic_shape",
    "volume",
];

/// The whole spec file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompareSpec {
    /// Error rate of each one-sided verdict (a false `diverged` or a false `pass`), and the false
    /// discovery rate of the Benjamini–Hochberg correction across every route and metric.
    /// Intervals are two-sided `1 − 2α` (90% at the default 0.05).
    pub alpha: f64,
    /// The margin δ of each metric: how much worse staging may be and still pass.
    pub margins: Margins,
    /// Routes whose divergence fails the whole comparison (behaviour score 0): exact route names
    /// as the metrics label them (`/users/{id}`), or URL path globs (`/api/pay/**`).
    pub critical_routes: Vec<String>,
    /// Metrics whose divergence on any route fails the whole comparison: `error_ratio`,
    /// `latency_shift` (raw samples only), `latency_p50`, `latency_p90`, `latency_p99`, `traffic_shape`, `volume`.
    pub critical_metrics: Vec<String>,
    /// The traffic-shape comparison.
    pub traffic: Traffic,
    /// Which metrics to read and which labels carry route, status and method; detected when
    /// left out.
    pub metrics: Metrics,
    /// How the `--production`/`--staging` matchers select each environment.
    pub selection: Selection,
}

impl Default for CompareSpec {
    fn default() -> Self {
        CompareSpec {
            alpha: 0.05,
            margins: Margins::default(),
            critical_routes: Vec::new(),
            critical_metrics: Vec::new(),
            traffic: Traffic::default(),
            metrics: Metrics::default(),
            selection: Selection::default(),
        }
    }
}

/// Margins per metric (../shared/DECISIONS.md, "Statistics").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Margins {
    /// Allowed rise of staging's error ratio over production's, absolute: 0.01 is one
    /// percentage point (the common alert's threshold).
    pub error_ratio: f64,
    /// Judge the error ratio on a relative margin instead: 1.0 allows staging up to twice
    /// production's ratio. Leave out to use `error_ratio`.
    pub error_ratio_relative: Option<f64>,
    /// Allowed relative rise of p50 latency: 0.10 is +10%.
    pub p50: f64,
    /// Allowed relative rise of p90 latency.
    pub p90: f64,
    /// Allowed relative rise of p99 latency.
    pub p99: f64,
    /// Allowed total variation distance between the two request-rate curves' shapes (0 to 1):
    /// the share of staging's traffic arriving out of production's shape.
    pub traffic_shape: f64,
    /// Allowed relative deviation of the observed volume ratio from `traffic.expected_ratio`,
    /// both ways (0.25: between 1/1.25 and 1.25 times); used only when a ratio is declared.
    pub volume: f64,
}

impl Default for Margins {
    fn default() -> Self {
        Margins {
            error_ratio: 0.01,
            error_ratio_relative: None,
            p50: 0.10,
            p90: 0.20,
            p99: 0.25,
            traffic_shape: 0.10,
            volume: 0.25,
        }
    }
}

/// The traffic-shape comparison.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Traffic {
    /// Declared staging/production volume ratio (0.05: staging receives 5% of production's
    /// requests). When given, the observed ratio is judged against it; when left out, the ratio
    /// is estimated and only the shape is judged.
    pub expected_ratio: Option<f64>,
    /// Length of one interval of the request-rate curve (`1m`, `30s`; docs/units.md). Left
    /// out: one minute, raised when the window would need more than 11,000 points or the scrape
    /// interval is too long for it.
    pub step: Option<String>,
}

/// Which metrics to read. Leave every name out to detect the OpenTelemetry HTTP server
/// histogram or the classic `http_requests_total` + `http_request_duration_seconds`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Metrics {
    /// A request counter with a status label (`http_requests_total`). Left out with a histogram
    /// named: the histogram's `_count` counts requests.
    pub requests: Option<String>,
    /// A latency histogram's base name, without `_bucket` (`http_request_duration_seconds`).
    pub histogram: Option<String>,
    /// The label carrying the route (`http_route`, `handler`); detected when left out.
    pub route_label: Option<String>,
    /// The label carrying the response status code (`http_response_status_code`, `status`,
    /// `code`); detected when left out.
    pub status_label: Option<String>,
    /// The label carrying the request method (`http_request_method`, `method`).
    pub method_label: Option<String>,
    /// Compare each method of a route separately (`GET /users`), not the route as a whole.
    pub by_method: bool,
    /// Which status codes count as errors: a PromQL regular expression on the status label.
    pub errors: String,
    /// Unit of the histogram's values, for reasons (`s`).
    pub unit: String,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: None,
            histogram: None,
            route_label: None,
            status_label: None,
            method_label: None,
            by_method: false,
            errors: "5..".into(),
            unit: "s".into(),
        }
    }
}

/// How an environment's matchers are applied.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Selection {
    /// Apply the matchers to this info metric and keep the series that share its `on` labels,
    /// instead of adding them to every metric: `target_info` when the environment is only on
    /// OpenTelemetry's resource attributes (`deployment_environment_name`).
    pub join: Option<String>,
    /// The labels joining a metric to `join` (`job`, `instance`).
    pub on: Vec<String>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            join: None,
            on: vec!["job".into(), "instance".into()],
        }
    }
}

impl CompareSpec {
    /// Reads and validates a spec file.
    pub fn load(path: &Path) -> Result<CompareSpec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let spec = CompareSpec::parse(&text).map_err(|source| SpecError::InFile {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        Ok(spec)
    }

    /// Parses and validates spec text.
    pub fn parse(text: &str) -> Result<CompareSpec, SpecError> {
        let spec: CompareSpec = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| prodlike_common::source::line_col(text, s.start).0);
            SpecError::Toml {
                line,
                message: e.message().to_string(),
            }
        })?;
        spec.validate()?;
        Ok(spec)
    }

    /// Checks every value, naming the first field that is wrong.
    pub fn validate(&self) -> Result<(), SpecError> {
        let m = &self.margins;
        for (field, v) in [
            ("margins.error_ratio", m.error_ratio),
            ("margins.p50", m.p50),
            ("margins.p90", m.p90),
            ("margins.p99", m.p99),
            ("margins.traffic_shape", m.traffic_shape),
            ("margins.volume", m.volume),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(SpecError::field(
                    field,
                    format!("{v} is not a margin of 0 or more"),
                ));
            }
        }
        self.error_ratio_spec().validate().map_err(stats)?;
        self.latency_spec().validate().map_err(stats)?;
        self.traffic_spec().validate().map_err(stats)?;
        for (i, r) in self.critical_routes.iter().enumerate() {
            if r.is_empty() {
                return Err(SpecError::field(
                    format!("critical_routes[{i}]"),
                    "an empty route; write a route name or a glob such as /api/pay/**",
                ));
            }
            if r.contains('*') {
                Glob::url_path(r).map_err(|e| {
                    SpecError::field(format!("critical_routes[{i}]"), e.to_string())
                })?;
            }
        }
        for (i, name) in self.critical_metrics.iter().enumerate() {
            if !METRIC_NAMES.contains(&name.as_str()) {
                return Err(SpecError::field(
                    format!("critical_metrics[{i}]"),
                    format!(
                        "`{name}` is not a metric; use one of {}",
                        METRIC_NAMES.join(", ")
                    ),
                ));
            }
        }
        self.step()?;
        let labels = [
            ("metrics.route_label", &self.metrics.route_label),
            ("metrics.status_label", &self.metrics.status_label),
            ("metrics.method_label", &self.metrics.method_label),
            ("metrics.requests", &self.metrics.requests),
            ("metrics.histogram", &self.metrics.histogram),
            ("selection.join", &self.selection.join),
        ];
        for (field, value) in labels {
            if let Some(v) = value
                && !is_name(v)
            {
                return Err(SpecError::field(
                    field,
                    format!(
                        "`{v}` is not a Prometheus metric or label name ([a-zA-Z_][a-zA-Z0-9_]*)"
                    ),
                ));
            }
        }
        if self.metrics.errors.is_empty() || self.metrics.errors.contains('"') {
            return Err(SpecError::field(
                "metrics.errors",
                "a PromQL regular expression on the status label, such as 5.. (no quotes)",
            ));
        }
        if self.selection.join.is_some() && self.selection.on.is_empty() {
            return Err(SpecError::field(
                "selection.on",
                "a join needs the labels it joins on, such as [\"job\", \"instance\"]",
            ));
        }
        for (i, l) in self.selection.on.iter().enumerate() {
            if !is_name(l) {
                return Err(SpecError::field(
                    format!("selection.on[{i}]"),
                    format!("`{l}` is not a label name"),
                ));
            }
        }
        Ok(())
    }

    /// The error-ratio judge's spec.
    pub fn error_ratio_spec(&self) -> ErrorRatioSpec {
        ErrorRatioSpec {
            label: "5xx ratio".into(),
            margin: match self.margins.error_ratio_relative {
                Some(r) => ErrorMargin::Relative(r),
                None => ErrorMargin::Absolute(self.margins.error_ratio),
            },
            alpha: self.alpha,
        }
    }

    /// The latency judge's spec (p50, p90, p99 with their margins).
    pub fn latency_spec(&self) -> LatencySpec {
        let m = &self.margins;
        LatencySpec {
            shift_margin: m.p50,
            quantiles: vec![
                QuantileMargin {
                    quantile: 0.50,
                    margin: m.p50,
                },
                QuantileMargin {
                    quantile: 0.90,
                    margin: m.p90,
                },
                QuantileMargin {
                    quantile: 0.99,
                    margin: m.p99,
                },
            ],
            alpha: self.alpha,
            unit: self.metrics.unit.clone(),
        }
    }

    /// The traffic-shape judge's spec.
    pub fn traffic_spec(&self) -> TrafficShapeSpec {
        TrafficShapeSpec {
            margin: self.margins.traffic_shape,
            alpha: self.alpha,
            expected_ratio: self.traffic.expected_ratio,
            volume_margin: self.margins.volume,
            ..TrafficShapeSpec::default()
        }
    }

    /// The interval of the request-rate curve, when the spec sets one.
    pub fn step(&self) -> Result<Option<Duration>, SpecError> {
        let Some(text) = &self.traffic.step else {
            return Ok(None);
        };
        let d = prodlike_common::duration::parse(text)
            .map_err(|e| SpecError::field("traffic.step", e.to_string()))?;
        if d < Duration::from_secs(1) {
            return Err(SpecError::field(
                "traffic.step",
                format!("`{text}` is below one second, Prometheus' finest step"),
            ));
        }
        Ok(Some(d))
    }

    /// Whether a route is critical.
    pub fn is_critical_route(&self, route: &str) -> bool {
        self.critical_routes.iter().any(|r| {
            r == route || (r.contains('*') && Glob::url_path(r).is_ok_and(|g| g.matches(route)))
        })
    }

    /// Whether a metric (one of [`METRIC_NAMES`]) is critical.
    pub fn is_critical_metric(&self, metric: &str) -> bool {
        self.critical_metrics.iter().any(|m| m == metric)
    }
}

/// A stats parameter error, with the spec's field name.
fn stats(e: StatsError) -> SpecError {
    match e {
        StatsError::InvalidParameter {
            field,
            value,
            expected,
        } => {
            let field = match field {
                "alpha" => "alpha",
                "margin.absolute" => "margins.error_ratio",
                "margin.relative" => "margins.error_ratio_relative",
                "shift_margin" | "quantiles[].margin" => "margins.p50/p90/p99",
                "margin" => "margins.traffic_shape",
                "volume_margin" => "margins.volume",
                "expected_ratio" => "traffic.expected_ratio",
                other => other,
            };
            SpecError::field(field, format!("{value} is not {expected}"))
        }
        other => SpecError::field("spec", other.to_string()),
    }
}

/// A Prometheus metric or label name.
pub(crate) fn is_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}
