//! `--replay nats://HOST:PORT/STREAM`: a capture published to JetStream by `prodlike shadow
//! --capture nats://…`, read through prodlike-capture's reader (a durable pull consumer per
//! pass) and turned into requests exactly as a capture file's records are. The stream is
//! checked when the run is prepared (it exists and holds records), so a wrong name fails
//! before any request is sent.
use prodlike_capture::nats::{ConnectSettings, NatsUrl, ReplaySettings, read_stream, stream_state};

use super::{Recorded, ReplayStats, add_read_stats, replay_exchange};
use crate::LoadError;

/// A JetStream stream to replay.
#[derive(Debug, Clone)]
pub struct NatsSource {
    settings: ReplaySettings,
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
        Ok(NatsSource { settings })
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
        // Sequence numbers of skipped records are the reader's; the request conversion's own
        // skips name the record's id.
        let read = read_stream(&self.settings, |ex| {
            let id = ex.id;
            replay_exchange(ex, &label, id, stats, &mut sink)
        })
        .map_err(|source| LoadError::Nats {
            url: label.clone(),
            source: Box::new(source),
        })?;
        add_read_stats(stats, &label, &read);
        Ok(())
    }
}
