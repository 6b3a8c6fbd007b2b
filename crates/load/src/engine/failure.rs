//! Why a request got no usable response, in the words reports and retry policies use.
use prodlike_net::h1::H1Error;
use prodlike_net::h2::H2Error;

/// The error kinds of reports (`errors` in the result) and of `retry.on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The TCP connection could not be made (refused, unreachable, timed out).
    Connect,
    /// The TLS handshake failed.
    Tls,
    /// No complete response within the request timeout.
    Timeout,
    /// The connection broke: reset, or closed before the response ended.
    Io,
    /// The response was not valid HTTP/1.1 (or HTTP/2).
    Protocol,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Io => "io",
            ErrorKind::Protocol => "protocol",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("no complete response within the request timeout")]
    Timeout,
    #[error(transparent)]
    Exchange(#[from] H1Error),
    #[error(transparent)]
    Http2(#[from] H2Error),
}

impl RequestError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            RequestError::Timeout => ErrorKind::Timeout,
            RequestError::Exchange(e) => match e {
                H1Error::Connect(_) | H1Error::ConnectTimeout => ErrorKind::Connect,
                H1Error::Tls(_) => ErrorKind::Tls,
                H1Error::Stale
                | H1Error::Io(_)
                | H1Error::Closed
                | H1Error::BodyCut
                | H1Error::RequestBody(_)
                | H1Error::RequestBodyTooLong { .. }
                | H1Error::RequestBodyTooShort { .. } => ErrorKind::Io,
                H1Error::Head(_) | H1Error::Protocol(_) | H1Error::Chunked(_) => {
                    ErrorKind::Protocol
                }
            },
            RequestError::Http2(e) => match e {
                H2Error::Connect {
                    source: H1Error::Tls(_),
                    ..
                } => ErrorKind::Tls,
                H2Error::Endpoint { .. } | H2Error::Connect { .. } => ErrorKind::Connect,
                H2Error::NoH2 { .. } | H2Error::Handshake { .. } => ErrorKind::Tls,
                H2Error::Exchange(_) => ErrorKind::Io,
                H2Error::Uri(_) | H2Error::Encoded(_) => ErrorKind::Protocol,
            },
        }
    }
}
