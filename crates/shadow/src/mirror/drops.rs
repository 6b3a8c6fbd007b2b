//! Why a sampled copy was not sent or not answered, counted per reason: no copy is ever lost
//! without a trace.
use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;

use crate::metrics::Metrics;

/// Why a sampled copy was not sent, or not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    QueueFull,
    BodyTooLarge,
    MethodNotMirrored,
    StagingError,
    Timeout,
    CircuitOpen,
    UnmaskableBody,
    /// The body decodes to more than `mirror.max_body`: a decompression bomb, cut off.
    DecodedTooLarge,
    RequestIncomplete,
    /// The request asked to switch protocols (WebSocket and other `Upgrade`s): proxied, never
    /// copied.
    Upgrade,
}

impl DropReason {
    pub const ALL: [DropReason; 10] = [
        DropReason::QueueFull,
        DropReason::BodyTooLarge,
        DropReason::MethodNotMirrored,
        DropReason::StagingError,
        DropReason::Timeout,
        DropReason::CircuitOpen,
        DropReason::UnmaskableBody,
        DropReason::DecodedTooLarge,
        DropReason::RequestIncomplete,
        DropReason::Upgrade,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::BodyTooLarge => "body_too_large",
            DropReason::MethodNotMirrored => "method_not_mirrored",
            DropReason::StagingError => "staging_error",
            DropReason::Timeout => "timeout",
            DropReason::CircuitOpen => "circuit_open",
            DropReason::UnmaskableBody => "unmaskable_body",
            DropReason::DecodedTooLarge => "decoded_too_large",
            DropReason::RequestIncomplete => "request_incomplete",
            DropReason::Upgrade => "upgrade",
        }
    }
}

/// One counter per reason, created up front so counting is one atomic add.
#[derive(Clone)]
pub struct DropCounters {
    counters: Arc<[Counter; DropReason::ALL.len()]>,
}

impl DropCounters {
    pub fn new(metrics: &Metrics) -> Self {
        Self {
            counters: Arc::new(DropReason::ALL.map(|r| metrics.drop_counter(r.as_str()))),
        }
    }

    pub fn count(&self, r: DropReason) {
        self.counters[r as usize].inc();
    }

    pub fn get(&self, r: DropReason) -> u64 {
        self.counters[r as usize].get()
    }
}
