//! Reads a recording on a thread of its own and streams its requests to the dispatcher through
//! a bounded channel (a full channel holds the reader back), each with its send offset on the
//! run's clock: the recorded gaps divided by `speed`, entries of one whole-second timestamp
//! spread evenly over that second; or no offset when a rate curve sets the times. Looping
//! starts the next pass one mean gap after the last request. Output: the channel, and the
//! thread's replay statistics when it ends.
use std::sync::Arc;

use tokio::sync::mpsc::{Receiver, Sender};

use super::stop::StopHandle;
use crate::LoadError;
use crate::replay::{self, Recorded, ReplayRequest, ReplaySource, ReplayStats};
use crate::segment::Segment;

/// Recorded requests with their send offsets in seconds.
pub(super) type ReplayRx = Receiver<(f64, Arc<ReplayRequest>)>;
pub(super) type ReplayThread = std::thread::JoinHandle<Result<ReplayStats, LoadError>>;
type ReplayTx = Sender<(f64, Arc<ReplayRequest>)>;

/// Requests read ahead of the dispatcher at most.
const READ_AHEAD: usize = 8192;

/// Streams recorded requests from a thread, with their send offsets (gaps mode: `speed`) or
/// none.
pub(super) fn replay_feeder(
    source: ReplaySource,
    speed: Option<f64>,
    looped: bool,
    segment: Segment,
    stop: StopHandle,
) -> (ReplayRx, ReplayThread) {
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
    let handle = std::thread::spawn(move || feed(&source, speed, looped, segment, &stop, &tx));
    (rx, handle)
}

/// Passes over the recording until it ends (or, looped, until the receiver or `stop` ends it).
fn feed(
    source: &ReplaySource,
    speed: Option<f64>,
    looped: bool,
    segment: Segment,
    stop: &StopHandle,
    tx: &ReplayTx,
) -> Result<ReplayStats, LoadError> {
    let mut stats = ReplayStats::default();
    let mut offset = 0.0f64;
    // Index of the next request in the unsplit replay, over every pass.
    let mut seq = 0u64;
    loop {
        let mut pass = Pass::new(tx, speed, offset, segment, &mut seq);
        let sent_before = stats.requests;
        // False once the receiver is gone or the run stopped: nothing more is read.
        let mut open = true;
        replay::stream(source, &mut stats, |rec| {
            let go_on = !stop.is_stopped() && pass.offer(rec);
            if !go_on {
                open = false;
            }
            go_on
        })?;
        if open {
            open = pass.flush(pass.t0.unwrap_or(0));
        }
        if !looped || !open || stats.requests == sent_before {
            return Ok(stats);
        }
        stats.loops += 1;
        let span = pass.last_at - offset;
        let n = (stats.requests - sent_before).max(1) as f64;
        offset = pass.last_at + (span / n).max(1e-4);
    }
}

/// One pass over the recording, placing its requests from `offset` on.
struct Pass<'a> {
    tx: &'a ReplayTx,
    speed: Option<f64>,
    offset: f64,
    /// The offset of the last request sent.
    last_at: f64,
    /// The first recorded timestamp (µs): the pass's zero.
    t0: Option<u64>,
    /// Requests of the current whole second, waiting to be spread over it.
    pending: Vec<(u64, ReplayRequest)>,
    /// Requests are placed as the unsplit replay places them, and only this segment's sent.
    segment: Segment,
    seq: &'a mut u64,
}

impl<'a> Pass<'a> {
    fn new(
        tx: &'a ReplayTx,
        speed: Option<f64>,
        offset: f64,
        segment: Segment,
        seq: &'a mut u64,
    ) -> Self {
        Pass {
            tx,
            speed,
            offset,
            last_at: 0.0,
            t0: None,
            pending: Vec::new(),
            segment,
            seq,
        }
    }

    /// Places one recorded request; false when the receiver is gone.
    fn offer(&mut self, rec: Recorded) -> bool {
        let base = *self.t0.get_or_insert(rec.ts_us);
        if self.speed.is_none() {
            return self.send(0.0, rec.request);
        }
        let ts = rec.ts_us.max(base);
        if rec.whole_seconds {
            if self.pending.first().is_some_and(|(p, _)| *p != ts) && !self.flush(base) {
                return false;
            }
            self.pending.push((ts, rec.request));
            return true;
        }
        if !self.flush(base) {
            return false;
        }
        let at = self.at((ts - base) as f64 / 1e6);
        self.last_at = at;
        self.send(at, rec.request)
    }

    /// Sends the waiting requests of one whole second, spread evenly over it.
    fn flush(&mut self, base: u64) -> bool {
        let n = self.pending.len().max(1) as f64;
        for (i, (ts, r)) in std::mem::take(&mut self.pending).into_iter().enumerate() {
            let rel = ts.saturating_sub(base) as f64 / 1e6 + i as f64 / n;
            let at = self.at(rel);
            self.last_at = at;
            if !self.send(at, r) {
                return false;
            }
        }
        true
    }

    /// The run-clock offset of a request `rel_s` recorded seconds into the pass.
    fn at(&self, rel_s: f64) -> f64 {
        self.offset + rel_s / self.speed.unwrap_or(1.0)
    }

    /// Sends request number `seq` of the unsplit replay if it is this segment's.
    fn send(&mut self, at: f64, r: ReplayRequest) -> bool {
        let seq = *self.seq;
        *self.seq += 1;
        if !self.segment.contains(seq) {
            return true;
        }
        self.tx.blocking_send((at, Arc::new(r))).is_ok()
    }
}
