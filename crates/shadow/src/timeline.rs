//! The dashboard's pictures: one point per second for the last ten minutes — requests, copies
//! mirrored and dropped, comparisons and mismatches (per route, noise apart), and production's
//! and staging's p50 and p99. A task on the mirror runtime takes a point every second from the
//! counters the proxy keeps anyway; the only thing recorded for it is each compared exchange's
//! two latencies, into a window that the point empties. Served at `/api/timeline`.
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use prodlike_stats::LatencyHistogram;
use serde::Serialize;

use crate::mirror::{DropCounters, DropReason};
use crate::routes::RouteTable;

/// Points kept: ten minutes at one a second.
pub const CAPACITY: usize = 600;
/// Routes drawn per point: the busiest.
const ROUTES_PER_POINT: usize = 8;

/// One second of traffic.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Point {
    /// Unix seconds at the end of the second.
    pub t: u64,
    pub requests: u64,
    pub mirrored: u64,
    pub dropped: u64,
    pub compared: u64,
    pub mismatched: u64,
    /// Diffs left out of the verdict as noise.
    pub noise: u64,
    pub production_p50_ms: Option<f64>,
    pub production_p99_ms: Option<f64>,
    pub staging_p50_ms: Option<f64>,
    pub staging_p99_ms: Option<f64>,
    /// The busiest routes of the second.
    pub routes: Vec<RoutePoint>,
}

/// One route's second.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoutePoint {
    pub route: String,
    pub compared: u64,
    pub mismatched: u64,
    pub noise: u64,
}

#[derive(Default, Clone, Copy)]
struct Totals {
    requests: u64,
    mirrored: u64,
    dropped: u64,
    compared: u64,
    mismatched: u64,
    noise: u64,
}

#[derive(Default)]
struct State {
    points: VecDeque<Point>,
    last: Totals,
    last_routes: HashMap<String, (u64, u64, u64, u64)>,
}

/// The ring of points and the latency window.
pub struct Timeline {
    state: Mutex<State>,
    window: Mutex<(LatencyHistogram, LatencyHistogram)>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            state: Mutex::new(State::default()),
            window: Mutex::new((LatencyHistogram::new(), LatencyHistogram::new())),
        }
    }
}

impl Timeline {
    /// One compared exchange's latencies, for this second's percentiles.
    pub fn record_latencies(&self, production: Duration, staging: Duration) {
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        w.0.record(production);
        w.1.record(staging);
    }

    /// The points kept, oldest first.
    pub fn points(&self) -> Vec<Point> {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.points.iter().cloned().collect()
    }

    /// Takes the point of the second that just ended.
    pub fn sample(&self, routes: &RouteTable, drops: Option<&DropCounters>) {
        // The window's percentiles are read under its lock, and it is emptied only when
        // something was recorded: an idle second costs no histogram work.
        let [
            production_p50_ms,
            production_p99_ms,
            staging_p50_ms,
            staging_p99_ms,
        ] = {
            let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
            let quantile = |h: &LatencyHistogram, q: f64| (!h.is_empty()).then(|| h.quantile_ms(q));
            let read = [
                quantile(&w.0, 0.5),
                quantile(&w.0, 0.99),
                quantile(&w.1, 0.5),
                quantile(&w.1, 0.99),
            ];
            if !w.0.is_empty() || !w.1.is_empty() {
                w.0.reset();
                w.1.reset();
            }
            read
        };
        let mut now = Totals::default();
        let mut per_route = Vec::new();
        for e in routes.entries() {
            let requests = e.requests.load(Ordering::Relaxed);
            let (mirrored, compared, mismatched, noise) = e.with_divergence(|d| {
                (
                    d.mirrored,
                    d.compared,
                    d.mismatched,
                    d.noise.excluded_total(),
                )
            });
            now.requests += requests;
            now.mirrored += mirrored;
            now.compared += compared;
            now.mismatched += mismatched;
            now.noise += noise;
            per_route.push((e.name.to_string(), requests, compared, mismatched, noise));
        }
        now.dropped = drops
            .map(|d| DropReason::ALL.iter().map(|r| d.get(*r)).sum())
            .unwrap_or(0);
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let last = s.last;
        let mut routes_now: Vec<(RoutePoint, u64)> = per_route
            .iter()
            .map(|(name, req, c, m, n)| {
                let (lr, lc, lm, ln) = s.last_routes.get(name).copied().unwrap_or_default();
                (
                    RoutePoint {
                        route: name.clone(),
                        compared: c.saturating_sub(lc),
                        mismatched: m.saturating_sub(lm),
                        noise: n.saturating_sub(ln),
                    },
                    req.saturating_sub(lr),
                )
            })
            .filter(|(p, req)| *req > 0 || p.compared > 0)
            .collect();
        routes_now.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.route.cmp(&b.0.route)));
        routes_now.truncate(ROUTES_PER_POINT);
        s.last_routes = per_route
            .into_iter()
            .map(|(name, req, c, m, n)| (name, (req, c, m, n)))
            .collect();
        let point = Point {
            t,
            requests: now.requests.saturating_sub(last.requests),
            mirrored: now.mirrored.saturating_sub(last.mirrored),
            dropped: now.dropped.saturating_sub(last.dropped),
            compared: now.compared.saturating_sub(last.compared),
            mismatched: now.mismatched.saturating_sub(last.mismatched),
            noise: now.noise.saturating_sub(last.noise),
            production_p50_ms,
            production_p99_ms,
            staging_p50_ms,
            staging_p99_ms,
            routes: routes_now.into_iter().map(|(p, _)| p).collect(),
        };
        s.last = now;
        if s.points.len() == CAPACITY {
            s.points.pop_front();
        }
        s.points.push_back(point);
    }
}
