//! One HTTP/1.1 connection owned by one task: no pool lock, no dispatcher task, requests written
//! as pre-encoded bytes and responses read with [`ResponseParser`]. Plain TCP or rustls.
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::parse::{MAX_HEAD, ResponseParser};
use crate::LoadError;
use prodlike_net::{ClientTlsOptions, Target};

/// Why a request got no usable response. The names are the error kinds in reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The TCP connection could not be made (refused, unreachable, too many open files).
    Connect(String),
    /// The TLS handshake failed.
    Tls(String),
    /// No complete response within the request timeout.
    Timeout,
    /// The connection broke (reset, closed early).
    Io(String),
    /// The response was not valid HTTP/1.1.
    Protocol(String),
}

impl RequestError {
    pub fn kind(&self) -> &'static str {
        match self {
            RequestError::Connect(_) => "connect",
            RequestError::Tls(_) => "tls",
            RequestError::Timeout => "timeout",
            RequestError::Io(_) => "io",
            RequestError::Protocol(_) => "protocol",
        }
    }
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::Connect(e) => write!(f, "connect: {e}"),
            RequestError::Tls(e) => write!(f, "tls: {e}"),
            RequestError::Timeout => f.write_str("timeout"),
            RequestError::Io(e) => write!(f, "io: {e}"),
            RequestError::Protocol(e) => write!(f, "protocol: {e}"),
        }
    }
}

pub enum Stream {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Where connections go: resolved once, so connecting never waits on DNS mid-run.
#[derive(Clone)]
pub struct Endpoint {
    pub target: Target,
    addrs: Arc<Vec<SocketAddr>>,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    connect_timeout: Duration,
}

impl Endpoint {
    /// Resolves the target's host and prepares TLS for https targets.
    pub async fn resolve(
        target: &Target,
        tls: &ClientTlsOptions,
        connect_timeout: Duration,
    ) -> Result<Endpoint, LoadError> {
        let fail = |reason: String| LoadError::Target {
            target: target.original.clone(),
            reason,
        };
        let hp = target.host_port();
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&hp)
            .await
            .map_err(|e| fail(format!("cannot resolve {hp}: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(fail(format!("{hp} resolves to no address")));
        }
        let tls = if target.is_https() {
            let mut cfg =
                prodlike_net::client_config(tls).map_err(|e| fail(format!("TLS setup: {e}")))?;
            cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
            let host = target.authority.host().trim_matches(['[', ']']).to_string();
            let name = ServerName::try_from(host.clone())
                .map_err(|e| fail(format!("`{host}` is not a valid TLS server name: {e}")))?;
            Some((TlsConnector::from(Arc::new(cfg)), name))
        } else {
            None
        };
        Ok(Endpoint {
            target: target.clone(),
            addrs: Arc::new(addrs),
            tls,
            connect_timeout,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Opens a connection (TCP, then TLS for https), within the connect timeout.
    pub async fn connect(&self) -> Result<Conn, RequestError> {
        let fut = async {
            let mut last = None;
            for addr in self.addrs.iter() {
                match TcpStream::connect(addr).await {
                    Ok(tcp) => {
                        let _ = tcp.set_nodelay(true);
                        let stream = match &self.tls {
                            None => Stream::Tcp(tcp),
                            Some((connector, name)) => {
                                let tls = connector
                                    .connect(name.clone(), tcp)
                                    .await
                                    .map_err(|e| RequestError::Tls(e.to_string()))?;
                                Stream::Tls(Box::new(tls))
                            }
                        };
                        return Ok(Conn::new(stream));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(RequestError::Connect(
                last.map(|e| format!("{} ({})", e, self.addrs[0]))
                    .unwrap_or_else(|| "no address".into()),
            ))
        };
        match tokio::time::timeout(self.connect_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(RequestError::Connect(format!(
                "no connection within {:?} ({})",
                self.connect_timeout, self.addrs[0]
            ))),
        }
    }
}

/// A response, as far as load cares: status, bytes, and whether the connection can be reused.
#[derive(Debug, Clone, Copy)]
pub struct Response {
    pub status: u16,
    pub bytes_in: u64,
    pub keep_alive: bool,
}

/// How a failed exchange ended: the error, and whether any response byte had arrived (a reused
/// connection the server had closed fails with none, and is safe to retry at once).
#[derive(Debug)]
pub struct ExchangeError {
    pub error: RequestError,
    pub got_bytes: bool,
}

pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Requests completed on this connection.
    pub served: u64,
}

const BUF: usize = 16 * 1024;

impl Conn {
    fn new(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: vec![0; BUF],
            pos: 0,
            end: 0,
            served: 0,
        }
    }

    /// Writes `request` and reads one response, discarding the body. `slow_read` limits reading
    /// to that many bytes per second (a slow client).
    pub async fn exchange(
        &mut self,
        request: &[u8],
        head_request: bool,
        slow_read: Option<u64>,
    ) -> Result<Response, ExchangeError> {
        let io = |e: io::Error, got: bool| ExchangeError {
            error: RequestError::Io(e.to_string()),
            got_bytes: got,
        };
        self.stream
            .write_all(request)
            .await
            .map_err(|e| io(e, false))?;
        let mut p = ResponseParser::new(head_request);
        let started = Instant::now();
        let mut read_total: u64 = 0;
        loop {
            if self.pos < self.end {
                let n = p
                    .feed(&self.buf[self.pos..self.end])
                    .map_err(|e| ExchangeError {
                        error: RequestError::Protocol(e.0),
                        got_bytes: true,
                    })?;
                self.pos += n;
                if p.is_done() {
                    break;
                }
            }
            if self.pos == self.end {
                self.pos = 0;
                self.end = 0;
            } else if self.end == self.buf.len() {
                if self.pos > 0 {
                    self.buf.copy_within(self.pos..self.end, 0);
                    self.end -= self.pos;
                    self.pos = 0;
                } else if self.buf.len() < MAX_HEAD * 2 {
                    self.buf.resize(self.buf.len() * 2, 0);
                }
            }
            let mut limit = self.buf.len();
            if let Some(rate) = slow_read {
                let rate = rate.max(1);
                let due = Duration::from_secs_f64(read_total as f64 / rate as f64);
                let elapsed = started.elapsed();
                if due > elapsed {
                    tokio::time::sleep(due - elapsed).await;
                }
                let chunk = (rate / 20).clamp(1, 4096) as usize;
                limit = (self.end + chunk).min(self.buf.len());
            }
            let n = self
                .stream
                .read(&mut self.buf[self.end..limit])
                .await
                .map_err(|e| io(e, read_total > 0))?;
            if n == 0 {
                p.eof().map_err(|e| ExchangeError {
                    error: RequestError::Io(e.0),
                    got_bytes: read_total > 0,
                })?;
                break;
            }
            read_total += n as u64;
            self.end += n;
        }
        self.served += 1;
        Ok(Response {
            status: p.status,
            bytes_in: p.head_bytes + p.body_bytes,
            keep_alive: p.keep_alive,
        })
    }

    /// Waits until the server closes this idle connection (or sends something unasked).
    pub async fn wait_closed(&mut self) {
        let mut scratch = [0u8; 512];
        loop {
            match self.stream.read(&mut scratch).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    }
}
