//! The live view of a running test that progress displays show, read from the recorder
//! (rates, p99, counts) and the plan's rate curve (what was asked for in the last whole second).
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use super::shared::Shared;
use crate::stages::RateProfile;

/// A live view of a running test, for progress displays.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub elapsed_s: f64,
    pub total_s: Option<f64>,
    /// Requests sent in the last whole second.
    pub rate: u64,
    /// What the plan asked for in that second.
    pub target_rate: Option<f64>,
    pub p99_ms: Option<f64>,
    pub completed: u64,
    pub failed: u64,
    pub dropped: u64,
    pub retries: u64,
    pub in_flight: usize,
}

impl Live {
    pub(super) fn now(
        shared: &Shared,
        total_s: Option<f64>,
        profile: Option<&RateProfile>,
    ) -> Live {
        let elapsed = shared.now_s();
        let rec = shared.rec.lock().unwrap_or_else(PoisonError::into_inner);
        let last = (elapsed.floor() as usize).checked_sub(1);
        let t = &rec.targets[0].overall;
        Live {
            elapsed_s: elapsed,
            total_s,
            rate: last
                .and_then(|i| rec.timeline.get(i))
                .map(|s| s.sent)
                .unwrap_or(0),
            target_rate: match (profile, last) {
                (Some(p), Some(i)) => Some(p.expected_between(i as f64, i as f64 + 1.0)),
                _ => None,
            },
            p99_ms: rec.recent_p99(),
            completed: t.completed,
            failed: t.failed,
            dropped: rec.dropped,
            retries: t.retries,
            in_flight: shared.in_flight.load(Ordering::Relaxed),
        }
    }
}
