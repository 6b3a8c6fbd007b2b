//! Runs a plan. Input: a [`Plan`] (`plan.rs`); output: a [`RunOutput`] for `result.rs` to
//! summarise. The steps of [`execute`], in order:
//!
//! 1. resolve and check every target before the clock starts (`targets.rs`);
//! 2. the state the run shares: pools, request mix, recorder, clock (`shared.rs`);
//! 3. held idle connections (`held.rs`);
//! 4. the workload, with live progress (`live.rs`) four times a second: the open model
//!    (`open.rs`: arrivals from `feed.rs`, recordings read by `replay_feeder.rs`, a cap on
//!    in-flight requests, drops counted; compare mode sends every arrival to both targets) or
//!    the closed model (`closed.rs`: fixed connections flat out); each request is one
//!    `exchange.rs` job (retries, churn, slow reads; `options.rs`, `failure.rs`) recorded by
//!    `recorder.rs`;
//! 5. in-flight requests get the graceful stop to finish, then the counts are collected.
mod closed;
mod exchange;
mod failure;
mod feed;
mod held;
mod live;
mod open;
pub mod options;
mod plan;
pub mod recorder;
mod replay_feeder;
mod shared;
mod stop;
mod targets;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::LoadError;
use crate::replay::ReplayStats;
pub use failure::{ErrorKind, RequestError};
pub use held::HeldStats;
pub use live::Live;
pub use options::{Backoff, ClientOptions, HeldConnections, RetryOn, RetryPolicy, ThinkTime};
pub use plan::{OpenSource, Plan, Workload};
pub use recorder::{Acc, Completed, NameKey, Recorder, Second, TargetAcc};
pub(crate) use shared::Shared;
pub use stop::StopHandle;
pub use targets::resolve_targets;

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

/// The workload's outcome, its per-second schedule and, for replay, the reader's statistics.
type WorkResult = (Result<(), LoadError>, Vec<u64>, Option<ReplayStats>);

/// Runs `plan` to the end (or until `stop`), calling `progress` about four times a second.
pub async fn execute(
    plan: &Plan,
    stop: StopHandle,
    mut progress: impl FnMut(&Live) + Send,
) -> Result<RunOutput, LoadError> {
    let endpoints = resolve_targets(&plan.targets, &plan.client).await?;
    let h2 = targets::http2_clients(&plan.targets, &plan.client).await?;
    let shared = Arc::new(Shared::new(plan, (endpoints, h2), stop.clone())?);
    let total_s = plan.workload.duration_s();
    let held = held::start(&shared, plan.client.held.clone());
    let live_profile = plan.workload.rate_profile();
    let mut report = |shared: &Shared| progress(&Live::now(shared, total_s, live_profile));
    let (run_result, scheduled, replay_stats) = with_progress(plan, &shared, &mut report).await;
    run_result?;
    let interrupted = drain(&shared, plan.graceful_stop, &mut report).await;
    let held_stats = held.finish().await;
    let elapsed_s = shared.now_s();
    report(&shared);
    Ok(RunOutput {
        recorder: shared.take_recorder(),
        scheduled,
        replay: replay_stats,
        held: held_stats,
        interrupted,
        elapsed_s,
        connections_opened: shared.connections_opened.load(Ordering::Relaxed)
            + shared
                .h2
                .iter()
                .map(|c| c.connections_opened())
                .sum::<u64>(),
        stale_reconnects: shared.stale_reconnects.load(Ordering::Relaxed),
        stopped_early: stop.is_stopped(),
    })
}

/// Runs the workload, reporting progress every 250 ms from this task (so `progress` need not
/// be shared).
async fn with_progress(
    plan: &Plan,
    shared: &Arc<Shared>,
    report: &mut impl FnMut(&Shared),
) -> WorkResult {
    let work = run_workload(plan, shared.clone());
    tokio::pin!(work);
    let mut iv = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            r = &mut work => break r,
            _ = iv.tick() => report(shared),
        }
    }
}

/// Gives in-flight requests the graceful stop to finish; returns how many did not.
async fn drain(shared: &Shared, graceful_stop: Duration, report: &mut impl FnMut(&Shared)) -> u64 {
    let deadline = Instant::now() + graceful_stop;
    while shared.in_flight.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
        report(shared);
    }
    shared.in_flight.load(Ordering::Relaxed) as u64
}

async fn run_workload(plan: &Plan, shared: Arc<Shared>) -> WorkResult {
    match &plan.workload {
        Workload::Closed {
            connections,
            duration,
        } => {
            closed::closed(shared, *connections, *duration, plan.seed).await;
            (Ok(()), Vec::new(), None)
        }
        Workload::Open {
            source,
            max_in_flight,
        } => open::open(shared, source, *max_in_flight, plan.seed, plan.segment).await,
    }
}
