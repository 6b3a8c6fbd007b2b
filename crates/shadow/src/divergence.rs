//! Per-route divergence between production and staging: counts, latency distributions of
//! both sides, and a bounded ring of example diffs. Memory per route is fixed.
use std::collections::{BTreeMap, VecDeque};

use prodlike_stats::{LatencyHistogram, LatencySummary};
use serde::Serialize;

use crate::compare::{Comparison, Diff};

/// One mismatching exchange, kept as an example. Values are masked.
#[derive(Debug, Clone, Serialize)]
pub struct DiffExample {
    /// RFC 3339 time the request arrived.
    pub at: String,
    pub method: String,
    /// Path and query as mirrored (masked).
    pub target: String,
    pub production_status: u16,
    pub staging_status: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, Option<String>, Option<String>)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<Diff>,
    pub body_diff_count: usize,
}

pub struct RouteDivergence {
    /// Copies sent to staging.
    pub mirrored: u64,
    pub compared: u64,
    pub mismatched: u64,
    pub status_diffs: u64,
    pub header_diffs: u64,
    pub body_diffs: u64,
    /// Comparisons where a body could not be compared (too large, cut short).
    pub body_skipped: u64,
    /// Copies staging did not answer (error or timeout).
    pub staging_failures: u64,
    pub production_latency: LatencyHistogram,
    pub staging_latency: LatencyHistogram,
    pub examples: VecDeque<DiffExample>,
    /// Body paths that differed and how often (bounded).
    pub paths: BTreeMap<String, u64>,
    max_examples: usize,
}

/// Distinct differing body paths remembered per route.
const MAX_PATHS: usize = 50;

impl RouteDivergence {
    pub fn new(max_examples: usize) -> Self {
        Self {
            mirrored: 0,
            compared: 0,
            mismatched: 0,
            status_diffs: 0,
            header_diffs: 0,
            body_diffs: 0,
            body_skipped: 0,
            staging_failures: 0,
            production_latency: LatencyHistogram::new(),
            staging_latency: LatencyHistogram::new(),
            examples: VecDeque::with_capacity(max_examples),
            paths: BTreeMap::new(),
            max_examples,
        }
    }

    /// Records a comparison; returns true when it was a mismatch.
    pub fn record(&mut self, c: &Comparison, example: impl FnOnce() -> DiffExample) -> bool {
        self.compared += 1;
        if c.body_skipped {
            self.body_skipped += 1;
        }
        if c.matches() {
            return false;
        }
        self.mismatched += 1;
        self.status_diffs += u64::from(c.status_differs());
        self.header_diffs += u64::from(c.headers_differ());
        self.body_diffs += u64::from(c.body_differs());
        for d in &c.body {
            if let Some(n) = self.paths.get_mut(&d.path) {
                *n += 1;
            } else if self.paths.len() < MAX_PATHS {
                self.paths.insert(d.path.clone(), 1);
            }
        }
        if self.max_examples > 0 {
            if self.examples.len() == self.max_examples {
                self.examples.pop_front();
            }
            self.examples.push_back(example());
        }
        true
    }

    pub fn report(&self, route: &str, requests: u64) -> RouteReport {
        RouteReport {
            route: route.to_string(),
            requests,
            mirrored: self.mirrored,
            compared: self.compared,
            mismatched: self.mismatched,
            mismatch_rate: if self.compared == 0 {
                0.0
            } else {
                self.mismatched as f64 / self.compared as f64
            },
            status_diffs: self.status_diffs,
            header_diffs: self.header_diffs,
            body_diffs: self.body_diffs,
            body_skipped: self.body_skipped,
            staging_failures: self.staging_failures,
            production_latency_ms: self.production_latency.summary(),
            staging_latency_ms: self.staging_latency.summary(),
            differing_paths: self.paths.clone(),
            examples: self.examples.iter().rev().cloned().collect(),
        }
    }
}

/// One route in `/api/divergence` and in the JSON result.
#[derive(Debug, Clone, Serialize)]
pub struct RouteReport {
    pub route: String,
    /// Production requests on the route.
    pub requests: u64,
    /// Copies sent to staging.
    pub mirrored: u64,
    /// Exchanges where both responses were compared.
    pub compared: u64,
    pub mismatched: u64,
    /// mismatched / compared.
    pub mismatch_rate: f64,
    pub status_diffs: u64,
    pub header_diffs: u64,
    pub body_diffs: u64,
    pub body_skipped: u64,
    pub staging_failures: u64,
    /// Latency of the compared exchanges, from arrival to the end of each response.
    pub production_latency_ms: LatencySummary,
    pub staging_latency_ms: LatencySummary,
    /// Body paths that differed, with counts.
    pub differing_paths: BTreeMap<String, u64>,
    /// Newest first.
    pub examples: Vec<DiffExample>,
}
