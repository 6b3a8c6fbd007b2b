//! A circuit breaker on staging: stops copies for a while when staging keeps failing, so a dead
//! staging costs nothing.
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Stops copies for a while when staging keeps failing.
pub(super) struct Circuit {
    threshold: u32,
    open_for: Duration,
    failures: AtomicU32,
    open_until_ms: AtomicU64,
    epoch: Instant,
}

impl Circuit {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub(super) fn is_open(&self) -> bool {
        self.threshold > 0 && self.open_until_ms.load(Ordering::Relaxed) > self.now_ms()
    }

    pub(super) fn success(&self) {
        self.failures.store(0, Ordering::Relaxed);
    }

    pub(super) fn failure(&self) {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if self.threshold > 0 && n >= self.threshold {
            // Stays at the threshold: one more failure after the pause reopens it at once.
            self.failures.store(self.threshold - 1, Ordering::Relaxed);
            self.open_until_ms.store(
                self.now_ms() + self.open_for.as_millis() as u64,
                Ordering::Relaxed,
            );
        }
    }
}
impl Circuit {
    /// A circuit that opens after `threshold` failures in a row (0: never) for `open_for`.
    pub(super) fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            threshold,
            open_for,
            failures: AtomicU32::new(0),
            open_until_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }
}
