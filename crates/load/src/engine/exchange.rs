//! One logical request: pick or open a connection, send, read, retry by policy, record.
use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use prodlike_net::h1::{ClientStream, Exchanged, H1Conn, H1Error, IdleConns, ReadOptions};

use super::Shared;
use super::failure::RequestError;
use super::recorder::{Completed, NameKey};
use crate::mix::RenderedRequest;
use crate::replay::ReplayRequest;

/// What to send.
#[derive(Clone)]
pub(crate) enum What {
    Template(usize),
    Replay(std::sync::Arc<ReplayRequest>),
}

impl What {
    /// The request name it is counted under.
    pub(crate) fn name(&self) -> NameKey {
        match self {
            What::Template(i) => NameKey::Index(*i),
            What::Replay(r) => NameKey::Text(r.route.clone()),
        }
    }
}

/// A planned request.
#[derive(Clone)]
pub(crate) struct Job {
    pub seq: u64,
    pub intended_s: f64,
    pub stage: usize,
    pub what: What,
}

/// The request rendered once, encoded per target.
pub(crate) struct Prepared {
    name: NameKey,
    template: Option<usize>,
    rendered: Option<RenderedRequest>,
    head: bool,
}

pub(crate) fn prepare(shared: &Shared, job: &Job, rng: &mut fastrand::Rng) -> Prepared {
    match &job.what {
        What::Template(i) => Prepared {
            name: job.what.name(),
            template: Some(*i),
            rendered: shared.mix.render(*i, job.seq, rng),
            head: shared.mix.templates.get(*i).is_some_and(|t| t.is_head()),
        },
        What::Replay(r) => Prepared {
            name: job.what.name(),
            template: None,
            rendered: Some(r.rendered()),
            head: r.method == "HEAD",
        },
    }
}

fn bytes_for(shared: &Shared, p: &Prepared, target: usize, close: bool) -> Bytes {
    match (p.template, &p.rendered) {
        (Some(i), r) => shared.mix.bytes(i, target, r.as_ref(), close),
        (None, Some(r)) => shared.mix.encode_rendered(r, target, close),
        (None, None) => Bytes::new(),
    }
}

fn status_error(status: u16) -> Option<&'static str> {
    match status {
        400..=499 => Some("http_4xx"),
        500..=599 => Some("http_5xx"),
        0..=99 | 600.. => Some("protocol"),
        _ => None,
    }
}

/// One attempt: a connection from `slot` (or a new one), the exchange, and the connection back
/// into `slot` when it can be reused.
async fn attempt(
    shared: &Shared,
    target: usize,
    slot: &mut Option<H1Conn<ClientStream>>,
    bytes: &Bytes,
    read: ReadOptions,
    close: bool,
) -> Result<Exchanged, RequestError> {
    if let Some(h2) = shared.h2.get(target) {
        return match tokio::time::timeout(shared.client.timeout, h2.exchange(bytes)).await {
            Ok(r) => r.map_err(RequestError::from),
            Err(_) => Err(RequestError::Timeout),
        };
    }
    let endpoint = &shared.endpoints[target];
    let fut = async {
        let mut fresh_tries = 0;
        loop {
            let mut conn = match slot.take() {
                Some(c) => c,
                None => {
                    let c = endpoint.connect().await?;
                    shared.connections_opened.fetch_add(1, Ordering::Relaxed);
                    c
                }
            };
            match conn.exchange(bytes, read).await {
                Ok(resp) => {
                    if resp.keep_alive && !close {
                        *slot = Some(conn);
                    }
                    return Ok(resp);
                }
                // The server closed an idle keep-alive connection just before we used it: the
                // request never reached it, so try once more on a fresh connection.
                Err(H1Error::Stale) if fresh_tries == 0 => {
                    fresh_tries += 1;
                    shared.stale_reconnects.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    match tokio::time::timeout(shared.client.timeout, fut).await {
        Ok(r) => r,
        Err(_) => {
            *slot = None;
            Err(RequestError::Timeout)
        }
    }
}

/// Runs `job` against `target` with retries, records it, and returns it. `slot` holds the
/// connection between requests (the caller's own, or one borrowed from the pool).
pub(crate) async fn run_job(
    shared: &Shared,
    target: usize,
    job: &Job,
    prepared: &Prepared,
    slot: &mut Option<H1Conn<ClientStream>>,
    rng: &mut fastrand::Rng,
) -> Completed {
    let sent_s = shared.now_s();
    let close = shared.client.churn > 0.0 && rng.f64() < shared.client.churn;
    if close {
        *slot = None;
    }
    let read = ReadOptions {
        head_request: prepared.head,
        bytes_per_second: (shared.client.slow_readers > 0.0
            && rng.f64() < shared.client.slow_readers)
            .then_some(shared.client.slow_read_bytes_per_second),
    };
    let bytes = bytes_for(shared, prepared, target, close);
    let policy = &shared.client.retry;
    let mut attempts = 0u32;
    let mut retry_at = Vec::new();
    let mut bytes_out = 0u64;
    let result = loop {
        attempts += 1;
        if attempts > 1 {
            retry_at.push(shared.now_s());
        }
        bytes_out += bytes.len() as u64;
        let r = attempt(shared, target, slot, &bytes, read, close).await;
        let again = attempts < policy.max_attempts.max(1)
            && !shared.stop_now()
            && match &r {
                Ok(resp) => policy.retries_status(resp.status),
                Err(e) => policy.retries_error(e),
            };
        if !again {
            break r;
        }
        let d = policy.delay(attempts, rng);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    };
    let done_s = shared.now_s();
    let latency_us = ((done_s - job.intended_s).max(0.0) * 1e6) as u64;
    let (status, error, bytes_in) = match &result {
        Ok(resp) => (Some(resp.status), status_error(resp.status), resp.bytes_in),
        Err(e) => (None, Some(e.kind().as_str()), 0),
    };
    let c = Completed {
        target,
        name: prepared.name.clone(),
        stage: job.stage,
        intended_s: job.intended_s,
        sent_s,
        done_s,
        latency_us,
        status,
        error,
        attempts,
        retry_at,
        bytes_in,
        bytes_out,
    };
    let mut rec = shared.rec.lock().unwrap_or_else(PoisonError::into_inner);
    rec.record(&c);
    if let Err(e) = &result {
        rec.error_example(target, e.kind().as_str(), &e.to_string());
    }
    c
}

/// Gives a job's connection back to the pool it was borrowed from (open model).
pub(crate) fn give_back(pool: &IdleConns<ClientStream>, conn: Option<H1Conn<ClientStream>>) {
    if let Some(c) = conn {
        pool.put(c);
    }
}

pub(crate) async fn think(shared: &Shared, rng: &mut fastrand::Rng) {
    let d = shared.client.think_time.draw(rng);
    if d > Duration::ZERO {
        tokio::time::sleep(d).await;
    }
}
