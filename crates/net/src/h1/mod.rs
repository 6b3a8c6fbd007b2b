//! One HTTP/1.1 client for shadow and load, built for their hot paths.
//!
//! hyper's pooled client runs every connection as a task of its own and hands each request
//! to it through a channel; for a proxy that already runs one task per client connection,
//! that doubles the scheduling and moves large futures around on every request (measured:
//! ~26k of the ~46k instructions a proxied request cost). Here the caller's own task writes
//! the request and parses the response head with httparse (hyper's parser). Framing follows
//! RFC 9112 §6: HEAD, 1xx, 204 and 304 have no body; chunked wins over Content-Length;
//! conflicting lengths are an error; anything else is read until close and never reused.
//!
//! Two ways to use a connection ([`H1Conn`]):
//! - the proxy's ([`H1Pool::send`], plain TCP): an `http::Request` out, the response body
//!   streamed from the socket buffer as zero-copy `Bytes` ([`H1Body`]); the connection goes
//!   back to a small LIFO pool when the body ends cleanly;
//! - the load generator's ([`H1Conn::exchange`], TCP or TLS through an [`Endpoint`]):
//!   pre-encoded request bytes out, the response counted and its body dropped as it arrives,
//!   optionally read slowly. The caller owns the connection (one per worker, or borrowed from
//!   an [`IdleConns`]) and decides about churn, retries and timing.
mod body;
mod chunked;
mod conn;
mod endpoint;
mod idle;
mod pool;
mod request;
mod response_head;
mod stream;

pub use body::H1Body;
pub use chunked::{ChunkError, ChunkedDecoder, Step};
pub use conn::{Exchanged, H1Conn, ReadOptions};
pub use endpoint::{Endpoint, EndpointError};
pub use idle::IdleConns;
pub use pool::{H1Pool, H1PoolConfig, UpgradeOutcome, Upgraded};
pub use stream::ClientStream;

/// Why an exchange with an upstream failed.
#[derive(Debug, thiserror::Error)]
pub enum H1Error {
    #[error("could not connect")]
    Connect(#[source] std::io::Error),
    #[error("could not connect: timed out")]
    ConnectTimeout,
    #[error("TLS handshake failed")]
    Tls(#[source] std::io::Error),
    /// A kept-alive connection turned out to be closed before any response byte arrived; the
    /// request may be sent again on a new connection when its body was not consumed.
    #[error("the upstream closed an idle keep-alive connection")]
    Stale,
    #[error("reading or writing the connection failed")]
    Io(#[source] std::io::Error),
    /// A new connection closed before a whole response head arrived.
    #[error("the upstream closed the connection before a complete response head")]
    Closed,
    /// The connection closed in the middle of a response body.
    #[error("the upstream closed the connection before the end of the response body")]
    BodyCut,
    /// The response head is not HTTP/1.1 as httparse reads it.
    #[error("invalid response head")]
    Head(#[source] httparse::Error),
    /// The response breaks a rule this client checks; the text says which.
    #[error("invalid response: {0}")]
    Protocol(String),
    #[error("invalid chunked response body")]
    Chunked(#[source] ChunkError),
    /// The request body could not be read from its source.
    #[error("reading the request body failed")]
    RequestBody(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The request body carried more bytes than its Content-Length declared.
    #[error("the request body is longer than its declared {declared} bytes")]
    RequestBodyTooLong { declared: u64 },
    /// The request body ended before the bytes its Content-Length declared.
    #[error("the request body ended after {sent} of its declared {declared} bytes")]
    RequestBodyTooShort { sent: u64, declared: u64 },
}

impl H1Error {
    pub fn is_connect(&self) -> bool {
        matches!(self, H1Error::Connect(_) | H1Error::ConnectTimeout)
    }
}
