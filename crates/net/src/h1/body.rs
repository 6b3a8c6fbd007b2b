//! The response body, streamed from the connection's read buffer. Data frames are split off
//! the buffer (no copy). When the body ends cleanly on a keep-alive connection with nothing
//! left over, the connection goes back to the pool; any other ending closes it. Trailer fields
//! of a chunked body come out as a last trailers frame (gRPC's status travels there).
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};

use super::chunked::{ChunkedDecoder, Step};
use super::conn::{H1Conn, READ_CHUNK};
use super::pool::H1Pool;

#[derive(Debug)]
pub(crate) enum Framing {
    Empty,
    Length(u64),
    Chunked(ChunkedDecoder),
    UntilClose,
}

pub struct H1Body {
    conn: Option<H1Conn>,
    framing: Framing,
    /// Return the connection to this pool at a clean end (keep-alive response).
    pool: Option<Arc<H1Pool>>,
    done: bool,
    /// Trailer fields read so far (chunked bodies only).
    trailers: Option<HeaderMap>,
}

impl std::fmt::Debug for H1Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H1Body")
            .field("framing", &self.framing)
            .field("done", &self.done)
            .finish()
    }
}

fn invalid(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

impl H1Body {
    pub(crate) fn new(conn: H1Conn, framing: Framing, pool: Option<Arc<H1Pool>>) -> Self {
        let mut b = H1Body {
            conn: Some(conn),
            framing,
            pool,
            done: false,
            trailers: None,
        };
        if matches!(b.framing, Framing::Empty | Framing::Length(0)) {
            b.finish();
        }
        b
    }

    fn finish(&mut self) {
        self.done = true;
        if let (Some(conn), Some(pool)) = (self.conn.take(), self.pool.take())
            && conn.buf.is_empty()
        {
            pool.put(conn);
        }
    }

    /// Reads more bytes; Ok(false) at end of stream.
    fn poll_fill(conn: &mut H1Conn, cx: &mut Context<'_>) -> Poll<std::io::Result<bool>> {
        conn.buf.reserve(READ_CHUNK);
        match tokio_util::io::poll_read_buf(Pin::new(&mut conn.io), cx, &mut conn.buf) {
            Poll::Ready(Ok(0)) => Poll::Ready(Ok(false)),
            Poll::Ready(Ok(_)) => Poll::Ready(Ok(true)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// One trailer field line (`name: value` CRLF) into `map`; a line that is not a valid field is
/// left out, as a proxy must not forward what it cannot parse.
fn add_trailer(map: &mut Option<HeaderMap>, line: &[u8]) {
    let line = line.strip_suffix(b"\r\n").unwrap_or(line);
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return;
    };
    let value = line[colon + 1..].trim_ascii();
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(&line[..colon]),
        HeaderValue::from_bytes(value),
    ) {
        map.get_or_insert_with(HeaderMap::new).append(name, value);
    }
}

impl Body for H1Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let Some(conn) = this.conn.as_mut() else {
                this.done = true;
                return Poll::Ready(None);
            };
            match &mut this.framing {
                Framing::Empty => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Framing::Length(remaining) => {
                    if !conn.buf.is_empty() {
                        let n = (conn.buf.len() as u64).min(*remaining) as usize;
                        let data = conn.buf.split_to(n).freeze();
                        *remaining -= n as u64;
                        if *remaining == 0 {
                            this.finish();
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    match Self::poll_fill(conn, cx) {
                        Poll::Ready(Ok(true)) => continue,
                        Poll::Ready(Ok(false)) => {
                            let missing = *remaining;
                            this.conn = None;
                            this.done = true;
                            return Poll::Ready(Some(Err(invalid(format!(
                                "upstream closed the connection {missing} bytes before the end of the body"
                            )))));
                        }
                        Poll::Ready(Err(e)) => {
                            this.conn = None;
                            this.done = true;
                            return Poll::Ready(Some(Err(e)));
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Framing::Chunked(decoder) => match decoder.step(&conn.buf) {
                    Ok(Step::Skip(n)) => conn.buf.advance(n),
                    Ok(Step::Trailer(n)) => {
                        add_trailer(&mut this.trailers, &conn.buf[..n]);
                        conn.buf.advance(n);
                    }
                    Ok(Step::Data(n)) => {
                        return Poll::Ready(Some(Ok(Frame::data(conn.buf.split_to(n).freeze()))));
                    }
                    Ok(Step::Done(n)) => {
                        conn.buf.advance(n);
                        this.finish();
                        return Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))));
                    }
                    Ok(Step::NeedMore) => match Self::poll_fill(conn, cx) {
                        Poll::Ready(Ok(true)) => continue,
                        Poll::Ready(Ok(false)) => {
                            this.conn = None;
                            this.done = true;
                            return Poll::Ready(Some(Err(invalid(
                                "upstream closed the connection inside a chunked body",
                            ))));
                        }
                        Poll::Ready(Err(e)) => {
                            this.conn = None;
                            this.done = true;
                            return Poll::Ready(Some(Err(e)));
                        }
                        Poll::Pending => return Poll::Pending,
                    },
                    Err(e) => {
                        this.conn = None;
                        this.done = true;
                        return Poll::Ready(Some(Err(invalid(e.to_string()))));
                    }
                },
                Framing::UntilClose => {
                    if !conn.buf.is_empty() {
                        let data = conn.buf.split().freeze();
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    match Self::poll_fill(conn, cx) {
                        Poll::Ready(Ok(true)) => continue,
                        Poll::Ready(Ok(false)) => {
                            this.conn = None;
                            this.done = true;
                            return Poll::Ready(None);
                        }
                        Poll::Ready(Err(e)) => {
                            this.conn = None;
                            this.done = true;
                            return Poll::Ready(Some(Err(e)));
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        match &self.framing {
            Framing::Empty => SizeHint::with_exact(0),
            Framing::Length(n) => SizeHint::with_exact(*n),
            _ => SizeHint::default(),
        }
    }
}
