//! The table of routes seen so far, bounded: each entry holds the route's metric handles and
//! its divergence state. Past `max_routes`, new routes share the `{other}` entry.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use crate::compare::{NotCompared, Outcome};
use crate::divergence::RouteDivergence;
use crate::metrics::{
    ComparisonLabels, DiffLabels, EnvRouteLabels, Metrics, NotComparedLabels, RequestLabels,
};
use crate::route::Normaliser;

pub const OTHER_ROUTE: &str = "{other}";

/// Metric handles of one route in one environment.
pub struct EnvHandles {
    env: &'static str,
    route: Arc<str>,
    latency: Histogram,
    classes: [OnceLock<Counter>; 5],
}

impl EnvHandles {
    fn new(metrics: &Metrics, env: &'static str, route: &Arc<str>) -> Self {
        let latency = metrics
            .duration
            .get_or_create(&EnvRouteLabels {
                env: env.to_string(),
                route: route.to_string(),
            })
            .clone();
        Self {
            env,
            route: route.clone(),
            latency,
            classes: Default::default(),
        }
    }

    pub fn record(&self, metrics: &Metrics, status: u16, latency: Duration) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.classes[class]
            .get_or_init(|| {
                metrics
                    .requests
                    .get_or_create(&RequestLabels {
                        env: self.env.to_string(),
                        route: self.route.to_string(),
                        status_class: format!("{}xx", class + 1),
                    })
                    .clone()
            })
            .inc();
        self.latency.observe(latency.as_secs_f64());
    }
}

pub struct RouteEntry {
    pub name: Arc<str>,
    pub production: EnvHandles,
    pub staging: EnvHandles,
    /// Production requests on this route (all of them, sampled or not).
    pub requests: AtomicU64,
    pub divergence: Mutex<RouteDivergence>,
    /// Comparison counters by result (match, mismatch, not_compared), created on first use.
    comparisons: [OnceLock<Counter>; 3],
    /// Diff counters by kind (status, header, body), created on first use.
    diffs: [OnceLock<Counter>; 3],
}

const DIFF_KINDS: [&str; 3] = ["status", "header", "body"];

impl RouteEntry {
    fn new(metrics: &Metrics, name: Arc<str>, examples: usize) -> Self {
        Self {
            production: EnvHandles::new(metrics, "production", &name),
            staging: EnvHandles::new(metrics, "staging", &name),
            requests: AtomicU64::new(0),
            divergence: Mutex::new(RouteDivergence::new(examples)),
            comparisons: Default::default(),
            diffs: Default::default(),
            name,
        }
    }

    /// Counts one comparison and the kinds of difference it found (status, header, body).
    /// The handles are kept per route: looking a labelled counter up costs a lock and a
    /// hash of its labels, on every copy.
    pub fn count_comparison(&self, metrics: &Metrics, outcome: Outcome, kinds: [bool; 3]) {
        let (slot, result) = match outcome {
            Outcome::Matched => (0, "match"),
            Outcome::Mismatched => (1, "mismatch"),
            Outcome::NotCompared(why) => {
                self.count_not_compared(metrics, why);
                return;
            }
        };
        self.comparisons[slot]
            .get_or_init(|| {
                metrics
                    .comparisons
                    .get_or_create(&ComparisonLabels {
                        route: self.name.to_string(),
                        result: result.into(),
                    })
                    .clone()
            })
            .inc();
        for (i, differs) in kinds.into_iter().enumerate() {
            if differs {
                self.diffs[i]
                    .get_or_init(|| {
                        metrics
                            .diffs
                            .get_or_create(&DiffLabels {
                                route: self.name.to_string(),
                                kind: DIFF_KINDS[i].into(),
                            })
                            .clone()
                    })
                    .inc();
            }
        }
    }

    /// Counts an exchange that could not be compared, with its reason: as a comparison whose
    /// result is `not_compared`, and per reason.
    pub fn count_not_compared(&self, metrics: &Metrics, why: NotCompared) {
        self.comparisons[2]
            .get_or_init(|| {
                metrics
                    .comparisons
                    .get_or_create(&ComparisonLabels {
                        route: self.name.to_string(),
                        result: "not_compared".into(),
                    })
                    .clone()
            })
            .inc();
        metrics
            .not_compared
            .get_or_create(&NotComparedLabels {
                route: self.name.to_string(),
                reason: why.as_str().into(),
            })
            .inc();
    }

    pub fn with_divergence<T>(&self, f: impl FnOnce(&mut RouteDivergence) -> T) -> T {
        f(&mut self
            .divergence
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
    }
}

/// FNV-1a: a route is looked up on every request, and SipHash's flooding resistance buys
/// nothing for a table capped at `max_routes` entries.
#[derive(Default, Clone, Copy)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvBuild = std::hash::BuildHasherDefault<Fnv>;

pub struct RouteTable {
    normaliser: Normaliser,
    map: RwLock<HashMap<Arc<str>, Arc<RouteEntry>, FnvBuild>>,
    other: Arc<RouteEntry>,
    max_routes: usize,
    examples: usize,
    metrics: Arc<Metrics>,
}

impl RouteTable {
    pub fn new(
        normaliser: Normaliser,
        max_routes: usize,
        examples: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        let other = Arc::new(RouteEntry::new(&metrics, Arc::from(OTHER_ROUTE), examples));
        Self {
            normaliser,
            map: RwLock::new(HashMap::default()),
            other,
            max_routes,
            examples,
            metrics,
        }
    }

    /// The entry of the route `path` belongs to.
    pub fn entry_for(&self, path: &str) -> Arc<RouteEntry> {
        thread_local! {
            static NAME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        NAME.with_borrow_mut(|name| {
            self.normaliser.normalise_into(path, name);
            {
                let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
                if let Some(e) = map.get(name.as_str()) {
                    return e.clone();
                }
                // A full table sends every new route to `{other}`: decided under the read
                // lock, so high-cardinality traffic never queues on the write lock.
                if map.len() >= self.max_routes {
                    return self.other.clone();
                }
            }
            let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
            if let Some(e) = map.get(name.as_str()) {
                return e.clone();
            }
            if map.len() >= self.max_routes {
                return self.other.clone();
            }
            let name: Arc<str> = Arc::from(name.as_str());
            let entry = Arc::new(RouteEntry::new(&self.metrics, name.clone(), self.examples));
            map.insert(name, entry.clone());
            entry
        })
    }

    /// Every route with traffic, `{other}` last when used.
    pub fn entries(&self) -> Vec<Arc<RouteEntry>> {
        let mut v: Vec<Arc<RouteEntry>> = self
            .map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        if self.other.requests.load(Ordering::Relaxed) > 0 {
            v.push(self.other.clone());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinality_is_bounded() {
        let t = RouteTable::new(Normaliser::default(), 3, 2, Arc::new(Metrics::new()));
        for p in ["/a", "/b", "/c", "/d", "/e", "/a/1", "/a/2"] {
            t.entry_for(p).requests.fetch_add(1, Ordering::Relaxed);
        }
        let names: Vec<String> = t.entries().iter().map(|e| e.name.to_string()).collect();
        assert_eq!(names, vec!["/a", "/b", "/c", OTHER_ROUTE]);
        assert_eq!(t.entry_for("/zzz").name.as_ref(), OTHER_ROUTE);
        assert!(Arc::ptr_eq(
            &t.entry_for("/users/1"),
            &t.entry_for("/users/2")
        ));
    }
}
