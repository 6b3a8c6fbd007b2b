//! Held connections: idle keep-alive connections opened at the start (one request each, as a
//! browser that then goes quiet) and kept open; when the server closes one, that is counted and,
//! by default, a replacement is opened.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tokio::task::JoinHandle;

use super::Shared;
use super::exchange::{Job, What, prepare, run_job};
use super::options::HeldConnections;

#[derive(Debug, Clone, Default, Serialize)]
pub struct HeldStats {
    /// Held connections asked for, per target.
    pub requested: usize,
    /// Connections opened for holding (including replacements).
    pub opened: u64,
    /// Connections that could not be opened.
    pub failed: u64,
    /// Held connections the server closed while they were idle.
    pub closed_by_server: u64,
    /// Seconds from the start at which the server first closed a held connection.
    pub first_close_s: Option<f64>,
    /// Held connections still open at the end.
    pub open_at_end: u64,
}

pub(crate) struct Held {
    tasks: Vec<JoinHandle<()>>,
    counters: Arc<Counters>,
    requested: usize,
}

#[derive(Default)]
struct Counters {
    opened: AtomicU64,
    failed: AtomicU64,
    closed: AtomicU64,
    open_now: AtomicU64,
    first_close_ms: AtomicU64,
}

pub(crate) fn start(shared: &Arc<Shared>, opts: HeldConnections) -> Held {
    let counters = Arc::new(Counters::default());
    let mut tasks = Vec::new();
    for target in 0..shared.endpoints.len() {
        for i in 0..opts.idle {
            let shared = shared.clone();
            let c = counters.clone();
            let reopen = opts.reopen;
            tasks.push(tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(i as u64);
                loop {
                    if shared.stop_now() {
                        return;
                    }
                    let job = Job {
                        seq: i as u64,
                        intended_s: shared.now_s(),
                        stage: 0,
                        what: What::Template(0),
                    };
                    let prepared = prepare(&shared, &job, &mut rng);
                    let mut slot = None;
                    // Open with one ordinary request, recorded like any other.
                    let done = run_job(&shared, target, &job, &prepared, &mut slot, &mut rng).await;
                    let Some(mut conn) = slot.take() else {
                        c.failed.fetch_add(1, Ordering::Relaxed);
                        let _ = done;
                        tokio::select! {
                            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                            _ = shared.stop.stopped() => return,
                        }
                    };
                    c.opened.fetch_add(1, Ordering::Relaxed);
                    c.open_now.fetch_add(1, Ordering::Relaxed);
                    tokio::select! {
                        _ = conn.closed() => {
                            c.open_now.fetch_sub(1, Ordering::Relaxed);
                            c.closed.fetch_add(1, Ordering::Relaxed);
                            let ms = (shared.now_s() * 1000.0) as u64 + 1;
                            let _ = c.first_close_ms.compare_exchange(0, ms, Ordering::Relaxed, Ordering::Relaxed);
                            if !reopen {
                                return;
                            }
                        }
                        _ = shared.stop.stopped() => return,
                    }
                }
            }));
        }
    }
    Held {
        tasks,
        counters,
        requested: opts.idle,
    }
}

impl Held {
    /// Stops holding (the run is over) and reports.
    pub(crate) async fn finish(self) -> HeldStats {
        let c = &self.counters;
        let open_at_end = c.open_now.load(Ordering::Relaxed);
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks {
            let _ = t.await;
        }
        let first = c.first_close_ms.load(Ordering::Relaxed);
        HeldStats {
            requested: self.requested,
            opened: c.opened.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            closed_by_server: c.closed.load(Ordering::Relaxed),
            first_close_s: (first > 0).then(|| (first - 1) as f64 / 1000.0),
            open_at_end,
        }
    }
}
