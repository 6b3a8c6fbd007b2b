//! Per-route divergence between production and staging: counts, latency distributions of
//! both sides, and a bounded ring of example diffs. Memory per route is fixed.
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

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
    last_example: Option<Instant>,
}

/// Distinct differing body paths remembered per route.
const MAX_PATHS: usize = 50;

/// Once a route's examples are full, how often one is replaced by a newer one.
const EXAMPLE_REFRESH: Duration = Duration::from_millis(200);

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
            last_example: None,
        }
    }

    /// Records a comparison; returns true when it was a mismatch.
    pub fn record(&mut self, c: &Comparison, example: impl FnOnce() -> DiffExample) -> bool {
        self.record_at(c, Instant::now(), example)
    }

    fn record_at(
        &mut self,
        c: &Comparison,
        now: Instant,
        example: impl FnOnce() -> DiffExample,
    ) -> bool {
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
            let full = self.examples.len() == self.max_examples;
            // A full sample is refreshed at most every EXAMPLE_REFRESH: examples stay recent,
            // and a route diverging at thousands of copies a second does not build (and then
            // discard) an example for each.
            let due = !full
                || self
                    .last_example
                    .is_none_or(|t| now.duration_since(t) >= EXAMPLE_REFRESH);
            if due {
                if full {
                    self.examples.pop_front();
                }
                self.examples.push_back(example());
                self.last_example = Some(now);
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mismatch() -> Comparison {
        Comparison {
            status: Some((200, 500)),
            ..Comparison::default()
        }
    }

    fn example(n: u16) -> DiffExample {
        DiffExample {
            at: String::new(),
            method: "GET".into(),
            target: "/".into(),
            production_status: 200,
            staging_status: n,
            headers: Vec::new(),
            body: Vec::new(),
            body_diff_count: 0,
        }
    }

    #[test]
    fn a_full_sample_is_refreshed_at_most_every_refresh_interval() {
        let mut d = RouteDivergence::new(2);
        let t0 = Instant::now();
        let mut built = 0;
        let mut at = |d: &mut RouteDivergence, offset_ms: u64, n: u16| {
            d.record_at(&mismatch(), t0 + Duration::from_millis(offset_ms), || {
                built += 1;
                example(n)
            })
        };
        assert!(at(&mut d, 0, 1));
        assert!(at(&mut d, 1, 2));
        // Full: within the interval nothing is built, but everything is counted.
        for i in 0..100 {
            assert!(at(&mut d, 2 + i, 3));
        }
        assert!(at(&mut d, 1 + EXAMPLE_REFRESH.as_millis() as u64, 4));
        assert_eq!(built, 3);
        assert_eq!(d.mismatched, 103);
        let kept: Vec<u16> = d.examples.iter().map(|e| e.staging_status).collect();
        assert_eq!(kept, [2, 4], "the oldest example made way for the newest");
    }
}
