//! The closed model: `connections` workers, each with its own connection per target, send the
//! next request as soon as the previous one (and its think time) is done, until the duration
//! ends or the run is stopped. Requests cut off by the end of the run are not counted.
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use prodlike_net::h1::{ClientStream, H1Conn};

use super::exchange::{self, Job, What};
use super::shared::Shared;

/// Runs the closed model to its end.
pub(super) async fn closed(shared: Arc<Shared>, connections: usize, duration: Duration, seed: u64) {
    let end = shared.t0 + duration;
    let mut tasks = Vec::new();
    for w in 0..connections.max(1) {
        let shared = shared.clone();
        let worker_seed = seed ^ (w as u64).wrapping_mul(0x9E37_79B9);
        tasks.push(tokio::spawn(async move {
            worker(&shared, end, worker_seed).await;
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// One connection (per target) sending flat out.
async fn worker(shared: &Shared, end: Instant, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let targets = shared.endpoints.len();
    let mut slots: Vec<Option<H1Conn<ClientStream>>> = (0..targets).map(|_| None).collect();
    loop {
        if Instant::now() >= end || shared.stop.is_stopped() {
            break;
        }
        let seq = shared.seq.fetch_add(1, Ordering::Relaxed);
        let job = Job {
            seq,
            intended_s: shared.now_s(),
            stage: 0,
            what: What::Template(shared.mix.pick(&mut rng)),
        };
        let prepared = exchange::prepare(shared, &job, &mut rng);
        shared.in_flight.fetch_add(targets, Ordering::Relaxed);
        for (t, slot) in slots.iter_mut().enumerate() {
            let run = exchange::run_job(shared, t, &job, &prepared, slot, &mut rng);
            tokio::select! {
                _ = run => {}
                _ = tokio::time::sleep_until(end.into()) => {
                    // Requests cut off by the end of the run are not counted.
                }
            }
            shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        exchange::think(shared, &mut rng).await;
    }
}
