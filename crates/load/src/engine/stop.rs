use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// Stops a run early (Ctrl-C): the schedule ends, in-flight requests finish within the
/// graceful stop, and the report covers what ran.
#[derive(Clone, Default)]
pub struct StopHandle {
    inner: Arc<(AtomicBool, Notify)>,
}

impl StopHandle {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stop(&self) {
        self.inner.0.store(true, Ordering::SeqCst);
        self.inner.1.notify_waiters();
    }

    pub fn is_stopped(&self) -> bool {
        self.inner.0.load(Ordering::Relaxed)
    }

    pub async fn stopped(&self) {
        loop {
            let notified = self.inner.1.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }
}
