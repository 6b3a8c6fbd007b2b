//! [`JetStreamSink`]: the capture's [`RecordSink`] for NATS JetStream. Each record is published
//! as one message, the very bytes a file would hold, with the capture's metadata as headers.
//!
//! Production never waits for it: the shadow's writer thread calls [`RecordSink::write_line`],
//! which only checks two flags, takes a permit without waiting and hands the record to this
//! sink's own runtime (one thread, at the mirror's lower CPU priority). At most `max_pending`
//! publishes await their acknowledgement; past that, records are dropped and counted
//! (`pending_full`), as are records sent while NATS is unreachable (`disconnected`), refused
//! by the server (`refused`), larger than its max payload (`too_large`: dropped, not split) or
//! not acknowledged in time (`ack_timeout`). Every outcome goes to [`SinkEvents`].
//!
//! The connection is made in the background and remade forever. After each (re)connect a setup
//! task makes sure the stream exists (created with bounded limits, `stream.rs`) and publishes a
//! `header` record, the stream's stand-in for a file's first line; records flow once it is
//! acknowledged.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::{self, context::PublishErrorKind};
use async_nats::{Client, Event, HeaderMap};
use bytes::Bytes;
use tokio::runtime::Runtime;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};

use super::NatsError;
use super::client::{ConnectSettings, connect_in_background};
use super::headers::metadata;
use super::stream::{StreamSettings, ensure};
use crate::record::{Header, Record};
use crate::sink_events::{CaptureDrop, SinkEvents};
use crate::writer::{RecordSink, WriteError, encode_line};

/// How long a failed stream setup waits before it tries again (while connected).
const SETUP_RETRY: Duration = Duration::from_secs(2);

/// Everything the JetStream sink is configured with.
#[derive(Debug, Clone)]
pub struct JetStreamSettings {
    pub connect: ConnectSettings,
    pub stream: StreamSettings,
    /// Publishes awaiting their acknowledgement at most; records beyond are dropped.
    pub max_pending: usize,
    /// How long an acknowledgement is awaited before the record counts as dropped.
    pub ack_timeout: Duration,
}

/// State shared by `write_line` (the writer thread) and the sink's tasks.
struct Shared {
    js: jetstream::Context,
    client: Client,
    subject: String,
    /// Headers of exchange records.
    exchange_headers: HeaderMap,
    /// True once the current connection's setup (stream, header record) is done.
    ready: AtomicBool,
    /// One permit per publish awaiting its acknowledgement.
    pending: Arc<Semaphore>,
    max_pending: usize,
    events: Arc<dyn SinkEvents>,
}

/// Publishes capture records to a JetStream stream. See the module documentation.
pub struct JetStreamSink {
    runtime: Option<Runtime>,
    /// To the publisher task; dropped when the sink closes.
    outgoing: Option<mpsc::UnboundedSender<Outgoing>>,
    shared: Arc<Shared>,
    ack_timeout: Duration,
}

impl JetStreamSink {
    /// Starts the sink's runtime and its background connection; returns at once, whether or not
    /// NATS is reachable. Fails only on what the caller can fix (the credentials file, a thread
    /// that cannot start). `on_thread_start` runs on the sink's thread first (the shadow lowers
    /// its CPU priority there).
    pub fn start(
        settings: JetStreamSettings,
        header: Header,
        events: Arc<dyn SinkEvents>,
        on_thread_start: impl Fn() + Send + Sync + 'static,
    ) -> Result<JetStreamSink, NatsError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("prodlike-capture-nats")
            .on_thread_start(on_thread_start)
            .enable_all()
            .build()
            .map_err(NatsError::Runtime)?;
        let changed = Arc::new(Notify::new());
        let wake = changed.clone();
        let up_events = events.clone();
        let on_event = move |e| {
            // Up is reported once the stream is set up (setup_loop), down at once.
            if matches!(e, Event::Disconnected | Event::Closed) {
                up_events.connection(false);
            }
            wake.notify_one();
        };
        // On a thread of its own: the caller may be inside another runtime (the shadow's
        // start-up is), where block_on is not allowed. Connecting in the background returns
        // at once.
        let connect = &settings.connect;
        let client = std::thread::scope(|scope| {
            scope
                .spawn(|| runtime.block_on(connect_in_background(connect, on_event)))
                .join()
        })
        .map_err(|_| NatsError::Runtime(std::io::Error::other("the connecting thread failed")))??;
        // Building a context spawns its acker task: inside the sink's runtime.
        let entered = runtime.enter();
        let js = jetstream::ContextBuilder::new()
            .timeout(settings.ack_timeout)
            // One more than ours: the header record may be in flight beside max_pending records.
            .max_ack_inflight(settings.max_pending + 1)
            .build(client.clone());
        drop(entered);
        let shared = Arc::new(Shared {
            js,
            client,
            subject: settings.stream.subject.clone(),
            exchange_headers: metadata(&header, "exchange"),
            ready: AtomicBool::new(false),
            pending: Arc::new(Semaphore::new(settings.max_pending)),
            max_pending: settings.max_pending,
            events,
        });
        runtime.spawn(setup_loop(shared.clone(), changed, settings.stream, header));
        let (tx, rx) = mpsc::unbounded_channel();
        runtime.spawn(publisher(shared.clone(), rx));
        Ok(JetStreamSink {
            runtime: Some(runtime),
            outgoing: Some(tx),
            shared,
            ack_timeout: settings.ack_timeout,
        })
    }

    /// True once the stream is set up on the current connection (tests wait for it).
    pub fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::Acquire)
            && self.shared.client.connection_state() == State::Connected
    }
}

/// Keeps the stream set up on every connection: waits for a connection event (or a retry), and
/// when connected but not ready, ensures the stream and publishes the header record.
async fn setup_loop(
    shared: Arc<Shared>,
    changed: Arc<Notify>,
    stream: StreamSettings,
    header: Header,
) {
    let header_line = encode_line(&Record::Header(header.clone())).ok();
    let header_headers = metadata(&header, "header");
    loop {
        let connected = shared.client.connection_state() == State::Connected;
        if !connected {
            shared.ready.store(false, Ordering::Release);
        } else if !shared.ready.load(Ordering::Acquire) {
            match set_up(&shared, &stream, header_line.clone(), &header_headers).await {
                Ok(created) => {
                    tracing::info!(
                        stream = %stream.name, subject = %stream.subject, created,
                        "capture stream ready; publishing records"
                    );
                    shared.ready.store(true, Ordering::Release);
                    shared.events.connection(true);
                }
                Err(e) => {
                    tracing::warn!(error = %prodlike_common::error::chain(&e), "capture stream not ready; records are dropped as `disconnected` until it is");
                }
            }
        }
        // Woken by every connection event (a reconnect is set up at once); otherwise a
        // failed setup is tried again after a pause.
        let _ = tokio::time::timeout(SETUP_RETRY, changed.notified()).await;
    }
}

/// The stream ensured, then the header record published and acknowledged.
async fn set_up(
    shared: &Shared,
    stream: &StreamSettings,
    header_line: Option<Vec<u8>>,
    headers: &HeaderMap,
) -> Result<bool, NatsError> {
    let created = ensure(&shared.js, stream).await?;
    let line = header_line.ok_or_else(|| NatsError::Stream {
        stream: stream.name.clone(),
        problem: "the header record could not be encoded".into(),
    })?;
    let ack = shared
        .js
        .publish_with_headers(shared.subject.clone(), headers.clone(), Bytes::from(line))
        .await
        .map_err(|e| NatsError::Stream {
            stream: stream.name.clone(),
            problem: format!("publishing the header record: {e}"),
        })?;
    ack.await.map_err(|e| NatsError::Stream {
        stream: stream.name.clone(),
        problem: format!("the header record was not stored: {e}"),
    })?;
    Ok(created)
}

/// A record on its way to the publisher, with the permit it holds until its outcome is known.
type Outgoing = (Bytes, OwnedSemaphorePermit);

/// Publishes records one after another, in the order they were written (so the stream holds
/// them in capture order), and leaves each acknowledgement to a task of its own.
async fn publisher(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    while let Some((payload, permit)) = rx.recv().await {
        let sent = shared
            .js
            .publish_with_headers(
                shared.subject.clone(),
                shared.exchange_headers.clone(),
                payload,
            )
            .await;
        match sent {
            Ok(ack) => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    report(&shared, ack.await.map(|_| ()));
                    drop(permit);
                });
            }
            Err(e) => {
                report(&shared, Err(e));
                drop(permit);
            }
        }
    }
}

/// Tells the owner how one record ended.
fn report(shared: &Shared, outcome: Result<(), jetstream::context::PublishError>) {
    match outcome {
        Ok(()) => shared.events.stored(),
        Err(e) => shared.events.dropped(match e.kind() {
            PublishErrorKind::MaxPayloadExceeded => CaptureDrop::TooLarge,
            PublishErrorKind::TimedOut => CaptureDrop::AckTimeout,
            PublishErrorKind::MaxAckPending => CaptureDrop::PendingFull,
            PublishErrorKind::BrokenPipe => CaptureDrop::Disconnected,
            PublishErrorKind::StreamNotFound
            | PublishErrorKind::WrongLastMessageId
            | PublishErrorKind::WrongLastSequence
            | PublishErrorKind::Other => CaptureDrop::Refused,
        }),
    }
}

impl RecordSink for JetStreamSink {
    /// Never blocks: the record is handed to the sink's runtime, or dropped and counted.
    fn write_line(&mut self, line: &[u8]) -> Result<(), WriteError> {
        let s = &self.shared;
        if !self.is_ready() {
            s.events.dropped(CaptureDrop::Disconnected);
            return Ok(());
        }
        let Ok(permit) = s.pending.clone().try_acquire_owned() else {
            s.events.dropped(CaptureDrop::PendingFull);
            return Ok(());
        };
        // Unbounded, yet bounded by the permits each record holds until its outcome is known.
        if let Some(tx) = &self.outgoing
            && tx.send((Bytes::copy_from_slice(line), permit)).is_err()
        {
            s.events.dropped(CaptureDrop::Disconnected);
        }
        Ok(())
    }

    /// Nothing to do each second: messages go out as they come.
    fn flush(&mut self) -> Result<(), WriteError> {
        Ok(())
    }

    /// Waits for the pending acknowledgements (at most one ack timeout and a second), then
    /// flushes and stops the connection.
    fn close(&mut self) -> Result<(), WriteError> {
        let Some(rt) = self.runtime.take() else {
            return Ok(());
        };
        self.outgoing = None;
        let s = self.shared.clone();
        let wait = self.ack_timeout + Duration::from_secs(1);
        rt.block_on(async move {
            let all = u32::try_from(s.max_pending).unwrap_or(u32::MAX);
            let _ = tokio::time::timeout(wait, s.pending.acquire_many(all)).await;
            let _ = tokio::time::timeout(Duration::from_secs(1), s.client.flush()).await;
        });
        rt.shutdown_timeout(Duration::from_secs(1));
        Ok(())
    }

    fn reports_outcomes(&self) -> bool {
        true
    }
}

impl Drop for JetStreamSink {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
