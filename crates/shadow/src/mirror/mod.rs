//! Mirroring. The production side only ever does non-blocking things: it asks the sampler,
//! reserves a queue slot with `try_reserve`, and hands over a job holding oneshot receivers for
//! the request body copy and production's outcome. Everything else — waiting for bodies,
//! masking, sending to staging, comparing, capturing — runs on the mirror runtime
//! (`process.rs`), bounded by the queue, a byte budget and a concurrency limit. Every copy not
//! sent or not answered is counted with its reason (`drops.rs`).
//!
//! Files: this one holds the queue (production's side) and the dispatcher; `process.rs` one
//! exchange's steps; `masked.rs` the masking of the copy and of both responses; `staging.rs`
//! staging's clients and one send; `circuit.rs` the breaker; `record.rs` the capture record.
mod circuit;
mod drops;
mod masked;
mod probe;
mod process;
mod record;
mod staging;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http::request::Parts;
use http::{HeaderMap, Method, Version};
use tokio::sync::{Semaphore, mpsc, oneshot};

pub use drops::{DropCounters, DropReason};
pub use staging::StagingSettings;

use crate::body::{BodyCopy, ProdOutcome};
use crate::capture_writer::CaptureHandle;
use crate::compare::Comparator;
use crate::config::NoiseConfig;
use crate::masking::TrafficMasker;
use crate::metrics::Metrics;
use crate::routes::RouteEntry;
use crate::sampler::{Decision, Sampler};
use crate::timeline::Timeline;
use circuit::Circuit;
use staging::Staging;

/// The request body a job will get.
pub enum JobBody {
    Empty,
    Pending(oneshot::Receiver<BodyCopy>),
}

/// One sampled exchange on its way to staging, comparison and capture.
pub struct MirrorJob {
    pub route: Arc<RouteEntry>,
    pub method: Method,
    /// Path and query, unmasked (masked on the mirror side).
    pub target: String,
    pub version: Version,
    /// Request headers as forwarded to production.
    pub headers: HeaderMap,
    pub body: JobBody,
    pub production: oneshot::Receiver<ProdOutcome>,
    pub arrived_at: SystemTime,
    reserved_bytes: u64,
}

/// The production side's handle: sampling and a non-blocking hand-over.
pub struct MirrorQueue {
    tx: mpsc::Sender<MirrorJob>,
    /// Staging's circuit; while it is open and nothing is captured, a copy has no use and is
    /// dropped here, before any work.
    circuit: Option<Arc<Circuit>>,
    capturing: bool,
    sampler: Sampler,
    queued_bytes: Arc<AtomicU64>,
    max_queued_bytes: u64,
    max_body: u64,
    drops: DropCounters,
}

/// A reserved place in the queue; sending through it cannot fail or wait.
pub struct Reservation<'a> {
    permit: mpsc::Permit<'a, MirrorJob>,
    bytes: u64,
}

impl MirrorQueue {
    pub fn decide(&self, parts: &Parts, client: IpAddr) -> Decision {
        let d = self.sampler.decide(parts, client);
        if d == Decision::MethodNotMirrored {
            self.drops.count(DropReason::MethodNotMirrored);
        }
        d
    }

    /// Reserves a slot for a copy whose body is `content_length` bytes long (None: unknown),
    /// or says why there is none. Never waits.
    pub fn reserve(&self, content_length: Option<u64>) -> Result<Reservation<'_>, DropReason> {
        if !self.capturing && self.circuit.as_ref().is_some_and(|c| c.is_open()) {
            return self.drop(DropReason::CircuitOpen);
        }
        if content_length.is_some_and(|n| n > self.max_body) {
            return self.drop(DropReason::BodyTooLarge);
        }
        let bytes = content_length.unwrap_or(self.max_body);
        if bytes > 0 {
            let before = self.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
            if before + bytes > self.max_queued_bytes {
                self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
                return self.drop(DropReason::QueueFull);
            }
        }
        match self.tx.try_reserve() {
            Ok(permit) => Ok(Reservation { permit, bytes }),
            Err(_) => {
                self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
                self.drop(DropReason::QueueFull)
            }
        }
    }

    /// Counts a sampled request that is not copied for a reason found on production's side
    /// (an upgrade).
    pub fn count_drop(&self, r: DropReason) {
        self.drops.count(r);
    }

    fn drop<T>(&self, r: DropReason) -> Result<T, DropReason> {
        self.drops.count(r);
        Err(r)
    }

    pub fn max_body(&self) -> u64 {
        self.max_body
    }
}

impl Reservation<'_> {
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        self,
        route: Arc<RouteEntry>,
        parts: &Parts,
        headers: HeaderMap,
        body: JobBody,
        production: oneshot::Receiver<ProdOutcome>,
    ) {
        let target = parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| "/".to_string());
        self.permit.send(MirrorJob {
            route,
            method: parts.method.clone(),
            target,
            version: parts.version,
            headers,
            body,
            production,
            arrived_at: SystemTime::now(),
            reserved_bytes: self.bytes,
        });
    }
}

/// Everything the mirror side needs.
pub struct MirrorSettings {
    pub staging: Option<StagingSettings>,
    pub sampler: Sampler,
    pub queue_capacity: usize,
    pub queue_max_bytes: u64,
    pub max_body: u64,
    pub concurrency: usize,
    pub comparator: Comparator,
    pub compare_max_body: u64,
    /// How long to wait for production's response after staging's.
    pub production_wait: Duration,
    pub masker: TrafficMasker,
    pub capture: Option<CaptureHandle>,
    pub capture_max_body: u64,
    pub noise: NoiseConfig,
    /// Production's upstreams as the noise probe reaches them (used when `noise.probe` is on).
    pub probe_upstreams: Vec<StagingSettings>,
    /// Where each compared exchange's latencies go for the dashboard's charts.
    pub timeline: Arc<Timeline>,
    /// While busy, the queue is looked at once per tick instead of waking per copy; zero wakes
    /// per copy (`mirror.dispatch_tick`).
    pub dispatch_tick: Duration,
}

struct MirrorContext {
    staging: Option<Staging>,
    noise: NoiseConfig,
    probe: Option<probe::Probe>,
    timeline: Arc<Timeline>,
    /// Request bodies are copied (and decoded) up to this many bytes.
    max_body: u64,
    comparator: Comparator,
    compare_max_body: u64,
    production_wait: Duration,
    masker: TrafficMasker,
    capture: Option<CaptureHandle>,
    capture_max_body: u64,
    metrics: Arc<Metrics>,
    drops: DropCounters,
    queued_bytes: Arc<AtomicU64>,
    ids: AtomicU64,
}

/// Builds both halves: the production-side queue, and the dispatcher future to run on the
/// mirror runtime. The dispatcher ends when the queue is dropped and every copy has finished.
pub fn build(
    settings: MirrorSettings,
    metrics: Arc<Metrics>,
) -> (
    MirrorQueue,
    impl std::future::Future<Output = ()> + Send + 'static,
) {
    let (tx, rx) = mpsc::channel(settings.queue_capacity);
    let drops = DropCounters::new(&metrics);
    let queued_bytes = Arc::new(AtomicU64::new(0));
    metrics.queue_capacity.set(settings.queue_capacity as i64);
    let concurrency = settings.concurrency;
    let staging = settings.staging.map(|s| Staging::new(s, concurrency));
    let circuit = staging.as_ref().map(|s| s.circuit.clone());
    let capturing = settings.capture.is_some();
    let probe = probe::Probe::new(&settings.noise, settings.probe_upstreams, concurrency);
    let ctx = Arc::new(MirrorContext {
        staging,
        probe,
        timeline: settings.timeline,
        noise: settings.noise,
        max_body: settings.max_body,
        comparator: settings.comparator,
        compare_max_body: settings.compare_max_body,
        production_wait: settings.production_wait,
        masker: settings.masker,
        capture: settings.capture,
        capture_max_body: settings.capture_max_body,
        metrics,
        drops: drops.clone(),
        queued_bytes: queued_bytes.clone(),
        ids: AtomicU64::new(0),
    });
    let queue = MirrorQueue {
        tx,
        circuit,
        capturing,
        sampler: settings.sampler,
        queued_bytes,
        max_queued_bytes: settings.queue_max_bytes,
        max_body: settings.max_body,
        drops,
    };
    (
        queue,
        dispatch(rx, ctx, (settings.concurrency, settings.dispatch_tick)),
    )
}

/// The next job. While copies keep coming (`tick` > 0), the dispatcher looks for them once per
/// tick instead of being woken for each: a wake-up is a futex call made on production's thread
/// (the queue's sender wakes the receiver only when it waits). A tick that finds nothing goes
/// back to waiting, so an idle proxy does not spin; a copy waits at most a tick longer.
async fn next_job(
    rx: &mut mpsc::Receiver<MirrorJob>,
    tick: Duration,
    busy: &mut bool,
) -> Option<MirrorJob> {
    loop {
        match rx.try_recv() {
            Ok(job) => {
                *busy = !tick.is_zero();
                return Some(job);
            }
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) if *busy => {
                *busy = false;
                tokio::time::sleep(tick).await;
            }
            Err(mpsc::error::TryRecvError::Empty) => {
                let job = rx.recv().await;
                *busy = job.is_some() && !tick.is_zero();
                return job;
            }
        }
    }
}

async fn dispatch(
    mut rx: mpsc::Receiver<MirrorJob>,
    ctx: Arc<MirrorContext>,
    (concurrency, tick): (usize, Duration),
) {
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut busy = false;
    while let Some(job) = next_job(&mut rx, tick, &mut busy).await {
        ctx.queued_bytes
            .fetch_sub(job.reserved_bytes, Ordering::Relaxed);
        ctx.metrics.queue_depth.set(rx.len() as i64);
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        ctx.metrics.inflight.inc();
        let ctx = ctx.clone();
        tokio::spawn(async move {
            process::process(&ctx, job).await;
            ctx.metrics.inflight.dec();
            drop(slot);
        });
    }
    // The queue is closed: wait for the copies in flight, then let the context (and with it
    // the capture writer's channel) go.
    let _ = slots.acquire_many(concurrency as u32).await;
    ctx.metrics.queue_depth.set(0);
}
