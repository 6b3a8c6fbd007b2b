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
    /// A rate plan's arrivals, and the seed of their request picks: each arrival's pick is
    /// drawn from its own index, so a segment picks what the unsplit run would for it.
    Plan(Arrivals, u64),
    Channel(ReplayRx),
    Paired(Arrivals, ReplayRx),
}

/// An odd 64-bit constant (2^64 / φ): neighbouring indices get unrelated pick seeds.
const PICK_STRIDE: u64 = 0x9E37_79B9_7F4A_7C15;

impl Feed {
    /// The next arrival, `None` once the schedule or the recording ends.
    pub async fn next(&mut self, shared: &Shared) -> Option<Placed> {
        match self {
            Feed::Plan(arr, seed) => {
                let a = arr.next()?;
                let mut pick = fastrand::Rng::with_seed(*seed ^ a.seq.wrapping_mul(PICK_STRIDE));
                Some(Placed {
                    at: a.at,
                    stage: a.stage,
                    what: What::Template(shared.mix.pick(&mut pick)),
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
