use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency we keep exactly: one hour, in microseconds. Larger values are clamped and
/// still counted, so a stuck request shows as "≥ 1 h" instead of vanishing.
pub(crate) const MAX_US: u64 = 3_600_000_000;

/// Latency histogram in microseconds with 3 significant digits (0.1% error at any scale), fixed
/// memory whatever the traffic.
#[derive(Clone)]
pub struct LatencyHistogram {
    pub(crate) h: Histogram<u64>,
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("count", &self.h.len())
            .finish()
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

/// A histogram's percentiles in milliseconds, the shape every prodlike report uses.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LatencySummary {
    pub count: u64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl LatencyHistogram {
    pub fn new() -> Self {
        // 1 µs to 1 h at 3 significant figures is always a valid configuration.
        #[allow(clippy::expect_used)]
        let h =
            Histogram::new_with_bounds(1, MAX_US, 3).expect("static histogram bounds are valid");
        Self { h }
    }

    pub fn record(&mut self, d: Duration) {
        self.record_us(u64::try_from(d.as_micros()).unwrap_or(MAX_US));
    }

    pub fn record_us(&mut self, us: u64) {
        self.h.saturating_record(us.clamp(1, MAX_US));
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        // Both sides share the same bounds, so adding cannot fail; saturate defensively anyway.
        let _ = self.h.add(&other.h);
    }

    pub fn count(&self) -> u64 {
        self.h.len()
    }

    pub fn is_empty(&self) -> bool {
        self.h.is_empty()
    }

    pub fn reset(&mut self) {
        self.h.reset();
    }

    /// Value at quantile `q` (0..=1) in milliseconds; 0 for an empty histogram.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.h.is_empty() {
            return 0.0;
        }
        self.h.value_at_quantile(q.clamp(0.0, 1.0)) as f64 / 1000.0
    }

    pub fn summary(&self) -> LatencySummary {
        if self.h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: self.h.len(),
            min_ms: self.h.min() as f64 / 1000.0,
            mean_ms: self.h.mean() / 1000.0,
            p50_ms: self.quantile_ms(0.50),
            p90_ms: self.quantile_ms(0.90),
            p95_ms: self.quantile_ms(0.95),
            p99_ms: self.quantile_ms(0.99),
            p999_ms: self.quantile_ms(0.999),
            max_ms: self.h.max() as f64 / 1000.0,
        }
    }

    /// (value_ms, count) for each recorded bucket, for exporting distributions.
    pub fn buckets_ms(&self) -> Vec<(f64, u64)> {
        self.h
            .iter_recorded()
            .map(|v| (v.value_iterated_to() as f64 / 1000.0, v.count_at_value()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = LatencyHistogram::new();
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms));
        }
        let s = h.summary();
        assert_eq!(s.count, 1000);
        assert!((s.p50_ms - 500.0).abs() <= 1.0, "p50 {}", s.p50_ms);
        assert!((s.p99_ms - 990.0).abs() <= 1.0, "p99 {}", s.p99_ms);
        assert!((s.max_ms - 1000.0).abs() <= 1.0, "max {}", s.max_ms);
        assert!((s.mean_ms - 500.5).abs() <= 1.0, "mean {}", s.mean_ms);
    }

    #[test]
    fn huge_values_are_clamped_not_lost() {
        let mut h = LatencyHistogram::new();
        h.record(Duration::from_secs(10_000));
        h.record_us(0);
        assert_eq!(h.count(), 2);
        assert!(h.summary().max_ms >= 3_599_000.0);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        a.record_us(100);
        b.record_us(200);
        b.record_us(300);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(LatencyHistogram::new().summary(), LatencySummary::default());
    }
}
