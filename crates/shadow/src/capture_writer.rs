//! Writes captured exchanges on a thread of its own, fed by a bounded channel: when the disk or
//! the stream falls behind, records are dropped and counted, never waited for. The sink is a
//! file (`FileSink`) or NATS JetStream (`JetStreamSink`, which publishes on a runtime of its
//! own and reports each record's outcome through `MetricEvents`).
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prodlike_capture::nats::{JetStreamSettings, JetStreamSink};
use prodlike_capture::{
    CaptureDrop, Exchange, FileSink, Header, MaskSummary, Record, RecordSink, RotationPolicy,
    SinkEvents, encode_line,
};

use crate::error::ShadowError;
use crate::metrics::Metrics;
use prodlike_common::error::chain;

/// Flush at least this often, so a crash loses little and `tail -f` shows progress.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct CaptureHandle {
    tx: SyncSender<Vec<u8>>,
}

impl CaptureHandle {
    pub fn write(&self, exchange: Exchange, metrics: &Metrics) {
        let line = match encode_line(&Record::Exchange(Box::new(exchange))) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %chain(&e), "could not encode a capture record");
                metrics.capture_records.inc();
                metrics.capture_drop(CaptureDrop::Encode);
                return;
            }
        };
        metrics.capture_records.inc();
        match self.tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                metrics.capture_drop(CaptureDrop::QueueFull)
            }
        };
    }
}

/// A sink's outcomes as the proxy's metrics.
pub struct MetricEvents(pub Arc<Metrics>);

impl SinkEvents for MetricEvents {
    fn stored(&self) {
        self.0.capture_stored.inc();
    }
    fn dropped(&self, why: CaptureDrop) {
        self.0.capture_drop(why);
    }
    fn connection(&self, up: bool) {
        self.0.capture_connected.set(i64::from(up));
    }
}

/// The writer thread; joining it flushes the file.
pub struct CaptureWriter {
    thread: Option<JoinHandle<()>>,
}

impl CaptureWriter {
    /// Opens the capture file now (so a bad path fails at start-up) and starts the writer.
    pub fn start_file(
        path: &Path,
        policy: RotationPolicy,
        queue: usize,
        header: Header,
        metrics: Arc<Metrics>,
    ) -> Result<(CaptureHandle, CaptureWriter), ShadowError> {
        let sink = FileSink::create(path, policy, header)?;
        metrics.capture_connected.set(1);
        Self::start(Box::new(sink), queue, metrics)
    }

    /// Starts publishing to JetStream: returns at once, connecting in the background (NATS
    /// being down at start-up costs records, never production's start). The sink's thread runs
    /// at the mirror's CPU priority (`nice`).
    pub fn start_nats(
        settings: JetStreamSettings,
        queue: usize,
        header: Header,
        metrics: Arc<Metrics>,
        nice: i32,
    ) -> Result<(CaptureHandle, CaptureWriter), ShadowError> {
        let sink = JetStreamSink::start(
            settings,
            header,
            Arc::new(MetricEvents(metrics.clone())),
            move || crate::priority::lower_current_thread(nice),
        )?;
        Self::start(Box::new(sink), queue, metrics)
    }

    /// Starts the writer thread over any sink: a file, or a stream such as NATS JetStream,
    /// which receives the very same encoded lines.
    pub fn start(
        sink: Box<dyn RecordSink>,
        queue: usize,
        metrics: Arc<Metrics>,
    ) -> Result<(CaptureHandle, CaptureWriter), ShadowError> {
        let (tx, rx) = sync_channel::<Vec<u8>>(queue);
        let thread = std::thread::Builder::new()
            .name("prodlike-capture".into())
            .spawn(move || write_loop(sink, rx, &metrics))
            .map_err(ShadowError::Runtime)?;
        Ok((
            CaptureHandle { tx },
            CaptureWriter {
                thread: Some(thread),
            },
        ))
    }

    /// Waits until every handle is gone and the file is flushed.
    pub fn finish(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The capture's header: what wrote it and how its records are masked.
pub fn capture_header(masked: bool, mask: MaskSummary) -> Header {
    Header::new(
        format!("prodlike shadow {}", env!("CARGO_PKG_VERSION")),
        "",
        masked,
        Some(mask),
    )
}

fn write_loop(mut sink: Box<dyn RecordSink>, rx: Receiver<Vec<u8>>, metrics: &Metrics) {
    let mut last_flush = Instant::now();
    // A file sink's Ok means stored; the JetStream sink reports outcomes itself.
    let count = !sink.reports_outcomes();
    loop {
        match rx.recv_timeout(FLUSH_EVERY) {
            Ok(line) => match sink.write_line(&line) {
                Ok(()) if count => {
                    metrics.capture_stored.inc();
                }
                Ok(()) => {}
                Err(e) => {
                    tracing::error!(error = %chain(&e), "capture write failed");
                    metrics.capture_drop(CaptureDrop::WriteFailed);
                }
            },
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_flush.elapsed() >= FLUSH_EVERY {
            if let Err(e) = sink.flush() {
                tracing::error!(error = %chain(&e), "capture flush failed");
            }
            last_flush = Instant::now();
        }
    }
    if let Err(e) = sink.close() {
        tracing::error!(error = %chain(&e), "capture flush failed");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use prodlike_capture::{CaptureReader, CapturedRequest, WriteError};

    use super::*;

    /// A sink standing in for a stream (e.g. NATS JetStream): it keeps what it is given.
    struct Memory(Arc<Mutex<Vec<Vec<u8>>>>);

    impl RecordSink for Memory {
        fn write_line(&mut self, line: &[u8]) -> Result<(), WriteError> {
            self.0.lock().unwrap().push(line.to_vec());
            Ok(())
        }
        fn flush(&mut self) -> Result<(), WriteError> {
            Ok(())
        }
    }

    #[test]
    fn any_sink_receives_the_same_encoded_records() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let metrics = Arc::new(Metrics::new());
        let (handle, writer) =
            CaptureWriter::start(Box::new(Memory(lines.clone())), 16, metrics.clone()).unwrap();
        for id in 0..3 {
            handle.write(
                Exchange {
                    id,
                    ts_us: 1,
                    route: "/r".into(),
                    masked: true,
                    request: CapturedRequest {
                        method: "GET".into(),
                        target: "/r".into(),
                        version: String::new(),
                        headers: vec![],
                        body: None,
                        body_len: 0,
                        body_truncated: false,
                        body_omitted: None,
                    },
                    production: None,
                    production_error: None,
                    staging: None,
                    staging_error: None,
                },
                &metrics,
            );
        }
        drop(handle);
        writer.finish();
        let joined: Vec<u8> = lines.lock().unwrap().concat();
        let ids: Vec<u64> = CaptureReader::new(std::io::Cursor::new(joined), "memory")
            .map(|e| e.unwrap().id)
            .collect();
        assert_eq!(ids, vec![0, 1, 2]);
        assert_eq!(metrics.capture_records.get(), 3);
        assert_eq!(metrics.capture_stored.get(), 3);
        assert_eq!(metrics.capture_drops().1, 0);
    }
}
