//! What a sink tells its owner besides success: records stored, records dropped by reason, and
//! the connection going up or down. `prodlike shadow` turns these into /metrics counters and
//! the result's totals; the capture crate knows nothing of Prometheus.

/// Why a captured record was not stored. Every record handed to a capture is either stored or
/// dropped with one of these, never lost silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaptureDrop {
    /// The writer's queue was full: the disk or the stream fell behind (production never waits).
    QueueFull,
    /// The record could not be encoded as JSON.
    Encode,
    /// The file sink could not write it (disk full, permissions).
    WriteFailed,
    /// JetStream: as many acknowledgements were pending as `capture.nats.max_pending` allows.
    PendingFull,
    /// JetStream: no connection to NATS, or the stream not set up yet after (re)connecting.
    Disconnected,
    /// JetStream: the record (with its headers) is larger than the server's max payload. Such
    /// records are dropped, not split: a split record is no longer one message per record.
    TooLarge,
    /// JetStream: the server answered with an error (no stream for the subject, stream full
    /// with `discard = new`, a limit reached).
    Refused,
    /// JetStream: no acknowledgement within `capture.nats.ack_timeout`; the server may or may
    /// not have stored it, and it is counted as dropped.
    AckTimeout,
}

impl CaptureDrop {
    /// Every reason, in the order results list them.
    pub const ALL: [CaptureDrop; 8] = [
        CaptureDrop::QueueFull,
        CaptureDrop::Encode,
        CaptureDrop::WriteFailed,
        CaptureDrop::PendingFull,
        CaptureDrop::Disconnected,
        CaptureDrop::TooLarge,
        CaptureDrop::Refused,
        CaptureDrop::AckTimeout,
    ];

    /// The `reason` label in /metrics and the key in the result.
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureDrop::QueueFull => "queue_full",
            CaptureDrop::Encode => "encode",
            CaptureDrop::WriteFailed => "write_failed",
            CaptureDrop::PendingFull => "pending_full",
            CaptureDrop::Disconnected => "disconnected",
            CaptureDrop::TooLarge => "too_large",
            CaptureDrop::Refused => "refused",
            CaptureDrop::AckTimeout => "ack_timeout",
        }
    }
}

/// Receives a sink's outcomes. Called from the sink's own threads; must not block.
pub trait SinkEvents: Send + Sync {
    /// One record was stored (written to the file, or acknowledged by JetStream).
    fn stored(&self);
    /// One record was dropped.
    fn dropped(&self, why: CaptureDrop);
    /// The sink's connection went up (`true`) or down; files are always up.
    fn connection(&self, up: bool);
}

/// Ignores every event (tests, and sinks whose owner does not count).
pub struct NoEvents;

impl SinkEvents for NoEvents {
    fn stored(&self) {}
    fn dropped(&self, _why: CaptureDrop) {}
    fn connection(&self, _up: bool) {}
}
