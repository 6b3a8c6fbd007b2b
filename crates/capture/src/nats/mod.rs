//! Captures in NATS JetStream: the same records as a file, one message each. `client.rs` is the
//! one connection setup (shadow's sink and load's reader both use it); `url.rs` parses
//! `nats://HOST:PORT/NAME`; `headers.rs` carries the capture's metadata on every message;
//! `stream.rs` creates the stream with bounded limits; `sink.rs` publishes without ever making
//! the caller wait; `replay.rs` reads a stream back through a durable pull consumer.
mod client;
mod headers;
mod replay;
mod sink;
mod stream;
mod url;

pub use client::ConnectSettings;
pub use headers::{
    DETECT_HEADER, FORMAT_HEADER, KEY_FINGERPRINT_HEADER, MASKED_HEADER, RECORD_HEADER,
    RULES_DIGEST_HEADER, VERSION_HEADER,
};
pub use replay::{ReplaySettings, StreamState, read_stream, stream_state};
pub use sink::{JetStreamSettings, JetStreamSink};
pub use stream::StreamSettings;
pub use url::{
    NatsUrl, SCHEME, UrlError, check_stream_name, check_subject, default_stream, is_nats,
};

/// A cause from the NATS client, kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong talking to NATS. Messages say what was being done; causes are sources.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("could not use the NATS credentials file {path}")]
    Credentials {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("could not connect to NATS at {server}")]
    Connect {
        server: String,
        source: async_nats::ConnectError,
    },
    #[error("{doing}")]
    Api { doing: String, source: BoxError },
    #[error("stream {stream}: {problem}")]
    Stream { stream: String, problem: String },
    #[error("could not start the NATS client's thread")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Read(#[from] crate::ReadError),
}

impl NatsError {
    fn api(doing: String, source: impl std::error::Error + Send + Sync + 'static) -> NatsError {
        NatsError::Api {
            doing,
            source: Box::new(source),
        }
    }
}
