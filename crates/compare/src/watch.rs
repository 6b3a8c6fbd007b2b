//! `compare prometheus --watch`: one anytime-valid error-ratio watch per route, fed the
//! cumulative counts since the watch began at every look (prodlike_stats::ErrorRatioWatch).
//!
//! [`Watcher::look`] is one look, synchronous and pure, so tests drive it step by step; [`run`]
//! is the loop: wait an interval (or the stop signal), read the counts from a [`CountSource`]
//! (Prometheus in production, a fake in tests), look, report, and stop on the signal or, with
//! `until_diverged`, at the first route whose watch says diverged.
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use prodlike_stats::{ErrorCounts, ErrorRatioWatch, Verdict, WatchSpec, WatchState};

use crate::error::CompareError;

/// One route's cumulative counts since the watch began.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RouteCounts {
    pub production: ErrorCounts,
    pub staging: ErrorCounts,
}

/// Where the counts come from at each look.
pub trait CountSource {
    /// Cumulative counts per route since the watch began.
    fn counts(
        &mut self,
    ) -> impl Future<Output = Result<BTreeMap<String, RouteCounts>, CompareError>>;
}

/// One route after a look.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub route: String,
    pub counts: RouteCounts,
    pub state: WatchState,
    /// Whether the verdict differs from the route's previous look (true at a first sight).
    pub changed: bool,
}

/// The watches, one per route, created when a route is first seen.
#[derive(Debug)]
pub struct Watcher {
    spec: WatchSpec,
    routes: BTreeMap<String, (ErrorRatioWatch, RouteCounts)>,
}

impl Watcher {
    pub fn new(spec: WatchSpec) -> Result<Watcher, CompareError> {
        spec.validate().map_err(CompareError::Stats)?;
        Ok(Watcher {
            spec,
            routes: BTreeMap::new(),
        })
    }

    /// One look at every route's cumulative counts.
    pub fn look(
        &mut self,
        counts: &BTreeMap<String, RouteCounts>,
    ) -> Result<Vec<Snapshot>, CompareError> {
        let mut out = Vec::with_capacity(counts.len());
        for (route, now) in counts {
            let (watch, last) = match self.routes.get_mut(route) {
                Some(w) => w,
                None => {
                    let w = ErrorRatioWatch::new(self.spec.clone()).map_err(CompareError::Stats)?;
                    self.routes
                        .entry(route.clone())
                        .or_insert((w, RouteCounts::default()))
                }
            };
            let before = watch.state();
            // Prometheus' increase() extrapolates to the window's edges, so a cumulative count
            // read at a later look can come out a hair lower; the watch refuses counts that go
            // down, so each count is held at its running maximum.
            let counts = RouteCounts {
                production: monotone(last.production, now.production),
                staging: monotone(last.staging, now.staging),
            };
            *last = counts;
            let state = watch
                .observe(counts.production, counts.staging)
                .map_err(CompareError::Stats)?;
            out.push(Snapshot {
                route: route.clone(),
                counts,
                state,
                changed: before.looks == 0 || !same_kind(&before.verdict, &state.verdict),
            });
        }
        Ok(out)
    }

    /// The first route (by name) whose watch says diverged.
    pub fn diverged(&self) -> Option<&str> {
        self.routes
            .iter()
            .find(|(_, (w, _))| w.state().verdict == Verdict::Diverged)
            .map(|(r, _)| r.as_str())
    }
}

fn monotone(last: ErrorCounts, now: ErrorCounts) -> ErrorCounts {
    let requests = last.requests.max(now.requests);
    ErrorCounts {
        requests,
        errors: last.errors.max(now.errors).min(requests),
    }
}

/// Verdicts compared by kind: an inconclusive verdict's `needed` moves at every look.
fn same_kind(a: &Verdict, b: &Verdict) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Why the watch stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// The stop signal arrived.
    Signal,
    /// `until_diverged`, and this route's watch said diverged.
    Diverged(String),
}

/// Looks every `interval` until `stop` resolves or, with `until_diverged`, a route diverges;
/// `report` receives each look's snapshots.
pub async fn run<S: CountSource>(
    watcher: &mut Watcher,
    source: &mut S,
    interval: Duration,
    until_diverged: bool,
    stop: impl Future<Output = ()>,
    mut report: impl FnMut(&[Snapshot]),
) -> Result<Stopped, CompareError> {
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return Ok(Stopped::Signal),
            () = tokio::time::sleep(interval) => {}
        }
        let counts = tokio::select! {
            () = &mut stop => return Ok(Stopped::Signal),
            c = source.counts() => c?,
        };
        let snapshots = watcher.look(&counts)?;
        report(&snapshots);
        if until_diverged && let Some(route) = watcher.diverged() {
            return Ok(Stopped::Diverged(route.to_string()));
        }
    }
}
