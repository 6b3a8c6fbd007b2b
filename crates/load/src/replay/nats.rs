//! `--replay nats://HOST:PORT/STREAM`: a capture published to JetStream by `prodlike shadow
//! --capture nats://…`, read through prodlike-capture's reader (a durable pull consumer per
//! pass) and turned into requests exactly as a capture file's records are. The stream is
//! checked when the run is prepared (it exists and holds records), so a wrong name fails
//! before any request is sent.
//!
//! The first pass reads the stream; when its requests take at most [`CACHE_BYTES`], later
//! passes (`--loop`, and the run after `--scale`'s rate-curve pass) replay them from memory
//! instead of reading the stream again, so a short recording looped fast does not make a
//! consumer and a round trip per pass. A larger recording is read again each pass, in
//! constant memory, like a file.
use std::sync::{Arc, Mutex, PoisonError};

use prodlike_capture::nats::{ConnectSettings, NatsUrl, ReplaySettings, read_stream, stream_state};
use prodlike_capture::{Exchange, ReadStats};

use super::{Recorded, ReplayStats, add_read_stats, replay_exchange};
use crate::LoadError;

/// Requests kept in memory for later passes at most (their targets, headers and bodies).
pub const CACHE_BYTES: usize = 64 << 20;

/// A JetStream stream to replay.
#[derive(Debug, Clone)]
pub struct NatsSource {
    settings: ReplaySettings,
    /// The first whole pass, when it fitted in [`CACHE_BYTES`]; shared by clones.
    cache: Arc<Mutex<Option<Arc<Pass>>>>,
}

/// One whole pass over the stream: its records without their responses, and what the reader
/// counted.
#[derive(Debug)]
struct Pass {
    exchanges: Vec<Exchange>,
    read: ReadStats,
}

/// A record as replay needs it: the request, its route and time (no responses).
fn request_only(ex: &Exchange) -> (Exchange, usize) {
    let size = ex.request.target.len()
        + ex.route.len()
        + ex.request
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
        + ex.request
            .body
            .as_ref()
            .map(|b| match b {
                prodlike_capture::Body::Text(t) => t.len(),
                prodlike_capture::Body::Base64(t) => t.len(),
            })
            .unwrap_or(0)
        + 128;
    let light = Exchange {
        production: None,
        staging: None,
        production_error: None,
        staging_error: None,
        ..ex.clone()
    };
    (light, size)
}

impl NatsSource {
    /// Parses `nats://HOST:PORT/STREAM` and checks that the stream exists and holds records.
    pub(super) fn open(url: &str) -> Result<NatsSource, LoadError> {
        let invalid = |reason: String| LoadError::Replay {
            path: url.into(),
            reason,
        };
        let parsed = NatsUrl::parse(url).map_err(|e| invalid(e.problem))?;
        let stream = parsed
            .stream()
            .map_err(|e| invalid(format!("{}; write nats://HOST:PORT/STREAM", e.problem)))?
            .to_string();
        let settings = ReplaySettings {
            connect: ConnectSettings {
                server: parsed.server.clone(),
                credentials: None,
                name: "prodlike load replay".into(),
            },
            stream,
            label: parsed.to_string(),
        };
        let state = stream_state(&settings).map_err(|source| LoadError::Nats {
            url: settings.label.clone(),
            source: Box::new(source),
        })?;
        if state.messages == 0 {
            return Err(invalid("the stream holds no records".into()));
        }
        Ok(NatsSource {
            settings,
            cache: Arc::default(),
        })
    }

    /// Streams the stream's records as requests (one pass, from its first record to the last
    /// one there when the pass starts).
    pub(super) fn stream(
        &self,
        stats: &mut ReplayStats,
        mut sink: impl FnMut(Recorded) -> bool,
    ) -> Result<(), LoadError> {
        let label = self.settings.label.clone();
        if !stats.files.contains(&label) {
            stats.files.push(label.clone());
        }
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(pass) = cached {
            for ex in &pass.exchanges {
                if !replay_exchange(ex.clone(), &label, ex.id, stats, &mut sink) {
                    return Ok(());
                }
            }
            add_read_stats(stats, &label, &pass.read);
            return Ok(());
        }
        // Sequence numbers of skipped records are the reader's; the request conversion's own
        // skips name the record's id.
        let mut kept = Some(Vec::new());
        let mut kept_bytes = 0usize;
        let mut whole = true;
        let read = read_stream(&self.settings, |ex| {
            if let Some(k) = kept.as_mut() {
                let (light, size) = request_only(&ex);
                kept_bytes += size;
                if kept_bytes > CACHE_BYTES {
                    kept = None;
                } else {
                    k.push(light);
                }
            }
            let id = ex.id;
            whole = replay_exchange(ex, &label, id, stats, &mut sink);
            whole
        })
        .map_err(|source| LoadError::Nats {
            url: label.clone(),
            source: Box::new(source),
        })?;
        add_read_stats(stats, &label, &read);
        if whole && let Some(exchanges) = kept {
            *self.cache.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(Arc::new(Pass { exchanges, read }));
        }
        Ok(())
    }
}
