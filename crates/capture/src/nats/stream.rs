//! The JetStream stream a capture is published to: created when missing, with limits that bound
//! its disk (`max_bytes`, `max_age`, oldest records discarded first, one message no larger than
//! the server accepts). An existing stream is used as it is, after checking that it stores the
//! subject: prodlike does not change a stream somebody else configured.
use std::time::Duration;

use async_nats::jetstream::{self, stream};

use super::NatsError;
use super::url::subject_matches;

/// The stream's name, the subject it must store, and the limits of a stream created here.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    pub name: String,
    pub subject: String,
    /// Bytes kept at most; the oldest messages go first beyond it.
    pub max_bytes: u64,
    /// Messages older than this are removed.
    pub max_age: Duration,
}

/// Creates the stream when missing; checks that an existing one stores the subject. Returns
/// whether it was created.
pub async fn ensure(js: &jetstream::Context, s: &StreamSettings) -> Result<bool, NatsError> {
    match js.get_stream(&s.name).await {
        Ok(mut existing) => {
            let info = existing.info().await.map_err(|e| NatsError::Stream {
                stream: s.name.clone(),
                problem: e.to_string(),
            })?;
            let subjects = &info.config.subjects;
            if !subjects.iter().any(|f| subject_matches(f, &s.subject)) {
                return Err(NatsError::Stream {
                    stream: s.name.clone(),
                    problem: format!(
                        "it exists but stores {subjects:?}, not `{}`; name another stream in capture.nats.stream, or add the subject to it",
                        s.subject
                    ),
                });
            }
            Ok(false)
        }
        Err(e) if not_found(&e) => {
            create(js, s).await?;
            Ok(true)
        }
        Err(e) => Err(NatsError::Stream {
            stream: s.name.clone(),
            problem: e.to_string(),
        }),
    }
}

/// The server said there is no such stream (anything else is an error to report).
fn not_found(e: &jetstream::context::GetStreamError) -> bool {
    matches!(
        e.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(j)
            if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

async fn create(js: &jetstream::Context, s: &StreamSettings) -> Result<(), NatsError> {
    let config = stream::Config {
        name: s.name.clone(),
        subjects: vec![s.subject.clone()],
        max_bytes: i64::try_from(s.max_bytes).unwrap_or(i64::MAX),
        max_age: s.max_age,
        discard: stream::DiscardPolicy::Old,
        storage: stream::StorageType::File,
        description: Some("prodlike shadow capture (docs/capture-format.md)".into()),
        ..Default::default()
    };
    js.create_stream(config)
        .await
        .map_err(|e| NatsError::Stream {
            stream: s.name.clone(),
            problem: format!("could not create it: {e}"),
        })?;
    Ok(())
}
