//! Runs a plan: the open-model dispatcher (arrivals at intended times, a cap on in-flight
//! requests, drops counted), the closed model (fixed connections flat out), held idle
//! connections, compare mode (every arrival to both targets), and live progress.
mod exchange;
mod failure;
mod held;
pub mod options;
pub mod recorder;
mod stop;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use prodlike_net::h1::{ClientStream, Endpoint, H1Conn, IdleConns};
use prodlike_net::{ClientTlsOptions, Target};

use crate::LoadError;
use crate::mix::{DEFAULT_PATH, RequestMix, Template, WireTarget};
use crate::replay::{self, ReplayStats};
use crate::schedule::{ArrivalProcess, Arrivals};
use crate::stages::RateProfile;
use exchange::{Job, What};
pub use failure::{ErrorKind, RequestError};
pub use held::HeldStats;
pub use options::{Backoff, ClientOptions, HeldConnections, RetryOn, RetryPolicy, ThinkTime};
pub use recorder::{Acc, Completed, NameKey, Recorder, Second, TargetAcc};
pub use stop::StopHandle;

/// Where arrivals come from in the open model.
#[derive(Debug, Clone)]
pub enum OpenSource {
    /// A rate plan (constant or stages), uniform or Poisson.
    Plan {
        profile: RateProfile,
        process: ArrivalProcess,
    },
    /// Recorded requests at their recorded gaps divided by `speed`.
    ReplayGaps {
        files: Vec<PathBuf>,
        capture: bool,
        speed: f64,
        looped: bool,
        /// Stop after this long (needed with `looped`).
        duration: Option<Duration>,
    },
    /// Recorded requests, in order, at the recording's per-second rate curve × scale
    /// (`profile` is that curve).
    ReplayRate {
        files: Vec<PathBuf>,
        capture: bool,
        profile: RateProfile,
        process: ArrivalProcess,
        looped: bool,
    },
}

#[derive(Debug, Clone)]
pub enum Workload {
    Open {
        source: OpenSource,
        /// Requests in flight at most (k6's maxVUs); arrivals beyond it are dropped and counted.
        max_in_flight: usize,
    },
    Closed {
        connections: usize,
        duration: Duration,
    },
}

/// A whole run.
pub struct Plan {
    /// One target, or two for compare mode.
    pub targets: Vec<Target>,
    pub workload: Workload,
    /// The request mix (empty for replay).
    pub templates: Vec<Template>,
    pub client: ClientOptions,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// How long in-flight requests may finish after the schedule ends.
    pub graceful_stop: Duration,
    pub seed: u64,
}

/// A live view of a running test, for progress displays.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub elapsed_s: f64,
    pub total_s: Option<f64>,
    /// Requests sent in the last whole second.
    pub rate: u64,
    /// What the plan asked for in that second.
    pub target_rate: Option<f64>,
    pub p99_ms: Option<f64>,
    pub completed: u64,
    pub failed: u64,
    pub dropped: u64,
    pub retries: u64,
    pub in_flight: usize,
}

/// What a run produced, before it is summarised.
pub struct RunOutput {
    pub recorder: Recorder,
    /// Requests the schedule placed in each second (the target for replay runs).
    pub scheduled: Vec<u64>,
    pub replay: Option<ReplayStats>,
    pub held: HeldStats,
    /// Requests still in flight when the graceful stop ran out.
    pub interrupted: u64,
    pub elapsed_s: f64,
    pub connections_opened: u64,
    pub stale_reconnects: u64,
    pub stopped_early: bool,
}

pub(crate) struct Shared {
    pub endpoints: Vec<Endpoint>,
    /// Open model: idle connections shared by the jobs, per target.
    pub pools: Vec<IdleConns<ClientStream>>,
    pub mix: RequestMix,
    pub client: ClientOptions,
    pub rec: Mutex<Recorder>,
    pub t0: Instant,
    pub in_flight: AtomicUsize,
    pub connections_opened: AtomicU64,
    pub stale_reconnects: AtomicU64,
    pub stop: StopHandle,
    pub seq: AtomicU64,
}

impl Shared {
    pub fn now_s(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }
    pub fn stop_now(&self) -> bool {
        self.stop.is_stopped()
    }
}

fn wire(t: &Target) -> WireTarget {
    WireTarget {
        host: t.authority.as_str().to_string(),
        base_path: t.base_path.clone(),
    }
}

/// Checks every target accepts a connection (and a TLS handshake) before the clock starts, so
/// an unreachable target is a clear error, not a run full of connect errors.
pub async fn resolve_targets(
    targets: &[Target],
    client: &ClientOptions,
) -> Result<Vec<Endpoint>, LoadError> {
    let tls = ClientTlsOptions {
        ca_file: client.ca_file.clone(),
    };
    let mut endpoints = Vec::new();
    for t in targets {
        let ep = Endpoint::resolve(t, &tls, client.connect_timeout)
            .await
            .map_err(|source| LoadError::Endpoint {
                target: t.original.clone(),
                source,
            })?;
        ep.connect()
            .await
            .map_err(|source| LoadError::Unreachable {
                target: t.original.clone(),
                source,
            })?;
        endpoints.push(ep);
    }
    Ok(endpoints)
}

/// Runs `plan` to the end (or until `stop`), calling `progress` about four times a second.
pub async fn execute(
    plan: &Plan,
    stop: StopHandle,
    mut progress: impl FnMut(&Live) + Send,
) -> Result<RunOutput, LoadError> {
    let endpoints = resolve_targets(&plan.targets, &plan.client).await?;
    let wires: Vec<WireTarget> = plan.targets.iter().map(wire).collect();
    let templates: Vec<Template> = plan.templates.clone();
    let mix = if templates.is_empty() {
        RequestMix::single_get(DEFAULT_PATH, wires, plan.client.headers.clone())
            .map_err(LoadError::Usage)?
    } else {
        RequestMix::new(templates, wires, plan.client.headers.clone())
    };
    let names = match &plan.workload {
        Workload::Open {
            source: OpenSource::ReplayGaps { .. } | OpenSource::ReplayRate { .. },
            ..
        } => Vec::new(),
        _ => mix.names(),
    };
    let stages = match &plan.workload {
        Workload::Open {
            source: OpenSource::Plan { profile, .. } | OpenSource::ReplayRate { profile, .. },
            ..
        } => profile.stages().len(),
        _ => 1,
    };
    let rec = Recorder::new(names, stages, plan.targets.len(), plan.targets.len() > 1);
    let shared = Arc::new(Shared {
        pools: endpoints
            .iter()
            .map(|_| IdleConns::new(usize::MAX))
            .collect(),
        endpoints,
        mix,
        client: plan.client.clone(),
        rec: Mutex::new(rec),
        // A short head start so the first arrivals are not already late.
        t0: Instant::now() + Duration::from_millis(20),
        in_flight: AtomicUsize::new(0),
        connections_opened: AtomicU64::new(0),
        stale_reconnects: AtomicU64::new(0),
        stop: stop.clone(),
        seq: AtomicU64::new(0),
    });
    let total_s = match &plan.workload {
        Workload::Open {
            source: OpenSource::Plan { profile, .. },
            ..
        } => Some(profile.duration_secs()),
        Workload::Open {
            source:
                OpenSource::ReplayRate {
                    profile,
                    looped: false,
                    ..
                },
            ..
        } => Some(profile.duration_secs()),
        Workload::Open {
            source: OpenSource::ReplayGaps { duration, .. },
            ..
        } => duration.map(|d| d.as_secs_f64()),
        Workload::Closed { duration, .. } => Some(duration.as_secs_f64()),
        _ => None,
    };
    let held = held::start(&shared, plan.client.held.clone());
    let live_profile = match &plan.workload {
        Workload::Open {
            source: OpenSource::Plan { profile, .. } | OpenSource::ReplayRate { profile, .. },
            ..
        } => Some(profile.clone()),
        _ => None,
    };
    // Progress is called from this task only, so `progress` need not be shared.
    let (run_result, scheduled, replay_stats) = {
        let work = run_workload(plan, shared.clone());
        tokio::pin!(work);
        let mut iv = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                r = &mut work => break r,
                _ = iv.tick() => {
                    progress(&live_now(&shared, total_s, live_profile.as_ref()));
                }
            }
        }
    };
    run_result?;
    // Drain: in-flight requests get the graceful stop to finish.
    let deadline = Instant::now() + plan.graceful_stop;
    while shared.in_flight.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
        progress(&live_now(&shared, total_s, live_profile.as_ref()));
    }
    let interrupted = shared.in_flight.load(Ordering::Relaxed) as u64;
    let held_stats = held.finish().await;
    let elapsed_s = shared.now_s();
    progress(&live_now(&shared, total_s, live_profile.as_ref()));
    let mut recorder = {
        let mut rec = shared.rec.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *rec, Recorder::new(Vec::new(), 1, 1, false))
    };
    recorder.finish();
    Ok(RunOutput {
        recorder,
        scheduled,
        replay: replay_stats,
        held: held_stats,
        interrupted,
        elapsed_s,
        connections_opened: shared.connections_opened.load(Ordering::Relaxed),
        stale_reconnects: shared.stale_reconnects.load(Ordering::Relaxed),
        stopped_early: stop.is_stopped(),
    })
}

fn live_now(shared: &Shared, total_s: Option<f64>, profile: Option<&RateProfile>) -> Live {
    let elapsed = shared.now_s();
    let rec = shared.rec.lock().unwrap_or_else(PoisonError::into_inner);
    let last = (elapsed.floor() as usize).checked_sub(1);
    let t = &rec.targets[0].overall;
    Live {
        elapsed_s: elapsed,
        total_s,
        rate: last
            .and_then(|i| rec.timeline.get(i))
            .map(|s| s.sent)
            .unwrap_or(0),
        target_rate: match (profile, last) {
            (Some(p), Some(i)) => Some(p.expected_between(i as f64, i as f64 + 1.0)),
            _ => None,
        },
        p99_ms: rec.recent_p99(),
        completed: t.completed,
        failed: t.failed,
        dropped: rec.dropped,
        retries: t.retries,
        in_flight: shared.in_flight.load(Ordering::Relaxed),
    }
}

type ReplayRx = tokio::sync::mpsc::Receiver<(f64, Arc<replay::ReplayRequest>)>;
type ReplayThread = std::thread::JoinHandle<Result<ReplayStats, LoadError>>;
type WorkResult = (Result<(), LoadError>, Vec<u64>, Option<ReplayStats>);

async fn run_workload(plan: &Plan, shared: Arc<Shared>) -> WorkResult {
    match &plan.workload {
        Workload::Closed {
            connections,
            duration,
        } => {
            closed(shared, *connections, *duration, plan.seed).await;
            (Ok(()), Vec::new(), None)
        }
        Workload::Open {
            source,
            max_in_flight,
        } => open(shared, source, *max_in_flight, plan.seed).await,
    }
}

/// One arrival the dispatcher must place: its time, stage and (for replay) its request.
struct Placed {
    at: f64,
    stage: usize,
    what: What,
}

enum Feed {
    Plan(Arrivals),
    Channel(tokio::sync::mpsc::Receiver<(f64, Arc<replay::ReplayRequest>)>),
    Paired(
        Arrivals,
        tokio::sync::mpsc::Receiver<(f64, Arc<replay::ReplayRequest>)>,
    ),
}

impl Feed {
    async fn next(&mut self, shared: &Shared, rng: &mut fastrand::Rng) -> Option<Placed> {
        match self {
            Feed::Plan(arr) => {
                let a = arr.next()?;
                Some(Placed {
                    at: a.at,
                    stage: a.stage,
                    what: What::Template(shared.mix.pick(rng)),
                })
            }
            Feed::Channel(rx) => {
                let (at, r) = rx.recv().await?;
                Some(Placed {
                    at,
                    stage: 0,
                    what: What::Replay(r),
                })
            }
            Feed::Paired(arr, rx) => {
                let a = arr.next()?;
                let (_, r) = rx.recv().await?;
                Some(Placed {
                    at: a.at,
                    stage: a.stage,
                    what: What::Replay(r),
                })
            }
        }
    }
}

/// Streams recorded requests from a thread, with their send offsets (gaps mode) or none.
fn replay_feeder(
    files: Vec<PathBuf>,
    capture: bool,
    speed: Option<f64>,
    looped: bool,
    stop: StopHandle,
) -> (ReplayRx, ReplayThread) {
    let (tx, rx) = tokio::sync::mpsc::channel(8192);
    let handle = std::thread::spawn(move || {
        let mut stats = ReplayStats::default();
        let mut offset = 0.0f64;
        loop {
            let mut t0: Option<u64> = None;
            let mut last_at = 0.0f64;
            // Entries of one whole-second timestamp are spread evenly over that second.
            let mut pending: Vec<(u64, replay::ReplayRequest)> = Vec::new();
            let mut open = true;
            let flush = |pending: &mut Vec<(u64, replay::ReplayRequest)>,
                         t0: u64,
                         offset: f64,
                         last_at: &mut f64|
             -> bool {
                let n = pending.len().max(1) as f64;
                for (i, (ts, r)) in pending.drain(..).enumerate() {
                    let rel = ts.saturating_sub(t0) as f64 / 1e6 + i as f64 / n;
                    let at = offset + rel / speed.unwrap_or(1.0);
                    *last_at = at;
                    if tx.blocking_send((at, Arc::new(r))).is_err() {
                        return false;
                    }
                }
                true
            };
            let sent_before = stats.requests;
            replay::stream(&files, capture, &mut stats, |rec| {
                if stop.is_stopped() {
                    open = false;
                    return false;
                }
                let base = *t0.get_or_insert(rec.ts_us);
                if speed.is_none() {
                    if tx.blocking_send((0.0, Arc::new(rec.request))).is_err() {
                        open = false;
                        return false;
                    }
                    return true;
                }
                let ts = rec.ts_us.max(base);
                if rec.whole_seconds {
                    if pending.first().is_some_and(|(p, _)| *p != ts)
                        && !flush(&mut pending, base, offset, &mut last_at)
                    {
                        open = false;
                        return false;
                    }
                    pending.push((ts, rec.request));
                    return true;
                }
                if !flush(&mut pending, base, offset, &mut last_at) {
                    open = false;
                    return false;
                }
                let at = offset + (ts - base) as f64 / 1e6 / speed.unwrap_or(1.0);
                last_at = at;
                if tx.blocking_send((at, Arc::new(rec.request))).is_err() {
                    open = false;
                    return false;
                }
                true
            })?;
            if open {
                open = flush(&mut pending, t0.unwrap_or(0), offset, &mut last_at);
            }
            if !looped || !open || stats.requests == sent_before {
                return Ok(stats);
            }
            stats.loops += 1;
            let span = last_at - offset;
            let n = (stats.requests - sent_before).max(1) as f64;
            offset = last_at + (span / n).max(1e-4);
        }
    });
    (rx, handle)
}

async fn open(
    shared: Arc<Shared>,
    source: &OpenSource,
    max_in_flight: usize,
    seed: u64,
) -> WorkResult {
    let mut replay_thread = None;
    let mut deadline: Option<f64> = None;
    let mut feed = match source {
        OpenSource::Plan { profile, process } => {
            Feed::Plan(Arrivals::new(profile.clone(), *process, seed))
        }
        OpenSource::ReplayGaps {
            files,
            capture,
            speed,
            looped,
            duration,
        } => {
            deadline = duration.map(|d| d.as_secs_f64());
            let (rx, h) = replay_feeder(
                files.clone(),
                *capture,
                Some(*speed),
                *looped,
                shared.stop.clone(),
            );
            replay_thread = Some(h);
            Feed::Channel(rx)
        }
        OpenSource::ReplayRate {
            files,
            capture,
            profile,
            process,
            looped,
        } => {
            let (rx, h) = replay_feeder(files.clone(), *capture, None, true, shared.stop.clone());
            let _ = looped;
            replay_thread = Some(h);
            Feed::Paired(Arrivals::new(profile.clone(), *process, seed), rx)
        }
    };
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x0a11);
    let mut scheduled: Vec<u64> = Vec::new();
    let targets = shared.endpoints.len();
    let mut seq = 0u64;
    loop {
        if shared.stop_now() {
            break;
        }
        let Some(p) = feed.next(&shared, &mut rng).await else {
            break;
        };
        if deadline.is_some_and(|d| p.at >= d) {
            break;
        }
        let sec = p.at.max(0.0) as usize;
        if scheduled.len() <= sec {
            scheduled.resize(sec + 1, 0);
        }
        scheduled[sec] += 1;
        let at = shared.t0 + Duration::from_secs_f64(p.at);
        if at > Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(at.into()) => {}
                _ = shared.stop.stopped() => break,
            }
        }
        let intended_s = p.at;
        if shared.in_flight.load(Ordering::Relaxed) + targets > max_in_flight.max(targets) {
            shared
                .rec
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drop_arrival(intended_s, p.stage, &p.what.name());
            continue;
        }
        let job = Job {
            seq,
            intended_s,
            stage: p.stage,
            what: p.what,
        };
        seq += 1;
        let lag_us = ((shared.now_s() - intended_s).max(0.0) * 1e6) as u64;
        shared
            .rec
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lag(lag_us);
        shared.in_flight.fetch_add(targets, Ordering::Relaxed);
        let task_seed = seed ^ job.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let shared2 = shared.clone();
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(task_seed);
            let prepared = exchange::prepare(&shared2, &job, &mut rng);
            if targets == 1 {
                let mut slot = shared2.pools[0].take();
                exchange::run_job(&shared2, 0, &job, &prepared, &mut slot, &mut rng).await;
                exchange::think(&shared2, &mut rng).await;
                exchange::give_back(&shared2.pools[0], slot);
                shared2.in_flight.fetch_sub(1, Ordering::Relaxed);
            } else {
                // Compare mode: the same request to both targets at the same intended time;
                // which one is polled first alternates, so neither is favoured.
                let order: Vec<usize> = if job.seq % 2 == 0 {
                    vec![0, 1]
                } else {
                    vec![1, 0]
                };
                let runs = order.into_iter().map(|t| {
                    let shared3 = shared2.clone();
                    let job = job.clone();
                    let prepared = &prepared;
                    let mut rng = fastrand::Rng::with_seed(task_seed ^ t as u64);
                    async move {
                        let mut slot = shared3.pools[t].take();
                        exchange::run_job(&shared3, t, &job, prepared, &mut slot, &mut rng).await;
                        exchange::give_back(&shared3.pools[t], slot);
                        shared3.in_flight.fetch_sub(1, Ordering::Relaxed);
                    }
                });
                futures_join_all(runs).await;
            }
        });
    }
    let mut stats = None;
    if let Some(h) = replay_thread {
        // Dropping the receiver ends a feeder blocked on a full channel.
        drop(feed);
        match h.join() {
            Ok(Ok(s)) => stats = Some(s),
            Ok(Err(e)) => return (Err(e), scheduled, None),
            Err(_) => {
                return (
                    Err(LoadError::Usage("the replay reader thread panicked".into())),
                    scheduled,
                    None,
                );
            }
        }
    }
    (Ok(()), scheduled, stats)
}

async fn futures_join_all<F: std::future::Future<Output = ()>>(futs: impl Iterator<Item = F>) {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    // Two futures at most: poll them together.
    let mut it = set.into_iter();
    match (it.next(), it.next()) {
        (Some(a), Some(b)) => {
            tokio::join!(a, b);
        }
        (Some(a), None) => a.await,
        _ => {}
    }
}

async fn closed(shared: Arc<Shared>, connections: usize, duration: Duration, seed: u64) {
    let end = shared.t0 + duration;
    let mut tasks = Vec::new();
    let targets = shared.endpoints.len();
    for w in 0..connections.max(1) {
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(seed ^ (w as u64).wrapping_mul(0x9E37_79B9));
            let mut slots: Vec<Option<H1Conn<ClientStream>>> = (0..targets).map(|_| None).collect();
            let stop = shared.stop.clone();
            loop {
                if Instant::now() >= end || stop.is_stopped() {
                    break;
                }
                let seq = shared.seq.fetch_add(1, Ordering::Relaxed);
                let job = Job {
                    seq,
                    intended_s: shared.now_s(),
                    stage: 0,
                    what: What::Template(shared.mix.pick(&mut rng)),
                };
                let prepared = exchange::prepare(&shared, &job, &mut rng);
                shared.in_flight.fetch_add(targets, Ordering::Relaxed);
                for (t, slot) in slots.iter_mut().enumerate() {
                    let run = exchange::run_job(&shared, t, &job, &prepared, slot, &mut rng);
                    tokio::select! {
                        _ = run => {}
                        _ = tokio::time::sleep_until(end.into()) => {
                            // Requests cut off by the end of the run are not counted.
                        }
                    }
                    shared.in_flight.fetch_sub(1, Ordering::Relaxed);
                }
                exchange::think(&shared, &mut rng).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}
