//! The prodlike traffic capture format, version 2: written by `prodlike shadow --capture`, read
//! by `prodlike load --replay`. Documented in `docs/capture-format.md`.
//!
//! A capture is line-delimited JSON. Each file starts with a [`Header`] line; every other line
//! is an [`Exchange`]: one request, production's response, staging's response (or why there is
//! none) and timings. Bodies are already masked when written. Files rotate by size; the
//! [`RecordSink`] trait lets the same lines go to NATS JetStream instead ([`nats`]: one message
//! per record, read back by [`nats::read_stream`]). Sinks report what they stored and dropped
//! through [`SinkEvents`].
#![forbid(unsafe_code)]
// Clean of unchecked indexing: keep it so (DEVELOPERS.md, Errors).
#![warn(clippy::indexing_slicing)]

pub mod nats;
mod reader;
mod record;
mod sink_events;
mod writer;

pub use reader::{CaptureReader, ReadError, ReadStats, SkippedLine, rotated_files};
pub use record::{
    Body, CapturedRequest, CapturedResponse, Exchange, FORMAT, Header, MaskSummary, Record, VERSION,
};
pub use sink_events::{CaptureDrop, NoEvents, SinkEvents};
pub use writer::{FileSink, RecordSink, RotationPolicy, WriteError, encode_line};
