//! The open model: a dispatcher takes each arrival from the feed, counts it in the schedule,
//! sleeps to its intended time, drops it when `max_in_flight` requests are already out (a drop
//! is counted, never queued: queueing would hide the target's slowness), and spawns a job for
//! the rest. In compare mode one job sends the same request to both targets at the same
//! intended time. Output: the per-second schedule and, for replay, the reader's statistics.
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use super::WorkResult;
use super::exchange::{self, Job};
use super::feed::{Feed, Placed};
use super::plan::OpenSource;
use super::replay_feeder::{ReplayThread, replay_feeder};
use super::shared::Shared;
use crate::LoadError;
use crate::replay::ReplayStats;
use crate::schedule::Arrivals;
use crate::segment::Segment;

/// Runs the open model until the feed ends, its deadline passes or the run is stopped.
pub(super) async fn open(
    shared: Arc<Shared>,
    source: &OpenSource,
    max_in_flight: usize,
    seed: u64,
    segment: Segment,
) -> WorkResult {
    let (mut feed, replay_thread, deadline) = open_feed(&shared, source, seed, segment);
    let scheduled = dispatch(&shared, &mut feed, deadline, max_in_flight, seed).await;
    let Some(thread) = replay_thread else {
        return (Ok(()), scheduled, None);
    };
    // Dropping the receiver ends a feeder blocked on a full channel.
    drop(feed);
    match join_feeder(thread) {
        Ok(stats) => (Ok(()), scheduled, Some(stats)),
        Err(e) => (Err(e), scheduled, None),
    }
}

/// The feed of `source`, its reader thread when it replays, and its deadline in seconds.
fn open_feed(
    shared: &Shared,
    source: &OpenSource,
    seed: u64,
    segment: Segment,
) -> (Feed, Option<ReplayThread>, Option<f64>) {
    match source {
        OpenSource::Plan { profile, process } => (
            Feed::Plan(
                Arrivals::new(profile.clone(), *process, seed).in_segment(segment),
                seed ^ 0x0a11,
            ),
            None,
            None,
        ),
        OpenSource::ReplayGaps {
            source,
            speed,
            looped,
            duration,
        } => {
            let (rx, h) = replay_feeder(
                source.clone(),
                Some(*speed),
                *looped,
                segment,
                shared.stop.clone(),
            );
            (
                Feed::Channel(rx),
                Some(h),
                duration.map(|d| d.as_secs_f64()),
            )
        }
        // The rate curve sets the length: the recording loops as long as the curve lasts.
        OpenSource::ReplayRate {
            source,
            profile,
            process,
            looped: _,
        } => {
            // The arrivals and the records are filtered by the same index, so the k-th arrival
            // this segment fires carries the unsplit run's k-th record.
            let (rx, h) = replay_feeder(source.clone(), None, true, segment, shared.stop.clone());
            (
                Feed::Paired(
                    Arrivals::new(profile.clone(), *process, seed).in_segment(segment),
                    rx,
                ),
                Some(h),
                None,
            )
        }
    }
}

/// Places every arrival; returns how many the schedule put in each second.
async fn dispatch(
    shared: &Arc<Shared>,
    feed: &mut Feed,
    deadline: Option<f64>,
    max_in_flight: usize,
    seed: u64,
) -> Vec<u64> {
    let mut scheduled: Vec<u64> = Vec::new();
    let targets = shared.endpoints.len();
    let mut seq = 0u64;
    loop {
        if shared.stop_now() {
            break;
        }
        let Some(p) = feed.next(shared).await else {
            break;
        };
        if deadline.is_some_and(|d| p.at >= d) {
            break;
        }
        count_scheduled(&mut scheduled, p.at);
        let at = shared.t0 + Duration::from_secs_f64(p.at);
        if at > Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(at.into()) => {}
                _ = shared.stop.stopped() => break,
            }
        }
        if shared.in_flight.load(Ordering::Relaxed) + targets > max_in_flight.max(targets) {
            shared
                .rec
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drop_arrival(p.at, p.stage, &p.what.name());
            continue;
        }
        start_job(shared, p, seq, seed);
        seq += 1;
    }
    scheduled
}

fn count_scheduled(scheduled: &mut Vec<u64>, at: f64) {
    let sec = at.max(0.0) as usize;
    if scheduled.len() <= sec {
        scheduled.resize(sec + 1, 0);
    }
    scheduled[sec] += 1;
}

/// Records the send lag of arrival `seq` and spawns its job.
fn start_job(shared: &Arc<Shared>, p: Placed, seq: u64, seed: u64) {
    let job = Job {
        seq,
        intended_s: p.at,
        stage: p.stage,
        what: p.what,
    };
    let lag_us = ((shared.now_s() - job.intended_s).max(0.0) * 1e6) as u64;
    shared
        .rec
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .lag(lag_us);
    let targets = shared.endpoints.len();
    shared.in_flight.fetch_add(targets, Ordering::Relaxed);
    let task_seed = seed ^ job.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let shared = shared.clone();
    tokio::spawn(async move {
        if targets == 1 {
            run_single(&shared, &job, task_seed).await;
        } else {
            run_compare(&shared, &job, task_seed).await;
        }
    });
}

/// One target: the request, then the think time holding its slot.
async fn run_single(shared: &Arc<Shared>, job: &Job, task_seed: u64) {
    let mut rng = fastrand::Rng::with_seed(task_seed);
    let prepared = exchange::prepare(shared, job, &mut rng);
    let mut slot = shared.pools[0].take();
    exchange::run_job(shared, 0, job, &prepared, &mut slot, &mut rng).await;
    exchange::think(shared, &mut rng).await;
    exchange::give_back(&shared.pools[0], slot);
    shared.in_flight.fetch_sub(1, Ordering::Relaxed);
}

/// Compare mode: the same request to both targets at the same intended time; which one is
/// polled first alternates, so neither is favoured.
async fn run_compare(shared: &Arc<Shared>, job: &Job, task_seed: u64) {
    let mut rng = fastrand::Rng::with_seed(task_seed);
    let prepared = exchange::prepare(shared, job, &mut rng);
    let (first, second) = if job.seq % 2 == 0 { (0, 1) } else { (1, 0) };
    let run = |t: usize| {
        let prepared = &prepared;
        let mut rng = fastrand::Rng::with_seed(task_seed ^ t as u64);
        async move {
            let mut slot = shared.pools[t].take();
            exchange::run_job(shared, t, job, prepared, &mut slot, &mut rng).await;
            exchange::give_back(&shared.pools[t], slot);
            shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    };
    tokio::join!(run(first), run(second));
}

/// The replay reader's statistics, or its error.
fn join_feeder(thread: ReplayThread) -> Result<ReplayStats, LoadError> {
    match thread.join() {
        Ok(result) => result,
        Err(_) => Err(LoadError::Usage("the replay reader thread panicked".into())),
    }
}
