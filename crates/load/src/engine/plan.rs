//! What a run is asked to do: the [`Plan`] (targets, workload, request mix, client options)
//! and where the open model's arrivals come from. `run.rs` builds it from flags and scenario;
//! the engine reads it. Also the questions the engine asks of a workload: its stages, its
//! length and its rate curve.
use std::time::Duration;

use prodlike_net::Target;

use super::options::ClientOptions;
use crate::mix::Template;
use crate::replay::ReplaySource;
use crate::schedule::ArrivalProcess;
use crate::stages::RateProfile;

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
        source: ReplaySource,
        speed: f64,
        looped: bool,
        /// Stop after this long (needed with `looped`).
        duration: Option<Duration>,
    },
    /// Recorded requests, in order, at the recording's per-second rate curve × scale
    /// (`profile` is that curve).
    ReplayRate {
        source: ReplaySource,
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
    /// The share of the arrivals (planned, or recorded requests in replay) this run fires
    /// (`--segment`); all by default.
    pub segment: crate::segment::Segment,
    /// `--start-at`, in microseconds since the Unix epoch: the instant the plan's clock starts
    /// (segments on several machines share it). `None`: now.
    pub start_at: Option<u64>,
}

impl Workload {
    /// Replayed requests are named by their routes as the recording is read, not by the mix.
    pub(super) fn is_replay(&self) -> bool {
        matches!(
            self,
            Workload::Open {
                source: OpenSource::ReplayGaps { .. } | OpenSource::ReplayRate { .. },
                ..
            }
        )
    }

    /// The rate curve arrivals follow (a plan, or a recording's rate × scale).
    pub(super) fn rate_profile(&self) -> Option<&RateProfile> {
        match self {
            Workload::Open {
                source: OpenSource::Plan { profile, .. } | OpenSource::ReplayRate { profile, .. },
                ..
            } => Some(profile),
            _ => None,
        }
    }

    /// Stages the recorder keeps apart (one without a rate curve).
    pub(super) fn stage_count(&self) -> usize {
        self.rate_profile().map_or(1, |p| p.stages().len())
    }

    /// How long the schedule runs, when that is known in advance (not for a looped rate-curve
    /// replay, nor a gap replay without `--duration`).
    pub(super) fn duration_s(&self) -> Option<f64> {
        match self {
            Workload::Open {
                source: OpenSource::Plan { profile, .. },
                ..
            }
            | Workload::Open {
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
            Workload::Open {
                source: OpenSource::ReplayRate { looped: true, .. },
                ..
            } => None,
        }
    }
}
