//! The open model's arrivals, one at a time, whatever their source: a rate plan's schedule
//! (each arrival picks a request from the mix), a recording at its own gaps (times come with
//! the requests), or a recording at a rate curve (the plan's times, the recording's requests).

use super::exchange::What;
use super::replay_feeder::ReplayRx;
use super::shared::Shared;
use crate::schedule::Arrivals;

/// One arrival the dispatcher must place: its time, stage and (for replay) its request.
pub(super) struct Placed {
    pub at: f64,
    pub stage: usize,
    pub what: What,
}

pub(super) enum Feed {
    Plan(Arrivals),
    Channel(ReplayRx),
    Paired(Arrivals, ReplayRx),
}

impl Feed {
    /// The next arrival, `None` once the schedule or the recording ends.
    pub async fn next(&mut self, shared: &Shared, rng: &mut fastrand::Rng) -> Option<Placed> {
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
