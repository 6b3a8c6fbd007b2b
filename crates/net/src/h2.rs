//! The one HTTP/2 client, for shadow's HTTP/2 upstreams (`h2c://`), its staging, and
//! `prodlike load --http2`: one multiplexed connection per target, opened on first use and
//! again when it closes. Plain TCP speaks HTTP/2 by prior knowledge (h2c); TLS offers only `h2`
//! by ALPN and refuses a server that does not agree. Requests are hyper's, so trailers travel in
//! both directions (gRPC's status is one).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Version};
use http_body::Body;
use hyper::body::Incoming;
use hyper::client::conn::http2::{self, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

use crate::h1::{EndpointError, Exchanged, H1Error};
use crate::{ClientTlsOptions, Target};

/// Why an HTTP/2 exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum H2Error {
    #[error("could not resolve {target}")]
    Endpoint {
        target: String,
        #[source]
        source: EndpointError,
    },
    #[error("could not connect to {target}")]
    Connect {
        target: String,
        #[source]
        source: H1Error,
    },
    #[error("{target} did not agree to HTTP/2 by ALPN (it may speak only HTTP/1.1)")]
    NoH2 { target: String },
    #[error("the HTTP/2 handshake with {target} failed")]
    Handshake {
        target: String,
        #[source]
        source: hyper::Error,
    },
    #[error("the request's URI could not be built for the target")]
    Uri(#[source] http::Error),
    #[error("the HTTP/2 exchange failed")]
    Exchange(#[source] hyper::Error),
    /// The pre-encoded HTTP/1.1 request (load's templates) does not parse.
    #[error("the encoded request is not an HTTP/1.1 request: {0}")]
    Encoded(String),
}

impl H2Error {
    /// The connection could not be opened: the request never left.
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            H2Error::Endpoint { .. }
                | H2Error::Connect { .. }
                | H2Error::NoH2 { .. }
                | H2Error::Handshake { .. }
        )
    }
}

/// An HTTP/2 client for one target; clones of its connection's sender carry concurrent
/// requests as streams of the one connection.
pub struct H2Client<B> {
    target: Target,
    tls: ClientTlsOptions,
    connect_timeout: Duration,
    current: Mutex<Option<SendRequest<B>>>,
    /// Connections opened so far.
    opened: AtomicU64,
    /// Held while connecting, so that a burst of first requests opens one connection.
    connecting: tokio::sync::Mutex<()>,
}

impl<B> std::fmt::Debug for H2Client<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Client")
            .field("target", &self.target.original)
            .finish()
    }
}

impl<B> H2Client<B>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// A client for `target` (`h2c://` or `http://` by prior knowledge, `https://` by ALPN).
    pub fn new(target: Target, tls: ClientTlsOptions, connect_timeout: Duration) -> Self {
        H2Client {
            target,
            tls,
            connect_timeout,
            current: Mutex::new(None),
            opened: AtomicU64::new(0),
            connecting: tokio::sync::Mutex::new(()),
        }
    }

    /// Connections opened so far (one, unless the server closed one).
    pub fn connections_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Opens the connection now (`prodlike load` connects before its clock starts).
    pub async fn warm_up(&self) -> Result<(), H2Error> {
        self.sender().await.map(drop)
    }

    /// Sends `req` (its path and query are used, on this client's target) and returns the
    /// response once its head has arrived; body and trailers stream afterwards.
    pub async fn send(&self, req: Request<B>) -> Result<Response<Incoming>, H2Error> {
        let (mut parts, body) = req.into_parts();
        parts.uri = self
            .target
            .uri_with(parts.uri.path_and_query())
            .map_err(H2Error::Uri)?;
        parts.version = Version::HTTP_2;
        // HTTP/2 carries the authority in :authority; a Host header would repeat it.
        parts.headers.remove(http::header::HOST);
        let mut sender = self.sender().await?;
        sender.ready().await.map_err(H2Error::Exchange)?;
        sender
            .send_request(Request::from_parts(parts, body))
            .await
            .map_err(H2Error::Exchange)
    }

    fn open_sender(&self) -> Option<SendRequest<B>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|s| !s.is_closed())
            .cloned()
    }

    async fn sender(&self) -> Result<SendRequest<B>, H2Error> {
        if let Some(s) = self.open_sender() {
            return Ok(s);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(s) = self.open_sender() {
            return Ok(s);
        }
        let s = Box::pin(self.connect()).await?;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(s.clone());
        Ok(s)
    }

    async fn connect(&self) -> Result<SendRequest<B>, H2Error> {
        let target = || self.target.original.clone();
        let endpoint =
            crate::h1::Endpoint::resolve_for(&self.target, &self.tls, self.connect_timeout, b"h2")
                .await
                .map_err(|source| H2Error::Endpoint {
                    target: target(),
                    source,
                })?;
        let stream = endpoint
            .connect_stream()
            .await
            .map_err(|source| H2Error::Connect {
                target: target(),
                source,
            })?;
        if self.target.is_https() && stream.alpn() != Some(b"h2") {
            return Err(H2Error::NoH2 { target: target() });
        }
        let (sender, conn) = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .keep_alive_interval(Duration::from_secs(30))
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|source| H2Error::Handshake {
                target: target(),
                source,
            })?;
        self.opened.fetch_add(1, Ordering::Relaxed);
        // The connection runs as a task of its own; it ends when the server closes it or the
        // last sender is dropped, and a closed sender makes the next request reconnect.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }
}

impl H2Client<http_body_util::Full<Bytes>> {
    /// The load generator's exchange: `encoded` is an HTTP/1.1 request as load's templates
    /// write it (head, then a Content-Length body); it goes out as HTTP/2 (connection headers
    /// and Host dropped), and the response is counted and its body dropped as it arrives.
    /// `bytes_in` counts body bytes (HTTP/2 heads are compressed; their size is not the
    /// wire's).
    pub async fn exchange(&self, encoded: &Bytes) -> Result<Exchanged, H2Error> {
        let req = decode_request(encoded)?;
        let resp = self.send(req).await?;
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        let mut bytes_in = 0u64;
        while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
            let frame = frame.map_err(H2Error::Exchange)?;
            if let Some(d) = frame.data_ref() {
                bytes_in += d.len() as u64;
            }
        }
        Ok(Exchanged {
            status,
            bytes_in,
            keep_alive: true,
        })
    }
}

/// An HTTP/1.1 request (head and Content-Length body) as an `http::Request`, without the
/// headers HTTP/2 forbids or carries elsewhere (Host, Connection, Keep-Alive,
/// Transfer-Encoding, Upgrade, Content-Length: the body's frames say it).
fn decode_request(encoded: &Bytes) -> Result<Request<http_body_util::Full<Bytes>>, H2Error> {
    let bad = |m: &str| H2Error::Encoded(m.to_string());
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(encoded) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err(bad("incomplete head")),
        Err(e) => return Err(H2Error::Encoded(e.to_string())),
    };
    let mut req = Request::builder()
        .method(parsed.method.ok_or_else(|| bad("no method"))?)
        .uri(parsed.path.ok_or_else(|| bad("no path"))?);
    for h in parsed.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        if matches!(
            name.as_str(),
            "host"
                | "connection"
                | "keep-alive"
                | "proxy-connection"
                | "transfer-encoding"
                | "upgrade"
                | "content-length"
        ) {
            continue;
        }
        req = req.header(name, h.value);
    }
    req.body(http_body_util::Full::new(encoded.slice(len..)))
        .map_err(|e| H2Error::Encoded(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encoded_requests_become_http2_requests() {
        let enc = Bytes::from_static(
            b"POST /a?b=1 HTTP/1.1\r\nhost: x:1\r\nconnection: close\r\ncontent-length: 2\r\nx-k: v\r\n\r\nhi",
        );
        let r = decode_request(&enc).unwrap();
        assert_eq!(r.method(), http::Method::POST);
        assert_eq!(r.uri(), "/a?b=1");
        assert_eq!(r.headers().len(), 1);
        assert_eq!(r.headers()["x-k"], "v");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_request(&Bytes::from(b));
        }
    }
}
