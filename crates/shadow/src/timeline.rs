//! The dashboard's pictures: one point per second for the last ten minutes — requests, copies
//! mirrored and dropped, comparisons and mismatches (per route, noise apart), and production's
//! and staging's p50 and p99. A task on the mirror runtime takes a point every second from the
//! counters the proxy keeps anyway; the only thing recorded for it is each compared exchange's
//! two latencies, into a window (a reservoir of at most 1,024 per side, so a busy second costs
//! a sort of 1,024 numbers, not a histogram's thousands of buckets) that the point empties.
//! Served at `/api/timeline`.
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

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

/// Latencies kept per side and second: enough for a p99 of the second to within a percent.
const WINDOW: usize = 1024;

/// One second's latencies, in microseconds: a uniform reservoir of at most [`WINDOW`].
#[derive(Default)]
struct Reservoir {
    kept: Vec<u32>,
    seen: u64,
}

impl Reservoir {
    fn record(&mut self, d: Duration) {
        let us = u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
        self.seen += 1;
        if self.kept.len() < WINDOW {
            self.kept.push(us);
        } else {
            // Keep each of the `seen` with the same chance (Vitter's algorithm R).
            let slot = fastrand::u64(..self.seen) as usize;
            if let Some(k) = self.kept.get_mut(slot) {
                *k = us;
            }
        }
    }

    /// p50 and p99 in milliseconds, and empties the reservoir.
    fn take(&mut self) -> (Option<f64>, Option<f64>) {
        if self.kept.is_empty() {
            return (None, None);
        }
        self.kept.sort_unstable();
        let at = |q: f64| {
            let i = ((q * self.kept.len() as f64).ceil() as usize).clamp(1, self.kept.len()) - 1;
            self.kept.get(i).map(|&us| f64::from(us) / 1000.0)
        };
        let out = (at(0.5), at(0.99));
        self.kept.clear();
        self.seen = 0;
        out
    }
}

/// The ring of points and the latency window.
#[derive(Default)]
pub struct Timeline {
    state: Mutex<State>,
    window: Mutex<(Reservoir, Reservoir)>,
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
        let ((production_p50_ms, production_p99_ms), (staging_p50_ms, staging_p99_ms)) = {
            let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
            (w.0.take(), w.1.take())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reservoir_gives_percentiles_of_what_it_kept_and_empties() {
        let mut r = Reservoir::default();
        assert_eq!(r.take(), (None, None));
        for ms in 1..=100u64 {
            r.record(Duration::from_millis(ms));
        }
        assert_eq!(r.take(), (Some(50.0), Some(99.0)));
        assert_eq!(r.take(), (None, None));
        // Past its size it keeps a uniform sample: still the right order of magnitude.
        for i in 0..10_000u64 {
            r.record(Duration::from_millis(if i % 100 == 99 { 500 } else { 10 }));
        }
        let (p50, p99) = r.take();
        assert_eq!(p50, Some(10.0));
        assert!(p99.is_some_and(|p| p == 10.0 || p == 500.0), "{p99:?}");
    }
}
