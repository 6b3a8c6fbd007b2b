//! The state a run shares between its dispatcher (or closed-model workers), its request jobs,
//! held connections and progress: endpoints and idle pools, the request mix, the recorder, the
//! run's clock (`t0`), in-flight and connection counters, and the stop signal.
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use prodlike_net::h1::{ClientStream, Endpoint, IdleConns};

use super::options::ClientOptions;
use super::plan::Plan;
use super::recorder::Recorder;
use super::stop::StopHandle;
use super::targets::wire;
use crate::LoadError;
use crate::mix::{DEFAULT_PATH, RequestMix, WireTarget};

pub(crate) struct Shared {
    pub endpoints: Vec<Endpoint>,
    /// `--http2`: one client per target (empty for HTTP/1.1 runs).
    pub h2: Vec<prodlike_net::h2::H2Client<http_body_util::Full<bytes::Bytes>>>,
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

/// When the plan's clock starts: at `start_at` (Unix µs) when given, which may be ahead (the
/// dispatcher waits) or slightly behind (the first arrivals are late, and their send lag says
/// so); else now, with a short head start so the first arrivals are not already late.
fn clock_start(start_at: Option<u64>) -> Instant {
    let now = Instant::now();
    let Some(at) = start_at else {
        return now + Duration::from_millis(20);
    };
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    if at >= now_us {
        now + Duration::from_micros(at - now_us)
    } else {
        now.checked_sub(Duration::from_micros(now_us - at))
            .unwrap_or(now)
    }
}

impl Shared {
    /// The shared state of `plan` over resolved `endpoints`; the clock starts now.
    pub fn new(
        plan: &Plan,
        (endpoints, h2): (
            Vec<Endpoint>,
            Vec<prodlike_net::h2::H2Client<http_body_util::Full<bytes::Bytes>>>,
        ),
        stop: StopHandle,
    ) -> Result<Self, LoadError> {
        let wires: Vec<WireTarget> = plan.targets.iter().map(wire).collect();
        // Without templates every arrival is one GET of the default path.
        let mix = if plan.templates.is_empty() {
            RequestMix::single_get(DEFAULT_PATH, wires, plan.client.headers.clone())
                .map_err(LoadError::Usage)?
        } else {
            RequestMix::new(plan.templates.clone(), wires, plan.client.headers.clone())
        };
        let names = if plan.workload.is_replay() {
            Vec::new()
        } else {
            mix.names()
        };
        let targets = plan.targets.len();
        let mut rec = Recorder::new(names, plan.workload.stage_count(), targets, targets > 1);
        rec.second_histograms = !plan.segment.is_all();
        Ok(Shared {
            pools: endpoints
                .iter()
                .map(|_| IdleConns::new(usize::MAX))
                .collect(),
            endpoints,
            h2,
            mix,
            client: plan.client.clone(),
            rec: Mutex::new(rec),
            t0: clock_start(plan.start_at),
            in_flight: AtomicUsize::new(0),
            connections_opened: AtomicU64::new(0),
            stale_reconnects: AtomicU64::new(0),
            stop,
            seq: AtomicU64::new(0),
        })
    }

    pub fn now_s(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }

    pub fn stop_now(&self) -> bool {
        self.stop.is_stopped()
    }

    /// The recorder, finished, once every job has ended.
    pub fn take_recorder(&self) -> Recorder {
        let mut recorder = {
            let mut rec = self.rec.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *rec, Recorder::new(Vec::new(), 1, 1, false))
        };
        recorder.finish();
        recorder
    }
}
