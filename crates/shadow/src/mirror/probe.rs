//! The noise probe (`noise.probe = "production"`): a share of mirrored safe-method requests is
//! sent once more, from the mirror side, to a *different* production upstream, and the two
//! production answers are compared. Where production differs from itself is noise. The extra
//! production load is capped (`noise.probe_max_per_second`, a token bucket) and counted.
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::Value;

use super::staging::{Staging, StagingOutcome, StagingSettings, prepare_headers, send};
use crate::body::{BodyCopy, ProdHead};
use crate::compare::{BodyView, Comparator, Side};
use crate::config::NoiseConfig;
use crate::masking::decoded;
use crate::mirror::masked::is_json;

/// Production upstreams as the probe reaches them, in the proxy's order.
pub(super) struct Probe {
    upstreams: Vec<Staging>,
    share: f64,
    bucket: Mutex<Bucket>,
}

/// Tokens refilled at `rate` per second, at most `rate` (and at least one) held.
struct Bucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self, now: Instant) -> bool {
        let capacity = self.rate.max(1.0);
        self.tokens = (self.tokens
            + now.saturating_duration_since(self.last).as_secs_f64() * self.rate)
            .min(capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Whether a method is safe to send twice to production.
pub(super) fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl Probe {
    /// A probe over `upstreams` (production's, each reached as a staging would be: its own
    /// pool, timeout and circuit), or `None` when probing is off or has fewer than two.
    pub(super) fn new(
        cfg: &NoiseConfig,
        upstreams: Vec<StagingSettings>,
        concurrency: usize,
    ) -> Option<Self> {
        if cfg.probe != crate::config::ProbeMode::Production || upstreams.len() < 2 {
            return None;
        }
        Some(Self {
            upstreams: upstreams
                .into_iter()
                .map(|s| Staging::new(s, concurrency))
                .collect(),
            share: cfg.probe_share,
            bucket: Mutex::new(Bucket {
                rate: cfg.probe_max_per_second,
                tokens: cfg.probe_max_per_second.max(1.0),
                last: Instant::now(),
            }),
        })
    }

    /// Whether this exchange is probed: a safe method, sampled by `probe_share`, and a token
    /// left in the bucket. Returns `Err(())` when it was chosen but the cap refused it.
    pub(super) fn admit(&self, method: &Method) -> Result<bool, ()> {
        if !is_safe(method) || fastrand::f64() >= self.share {
            return Ok(false);
        }
        let mut b = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        if b.take(Instant::now()) {
            Ok(true)
        } else {
            Err(())
        }
    }

    /// Sends the request to another production upstream than `served_by`, and compares the
    /// two answers; returns the generalised paths where they differ, or `None` when the probe
    /// got no comparable answer.
    pub(super) async fn differing_paths(
        &self,
        comparator: &Comparator,
        served_by: usize,
        request: (&Method, &str, &HeaderMap),
        first: (&ProdHead, &BodyCopy),
        max_body: u64,
    ) -> Option<Vec<String>> {
        let (method, target, headers) = request;
        let other = (served_by + 1) % self.upstreams.len();
        let st = &self.upstreams[other];
        if st.circuit.is_open() {
            return None;
        }
        let mut h = headers.clone();
        prepare_headers(st, &mut h, 0);
        let second = send(st, max_body, method, target, &h, Bytes::new()).await;
        let StagingOutcome::Answered {
            status,
            headers: second_headers,
            body: second_body,
            ..
        } = second
        else {
            st.circuit.failure();
            return None;
        };
        st.circuit.success();
        let limit = max_body as usize;
        let a = plain(&first.0.headers, first.1, limit)?;
        let b = plain(&second_headers, &second_body, limit)?;
        let (aj, bj) = (parsed(&first.0.headers, &a), parsed(&second_headers, &b));
        let (va, vb) = match (&aj, &bj) {
            (Some(x), Some(y)) => (BodyView::Json(x), BodyView::Json(y)),
            _ => (BodyView::Bytes(&a), BodyView::Bytes(&b)),
        };
        let c = comparator.compare(
            Side::new(first.0.status, &first.0.headers, va),
            Side::new(status, &second_headers, vb),
            None,
        );
        Some(c.paths)
    }
}

/// A body decoded from its coding; `None` when it cannot be.
fn plain(headers: &HeaderMap, body: &BodyCopy, limit: usize) -> Option<Bytes> {
    let BodyCopy::Complete(b) = body else {
        return None;
    };
    match decoded(headers, b, limit) {
        Ok(Some(p)) => Some(p),
        Ok(None) => Some(b.clone()),
        Err(_) => None,
    }
}

fn parsed(headers: &HeaderMap, body: &[u8]) -> Option<Value> {
    (is_json(headers, body) && !body.is_empty())
        .then(|| serde_json::from_slice(body).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_bucket_caps_the_rate() {
        let t0 = Instant::now();
        let mut b = Bucket {
            rate: 2.0,
            tokens: 2.0,
            last: t0,
        };
        // Two at once, then none until time passes.
        assert!(b.take(t0));
        assert!(b.take(t0));
        assert!(!b.take(t0));
        assert!(!b.take(t0 + Duration::from_millis(400)));
        assert!(b.take(t0 + Duration::from_millis(600)));
        // Ten idle seconds refill only up to the capacity.
        let later = t0 + Duration::from_secs(10);
        assert!(b.take(later) && b.take(later) && !b.take(later));
    }

    #[test]
    fn only_safe_methods_are_probed() {
        assert!(is_safe(&Method::GET) && is_safe(&Method::HEAD));
        assert!(!is_safe(&Method::POST) && !is_safe(&Method::DELETE));
    }
}
