//! Production upstreams: round-robin with passive health checking. An upstream that fails
//! `consecutive_failures` times in a row is skipped for `ejection_time`; when all are ejected,
//! all are used (a degraded answer beats none).
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use http::HeaderValue;
use prodlike_net::Target;
use prodlike_net::h1::{H1Pool, H1PoolConfig};
use prodlike_net::h2::H2Client;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;

use crate::config::HealthConfig;
use crate::metrics::{Metrics, UpstreamErrorLabels, UpstreamLabels};

pub struct Upstream {
    pub target: Target,
    /// Position in `production.upstreams`.
    pub index: usize,
    /// The lean HTTP/1.1 pool for plain `http://` upstreams; `https://` ones use hyper's client
    /// (HTTP/2 or HTTP/1.1 by ALPN).
    pub h1: Option<Arc<H1Pool>>,
    /// The HTTP/2 client of an `h2c://` upstream (prodlike-net's, one multiplexed connection).
    pub h2: Option<H2Client<crate::proxy::RequestBody>>,
    /// Failures by kind: connect, timeout, protocol.
    pub errors: [Counter; 3],
    failures: AtomicU32,
    /// Milliseconds since the pool's epoch until which the upstream is ejected; 0 when not.
    ejected_until: AtomicU64,
    ejected_gauge: Gauge,
}

impl Upstream {
    pub fn label(&self) -> &str {
        &self.target.original
    }
}

pub struct Upstreams {
    list: Vec<Arc<Upstream>>,
    next: AtomicUsize,
    health: HealthConfig,
    epoch: Instant,
}

impl Upstreams {
    pub fn new(
        targets: Vec<Target>,
        health: HealthConfig,
        metrics: &Metrics,
        h1: Option<H1PoolConfig>,
    ) -> Self {
        let list = targets
            .into_iter()
            .enumerate()
            .map(|(index, target)| {
                let ejected_gauge = metrics
                    .upstream_ejected
                    .get_or_create(&UpstreamLabels {
                        upstream: target.original.clone(),
                    })
                    .clone();
                let h2 = match (&h1, target.h2c) {
                    (Some(cfg), true) => Some(H2Client::new(
                        target.clone(),
                        prodlike_net::ClientTlsOptions::default(),
                        cfg.connect_timeout,
                    )),
                    _ => None,
                };
                let pool = match (&h1, target.is_https() || target.h2c) {
                    (Some(cfg), false) => {
                        let host = HeaderValue::from_str(target.authority.as_str())
                            .unwrap_or_else(|_| HeaderValue::from_static("localhost"));
                        Some(H1Pool::new(&target.host_port(), host, cfg.clone()))
                    }
                    _ => None,
                };
                let errors = ["connect", "timeout", "protocol"].map(|kind| {
                    metrics
                        .upstream_errors
                        .get_or_create(&UpstreamErrorLabels {
                            upstream: target.original.clone(),
                            kind: kind.to_string(),
                        })
                        .clone()
                });
                Arc::new(Upstream {
                    index,
                    h1: pool,
                    h2,
                    errors,
                    target,
                    failures: AtomicU32::new(0),
                    ejected_until: AtomicU64::new(0),
                    ejected_gauge,
                })
            })
            .collect();
        Self {
            list,
            next: AtomicUsize::new(0),
            health,
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub fn all(&self) -> &[Arc<Upstream>] {
        &self.list
    }

    pub fn is_ejected(&self, u: &Upstream) -> bool {
        let until = u.ejected_until.load(Ordering::Relaxed);
        until != 0 && until > self.now_ms()
    }

    /// The next healthy upstream in rotation, skipping `avoid` when another is available.
    pub fn pick(&self, avoid: Option<&Arc<Upstream>>) -> Arc<Upstream> {
        let n = self.list.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        if n == 1 {
            return self.list[0].clone();
        }
        let now = self.now_ms();
        for i in 0..n {
            let u = &self.list[(start + i) % n];
            let until = u.ejected_until.load(Ordering::Relaxed);
            let healthy = until == 0 || until <= now;
            let avoided = avoid.is_some_and(|a| Arc::ptr_eq(a, u));
            if healthy && !avoided {
                return u.clone();
            }
        }
        self.list[start % n].clone()
    }

    pub fn success(&self, u: &Upstream) {
        if u.failures.load(Ordering::Relaxed) != 0 {
            u.failures.store(0, Ordering::Relaxed);
        }
        if u.ejected_until.load(Ordering::Relaxed) != 0 && !self.is_ejected(u) {
            u.ejected_until.store(0, Ordering::Relaxed);
            u.ejected_gauge.set(0);
        }
    }

    pub fn failure(&self, u: &Upstream) {
        let n = u.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if self.health.consecutive_failures > 0 && n >= self.health.consecutive_failures {
            let until = self.now_ms() + self.health.ejection_time.as_millis() as u64;
            u.ejected_until.store(until.max(1), Ordering::Relaxed);
            u.failures.store(0, Ordering::Relaxed);
            u.ejected_gauge.set(1);
            tracing::warn!(upstream = u.label(), ejection = ?self.health.ejection_time, "production upstream ejected after {n} consecutive failures");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pool(n: usize) -> Upstreams {
        let targets = (0..n)
            .map(|i| Target::parse(&format!("http://127.0.0.1:{}", 1000 + i)).unwrap())
            .collect();
        Upstreams::new(
            targets,
            HealthConfig {
                consecutive_failures: 3,
                ejection_time: Duration::from_secs(60),
            },
            &Metrics::new(),
            None,
        )
    }

    #[test]
    fn round_robin_then_ejection_then_all_ejected_fallback() {
        let p = pool(3);
        let picks: Vec<String> = (0..6).map(|_| p.pick(None).label().to_string()).collect();
        assert_eq!(picks[0..3], picks[3..6]);
        assert_eq!(
            picks.iter().collect::<std::collections::HashSet<_>>().len(),
            3
        );

        let bad = p.all()[1].clone();
        for _ in 0..3 {
            p.failure(&bad);
        }
        assert!(p.is_ejected(&bad));
        for _ in 0..30 {
            assert!(!Arc::ptr_eq(&p.pick(None), &bad));
        }
        for u in p.all() {
            for _ in 0..3 {
                p.failure(u);
            }
        }
        // All ejected: still answers.
        let _ = p.pick(None);
        // A success does not lift an ejection early; failures below the threshold reset.
        p.success(&bad);
        assert!(p.is_ejected(&bad));
    }

    #[test]
    fn avoid_prefers_another_upstream() {
        let p = pool(2);
        let first = p.pick(None);
        for _ in 0..10 {
            assert!(!Arc::ptr_eq(&p.pick(Some(&first)), &first));
        }
        let single = pool(1);
        let only = single.pick(None);
        assert!(Arc::ptr_eq(&single.pick(Some(&only)), &only));
    }
}
