//! The queries, one environment at a time. Every count is a sum of counter increases over the
//! window (ratios are taken of these sums later, never averaged over series or intervals):
//! - which metrics exist, with their label keys: `/api/v1/series` over the window;
//! - the scrape interval: the window over the most samples any request series holds in it;
//! - requests and errors per route: `sum by (route) (increase(requests{…}[window]))`, errors with
//!   the status matcher added;
//! - latency per route: `sum by (route, le) (increase(histogram_bucket{…}[window]))`;
//! - the request-rate curve of all routes: `sum(increase(requests{…}[step]))` as a range query,
//!   one point per step (each point the requests of the step before it).
use std::collections::{BTreeMap, BTreeSet};

use super::client::Prometheus;
use super::metrics::{self, Plan};
use super::response::{SeriesLabels, value};
use super::selector::Selector;
use super::window::{Window, rfc3339};
use crate::error::CompareError;

/// One environment: where and how it is read.
pub struct Side<'a> {
    /// `production` or `staging`, for messages.
    pub name: &'static str,
    pub client: &'a Prometheus,
    pub selector: &'a Selector,
}

/// What one environment holds.
#[derive(Debug, Clone, Default)]
pub struct SideData {
    /// Metric names found, each with the label keys its series carry.
    pub names: BTreeMap<String, BTreeSet<String>>,
    /// Requests per route in the window.
    pub requests: BTreeMap<String, f64>,
    /// Errors per route in the window.
    pub errors: BTreeMap<String, f64>,
    /// Cumulative bucket counts per route: `(le, count)` in ascending `le`.
    pub buckets: BTreeMap<String, Vec<(f64, f64)>>,
    /// Requests per step, all routes together, at the window's steps.
    pub rate: Vec<f64>,
}

impl Side<'_> {
    /// The known metric names with their label keys.
    pub async fn names(
        &self,
        spec: &crate::spec::Metrics,
        w: &Window,
    ) -> Result<BTreeMap<String, BTreeSet<String>>, CompareError> {
        let candidates = metrics::candidate_names(spec);
        let regex = candidates.join("|");
        let (start, end) = (w.start as f64, w.end as f64);
        let mut series = self
            .client
            .series(&self.selector.series(&regex), start, end)
            .await?;
        if let Some(info) = self.selector.info_series() {
            let infos = self.client.series(&info, start, end).await?;
            let keys: BTreeSet<Vec<String>> =
                infos.iter().map(|s| self.selector.join_key(s)).collect();
            series.retain(|s: &SeriesLabels| keys.contains(&self.selector.join_key(s)));
        }
        let names = metrics::keys_by_name(&series);
        if names.is_empty() {
            return Err(CompareError::NothingSelected(Box::new(
                crate::error::Unselected {
                    side: self.name,
                    selector: match self.selector.join() {
                        Some(j) => format!("{} (on {j})", self.selector.shown),
                        None => self.selector.shown.clone(),
                    },
                    metrics: candidates.join(", "),
                    url: self.client.shown().to_string(),
                    start: rfc3339(w.start),
                    end: rfc3339(w.end),
                },
            )));
        }
        Ok(names)
    }

    /// The scrape interval in seconds, read from sample spacing: the window over the most
    /// samples one request series holds in it.
    pub async fn scrape_interval(
        &self,
        plan: &Plan,
        w: &Window,
    ) -> Result<Option<f64>, CompareError> {
        let expr = format!(
            "max({})",
            self.selector
                .vector("count_over_time", &plan.requests, "", &w.range())
        );
        let r = self.client.query(&expr, w.end as f64).await?;
        Ok(r.first()
            .and_then(|s| s.number())
            .filter(|n| *n > 1.0)
            .map(|n| w.seconds() as f64 / (n - 1.0)))
    }

    /// Requests, errors, buckets and the rate curve.
    pub async fn data(
        &self,
        plan: &Plan,
        errors: &str,
        w: &Window,
        step: u64,
        names: BTreeMap<String, BTreeSet<String>>,
    ) -> Result<SideData, CompareError> {
        let by = plan.group_by.join(", ");
        let at = w.end as f64;
        let (requests, errors) = self.counts(plan, errors, w).await?;
        let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        if let Some(h) = &plan.histogram {
            let expr = format!(
                "sum by ({by}, le) ({})",
                self.selector
                    .vector("increase", &format!("{h}_bucket"), "", &w.range())
            );
            for s in self.client.query(&expr, at).await? {
                let le = s.metric.get("le").and_then(|l| l.parse::<f64>().ok());
                if let (Some(le), Some(v)) = (le, s.number()) {
                    buckets
                        .entry(metrics::group_key(plan, &s.metric))
                        .or_default()
                        .push((le, v));
                }
            }
            for b in buckets.values_mut() {
                b.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
        }
        let rate = self.rate(plan, w, step).await?;
        Ok(SideData {
            names,
            requests,
            errors,
            buckets,
            rate,
        })
    }

    /// Requests and errors per route over `w`, for `--watch` (the same sums as [`Side::data`]).
    pub async fn counts(
        &self,
        plan: &Plan,
        errors: &str,
        w: &Window,
    ) -> Result<(BTreeMap<String, f64>, BTreeMap<String, f64>), CompareError> {
        let by = plan.group_by.join(", ");
        let sum_by = |extra: &str| {
            format!(
                "sum by ({by}) ({})",
                self.selector
                    .vector("increase", &plan.requests, extra, &w.range())
            )
        };
        let at = w.end as f64;
        let requests = self.per_group(plan, &sum_by(""), at).await?;
        let error_matcher = format!("{}=~\"{errors}\"", plan.status_label);
        let errors = self.per_group(plan, &sum_by(&error_matcher), at).await?;
        Ok((requests, errors))
    }

    async fn per_group(
        &self,
        plan: &Plan,
        expr: &str,
        at: f64,
    ) -> Result<BTreeMap<String, f64>, CompareError> {
        let mut out = BTreeMap::new();
        for s in self.client.query(expr, at).await? {
            if let Some(v) = s.number() {
                *out.entry(metrics::group_key(plan, &s.metric))
                    .or_insert(0.0) += v;
            }
        }
        Ok(out)
    }

    /// Requests per step at `start + step, start + 2·step, …, end`.
    async fn rate(&self, plan: &Plan, w: &Window, step: u64) -> Result<Vec<f64>, CompareError> {
        let step = step.max(1);
        let points = (w.seconds() / step).max(1) as usize;
        let first = w.end.saturating_sub(step * (points as u64 - 1));
        let expr = format!(
            "sum({})",
            self.selector
                .vector("increase", &plan.requests, "", &format!("[{step}s]"))
        );
        let series = self
            .client
            .query_range(&expr, first as f64, w.end as f64, step)
            .await?;
        let mut curve = vec![0.0; points];
        for s in series {
            for (t, v) in s.values {
                let offset = (t - first as f64) / step as f64;
                let i = offset.round();
                if i >= 0.0
                    && (i as usize) < points
                    && let Some(v) = value(&v)
                {
                    curve[i as usize] += v;
                }
            }
        }
        Ok(curve)
    }
}
