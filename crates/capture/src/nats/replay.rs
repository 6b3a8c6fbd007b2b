//! Reading a capture back out of JetStream (`prodlike load --replay nats://HOST:PORT/STREAM`):
//! every record the stream holds when the pass starts, in stream order, through a durable pull
//! consumer of this pass's own (a unique name, deleted at the end, removed by the server after
//! an hour if the process dies first). Records are decoded like a file's lines: malformed ones
//! skipped and counted with their stream sequence; a header or message headers of another
//! format or a newer version stop the reader.
//!
//! The network work runs on a thread with its own runtime; records reach the caller through a
//! bounded channel, so a caller that waits (load's dispatcher, at the recorded pace) holds the
//! reader back without blocking the connection's pings (the reader awaits a credit, which the
//! caller returns for each record it takes). The caller may itself be on a runtime's thread.
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures_util::StreamExt;
use tokio::sync::Semaphore;

use super::NatsError;
use super::client::{ConnectSettings, connect};
use super::headers::{HeaderProblem, check};
use crate::reader::{Decoded, ReadStats, SkippedLine, StopReading, decode};
use crate::record::Exchange;

/// Records fetched per pull request.
const BATCH: usize = 500;
/// Records read ahead of the caller at most.
const READ_AHEAD: usize = 1024;
/// Skipped records remembered for the report; the rest are only counted.
const KEEP_SKIPPED: usize = 20;
/// The server deletes a consumer idle this long (a reader that died without deleting it).
const INACTIVE: Duration = Duration::from_secs(3600);

/// Where to read from.
#[derive(Debug, Clone)]
pub struct ReplaySettings {
    pub connect: ConnectSettings,
    pub stream: String,
    /// How errors and skipped records name the source (`nats://host:port/STREAM`).
    pub label: String,
}

/// What a stream holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamState {
    pub messages: u64,
    pub first_sequence: u64,
    pub last_sequence: u64,
}

enum Item {
    Exchange(Box<Exchange>),
    Done(Result<ReadStats, NatsError>),
}

/// Connects and reads the stream's state: the check made before a run starts, so a wrong
/// server or stream name fails at once.
pub fn stream_state(settings: &ReplaySettings) -> Result<StreamState, NatsError> {
    let settings = settings.clone();
    on_own_runtime(async move {
        let client = connect(&settings.connect).await?;
        let js = jetstream::new(client);
        state(&js, &settings).await
    })
}

/// Reads every record the stream holds now, handing each exchange to `on_exchange` until it
/// returns false. Returns what was read.
pub fn read_stream(
    settings: &ReplaySettings,
    mut on_exchange: impl FnMut(Exchange) -> bool,
) -> Result<ReadStats, NatsError> {
    let (tx, rx) = std::sync::mpsc::channel::<Item>();
    // The channel's bound: the reader takes a credit per record, the caller gives it back.
    let credits = Arc::new(Semaphore::new(READ_AHEAD));
    let settings = settings.clone();
    let feed = Feed {
        tx: tx.clone(),
        credits: credits.clone(),
    };
    let reader = std::thread::Builder::new()
        .name("prodlike-replay-nats".into())
        .spawn(move || {
            let result = on_own_runtime(read(settings, feed));
            let _ = tx.send(Item::Done(result));
        })
        .map_err(NatsError::Runtime)?;
    let mut outcome = None;
    while let Ok(item) = rx.recv() {
        credits.add_permits(1);
        match item {
            Item::Exchange(ex) => {
                if !on_exchange(*ex) {
                    // Dropping the receiver ends the reader's pass.
                    break;
                }
            }
            Item::Done(result) => {
                outcome = Some(result);
                break;
            }
        }
    }
    drop(rx);
    // A reader waiting for a credit wakes, finds the caller gone and ends its pass.
    credits.close();
    let _ = reader.join();
    outcome.unwrap_or_else(|| Ok(ReadStats::default()))
}

/// The reader's end of the channel to the caller.
struct Feed {
    tx: Sender<Item>,
    credits: Arc<Semaphore>,
}

impl Feed {
    /// Hands one record over once the caller has room for it; false when the caller is gone.
    async fn send(&self, item: Item) -> bool {
        match self.credits.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => return false,
        }
        self.tx.send(item).is_ok()
    }
}

/// Runs `work` on a runtime of its own (callers may be inside another runtime).
fn on_own_runtime<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, NatsError>> + Send + 'static,
) -> Result<T, NatsError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(NatsError::Runtime)?
                    .block_on(work)
            })
            .join()
            .unwrap_or_else(|_| {
                Err(NatsError::Runtime(std::io::Error::other(
                    "reader thread failed",
                )))
            })
    })
}

async fn state(js: &jetstream::Context, s: &ReplaySettings) -> Result<StreamState, NatsError> {
    let mut stream = js
        .get_stream(&s.stream)
        .await
        .map_err(|e| NatsError::api(format!("opening stream {}", s.label), e))?;
    let info = stream
        .info()
        .await
        .map_err(|e| NatsError::api(format!("reading the state of {}", s.label), e))?;
    Ok(StreamState {
        messages: info.state.messages,
        first_sequence: info.state.first_sequence,
        last_sequence: info.state.last_sequence,
    })
}

/// One pass: a fresh durable consumer from the first record to the last one there now.
async fn read(s: ReplaySettings, tx: Feed) -> Result<ReadStats, NatsError> {
    let client = connect(&s.connect).await?;
    let js = jetstream::new(client.clone());
    let end = state(&js, &s).await?;
    let mut stats = ReadStats::default();
    if end.messages == 0 {
        return Ok(stats);
    }
    let stream = js
        .get_stream(&s.stream)
        .await
        .map_err(|e| NatsError::api(format!("opening stream {}", s.label), e))?;
    let name = format!("prodlike-load-{:016x}", fastrand_u64());
    let consumer: consumer::PullConsumer = stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some(name.clone()),
            description: Some("prodlike load --replay (deleted when the pass ends)".into()),
            deliver_policy: consumer::DeliverPolicy::All,
            ack_policy: consumer::AckPolicy::All,
            inactive_threshold: INACTIVE,
            ..Default::default()
        })
        .await
        .map_err(|e| NatsError::api(format!("creating consumer {name} on {}", s.label), e))?;
    let result = drain(&consumer, &s, end.last_sequence, &mut stats, &tx).await;
    let _ = stream.delete_consumer(&name).await;
    let _ = client.flush().await;
    result.map(|()| stats)
}

/// Fetches batches until the pass's last sequence is read, the stream has nothing more (limits
/// removed the rest), or the caller stops listening.
async fn drain(
    consumer: &consumer::PullConsumer,
    s: &ReplaySettings,
    last: u64,
    stats: &mut ReadStats,
    tx: &Feed,
) -> Result<(), NatsError> {
    loop {
        let mut batch = consumer
            .fetch()
            .max_messages(BATCH)
            .messages()
            .await
            .map_err(|e| NatsError::api(format!("fetching from {}", s.label), e))?;
        let mut got = 0usize;
        let mut newest = None;
        while let Some(message) = batch.next().await {
            let message = message.map_err(|source| NatsError::Api {
                doing: format!("reading from {}", s.label),
                source,
            })?;
            got += 1;
            let seq = message.info().map(|i| i.stream_sequence).unwrap_or(0);
            stats.lines += 1;
            if let Err(p) = check(message.headers.as_ref()) {
                return Err(NatsError::Read(stop(p).at(&s.label, seq)));
            }
            match decode(&message.payload) {
                Decoded::Exchange(ex) => {
                    stats.exchanges += 1;
                    // Waits (without blocking the runtime) while the caller is behind.
                    if !tx.send(Item::Exchange(ex)).await {
                        return Ok(());
                    }
                }
                Decoded::Header => {}
                Decoded::Skip(reason) => skip(stats, seq, reason),
                Decoded::Stop(p) => return Err(NatsError::Read(p.at(&s.label, seq))),
            }
            if seq >= last {
                let _ = message.ack().await;
                return Ok(());
            }
            newest = Some(message);
        }
        if let Some(m) = newest {
            let _ = m.ack().await;
        }
        if got == 0 {
            return Ok(());
        }
    }
}

fn stop(p: HeaderProblem) -> StopReading {
    match p {
        HeaderProblem::WrongFormat(f) => StopReading::WrongFormat(f),
        HeaderProblem::NewerVersion(v) => StopReading::NewerVersion(v),
        HeaderProblem::BadVersion(v) => StopReading::WrongFormat(format!("version `{v}`")),
    }
}

fn skip(stats: &mut ReadStats, seq: u64, reason: String) {
    stats.skipped += 1;
    if stats.skipped_examples.len() < KEEP_SKIPPED {
        stats
            .skipped_examples
            .push(SkippedLine { line: seq, reason });
    }
}

/// A random consumer-name suffix: two replays of one stream never share a consumer.
fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}
