//! Writes captured exchanges on a thread of its own, fed by a bounded channel: when the disk
//! falls behind, records are dropped and counted, never waited for.
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prodlike_capture::{
    Exchange, FileSink, Header, Record, RecordSink, RotationPolicy, encode_line,
};

use crate::error::ShadowError;
use crate::metrics::Metrics;

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
                tracing::warn!(error = %e, "could not encode a capture record");
                metrics.capture_dropped.inc();
                return;
            }
        };
        match self.tx.try_send(line) {
            Ok(()) => metrics.capture_records.inc(),
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                metrics.capture_dropped.inc()
            }
        };
    }
}

/// The writer thread; joining it flushes the file.
pub struct CaptureWriter {
    thread: Option<JoinHandle<()>>,
}

impl CaptureWriter {
    /// Opens the file now (so a bad path fails at start-up) and starts the writer thread.
    pub fn start(
        path: &Path,
        policy: RotationPolicy,
        queue: usize,
        masked: bool,
    ) -> Result<(CaptureHandle, CaptureWriter), ShadowError> {
        let header = Header::new(
            format!("prodlike shadow {}", env!("CARGO_PKG_VERSION")),
            "",
            masked,
        );
        let sink = FileSink::create(path, policy, header)?;
        let (tx, rx) = sync_channel::<Vec<u8>>(queue);
        let thread = std::thread::Builder::new()
            .name("prodlike-capture".into())
            .spawn(move || write_loop(sink, rx))
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

fn write_loop(mut sink: FileSink, rx: Receiver<Vec<u8>>) {
    let mut last_flush = Instant::now();
    loop {
        match rx.recv_timeout(FLUSH_EVERY) {
            Ok(line) => {
                if let Err(e) = sink.write_line(&line) {
                    tracing::error!(error = %e, "capture write failed");
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_flush.elapsed() >= FLUSH_EVERY {
            if let Err(e) = sink.flush() {
                tracing::error!(error = %e, "capture flush failed");
            }
            last_flush = Instant::now();
        }
    }
    if let Err(e) = sink.flush() {
        tracing::error!(error = %e, "capture flush failed");
    }
}
