//! `compare prometheus --watch`: the [`CountSource`] that reads each route's requests and errors
//! since the watch began from both environments, through the same client and queries as the
//! full comparison (`fetch.rs`), and the prepared comparison moved onto the watched window.
use std::collections::BTreeMap;

use prodlike_stats::ErrorCounts;

use super::Prepared;
use super::fetch::Side;
use super::metrics::{self, Plan};
use super::window::{self, Window};
use crate::error::CompareError;
use crate::watch::{CountSource, RouteCounts};

/// Both environments, read from `start` to now at each look.
pub struct PrometheusCounts<'a> {
    prepared: &'a Prepared,
    plan: Plan,
    start: u64,
}

impl<'a> PrometheusCounts<'a> {
    /// Picks the metrics from the prepared window (as the full comparison does) and starts the
    /// watch now.
    pub async fn start(prepared: &'a Prepared) -> Result<PrometheusCounts<'a>, CompareError> {
        let names = prepared
            .production_side()
            .names(&prepared.spec.metrics, &prepared.window)
            .await?;
        let plan = metrics::plan(&prepared.spec.metrics, &names).ok_or_else(|| {
            CompareError::NothingSelected(Box::new(crate::error::Unselected {
                side: "production",
                selector: prepared.production_selector.shown.clone(),
                metrics: metrics::candidate_names(&prepared.spec.metrics).join(", "),
                url: prepared.production.shown().to_string(),
                start: window::rfc3339(prepared.window.start),
                end: window::rfc3339(prepared.window.end),
            }))
        })?;
        Ok(PrometheusCounts {
            prepared,
            plan,
            start: window::now(),
        })
    }

    /// When the watch began (Unix seconds).
    pub fn started(&self) -> u64 {
        self.start
    }
}

impl CountSource for PrometheusCounts<'_> {
    async fn counts(&mut self) -> Result<BTreeMap<String, RouteCounts>, CompareError> {
        let w = Window {
            start: self.start,
            end: window::now().max(self.start + 1),
        };
        let errors = &self.prepared.spec.metrics.errors;
        let p = self.prepared.production_side();
        let s = self.prepared.staging_side();
        let (pr, pe) = p.counts(&self.plan, errors, &w).await?;
        let (sr, se) = s.counts(&self.plan, errors, &w).await?;
        let mut out = BTreeMap::new();
        // Only routes both sides serve: a route missing on one side is parity's finding, judged
        // by the full comparison at the end.
        for (route, &preq) in &pr {
            if let Some(&sreq) = sr.get(route) {
                let count = |v: f64| {
                    if v.is_finite() && v > 0.0 {
                        v.round() as u64
                    } else {
                        0
                    }
                };
                let side = |req: f64, err: Option<&f64>| {
                    let requests = count(req);
                    ErrorCounts::new(count(err.copied().unwrap_or(0.0)).min(requests), requests)
                };
                out.insert(
                    route.clone(),
                    RouteCounts {
                        production: side(preq, pe.get(route)),
                        staging: side(sreq, se.get(route)),
                    },
                );
            }
        }
        Ok(out)
    }
}

impl Prepared {
    pub(super) fn production_side(&self) -> Side<'_> {
        Side {
            name: "production",
            client: &self.production,
            selector: &self.production_selector,
        }
    }

    pub(super) fn staging_side(&self) -> Side<'_> {
        Side {
            name: "staging",
            client: self.staging.as_ref().unwrap_or(&self.production),
            selector: &self.staging_selector,
        }
    }

    /// The same comparison over the watched window, `start` to now.
    pub fn watched(mut self, start: u64) -> Prepared {
        self.window = Window {
            start,
            end: window::now().max(start + 1),
        };
        self
    }
}

impl Prepared {
    /// The watch's test from the spec: its error-ratio margin and alpha.
    pub fn watch_spec(&self) -> prodlike_stats::WatchSpec {
        prodlike_stats::WatchSpec {
            margin: self.spec.margins.error_ratio,
            alpha: self.spec.alpha,
            ..Default::default()
        }
    }
}
