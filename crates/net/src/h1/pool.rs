//! Connections to one upstream, and sending a request over one of them.
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response};
use http_body::Body;
use tokio::io::ReadBuf;
use tokio::net::TcpStream;

use super::H1Error;
use super::body::{Framing, H1Body};
use super::conn::H1Conn;
use super::idle::IdleConns;
use super::request::{self, BodyFraming};
use super::response_head::{parse_head, parse_upgrade_head};

/// A connection handed over after `101 Switching Protocols`: its socket, and the bytes of the
/// new protocol that arrived with the head.
#[derive(Debug)]
pub struct Upgraded {
    pub io: TcpStream,
    pub leftover: Bytes,
}

/// What an upstream did with a request to upgrade.
#[derive(Debug)]
pub enum UpgradeOutcome {
    /// It switched protocols: the 101 head, and the connection to splice.
    Switched(http::response::Parts, Upgraded),
    /// It answered like any request (a refusal, a redirect): pass the response on.
    Answered(Response<H1Body>),
}

#[derive(Debug, Clone)]
pub struct H1PoolConfig {
    pub connect_timeout: Duration,
    /// Idle connections older than this are closed rather than reused; keep it below the
    /// upstream's own keep-alive timeout.
    pub idle_timeout: Duration,
    pub max_idle: usize,
}

/// A pool of keep-alive connections to one `host:port`.
pub struct H1Pool {
    addr: String,
    host: HeaderValue,
    config: H1PoolConfig,
    idle: IdleConns,
    resolved: Mutex<Option<SocketAddr>>,
}

impl std::fmt::Debug for H1Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H1Pool").field("addr", &self.addr).finish()
    }
}

impl H1Pool {
    /// `host_port` is what to connect to; `host` the Host header used when a request has none.
    pub fn new(host_port: &str, host: HeaderValue, config: H1PoolConfig) -> Arc<Self> {
        Arc::new(H1Pool {
            addr: host_port.to_string(),
            host,
            idle: IdleConns::new(config.max_idle),
            config,
            resolved: Mutex::new(None),
        })
    }

    /// Idle connections held now.
    pub fn idle_count(&self) -> usize {
        self.idle.len()
    }

    pub(crate) fn put(&self, conn: H1Conn) {
        self.idle.put(conn);
    }

    /// The most recently used idle connection that is still open, if any.
    fn checkout(&self) -> Option<H1Conn> {
        let timeout = self.config.idle_timeout;
        self.idle
            .take_if(|conn, since| since.elapsed() < timeout && still_open(&conn.io))
    }

    async fn connect(&self) -> Result<H1Conn, H1Error> {
        let cached = *self.resolved.lock().unwrap_or_else(PoisonError::into_inner);
        let attempt = async {
            let stream = match cached {
                Some(a) => TcpStream::connect(a).await,
                None => TcpStream::connect(self.addr.as_str()).await,
            }
            .map_err(H1Error::Connect)?;
            Ok::<_, H1Error>(stream)
        };
        let stream = tokio::time::timeout(self.config.connect_timeout, attempt)
            .await
            .map_err(|_| H1Error::ConnectTimeout)??;
        let _ = stream.set_nodelay(true);
        if cached.is_none()
            && let Ok(peer) = stream.peer_addr()
        {
            *self.resolved.lock().unwrap_or_else(PoisonError::into_inner) = Some(peer);
        }
        Ok(H1Conn::new(stream))
    }

    /// Sends `req` (origin-form: only its path and query are used) and returns the response
    /// once its head has arrived; the body streams afterwards. A bodyless request that meets a
    /// pooled connection closed by the upstream is sent again on a new connection.
    pub async fn send<B>(self: &Arc<Self>, req: Request<B>) -> Result<Response<H1Body>, H1Error>
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = req.into_parts();
        let framing = request::framing_of(&parts.method, &body);
        let mut head = Vec::with_capacity(512);
        request::write_head(&parts, &self.host, framing, &mut head);
        let retryable = matches!(framing, BodyFraming::None | BodyFraming::Length(0));
        // Connecting is rare on a warm pool; boxed, its state does not enlarge (and get copied
        // with) every request's future.
        let mut conn = match self.checkout() {
            Some(c) => c,
            None => Box::pin(self.connect()).await?,
        };
        match self
            .exchange(&mut conn, &parts.method, &mut head, framing, body)
            .await
        {
            Ok(r) => Ok(self.respond(conn, r)),
            Err(H1Error::Stale) if retryable => {
                let mut fresh = Box::pin(self.connect()).await?;
                let empty = http_body_util::Empty::<Bytes>::new();
                let r = self
                    .exchange(&mut fresh, &parts.method, &mut head, framing, empty)
                    .await?;
                Ok(self.respond(fresh, r))
            }
            Err(e) => Err(e),
        }
    }

    /// Sends a bodyless request that asks to switch protocols (`Connection: upgrade`, which
    /// the caller sets) on a connection of its own, never pooled.
    pub async fn upgrade(&self, parts: &http::request::Parts) -> Result<UpgradeOutcome, H1Error> {
        let mut head = Vec::with_capacity(512);
        request::write_head(parts, &self.host, BodyFraming::None, &mut head);
        let mut conn = Box::pin(self.connect()).await?;
        request::send(
            &mut conn.io,
            &mut head,
            BodyFraming::None,
            http_body_util::Empty::<Bytes>::new(),
        )
        .await?;
        let (head, framing, _) = conn
            .read_head(None, |buf| parse_upgrade_head(buf, &parts.method))
            .await?;
        if head.status == http::StatusCode::SWITCHING_PROTOCOLS {
            let leftover = conn.buf.split().freeze();
            return Ok(UpgradeOutcome::Switched(
                head,
                Upgraded {
                    io: conn.io,
                    leftover,
                },
            ));
        }
        Ok(UpgradeOutcome::Answered(Response::from_parts(
            head,
            H1Body::new(conn, framing, None),
        )))
    }

    fn respond(
        self: &Arc<Self>,
        conn: H1Conn,
        (head, framing, keep_alive): (http::response::Parts, Framing, bool),
    ) -> Response<H1Body> {
        let pool = keep_alive.then(|| self.clone());
        Response::from_parts(head, H1Body::new(conn, framing, pool))
    }

    async fn exchange<B>(
        &self,
        conn: &mut H1Conn,
        method: &Method,
        head: &mut Vec<u8>,
        framing: BodyFraming,
        body: B,
    ) -> Result<(http::response::Parts, Framing, bool), H1Error>
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let reused = conn.reused;
        match request::send(&mut conn.io, head, framing, body).await {
            Ok(()) => {}
            Err(H1Error::Io(_)) if reused => return Err(H1Error::Stale),
            Err(e) => return Err(e),
        }
        conn.read_head(None, |buf| parse_head(buf, method)).await
    }
}

/// A pooled connection is usable when reading would block: no EOF, no unexpected bytes.
fn still_open(io: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    let mut buf = ReadBuf::new(&mut byte);
    let mut cx = Context::from_waker(Waker::noop());
    matches!(io.poll_peek(&mut cx, &mut buf), Poll::Pending)
}
