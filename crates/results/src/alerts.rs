//! `prodlike.alerts/1`: what `prodlike alerts` wrote — the Prometheus rules watching staging
//! against production, and their promtool tests. Built by crates/cli/src/cmd/alerts.rs from
//! prodlike-compare's alerts module.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `schema` of the JSON envelope.
pub const SCHEMA: &str = "prodlike.alerts/1";

/// The files written and what they hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AlertsReport {
    /// Label matchers selecting production, normalised (sorted, `label="value"`).
    pub production: String,
    /// Label matchers selecting staging, normalised.
    pub staging: String,
    /// The spec file, when one was given.
    pub spec: Option<String>,
    /// The rules file written.
    pub rules_file: String,
    /// The `promtool test rules` file written, when asked (`--tests`).
    pub tests_file: Option<String>,
    /// Recording rules written.
    pub recording_rules: usize,
    /// Alert names written, in order.
    pub alerts: Vec<String>,
    /// The request counter read (a counter, or a histogram's `_count`).
    pub requests_metric: String,
    /// The latency histogram's base name; none means no latency alert.
    pub histogram: Option<String>,
    /// The label carrying the route.
    pub route_label: String,
    /// Requests per second each side must serve on a route before it is judged.
    pub min_rate: f64,
    /// How long a condition holds before an alert fires (`10m`).
    pub for_duration: String,
}
