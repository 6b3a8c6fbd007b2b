//! One HTTP/1.1 connection — its socket and read buffer — reading response heads (both ways of
//! using a connection do), and the load generator's exchange: request bytes out, the response
//! counted and its body dropped as it arrives, without splitting or copying the buffer.
use std::time::Duration;

use bytes::{Buf, BytesMut};
use http::Method;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::H1Error;
use super::body::Framing;
use super::chunked::Step;
use super::response_head::parse_status;

/// Largest response head we read.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Read this much at a time from the socket.
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// A client connection. Plain TCP for the proxy's pool; [`super::ClientStream`] (TCP or TLS)
/// for connections opened through an [`super::Endpoint`].
pub struct H1Conn<S = TcpStream> {
    pub(crate) io: S,
    pub(crate) buf: BytesMut,
    /// It carried an exchange before, so the upstream may have closed it while it sat idle.
    pub(crate) reused: bool,
}

impl<S> std::fmt::Debug for H1Conn<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H1Conn")
            .field("buffered", &self.buf.len())
            .field("reused", &self.reused)
            .finish()
    }
}

/// How [`H1Conn::exchange`] reads the response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The request was HEAD: the response has no body, whatever its head says.
    pub head_request: bool,
    /// Read no faster than this many bytes per second (a slow client); `None` reads bytes as
    /// they arrive. The head is read at once; the pace catches up on the body.
    pub bytes_per_second: Option<u64>,
}

/// One response, as a load generator counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchanged {
    pub status: u16,
    /// Bytes of the response read off the connection: heads (interim ones too), body and its
    /// chunk framing.
    pub bytes_in: u64,
    /// The connection can carry another request: the response said keep-alive, its end was
    /// framed, and nothing unasked followed it.
    pub keep_alive: bool,
}

/// Paces reads to a byte rate: before each read, wait until the bytes read so far are due, then
/// ask for about a twentieth of a second's worth. On the runtime's clock, so that a test with a
/// paused clock sees the pace exactly.
struct Pace {
    rate: u64,
    started: Instant,
    read: u64,
}

impl Pace {
    fn new(rate: u64) -> Pace {
        Pace {
            rate: rate.max(1),
            started: Instant::now(),
            read: 0,
        }
    }

    fn chunk(&self) -> usize {
        (self.rate / 20).clamp(1, 4096) as usize
    }

    async fn until_due(&self) {
        let due = Duration::from_secs_f64(self.read as f64 / self.rate as f64);
        let elapsed = self.started.elapsed();
        if due > elapsed {
            tokio::time::sleep(due - elapsed).await;
        }
    }
}

impl<S> H1Conn<S> {
    pub fn new(io: S) -> Self {
        H1Conn {
            io,
            buf: BytesMut::with_capacity(READ_CHUNK),
            reused: false,
        }
    }

    /// Whether the connection carried an exchange before.
    pub fn is_reused(&self) -> bool {
        self.reused
    }
}

impl<S: AsyncRead + Unpin> H1Conn<S> {
    /// Reads more bytes into the buffer, at most `limit` when given; Ok(0) at the end of stream.
    async fn fill(&mut self, limit: Option<usize>) -> std::io::Result<usize> {
        self.buf.reserve(READ_CHUNK);
        match limit {
            None => self.io.read_buf(&mut self.buf).await,
            Some(n) => (&mut self.io).take(n as u64).read_buf(&mut self.buf).await,
        }
    }

    /// Reads until `parse` finds a whole head at the front of the buffer. On a reused
    /// connection, an end or an error before any byte arrived is [`H1Error::Stale`]: the upstream
    /// closed it while it was idle, and the request never reached it.
    pub(crate) async fn read_head<T>(
        &mut self,
        limit: Option<usize>,
        mut parse: impl FnMut(&mut BytesMut) -> Result<Option<T>, H1Error>,
    ) -> Result<T, H1Error> {
        let mut got = !self.buf.is_empty();
        loop {
            if let Some(parsed) = parse(&mut self.buf)? {
                return Ok(parsed);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(H1Error::Protocol(format!(
                    "response head larger than {MAX_HEAD} bytes"
                )));
            }
            let n = match self.fill(limit).await {
                Ok(n) => n,
                Err(_) if self.reused && !got => return Err(H1Error::Stale),
                Err(e) => return Err(H1Error::Io(e)),
            };
            if n == 0 {
                return Err(if self.reused && !got {
                    H1Error::Stale
                } else {
                    H1Error::Closed
                });
            }
            got = true;
        }
    }

    async fn fill_paced(&mut self, pace: &mut Option<Pace>) -> Result<usize, H1Error> {
        let n = match pace {
            None => self.fill(None).await,
            Some(p) => {
                p.until_due().await;
                let n = self.fill(Some(p.chunk())).await;
                if let Ok(n) = n {
                    p.read += n as u64;
                }
                n
            }
        };
        n.map_err(H1Error::Io)
    }

    /// Waits until the upstream closes this idle connection, or it fails. Bytes it sends
    /// meanwhile are dropped.
    pub async fn closed(&mut self) {
        loop {
            self.buf.clear();
            match self.fill(None).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> H1Conn<S> {
    /// Writes `request` (a whole encoded HTTP/1.1 request) and reads one response, dropping its
    /// body as it arrives. A reused connection that turns out closed before any response byte
    /// is [`H1Error::Stale`]; the caller may send the request again on a new connection.
    pub async fn exchange(
        &mut self,
        request: &[u8],
        opts: ReadOptions,
    ) -> Result<Exchanged, H1Error> {
        if let Err(e) = self.io.write_all(request).await {
            return Err(if self.reused {
                H1Error::Stale
            } else {
                H1Error::Io(e)
            });
        }
        let method = if opts.head_request {
            &Method::HEAD
        } else {
            &Method::GET
        };
        let mut pace = opts.bytes_per_second.map(Pace::new);
        let limit = pace.as_ref().map(Pace::chunk);
        let mut consumed: u64 = 0;
        let (status, framing, keep_alive) = self
            .read_head(limit, |buf| {
                let before = buf.len();
                let parsed = parse_status(buf, method);
                consumed += (before - buf.len()) as u64;
                parsed
            })
            .await?;
        if let Some(p) = pace.as_mut() {
            p.read = consumed + self.buf.len() as u64;
        }
        let mut reusable = keep_alive;
        match framing {
            Framing::Empty => {}
            Framing::Length(mut left) => loop {
                let take = (self.buf.len() as u64).min(left);
                self.buf.advance(take as usize);
                consumed += take;
                left -= take;
                if left == 0 {
                    break;
                }
                if self.fill_paced(&mut pace).await? == 0 {
                    return Err(H1Error::BodyCut);
                }
            },
            Framing::Chunked(mut decoder) => loop {
                match decoder.step(&self.buf).map_err(H1Error::Chunked)? {
                    Step::Skip(n) | Step::Data(n) | Step::Trailer(n) => {
                        self.buf.advance(n);
                        consumed += n as u64;
                    }
                    Step::Done(n) => {
                        self.buf.advance(n);
                        consumed += n as u64;
                        break;
                    }
                    Step::NeedMore => {
                        if self.fill_paced(&mut pace).await? == 0 {
                            return Err(H1Error::BodyCut);
                        }
                    }
                }
            },
            Framing::UntilClose => {
                reusable = false;
                loop {
                    consumed += self.buf.len() as u64;
                    self.buf.clear();
                    if self.fill_paced(&mut pace).await? == 0 {
                        break;
                    }
                }
            }
        }
        self.reused = true;
        Ok(Exchanged {
            status: status.as_u16(),
            bytes_in: consumed,
            // Bytes after the response were not asked for: the connection is out of step.
            keep_alive: reusable && self.buf.is_empty(),
        })
    }
}
