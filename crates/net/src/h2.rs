//! The one HTTP/2 client, for shadow's HTTP/2 upstreams (`h2c://`), its staging, and
//! `prodlike load --http2`: one multiplexed connection per target, opened on first use and
//! again when it closes. Plain TCP speaks HTTP/2 by prior knowledge (h2c); TLS offers only `h2`
//! by ALPN and refuses a server that does not agree. Requests are hyper's, so trailers travel in
//! both directions (gRPC's status is one).
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Version};
use http_body::Body;
use hyper::body::Incoming;
use hyper::client::conn::http2::{self, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

use crate::h1::{EndpointError, H1Error};
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
            connecting: tokio::sync::Mutex::new(()),
        }
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
        let endpoint = crate::h1::Endpoint::resolve_for(
            &self.target,
            &self.tls,
            self.connect_timeout,
            b"h2",
        )
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
        // The connection runs as a task of its own; it ends when the server closes it or the
        // last sender is dropped, and a closed sender makes the next request reconnect.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }
}
