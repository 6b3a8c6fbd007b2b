//! Bodies that stream through untouched while a copy of their first bytes is collected for the
//! mirror. Copying a frame is a reference-count increment (`Bytes::clone`), so production's
//! bytes are never held back or duplicated; past the limit the copy is abandoned.
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::oneshot;

/// What the mirror gets of a body.
#[derive(Debug)]
pub enum BodyCopy {
    Complete(Bytes),
    /// Longer than the limit; `seen` bytes had passed when the copy was abandoned or the body
    /// ended.
    TooLarge {
        seen: u64,
    },
    /// The body failed or was dropped before its end (client went away, upstream error).
    Incomplete,
    /// A stream (server-sent events and the like) whose copy was cut off after `seen` bytes;
    /// the stream itself goes on untouched.
    Cut {
        seen: u64,
    },
}

/// Production's response head, sent with its body copy.
#[derive(Debug)]
pub struct ProdHead {
    pub status: u16,
    pub headers: HeaderMap,
    /// Which production upstream answered (its index in `production.upstreams`).
    pub upstream: usize,
}

/// How production answered a sampled request.
#[derive(Debug)]
pub enum ProdOutcome {
    Response {
        head: ProdHead,
        body: BodyCopy,
        /// From the request's arrival to the end of the response body.
        latency: Duration,
    },
    /// The proxy answered with an error itself (502/504).
    Failed { status: u16, reason: String },
}

/// Which responses are streams, and where their copies are cut off (`mirror.stream_types`,
/// `mirror.stream_cut`): production's side and staging's apply the same rule.
#[derive(Debug, Clone, Default)]
pub struct Streams {
    /// Media types, without parameters.
    pub types: Vec<String>,
    pub cut: u64,
}

impl Streams {
    /// Where the copy of a response with these headers is cut off: after `cut` bytes for a
    /// stream, never for anything else.
    pub fn cut_for(&self, headers: &HeaderMap) -> Option<u64> {
        if self.types.is_empty() {
            return None;
        }
        let media = headers
            .get(http::header::CONTENT_TYPE)?
            .to_str()
            .ok()?
            .split(';')
            .next()?
            .trim();
        self.types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(media))
            .then_some(self.cut)
    }
}

/// Frames up to this size are copied rather than shared (see `Collector::push`).
const OWN_BELOW: usize = 4096;

enum Sink {
    Request(oneshot::Sender<BodyCopy>),
    Response {
        tx: oneshot::Sender<ProdOutcome>,
        head: ProdHead,
        arrived: Instant,
    },
}

struct Collector {
    chunks: Vec<Bytes>,
    len: u64,
    limit: u64,
    over: bool,
    /// A stream's copy ends after this many bytes (`mirror.stream_cut`).
    cut: Option<u64>,
    sink: Option<Sink>,
}

impl Collector {
    fn push(&mut self, data: &Bytes) {
        if self.sink.is_none() {
            return;
        }
        self.len += data.len() as u64;
        if self.cut.is_some_and(|cut| self.len >= cut) {
            self.chunks = Vec::new();
            self.deliver(BodyCopy::Cut { seen: self.len });
            return;
        }
        if self.over {
            return;
        }
        if self.len > self.limit {
            self.over = true;
            self.chunks = Vec::new();
        } else if data.len() <= OWN_BELOW {
            // A small frame is a slice of a large read buffer; keeping the slice would keep the
            // whole buffer until the mirror is done, so keep a copy instead.
            self.chunks.push(Bytes::copy_from_slice(data));
        } else {
            self.chunks.push(data.clone());
        }
    }

    fn copy(&mut self) -> BodyCopy {
        if self.over {
            return BodyCopy::TooLarge { seen: self.len };
        }
        let chunks = std::mem::take(&mut self.chunks);
        BodyCopy::Complete(match chunks.len() {
            0 => Bytes::new(),
            1 => chunks.into_iter().next().unwrap_or_default(),
            _ => {
                let mut all = BytesMut::with_capacity(self.len as usize);
                for c in chunks {
                    all.extend_from_slice(&c);
                }
                all.freeze()
            }
        })
    }

    fn deliver(&mut self, copy: BodyCopy) {
        match self.sink.take() {
            Some(Sink::Request(tx)) => {
                let _ = tx.send(copy);
            }
            Some(Sink::Response { tx, head, arrived }) => {
                let _ = tx.send(ProdOutcome::Response {
                    head,
                    body: copy,
                    latency: arrived.elapsed(),
                });
            }
            None => {}
        }
    }

    /// Trailer fields of production's response join its head: gRPC's `grpc-status` is compared
    /// like a header.
    fn trailers(&mut self, trailers: &HeaderMap) {
        if let Some(Sink::Response { head, .. }) = &mut self.sink {
            for (name, value) in trailers {
                head.headers.append(name, value.clone());
            }
        }
    }

    fn finish(&mut self) {
        if self.sink.is_some() {
            let copy = self.copy();
            self.deliver(copy);
        }
    }

    fn fail(&mut self) {
        if self.sink.is_some() {
            // Past the limit the copy was abandoned anyway; say so rather than "incomplete".
            let copy = if self.over {
                BodyCopy::TooLarge { seen: self.len }
            } else {
                BodyCopy::Incomplete
            };
            self.deliver(copy);
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.fail();
    }
}

pin_project_lite::pin_project! {
    /// A body passed through unchanged, optionally teeing its bytes to the mirror.
    pub struct TeeBody<B> {
        #[pin]
        inner: B,
        collector: Option<Collector>,
    }
}

impl<B: Body<Data = Bytes>> TeeBody<B> {
    /// No copy: a plain pass-through.
    pub fn passthrough(inner: B) -> Self {
        TeeBody {
            inner,
            collector: None,
        }
    }

    /// Copies up to `limit` bytes of a request body; the copy is sent on `tx` at the end.
    pub fn request(inner: B, limit: u64, tx: oneshot::Sender<BodyCopy>) -> Self {
        Self::with_sink(inner, limit, None, Sink::Request(tx))
    }

    /// Copies up to `limit` bytes of production's response; the outcome goes to `tx` at the end,
    /// or, for a stream (`cut` set), as soon as `cut` bytes have passed.
    pub fn response(
        inner: B,
        (limit, cut): (u64, Option<u64>),
        head: ProdHead,
        arrived: Instant,
        tx: oneshot::Sender<ProdOutcome>,
    ) -> Self {
        Self::with_sink(inner, limit, cut, Sink::Response { tx, head, arrived })
    }

    fn with_sink(inner: B, limit: u64, cut: Option<u64>, sink: Sink) -> Self {
        let mut collector = Collector {
            chunks: Vec::new(),
            len: 0,
            limit,
            over: false,
            cut,
            sink: Some(sink),
        };
        if let Some(exact) = inner.size_hint().exact()
            && exact > limit
        {
            // Known to be too large: do not collect anything, but still report the size.
            collector.over = true;
        }
        if inner.is_end_stream() {
            // Servers may never poll an empty body (HEAD, 204, 304): deliver now.
            collector.finish();
        }
        TeeBody {
            inner,
            collector: Some(collector),
        }
    }
}

impl<B: Body<Data = Bytes>> Body for TeeBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let mut inner = this.inner;
        let polled = ready!(inner.as_mut().poll_frame(cx));
        let Some(collector) = this.collector.as_mut() else {
            return Poll::Ready(polled);
        };
        match &polled {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    collector.push(data);
                } else if let Some(trailers) = frame.trailers_ref() {
                    collector.trailers(trailers);
                }
                // The server stops polling once a body says it has ended.
                if inner.is_end_stream() {
                    collector.finish();
                }
            }
            Some(Err(_)) => collector.fail(),
            None => collector.finish(),
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Production's response body: from the lean HTTP/1.1 client (plain `http://` upstreams) or
/// from hyper's (`https://`, HTTP/2).
pub enum UpstreamBody {
    Hyper(hyper::body::Incoming),
    H1(prodlike_net::h1::H1Body),
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            UpstreamBody::Hyper(b) => Pin::new(b).poll_frame(cx).map_err(Into::into),
            UpstreamBody::H1(b) => Pin::new(b).poll_frame(cx).map_err(Into::into),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            UpstreamBody::Hyper(b) => b.is_end_stream(),
            UpstreamBody::H1(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            UpstreamBody::Hyper(b) => b.size_hint(),
            UpstreamBody::H1(b) => b.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full, StreamBody};

    type Frames = futures_util::stream::Iter<
        std::vec::IntoIter<Result<Frame<Bytes>, std::convert::Infallible>>,
    >;

    fn chunks(parts: &[&'static [u8]]) -> StreamBody<Frames> {
        let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = parts
            .iter()
            .map(|p| Ok(Frame::data(Bytes::from_static(p))))
            .collect();
        StreamBody::new(futures_util::stream::iter(frames))
    }

    #[tokio::test]
    async fn copies_small_bodies_and_passes_everything_through() {
        let (tx, rx) = oneshot::channel();
        let body = TeeBody::request(chunks(&[b"hello ", b"world"]), 100, tx);
        let out = body.collect().await.unwrap().to_bytes();
        assert_eq!(&out[..], b"hello world");
        match rx.await.unwrap() {
            BodyCopy::Complete(b) => assert_eq!(&b[..], b"hello world"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn abandons_the_copy_past_the_limit_but_not_the_body() {
        let (tx, rx) = oneshot::channel();
        let body = TeeBody::request(chunks(&[b"0123456789", b"0123456789", b"xx"]), 15, tx);
        let out = body.collect().await.unwrap().to_bytes();
        assert_eq!(out.len(), 22);
        assert!(matches!(rx.await.unwrap(), BodyCopy::TooLarge { seen: 22 }));
    }

    #[tokio::test]
    async fn known_lengths_end_without_a_final_poll() {
        let (tx, rx) = oneshot::channel();
        let mut body = TeeBody::response(
            Full::new(Bytes::from_static(b"{}")),
            (100, None),
            ProdHead {
                status: 200,
                headers: HeaderMap::new(),
                upstream: 0,
            },
            Instant::now(),
            tx,
        );
        // Poll exactly one frame, as a server does when is_end_stream() turns true.
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.data_ref().unwrap(), &Bytes::from_static(b"{}"));
        assert!(body.is_end_stream());
        match rx.await.unwrap() {
            ProdOutcome::Response {
                head,
                body: BodyCopy::Complete(b),
                ..
            } => {
                assert_eq!(head.status, 200);
                assert_eq!(&b[..], b"{}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn empty_and_dropped_bodies_still_report() {
        let (tx, rx) = oneshot::channel();
        let _never_polled = TeeBody::request(Full::new(Bytes::new()), 10, tx);
        assert!(matches!(rx.await.unwrap(), BodyCopy::Complete(b) if b.is_empty()));
        let (tx, rx) = oneshot::channel();
        let half = TeeBody::request(chunks(&[b"abc", b"def"]), 10, tx);
        drop(half);
        assert!(matches!(rx.await.unwrap(), BodyCopy::Incomplete));
    }
}
