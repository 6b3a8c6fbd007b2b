//! Writes captured exchanges on a thread of its own, fed by a bounded channel: when the disk
//! falls behind, records are dropped and counted, never waited for.
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prodlike_capture::{
    Exchange, FileSink, Header, MaskSummary, Record, RecordSink, RotationPolicy, encode_line,
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
    /// Opens the capture file now (so a bad path fails at start-up) and starts the writer.
    pub fn start_file(
        path: &Path,
        policy: RotationPolicy,
        queue: usize,
        masked: bool,
        mask: MaskSummary,
    ) -> Result<(CaptureHandle, CaptureWriter), ShadowError> {
        let header = Header::new(
            format!("prodlike shadow {}", env!("CARGO_PKG_VERSION")),
            "",
            masked,
            Some(mask),
        );
        let sink = FileSink::create(path, policy, header)?;
        Self::start(Box::new(sink), queue)
    }

    /// Starts the writer thread over any sink: a file, or a stream such as NATS JetStream,
    /// which receives the very same encoded lines.
    pub fn start(
        sink: Box<dyn RecordSink>,
        queue: usize,
    ) -> Result<(CaptureHandle, CaptureWriter), ShadowError> {
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

fn write_loop(mut sink: Box<dyn RecordSink>, rx: Receiver<Vec<u8>>) {
    let mut last_flush = Instant::now();
    loop {
        match rx.recv_timeout(FLUSH_EVERY) {
            Ok(line) => {
                if let Err(e) = sink.write_line(&line) {
                    tracing::error!(error = %chain(&e), "capture write failed");
                }
            }
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
    if let Err(e) = sink.flush() {
        tracing::error!(error = %chain(&e), "capture flush failed");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

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
        let (handle, writer) = CaptureWriter::start(Box::new(Memory(lines.clone())), 16).unwrap();
        let metrics = Metrics::new();
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
    }
}
