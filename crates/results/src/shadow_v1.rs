//! `prodlike.shadow/1`, read only: written until version 2 replaced it, still accepted by
//! [`crate::read`] for one release (../shared/DECISIONS.md), converted into the version 2 types.
//!
//! Version 1 counted an exchange as compared even when its body was not (too large, or cut
//! short), and counted those in `body_skipped` instead. Version 2 never counts such an exchange
//! as compared. The conversion (docs/results.md, "Reading version 1"):
//! - `not_compared` gets `{"body_skipped": n}` (when n > 0): version 1 did not say which of the
//!   two reasons applied, so neither `too_large` nor `cut_short` is claimed;
//! - `compared` loses those n exchanges, assuming each of them matched on status and headers
//!   (the case version 1 would have counted as a match), but never drops below `mismatched`;
//! - `mismatch_rate`, `mismatch_rate_ci95` and `verdict` are computed again from those counts;
//! - fields version 1 did not have are empty: no noise, no noise probes, no routes counted in
//!   `routes_not_compared` unless nothing at all was compared on them.
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::shadow::{DiffExample, RouteReport, RouteVerdict, ShadowReport, Totals, UpstreamStatus};
use crate::shared::LatencySummary;

/// The schema string of version 1.
pub const SCHEMA: &str = "prodlike.shadow/1";

/// The `not_compared` reason given to version 1's `body_skipped` exchanges.
pub const BODY_SKIPPED: &str = "body_skipped";

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ShadowReportV1 {
    uptime_s: f64,
    production: Vec<UpstreamStatus>,
    staging: Option<String>,
    sample: f64,
    totals: TotalsV1,
    routes: Vec<RouteReportV1>,
}

#[derive(Debug, Clone, Deserialize)]
struct TotalsV1 {
    requests: u64,
    mirrored: u64,
    dropped: BTreeMap<String, u64>,
    queue_depth: i64,
    queue_capacity: i64,
    inflight: i64,
    capture_records: u64,
    capture_dropped: u64,
}

#[derive(Debug, Clone, Deserialize)]
struct RouteReportV1 {
    route: String,
    requests: u64,
    mirrored: u64,
    compared: u64,
    mismatched: u64,
    status_diffs: u64,
    header_diffs: u64,
    body_diffs: u64,
    body_skipped: u64,
    staging_failures: u64,
    production_latency_ms: LatencySummary,
    staging_latency_ms: LatencySummary,
    differing_paths: BTreeMap<String, u64>,
    examples: Vec<DiffExample>,
}

impl From<RouteReportV1> for RouteReport {
    fn from(r: RouteReportV1) -> Self {
        let compared = r.compared.saturating_sub(r.body_skipped).max(r.mismatched);
        let mut not_compared = BTreeMap::new();
        if r.body_skipped > 0 {
            not_compared.insert(BODY_SKIPPED.to_string(), r.body_skipped);
        }
        let (lo, hi) = prodlike_stats::wilson_interval(r.mismatched, compared, 0.95);
        RouteReport {
            route: r.route,
            requests: r.requests,
            mirrored: r.mirrored,
            compared,
            mismatched: r.mismatched,
            mismatch_rate: ratio(r.mismatched, compared),
            mismatch_rate_ci95: [lo, hi],
            verdict: RouteVerdict::of(compared, r.mismatched),
            not_compared,
            status_diffs: r.status_diffs,
            header_diffs: r.header_diffs,
            body_diffs: r.body_diffs,
            staging_failures: r.staging_failures,
            production_latency_ms: r.production_latency_ms,
            staging_latency_ms: r.staging_latency_ms,
            differing_paths: r.differing_paths,
            noise: Vec::new(),
            noise_probes: 0,
            examples: r.examples,
            production_answers: None,
            staging_answers: None,
        }
    }
}

impl From<ShadowReportV1> for ShadowReport {
    fn from(v1: ShadowReportV1) -> Self {
        let routes: Vec<RouteReport> = v1.routes.into_iter().map(RouteReport::from).collect();
        let mut totals = Totals {
            requests: v1.totals.requests,
            mirrored: v1.totals.mirrored,
            dropped: v1.totals.dropped,
            queue_depth: v1.totals.queue_depth,
            queue_capacity: v1.totals.queue_capacity,
            inflight: v1.totals.inflight,
            capture_records: v1.totals.capture_records,
            capture_dropped: v1.totals.capture_dropped,
            ..Totals::default()
        };
        // Totals are sums over routes in version 2; version 1's own `compared` included the
        // skipped bodies, so it is summed again from the converted routes.
        for r in &routes {
            totals.compared += r.compared;
            totals.mismatched += r.mismatched;
            for (why, n) in &r.not_compared {
                *totals.not_compared.entry(why.clone()).or_insert(0) += n;
            }
            if r.mirrored > 0 && r.compared == 0 {
                totals.routes_not_compared += 1;
            }
        }
        totals.mismatch_rate = ratio(totals.mismatched, totals.compared);
        ShadowReport {
            uptime_s: v1.uptime_s,
            production: v1.production,
            staging: v1.staging,
            sample: v1.sample,
            totals,
            routes,
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
