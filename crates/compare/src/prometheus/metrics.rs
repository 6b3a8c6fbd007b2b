//! Which metrics to read, and which labels carry route, status and method: named by the spec,
//! or detected from production's series — the OpenTelemetry HTTP server histogram
//! (`http_server_request_duration_seconds`, labels `http_route`, `http_response_status_code`,
//! `http_request_method`) first, else the classic `http_requests_total{status|code}` with the
//! `http_request_duration_seconds` histogram.
use std::collections::{BTreeMap, BTreeSet};

use crate::spec::Metrics;

pub const OTEL_HISTOGRAM: &str = "http_server_request_duration_seconds";
pub const CLASSIC_COUNTER: &str = "http_requests_total";
pub const CLASSIC_HISTOGRAM: &str = "http_request_duration_seconds";

const ROUTE_LABELS: [&str; 6] = ["http_route", "route", "handler", "path", "endpoint", "uri"];
const STATUS_LABELS: [&str; 4] = ["http_response_status_code", "status", "code", "status_code"];
const METHOD_LABELS: [&str; 3] = ["http_request_method", "method", "http_method"];

/// What is read, and how it is grouped.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// `otel`, `classic` or `custom`.
    pub family: &'static str,
    /// The request counter (with the status label): a counter or a histogram's `_count`.
    pub requests: String,
    /// The latency histogram's base name.
    pub histogram: Option<String>,
    pub route_label: String,
    pub status_label: String,
    pub method_label: Option<String>,
    /// Labels to group by: route, then method when compared separately.
    pub group_by: Vec<String>,
}

/// Every metric name this module may read, for the series lookup: the spec's or the known
/// families' request counters.
pub fn candidate_names(spec: &Metrics) -> Vec<String> {
    match custom_requests(spec) {
        Some(n) => vec![n],
        None => vec![
            format!("{OTEL_HISTOGRAM}_count"),
            CLASSIC_COUNTER.into(),
            format!("{CLASSIC_HISTOGRAM}_count"),
        ],
    }
}

fn custom_requests(spec: &Metrics) -> Option<String> {
    spec.requests
        .clone()
        .or_else(|| spec.histogram.as_ref().map(|h| format!("{h}_count")))
}

/// Label keys per metric name, from series label sets.
pub fn keys_by_name(series: &[BTreeMap<String, String>]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in series {
        if let Some(name) = s.get("__name__") {
            out.entry(name.clone())
                .or_default()
                .extend(s.keys().filter(|k| *k != "__name__").cloned());
        }
    }
    out
}

/// Chooses the metrics from production's names and label keys; `None` when production has
/// none of them.
pub fn plan(spec: &Metrics, production: &BTreeMap<String, BTreeSet<String>>) -> Option<Plan> {
    let (family, requests, histogram) = if let Some(requests) = custom_requests(spec) {
        ("custom", requests, spec.histogram.clone())
    } else if production.contains_key(&format!("{OTEL_HISTOGRAM}_count")) {
        (
            "otel",
            format!("{OTEL_HISTOGRAM}_count"),
            Some(OTEL_HISTOGRAM.to_string()),
        )
    } else if production.contains_key(CLASSIC_COUNTER) {
        let hist = production
            .contains_key(&format!("{CLASSIC_HISTOGRAM}_count"))
            .then(|| CLASSIC_HISTOGRAM.to_string());
        ("classic", CLASSIC_COUNTER.to_string(), hist)
    } else if production.contains_key(&format!("{CLASSIC_HISTOGRAM}_count")) {
        (
            "classic",
            format!("{CLASSIC_HISTOGRAM}_count"),
            Some(CLASSIC_HISTOGRAM.to_string()),
        )
    } else {
        return None;
    };
    let keys = production.get(&requests)?;
    let pick = |given: &Option<String>, known: &[&str]| {
        given.clone().or_else(|| {
            known
                .iter()
                .find(|k| keys.contains(**k))
                .map(|k| k.to_string())
        })
    };
    let route_label = pick(&spec.route_label, &ROUTE_LABELS).unwrap_or_else(|| "http_route".into());
    let status_label = pick(&spec.status_label, &STATUS_LABELS).unwrap_or_else(|| "status".into());
    let method_label = pick(&spec.method_label, &METHOD_LABELS);
    let mut group_by = vec![route_label.clone()];
    if spec.by_method
        && let Some(m) = &method_label
    {
        group_by.insert(0, m.clone());
    }
    Some(Plan {
        family,
        requests,
        histogram,
        route_label,
        status_label,
        method_label,
        group_by,
    })
}

/// A series' group key as shown: `GET /users/{id}` (method first when grouped by it).
pub fn group_key(plan: &Plan, labels: &BTreeMap<String, String>) -> String {
    plan.group_by
        .iter()
        .map(|l| labels.get(l).map(String::as_str).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(pairs: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        pairs
            .iter()
            .map(|(n, ks)| (n.to_string(), ks.iter().map(|k| k.to_string()).collect()))
            .collect()
    }

    #[test]
    fn otel_wins_then_classic_labels_are_detected() {
        let otel = names(&[(
            "http_server_request_duration_seconds_count",
            &[
                "http_route",
                "http_response_status_code",
                "http_request_method",
            ],
        )]);
        let p = plan(&Metrics::default(), &otel).unwrap();
        assert_eq!((p.family, p.route_label.as_str()), ("otel", "http_route"));
        let classic = names(&[("http_requests_total", &["handler", "code", "method"])]);
        let p = plan(&Metrics::default(), &classic).unwrap();
        assert_eq!(
            (
                p.family,
                p.route_label.as_str(),
                p.status_label.as_str(),
                p.histogram
            ),
            ("classic", "handler", "code", None)
        );
        assert!(plan(&Metrics::default(), &names(&[("up", &["job"])])).is_none());
    }

    #[test]
    fn methods_are_compared_apart_when_asked() {
        let otel = names(&[(
            "http_server_request_duration_seconds_count",
            &[
                "http_route",
                "http_response_status_code",
                "http_request_method",
            ],
        )]);
        let spec = Metrics {
            by_method: true,
            ..Metrics::default()
        };
        let p = plan(&spec, &otel).unwrap();
        assert_eq!(p.group_by, vec!["http_request_method", "http_route"]);
        let labels: BTreeMap<String, String> = [
            ("http_route".to_string(), "/users/{id}".to_string()),
            ("http_request_method".to_string(), "GET".to_string()),
        ]
        .into();
        assert_eq!(group_key(&p, &labels), "GET /users/{id}");
        let custom = Metrics {
            histogram: Some("rpc_latency".into()),
            route_label: Some("rpc".into()),
            ..Metrics::default()
        };
        let p = plan(
            &custom,
            &names(&[("rpc_latency_count", &["rpc", "status"])]),
        )
        .unwrap();
        assert_eq!(
            (
                p.family,
                p.requests.as_str(),
                p.route_label.as_str(),
                p.status_label.as_str()
            ),
            ("custom", "rpc_latency_count", "rpc", "status")
        );
    }
}
