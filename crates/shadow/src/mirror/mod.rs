//! Mirroring. The production side only ever does non-blocking things: it asks the sampler,
//! reserves a queue slot with `try_reserve`, and hands over a job holding oneshot receivers for
//! the request body copy and production's outcome. Everything else — waiting for bodies,
//! masking, sending to staging, comparing, capturing — runs on the mirror runtime, bounded by
//! the queue, a byte budget and a concurrency limit. Every copy not sent or not answered is
//! counted with its reason.
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Version};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use prodlike_capture::{Body as CaptureBody, CapturedRequest, CapturedResponse, Exchange};
use prodlike_net::{HttpsConnector, Target};
use prometheus_client::metrics::counter::Counter;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::body::{BodyCopy, ProdOutcome};
use crate::capture_writer::CaptureHandle;
use crate::compare::{BodyView, Comparator, Comparison, Side};
use crate::deadline::within;
use crate::divergence::DiffExample;
use crate::headers::X_PRODLIKE_SHADOW;
use crate::masking::{MaskedBody, TrafficMasker, looks_like_json};
use crate::metrics::Metrics;
use crate::routes::RouteEntry;
use crate::sampler::{Decision, Sampler};
use crate::scrub::Scrubber;

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
    RequestIncomplete,
}

impl DropReason {
    pub const ALL: [DropReason; 8] = [
        DropReason::QueueFull,
        DropReason::BodyTooLarge,
        DropReason::MethodNotMirrored,
        DropReason::StagingError,
        DropReason::Timeout,
        DropReason::CircuitOpen,
        DropReason::UnmaskableBody,
        DropReason::RequestIncomplete,
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
            DropReason::RequestIncomplete => "request_incomplete",
        }
    }
}

/// One counter per reason, created up front so counting is one atomic add.
#[derive(Clone)]
pub struct DropCounters {
    counters: Arc<[Counter; 8]>,
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

/// Stops copies for a while when staging keeps failing, so a dead staging costs nothing.
struct Circuit {
    threshold: u32,
    open_for: Duration,
    failures: AtomicU32,
    open_until_ms: AtomicU64,
    epoch: Instant,
}

impl Circuit {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn is_open(&self) -> bool {
        self.threshold > 0 && self.open_until_ms.load(Ordering::Relaxed) > self.now_ms()
    }

    fn success(&self) {
        self.failures.store(0, Ordering::Relaxed);
    }

    fn failure(&self) {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if self.threshold > 0 && n >= self.threshold {
            // Stays at the threshold: one more failure after the pause reopens it at once.
            self.failures.store(self.threshold - 1, Ordering::Relaxed);
            self.open_until_ms.store(
                self.now_ms() + self.open_for.as_millis() as u64,
                Ordering::Relaxed,
            );
        }
    }
}

/// Staging and how copies reach it.
pub struct StagingSettings {
    pub target: Target,
    pub connector: HttpsConnector,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub host: Option<HeaderValue>,
    pub drop_headers: Vec<HeaderName>,
    pub set_headers: Vec<(HeaderName, HeaderValue)>,
    pub circuit_failures: u32,
    pub circuit_open_for: Duration,
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
}

struct Staging {
    target: Target,
    client: Client<HttpsConnector, Full<Bytes>>,
    /// The lean HTTP/1.1 pool for a plain `http://` staging.
    h1: Option<Arc<prodlike_net::h1::H1Pool>>,
    timeout: Duration,
    host: Option<HeaderValue>,
    drop_headers: Vec<HeaderName>,
    set_headers: Vec<(HeaderName, HeaderValue)>,
    circuit: Arc<Circuit>,
}

struct MirrorContext {
    staging: Option<Staging>,
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
    let staging = settings.staging.map(|s| Staging {
        h1: (!s.target.is_https()).then(|| {
            prodlike_net::h1::H1Pool::new(
                &s.target.host_port(),
                HeaderValue::from_str(s.target.authority.as_str())
                    .unwrap_or_else(|_| HeaderValue::from_static("staging")),
                prodlike_net::h1::H1PoolConfig {
                    connect_timeout: s.connect_timeout,
                    idle_timeout: Duration::from_secs(30),
                    max_idle: settings.concurrency,
                },
            )
        }),
        client: Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(settings.concurrency)
            .build(s.connector),
        target: s.target,
        timeout: s.timeout,
        host: s.host,
        drop_headers: s.drop_headers,
        set_headers: s.set_headers,
        circuit: Arc::new(Circuit {
            threshold: s.circuit_failures,
            open_for: s.circuit_open_for,
            failures: AtomicU32::new(0),
            open_until_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }),
    });
    let circuit = staging.as_ref().map(|s| s.circuit.clone());
    let capturing = settings.capture.is_some();
    let ctx = Arc::new(MirrorContext {
        staging,
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
    (queue, dispatch(rx, ctx, settings.concurrency))
}

async fn dispatch(mut rx: mpsc::Receiver<MirrorJob>, ctx: Arc<MirrorContext>, concurrency: usize) {
    let slots = Arc::new(Semaphore::new(concurrency));
    while let Some(job) = rx.recv().await {
        ctx.queued_bytes
            .fetch_sub(job.reserved_bytes, Ordering::Relaxed);
        ctx.metrics.queue_depth.set(rx.len() as i64);
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        ctx.metrics.inflight.inc();
        let ctx = ctx.clone();
        tokio::spawn(async move {
            process(&ctx, job).await;
            ctx.metrics.inflight.dec();
            drop(slot);
        });
    }
    // The queue is closed: wait for the copies in flight, then let the context (and with it
    // the capture writer's channel) go.
    let _ = slots.acquire_many(concurrency as u32).await;
    ctx.metrics.queue_depth.set(0);
}

/// What staging did with a copy.
enum StagingOutcome {
    NotSent,
    Answered {
        status: u16,
        headers: HeaderMap,
        body: BodyCopy,
        latency: Duration,
    },
    Failed(DropReason),
}

async fn process(ctx: &MirrorContext, job: MirrorJob) {
    let request_body = match job.body {
        JobBody::Empty => Bytes::new(),
        JobBody::Pending(rx) => match tokio::time::timeout(ctx.production_wait, rx).await {
            Ok(Ok(BodyCopy::Complete(b))) => b,
            Ok(Ok(BodyCopy::TooLarge { .. })) => return ctx.drops.count(DropReason::BodyTooLarge),
            _ => return ctx.drops.count(DropReason::RequestIncomplete),
        },
    };
    let target = ctx.masker.target(&job.target).into_owned();
    let body = match ctx.masker.body(&job.headers, request_body.clone()) {
        MaskedBody::Ready(b) => b,
        MaskedBody::Unmaskable => return ctx.drops.count(DropReason::UnmaskableBody),
    };
    let scrub = scrubber_for(&job.target, &target, &job.headers, &request_body, &body);

    let mut sent_headers = job.headers;
    scrub_headers(&scrub, &mut sent_headers);
    let staging = match &ctx.staging {
        None => StagingOutcome::NotSent,
        Some(st) if st.circuit.is_open() => {
            ctx.drops.count(DropReason::CircuitOpen);
            StagingOutcome::Failed(DropReason::CircuitOpen)
        }
        Some(st) => {
            prepare_headers(st, &mut sent_headers, body.len());
            job.route.with_divergence(|d| d.mirrored += 1);
            ctx.metrics.mirrored.inc();
            // Boxed: the exchange's state is large, and unboxed it would be copied with the
            // whole task into the runtime on every spawn.
            let outcome = Box::pin(send(
                st,
                ctx.compare_max_body,
                &job.method,
                &target,
                &sent_headers,
                body.clone(),
            ))
            .await;
            match &outcome {
                StagingOutcome::Answered {
                    status, latency, ..
                } => {
                    st.circuit.success();
                    job.route.staging.record(&ctx.metrics, *status, *latency);
                }
                StagingOutcome::Failed(reason) => {
                    st.circuit.failure();
                    ctx.drops.count(*reason);
                    job.route.with_divergence(|d| d.staging_failures += 1);
                }
                StagingOutcome::NotSent => {}
            }
            outcome
        }
    };

    if ctx.capture.is_none() && !matches!(staging, StagingOutcome::Answered { .. }) {
        // Nothing to compare and nothing to capture: do not hold a slot for production.
        return;
    }
    let production = match tokio::time::timeout(ctx.production_wait, job.production).await {
        Ok(Ok(p)) => Some(p),
        _ => None,
    };

    // Without masking, identical bytes need no parsing to know they match.
    let identical = !ctx.masker.is_active()
        && matches!(
            (&production, &staging),
            (
                Some(ProdOutcome::Response { body: BodyCopy::Complete(p), .. }),
                StagingOutcome::Answered { body: BodyCopy::Complete(s), .. },
            ) if p == s
        );
    let masked_prod = if identical {
        None
    } else {
        production
            .as_ref()
            .and_then(|p| masked_json_of(ctx, &scrub, p))
    };
    if let (
        Some(ProdOutcome::Response {
            head,
            body: prod_body,
            latency: prod_latency,
        }),
        StagingOutcome::Answered {
            status,
            headers,
            body: st_body,
            latency: st_latency,
        },
    ) = (&production, &staging)
    {
        let staging_json = if identical {
            None
        } else {
            parse_json(headers, st_body)
        };
        let prod_bytes = match prod_body {
            BodyCopy::Complete(b) => Some(scrub.scrub_bytes(b)),
            _ => None,
        };
        let prod_view = match (&masked_prod, &prod_bytes) {
            (Some(v), _) => BodyView::Json(v),
            (None, Some(b)) if identical || !is_json(&head.headers, b) => BodyView::Bytes(b),
            _ => BodyView::Unavailable,
        };
        let st_view = match (&staging_json, st_body) {
            (Some(v), _) => BodyView::Json(v),
            (None, BodyCopy::Complete(b)) if identical || !is_json(headers, b) => {
                BodyView::Bytes(b)
            }
            _ => BodyView::Unavailable,
        };
        let staging_masked = staging_json
            .as_ref()
            .filter(|_| ctx.masker.is_active())
            .map(|v| {
                let mut m = v.clone();
                ctx.masker.json(&mut m);
                scrub.scrub_json(&mut m);
                m
            });
        let mut comparison = ctx.comparator.compare(
            Side::new(head.status, &head.headers, prod_view),
            Side::new(*status, headers, st_view),
            staging_masked.as_ref(),
        );
        if let Some(masked) = &staging_masked {
            show_masked_staging_values(&mut comparison, masked);
        }
        for (_, p, s) in &mut comparison.headers {
            for v in [p, s].into_iter().flatten() {
                *v = scrub.scrub_str(v).into_owned();
            }
        }
        record_comparison(
            ctx,
            &job.route,
            &comparison,
            *prod_latency,
            *st_latency,
            || DiffExample {
                at: humantime::format_rfc3339_seconds(job.arrived_at).to_string(),
                method: job.method.to_string(),
                target: target.clone(),
                production_status: head.status,
                staging_status: *status,
                headers: comparison.headers.clone(),
                body: comparison.body.clone(),
                body_diff_count: comparison.body_diff_count,
            },
        );
    }

    if let Some(capture) = &ctx.capture {
        let exchange = Exchange {
            id: ctx.ids.fetch_add(1, Ordering::Relaxed),
            ts_us: job
                .arrived_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_micros() as u64)
                .unwrap_or(0),
            route: job.route.name.to_string(),
            request: CapturedRequest {
                method: job.method.to_string(),
                target: target.clone(),
                version: format!("{:?}", job.version),
                headers: header_pairs(&scrub, &sent_headers),
                body: captured_body(&body, ctx.capture_max_body),
                body_len: body.len() as u64,
                body_truncated: body.len() as u64 > ctx.capture_max_body,
            },
            production: production
                .as_ref()
                .and_then(|p| captured_production(ctx, &scrub, p, masked_prod.as_ref())),
            production_error: match &production {
                Some(ProdOutcome::Failed { reason, status }) => {
                    Some(format!("{reason} ({status})"))
                }
                None => Some("no_response".into()),
                _ => None,
            },
            staging: captured_staging(ctx, &scrub, &staging),
            staging_error: match &staging {
                StagingOutcome::Failed(r) => Some(r.as_str().to_string()),
                _ => None,
            },
        };
        capture.write(exchange, &ctx.metrics);
    }
}

fn prepare_headers(st: &Staging, h: &mut HeaderMap, body_len: usize) {
    for name in &st.drop_headers {
        h.remove(name);
    }
    for (name, value) in &st.set_headers {
        h.insert(name.clone(), value.clone());
    }
    if let Some(host) = &st.host {
        h.insert(http::header::HOST, host.clone());
    }
    h.insert(X_PRODLIKE_SHADOW.clone(), HeaderValue::from_static("1"));
    h.remove(http::header::CONTENT_LENGTH);
    if body_len > 0 {
        h.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body_len));
    }
}

async fn send(
    st: &Staging,
    max_body: u64,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> StagingOutcome {
    let uri = match st.target.uri_for(target) {
        Ok(u) => u,
        Err(_) => return StagingOutcome::Failed(DropReason::StagingError),
    };
    let mut req = Request::new(Full::new(body));
    *req.method_mut() = method.clone();
    *req.uri_mut() = uri;
    *req.headers_mut() = headers.clone();
    let started = Instant::now();
    let exchange = async {
        let failed = |e: &dyn std::fmt::Display| {
            tracing::debug!(error = %e, "staging copy failed");
            DropReason::StagingError
        };
        let (parts, body) = match &st.h1 {
            Some(pool) => {
                let (parts, b) = pool.send(req).await.map_err(|e| failed(&e))?.into_parts();
                (parts, collect_limited(b, max_body).await?)
            }
            None => {
                let (parts, b) = st
                    .client
                    .request(req)
                    .await
                    .map_err(|e| failed(&e))?
                    .into_parts();
                (parts, collect_limited(b, max_body).await?)
            }
        };
        Ok((parts, body))
    };
    let exchange = std::pin::pin!(exchange);
    match within(st.timeout, exchange).await {
        Some(Ok((parts, body))) => StagingOutcome::Answered {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            latency: started.elapsed(),
        },
        Some(Err(reason)) => StagingOutcome::Failed(reason),
        None => StagingOutcome::Failed(DropReason::Timeout),
    }
}

/// Reads a body up to `max` bytes; beyond that it is reported as too large, not read on.
async fn collect_limited<B>(body: B, max: u64) -> Result<BodyCopy, DropReason>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, max as usize).collect().await {
        Ok(collected) => Ok(BodyCopy::Complete(collected.to_bytes())),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Ok(BodyCopy::TooLarge { seen: max + 1 })
        }
        Err(_) => Err(DropReason::StagingError),
    }
}

fn is_json(headers: &HeaderMap, body: &[u8]) -> bool {
    match headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        Some(ct) => ct
            .as_bytes()
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"json")),
        None => looks_like_json(body),
    }
}

fn parse_json(headers: &HeaderMap, body: &BodyCopy) -> Option<Value> {
    match body {
        BodyCopy::Complete(b) if is_json(headers, b) && !b.is_empty() => {
            serde_json::from_slice(b).ok()
        }
        _ => None,
    }
}

/// Production's JSON body, masked: what is compared, captured and shown.
fn masked_json_of(ctx: &MirrorContext, scrub: &Scrubber, p: &ProdOutcome) -> Option<Value> {
    match p {
        ProdOutcome::Response { head, body, .. } => {
            let mut v = parse_json(&head.headers, body)?;
            ctx.masker.json(&mut v);
            scrub.scrub_json(&mut v);
            Some(v)
        }
        ProdOutcome::Failed { .. } => None,
    }
}

/// What is shown of staging's values is masked too, so a diff never displays an unmasked value.
fn show_masked_staging_values(c: &mut Comparison, masked: &Value) {
    for d in &mut c.body {
        if d.staging.is_some() {
            let pointer = if d.path == "/" { "" } else { d.path.as_str() };
            d.staging = masked.pointer(pointer).map(|v| {
                let s = v.to_string();
                if s.chars().count() > 120 {
                    format!("{}…", s.chars().take(120).collect::<String>())
                } else {
                    s
                }
            });
        }
    }
}

fn record_comparison(
    ctx: &MirrorContext,
    route: &RouteEntry,
    c: &Comparison,
    prod_latency: Duration,
    staging_latency: Duration,
    example: impl FnOnce() -> DiffExample,
) {
    let mismatch = route.with_divergence(|d| {
        d.production_latency.record(prod_latency);
        d.staging_latency.record(staging_latency);
        d.record(c, example)
    });
    route.count_comparison(
        &ctx.metrics,
        mismatch,
        [c.status_differs(), c.headers_differ(), c.body_differs()],
    );
}

/// Headers never written to a capture: credentials and session cookies.
const NEVER_CAPTURED: [&str; 4] = [
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
];

fn header_pairs(scrub: &Scrubber, h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .filter(|(k, _)| !NEVER_CAPTURED.contains(&k.as_str()))
        .map(|(k, v)| {
            let text = String::from_utf8_lossy(v.as_bytes());
            (k.as_str().to_string(), scrub.scrub_str(&text).into_owned())
        })
        .collect()
}

/// The scrubber of one exchange: the raw values its masking replaced.
fn scrubber_for(
    raw_target: &str,
    masked_target: &str,
    headers: &HeaderMap,
    raw_body: &Bytes,
    masked_body: &Bytes,
) -> Scrubber {
    let mut s = Scrubber::default();
    if let (Some((_, rq)), Some((_, mq))) =
        (raw_target.split_once('?'), masked_target.split_once('?'))
    {
        s.add_query(rq, mq);
    }
    if raw_body != masked_body {
        if is_json(headers, raw_body) {
            if let (Ok(r), Ok(m)) = (
                serde_json::from_slice::<Value>(raw_body),
                serde_json::from_slice::<Value>(masked_body),
            ) {
                s.add_json(&r, &m);
            }
        } else if let (Ok(r), Ok(m)) = (
            std::str::from_utf8(raw_body),
            std::str::from_utf8(masked_body),
        ) {
            s.add_query(r, m);
        }
    }
    s.finish();
    s
}

/// Headers of the copy can echo masked values too (Referer with the query, an email header).
fn scrub_headers(scrub: &Scrubber, h: &mut HeaderMap) {
    if scrub.is_empty() {
        return;
    }
    for v in h.values_mut() {
        if let Ok(text) = v.to_str()
            && let std::borrow::Cow::Owned(clean) = scrub.scrub_str(text)
            && let Ok(nv) = HeaderValue::from_str(&clean)
        {
            *v = nv;
        }
    }
}

fn captured_body(b: &[u8], max: u64) -> Option<CaptureBody> {
    if b.is_empty() {
        return None;
    }
    let cut = &b[..b.len().min(max as usize)];
    Some(CaptureBody::from_bytes(cut))
}

fn captured_production(
    ctx: &MirrorContext,
    scrub: &Scrubber,
    p: &ProdOutcome,
    masked: Option<&Value>,
) -> Option<CapturedResponse> {
    let ProdOutcome::Response {
        head,
        body,
        latency,
    } = p
    else {
        return None;
    };
    Some(captured_response(
        ctx,
        scrub,
        head.status,
        &head.headers,
        body,
        masked,
        *latency,
    ))
}

fn captured_staging(
    ctx: &MirrorContext,
    scrub: &Scrubber,
    s: &StagingOutcome,
) -> Option<CapturedResponse> {
    let StagingOutcome::Answered {
        status,
        headers,
        body,
        latency,
    } = s
    else {
        return None;
    };
    let masked = parse_json(headers, body).map(|mut v| {
        ctx.masker.json(&mut v);
        scrub.scrub_json(&mut v);
        v
    });
    Some(captured_response(
        ctx,
        scrub,
        *status,
        headers,
        body,
        masked.as_ref(),
        *latency,
    ))
}

fn captured_response(
    ctx: &MirrorContext,
    scrub: &Scrubber,
    status: u16,
    headers: &HeaderMap,
    body: &BodyCopy,
    masked_json: Option<&Value>,
    latency: Duration,
) -> CapturedResponse {
    let (captured, len, truncated) = match (masked_json, body) {
        (Some(v), BodyCopy::Complete(raw)) => {
            let text = v.to_string();
            let t = text.len() as u64 > ctx.capture_max_body;
            (
                captured_body(text.as_bytes(), ctx.capture_max_body),
                raw.len() as u64,
                t,
            )
        }
        // JSON that did not parse is never written: it cannot be proven clean.
        (None, BodyCopy::Complete(raw)) if ctx.masker.is_active() && is_json(headers, raw) => {
            (None, raw.len() as u64, true)
        }
        (None, BodyCopy::Complete(raw)) => (
            captured_body(&scrub.scrub_bytes(raw), ctx.capture_max_body),
            raw.len() as u64,
            raw.len() as u64 > ctx.capture_max_body,
        ),
        (_, BodyCopy::TooLarge { seen }) => (None, *seen, true),
        (_, BodyCopy::Incomplete) => (None, 0, true),
    };
    CapturedResponse {
        status,
        headers: header_pairs(scrub, headers),
        body: captured,
        body_len: len,
        body_truncated: truncated,
        latency_us: latency.as_micros() as u64,
    }
}
