//! Staging as the mirror side sees it: its clients (the lean HTTP/1.1 pool for `http://`,
//! prodlike-net's HTTP/2 client for `h2c://`, hyper for TLS), the copy's headers, one exchange
//! under staging's timeout, and what came back: its trailers joined to its headers (gRPC's
//! status), a stream's body cut off like production's.
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use prodlike_net::h2::H2Client;
use prodlike_net::{HttpsConnector, Target};

use super::circuit::Circuit;
use super::drops::DropReason;
use crate::body::{BodyCopy, Streams, UpstreamBody};
use crate::deadline::within;
use crate::headers::X_PRODLIKE_SHADOW;

/// Staging and how copies reach it (production's upstreams, for the noise probe, too).
#[derive(Clone)]
pub struct StagingSettings {
    pub target: Target,
    pub connector: HttpsConnector,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub host: Option<HeaderValue>,
    pub drop_headers: Vec<HeaderName>,
    pub set_headers: Vec<(HeaderName, HeaderValue)>,
    pub circuit_failures: u32,
    pub circuit_open_for: Duration,
    /// Which responses are streams, cut off like production's.
    pub streams: Streams,
}

/// Staging as the mirror runtime reaches it: its own clients, timeout and circuit.
pub(super) struct Staging {
    target: Target,
    client: Client<HttpsConnector, Full<Bytes>>,
    /// The lean HTTP/1.1 pool for a plain `http://` staging.
    h1: Option<Arc<prodlike_net::h1::H1Pool>>,
    /// The HTTP/2 client of an `h2c://` staging.
    h2: Option<H2Client<Full<Bytes>>>,
    timeout: Duration,
    streams: Streams,
    host: Option<HeaderValue>,
    drop_headers: Vec<HeaderName>,
    set_headers: Vec<(HeaderName, HeaderValue)>,
    pub(super) circuit: Arc<Circuit>,
}

impl Staging {
    /// Clients for `s`, pooling up to `concurrency` idle connections.
    pub(super) fn new(s: StagingSettings, concurrency: usize) -> Self {
        Staging {
            h2: s.target.h2c.then(|| {
                H2Client::new(
                    s.target.clone(),
                    prodlike_net::ClientTlsOptions::default(),
                    s.connect_timeout,
                )
            }),
            streams: s.streams,
            h1: (!s.target.is_https() && !s.target.h2c).then(|| {
                prodlike_net::h1::H1Pool::new(
                    &s.target.host_port(),
                    HeaderValue::from_str(s.target.authority.as_str())
                        .unwrap_or_else(|_| HeaderValue::from_static("staging")),
                    prodlike_net::h1::H1PoolConfig {
                        connect_timeout: s.connect_timeout,
                        idle_timeout: Duration::from_secs(30),
                        max_idle: concurrency,
                    },
                )
            }),
            client: Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(concurrency)
                .build(s.connector),
            target: s.target,
            timeout: s.timeout,
            host: s.host,
            drop_headers: s.drop_headers,
            set_headers: s.set_headers,
            circuit: Arc::new(Circuit::new(s.circuit_failures, s.circuit_open_for)),
        }
    }
}

/// What staging did with a copy.
pub(super) enum StagingOutcome {
    NotSent,
    Answered {
        status: u16,
        headers: HeaderMap,
        body: BodyCopy,
        latency: Duration,
    },
    Failed(DropReason),
}

/// The copy's headers as staging gets them: configured drops and sets, staging's `Host`, the
/// shadow marker, and the (masked) body's length.
pub(super) fn prepare_headers(st: &Staging, h: &mut HeaderMap, body_len: usize) {
    for name in &st.drop_headers {
        h.remove(name);
    }
    for (name, value) in &st.set_headers {
        h.insert(name.clone(), value.clone());
    }
    if let Some(host) = &st.host {
        h.insert(http::header::HOST, host.clone());
    }
    h.insert(X_PRODLIKE_SHADOW.clone(), HeaderValue::from_static("1"));
    h.remove(http::header::CONTENT_LENGTH);
    if body_len > 0 {
        h.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body_len));
    }
}

/// Sends one copy and reads staging's answer up to `max_body`, within staging's timeout.
pub(super) async fn send(
    st: &Staging,
    max_body: u64,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> StagingOutcome {
    let uri = match st.target.uri_for(target) {
        Ok(u) => u,
        Err(_) => return StagingOutcome::Failed(DropReason::StagingError),
    };
    let mut req = Request::new(Full::new(body));
    *req.method_mut() = method.clone();
    *req.uri_mut() = uri;
    *req.headers_mut() = headers.clone();
    let started = Instant::now();
    let exchange = async {
        let failed = |e: &(dyn std::error::Error + 'static)| {
            tracing::debug!(error = %prodlike_common::error::chain(e), "staging copy failed");
            DropReason::StagingError
        };
        let (mut parts, body) = match (&st.h2, &st.h1) {
            (Some(h2), _) => {
                let (parts, b) = h2.send(req).await.map_err(|e| failed(&e))?.into_parts();
                (parts, UpstreamBody::Hyper(b))
            }
            (None, Some(pool)) => {
                let (parts, b) = pool.send(req).await.map_err(|e| failed(&e))?.into_parts();
                (parts, UpstreamBody::H1(b))
            }
            (None, None) => {
                let (parts, b) = st
                    .client
                    .request(req)
                    .await
                    .map_err(|e| failed(&e))?
                    .into_parts();
                (parts, UpstreamBody::Hyper(b))
            }
        };
        let cut = st.streams.cut_for(&parts.headers);
        let body = collect_limited(body, max_body, cut, &mut parts.headers).await?;
        Ok((parts, body))
    };
    let exchange = std::pin::pin!(exchange);
    match within(st.timeout, exchange).await {
        Some(Ok((parts, body))) => StagingOutcome::Answered {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            latency: started.elapsed(),
        },
        Some(Err(reason)) => StagingOutcome::Failed(reason),
        None => StagingOutcome::Failed(DropReason::Timeout),
    }
}

/// Reads a body up to `max` bytes; beyond that it is reported as too large, not read on. A
/// stream is read up to `cut` bytes and then dropped (its connection closed), so staging's
/// stream never holds the mirror. Trailer fields join `headers`.
async fn collect_limited(
    body: UpstreamBody,
    max: u64,
    cut: Option<u64>,
    headers: &mut HeaderMap,
) -> Result<BodyCopy, DropReason> {
    let mut body = std::pin::pin!(body);
    let mut all = BytesMut::new();
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| DropReason::StagingError)?;
        match frame.into_data() {
            Ok(data) => {
                seen += data.len() as u64;
                if cut.is_some_and(|c| seen >= c) {
                    return Ok(BodyCopy::Cut { seen });
                }
                if seen > max {
                    return Ok(BodyCopy::TooLarge { seen });
                }
                all.extend_from_slice(&data);
            }
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    for (name, value) in &trailers {
                        headers.append(name, value.clone());
                    }
                }
            }
        }
    }
    Ok(BodyCopy::Complete(all.freeze()))
}
