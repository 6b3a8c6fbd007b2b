//! Connections to one upstream, and sending a request over one of them.
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version, header,
};
use http_body::Body;
use tokio::io::{AsyncReadExt, ReadBuf};
use tokio::net::TcpStream;

use super::H1Error;
use super::body::{Framing, H1Body};
use super::chunked::ChunkedDecoder;
use super::request::{self, BodyFraming};

/// Largest response head we read.
const MAX_HEAD: usize = 64 * 1024;
/// Headers a response may carry.
const MAX_HEADERS: usize = 128;

#[derive(Debug, Clone)]
pub struct H1PoolConfig {
    pub connect_timeout: Duration,
    /// Idle connections older than this are closed rather than reused; keep it below the
    /// upstream's own keep-alive timeout.
    pub idle_timeout: Duration,
    pub max_idle: usize,
}

pub(crate) struct Conn {
    pub(crate) io: TcpStream,
    pub(crate) buf: BytesMut,
    reused: bool,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// A pool of keep-alive connections to one `host:port`.
pub struct H1Pool {
    addr: String,
    host: HeaderValue,
    config: H1PoolConfig,
    idle: Mutex<Vec<Idle>>,
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
            config,
            idle: Mutex::new(Vec::new()),
            resolved: Mutex::new(None),
        })
    }

    /// Idle connections held now.
    pub fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(crate) fn put(&self, mut conn: Conn) {
        conn.reused = true;
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.config.max_idle {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    /// The most recently used idle connection that is still open, if any.
    fn checkout(&self) -> Option<Conn> {
        loop {
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop()?;
            if idle.since.elapsed() < self.config.idle_timeout && still_open(&idle.conn.io) {
                return Some(idle.conn);
            }
        }
    }

    async fn connect(&self) -> Result<Conn, H1Error> {
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
        Ok(Conn {
            io: stream,
            buf: BytesMut::with_capacity(16 * 1024),
            reused: false,
        })
    }

    /// Sends `req` (origin-form: only its path and query are used) and returns the response
    /// once its head has arrived; the body streams afterwards. A bodyless request that meets a
    /// pooled connection closed by the upstream is sent again on a new connection.
    pub async fn send<B>(self: &Arc<Self>, req: Request<B>) -> Result<Response<H1Body>, H1Error>
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: std::fmt::Display,
    {
        let (parts, body) = req.into_parts();
        let framing = request::framing_of(&parts.method, &body);
        let mut head = Vec::with_capacity(512);
        request::write_head(&parts, &self.host, framing, &mut head);
        let retryable = matches!(framing, BodyFraming::None | BodyFraming::Length(0));
        let mut conn = match self.checkout() {
            Some(c) => c,
            None => self.connect().await?,
        };
        match self
            .exchange(&mut conn, &parts.method, &mut head, framing, body)
            .await
        {
            Ok(r) => Ok(self.respond(conn, r)),
            Err(H1Error::Stale) if retryable => {
                let mut fresh = self.connect().await?;
                let empty = http_body_util::Empty::<Bytes>::new();
                let r = self
                    .exchange(&mut fresh, &parts.method, &mut head, framing, empty)
                    .await?;
                Ok(self.respond(fresh, r))
            }
            Err(e) => Err(e),
        }
    }

    fn respond(
        self: &Arc<Self>,
        conn: Conn,
        (head, framing, keep_alive): (http::response::Parts, Framing, bool),
    ) -> Response<H1Body> {
        let pool = keep_alive.then(|| self.clone());
        Response::from_parts(head, H1Body::new(conn, framing, pool))
    }

    async fn exchange<B>(
        &self,
        conn: &mut Conn,
        method: &Method,
        head: &mut Vec<u8>,
        framing: BodyFraming,
        body: B,
    ) -> Result<(http::response::Parts, Framing, bool), H1Error>
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: std::fmt::Display,
    {
        let reused = conn.reused;
        match request::send(&mut conn.io, head, framing, body).await {
            Ok(()) => {}
            Err(H1Error::Io(_)) if reused => return Err(H1Error::Stale),
            Err(e) => return Err(e),
        }
        loop {
            if let Some(parsed) = parse_head(&mut conn.buf, method)? {
                return Ok(parsed);
            }
            if conn.buf.len() > MAX_HEAD {
                return Err(H1Error::Protocol(format!(
                    "response head larger than {MAX_HEAD} bytes"
                )));
            }
            conn.buf.reserve(16 * 1024);
            let n = match conn.io.read_buf(&mut conn.buf).await {
                Ok(n) => n,
                Err(_) if reused && conn.buf.is_empty() => return Err(H1Error::Stale),
                Err(e) => return Err(H1Error::Io(e)),
            };
            if n == 0 {
                return Err(if reused && conn.buf.is_empty() {
                    H1Error::Stale
                } else {
                    H1Error::Protocol(
                        "the upstream closed the connection before a complete response head".into(),
                    )
                });
            }
        }
    }
}

/// A pooled connection is usable when reading would block: no EOF, no unexpected bytes.
fn still_open(io: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    let mut buf = ReadBuf::new(&mut byte);
    let mut cx = Context::from_waker(Waker::noop());
    matches!(io.poll_peek(&mut cx, &mut buf), Poll::Pending)
}

/// Parses a response head at the front of `buf`, skipping interim 1xx responses. On success the
/// head's bytes are removed from `buf`; `Ok(None)` asks for more bytes.
fn parse_head(
    buf: &mut BytesMut,
    method: &Method,
) -> Result<Option<(http::response::Parts, Framing, bool)>, H1Error> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let len = match resp.parse(buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(H1Error::Protocol(e.to_string())),
        };
        let code = resp.code.unwrap_or(0);
        let status =
            StatusCode::from_u16(code).map_err(|_| H1Error::Protocol(format!("status {code}")))?;
        if status.is_informational() {
            if status == StatusCode::SWITCHING_PROTOCOLS {
                return Err(H1Error::Protocol(
                    "101 Switching Protocols is not proxied".into(),
                ));
            }
            buf.advance(len);
            continue;
        }
        let version = if resp.version == Some(0) {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        };
        let mut map = HeaderMap::with_capacity(resp.headers.len());
        for h in resp.headers.iter() {
            let name = HeaderName::from_bytes(h.name.as_bytes())
                .map_err(|_| H1Error::Protocol(format!("invalid header name {:?}", h.name)))?;
            let value = HeaderValue::from_bytes(h.value)
                .map_err(|_| H1Error::Protocol(format!("invalid value of header {name}")))?;
            map.append(name, value);
        }
        buf.advance(len);
        let (framing, reusable) = response_framing(method, status, &map)?;
        let keep_alive = reusable && keeps_alive(version, &map);
        let mut parts = Response::new(()).into_parts().0;
        parts.status = status;
        parts.version = version;
        parts.headers = map;
        return Ok(Some((parts, framing, keep_alive)));
    }
}

/// RFC 9112 §6.3. Returns the framing and whether the connection can carry another exchange
/// after this body.
fn response_framing(
    method: &Method,
    status: StatusCode,
    h: &HeaderMap,
) -> Result<(Framing, bool), H1Error> {
    if *method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok((Framing::Empty, true));
    }
    if h.contains_key(header::TRANSFER_ENCODING) {
        let last = h
            .get_all(header::TRANSFER_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|c| !c.is_empty())
            .unwrap_or("");
        return Ok(if last.eq_ignore_ascii_case("chunked") {
            (Framing::Chunked(ChunkedDecoder::default()), true)
        } else {
            (Framing::UntilClose, false)
        });
    }
    let mut length: Option<u64> = None;
    for v in h.get_all(header::CONTENT_LENGTH) {
        for part in v.to_str().unwrap_or("x").split(',') {
            let n: u64 = part
                .trim()
                .parse()
                .map_err(|_| H1Error::Protocol(format!("invalid Content-Length {part:?}")))?;
            if length.is_some_and(|l| l != n) {
                return Err(H1Error::Protocol(
                    "conflicting Content-Length values".into(),
                ));
            }
            length = Some(n);
        }
    }
    Ok(match length {
        Some(n) => (Framing::Length(n), true),
        None => (Framing::UntilClose, false),
    })
}

fn keeps_alive(version: Version, h: &HeaderMap) -> bool {
    let tokens = || {
        h.get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
    };
    if version == Version::HTTP_10 {
        tokens().any(|t| t.eq_ignore_ascii_case("keep-alive"))
    } else {
        !tokens().any(|t| t.eq_ignore_ascii_case("close"))
    }
}
