//! The production path: route, sample, forward, stream back. Mirroring touches this path only
//! through non-blocking calls (`MirrorQueue::decide`/`reserve`, oneshot sends), so whatever
//! staging does, production's requests and responses flow as they would without it.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode, Version};
use http_body::Body as _;
use http_body_util::{Either, Empty, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use prodlike_net::HttpsConnector;
use tokio::sync::oneshot;

use crate::body::{ProdHead, ProdOutcome, Streams, TeeBody, UpstreamBody};
use crate::deadline::within;
use crate::headers::{add_forwarded, detached, remove_hop_by_hop};
use crate::metrics::Metrics;
use crate::mirror::{JobBody, MirrorQueue};
use crate::routes::{RouteEntry, RouteTable};
use crate::sampler::Decision;
use crate::upstream::{Upstream, Upstreams};

/// Body of responses to clients: production's, streamed, or one we generated (502/504).
pub type ProxyBody = Either<TeeBody<UpstreamBody>, Full<Bytes>>;

/// Body of requests to production: the client's, streamed, or empty for a retry.
pub(crate) type RequestBody = Either<TeeBody<Incoming>, Empty<Bytes>>;

pub struct ProxySettings {
    pub connector: HttpsConnector,
    pub response_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub pool_max_idle_per_host: usize,
    pub preserve_host: bool,
    pub https_listener: bool,
    /// Body bytes of production's response collected for comparison.
    pub compare_max_body: u64,
    /// Which responses are streams, whose copies are cut off.
    pub streams: Streams,
    /// An upgraded connection with no byte moving either way for this long is closed.
    pub upgrade_idle_timeout: Duration,
}

pub struct Proxy {
    pub(crate) client: Client<HttpsConnector, RequestBody>,
    pub(crate) upstreams: Upstreams,
    pub(crate) routes: Arc<RouteTable>,
    pub(crate) mirror: Option<MirrorQueue>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) response_timeout: Duration,
    preserve_host: bool,
    pub(crate) proto: &'static str,
    compare_max_body: u64,
    streams: Streams,
    pub(crate) upgrade_idle_timeout: Duration,
}

#[derive(Clone, Copy)]
pub(crate) enum UpstreamError {
    Connect = 0,
    Timeout = 1,
    Protocol = 2,
}

impl Proxy {
    pub fn new(
        settings: ProxySettings,
        upstreams: Upstreams,
        routes: Arc<RouteTable>,
        mirror: Option<MirrorQueue>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(settings.pool_idle_timeout)
            .pool_max_idle_per_host(settings.pool_max_idle_per_host)
            .build(settings.connector);

        Self {
            client,
            upstreams,
            routes,
            mirror,
            metrics,
            response_timeout: settings.response_timeout,
            preserve_host: settings.preserve_host,
            proto: if settings.https_listener {
                "https"
            } else {
                "http"
            },
            compare_max_body: settings.compare_max_body,
            streams: settings.streams,
            upgrade_idle_timeout: settings.upgrade_idle_timeout,
        }
    }

    /// Serves one request; the future is hyper's service future as it is (a wrapping block
    /// would be one more copy of its state per request), so it owns what it needs.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
        client: HeaderValue,
    ) -> Result<Response<ProxyBody>, std::convert::Infallible> {
        if crate::upgrade::wants_upgrade(&req) {
            return Ok(Box::pin(self.upgrade(req, peer, client)).await);
        }
        let arrived = Instant::now();
        let (mut parts, body) = req.into_parts();
        let route = self.routes.entry_for(parts.uri.path());
        route
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);

        let original_host: Option<HeaderValue> =
            parts.headers.get(header::HOST).cloned().or_else(|| {
                parts
                    .uri
                    .authority()
                    .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
            });
        remove_hop_by_hop(&mut parts.headers);
        add_forwarded(
            &mut parts.headers,
            &client,
            self.proto,
            original_host.as_ref(),
        );

        // Sampling and hand-over to the mirror: all non-blocking.
        let has_body = !body.is_end_stream();
        let (body, prod_tx) = self.hand_over(&route, &parts, peer, body, has_body);

        // A request without a body can be retried on another upstream when the connection
        // could not even be opened: the first upstream never saw it.
        let retry_parts = (!has_body && self.upstreams.all().len() > 1).then(|| parts.clone());
        let upstream = self.upstreams.pick(None);
        let mut served_by = upstream.index;
        // Boxed: the exchange's state is large, and an unboxed one would be copied whole into
        // this future and again into hyper's dispatcher on every request (measured with
        // callgrind: memcpy was 12% of a proxied request's instructions).
        let mut outcome =
            Box::pin(self.forward(&upstream, parts, Either::Left(body), original_host.as_ref()))
                .await;
        if let (Err(UpstreamError::Connect), Some(parts)) = (&outcome, retry_parts) {
            let second = self.upstreams.pick(Some(&upstream));
            if !Arc::ptr_eq(&second, &upstream) {
                served_by = second.index;
                outcome = Box::pin(self.forward(
                    &second,
                    parts,
                    Either::Right(Empty::new()),
                    original_host.as_ref(),
                ))
                .await;
            }
        }

        let response = match outcome {
            Ok(resp) => {
                let (mut head, incoming) = resp.into_parts();
                remove_hop_by_hop(&mut head.headers);
                let status = head.status.as_u16();
                let body = match prod_tx {
                    Some(tx) => TeeBody::response(
                        incoming,
                        (self.compare_max_body, self.streams.cut_for(&head.headers)),
                        ProdHead {
                            status,
                            headers: detached(&head.headers),
                            upstream: served_by,
                        },
                        arrived,
                        tx,
                    ),
                    None => TeeBody::passthrough(incoming),
                };
                Response::from_parts(head, Either::Left(body))
            }
            Err(kind) => self.error_response(kind, prod_tx),
        };
        route
            .production
            .record(&self.metrics, response.status().as_u16(), arrived.elapsed());
        Ok(response)
    }

    /// Asks the sampler, and when the request is mirrored reserves a queue slot and hands the
    /// mirror a job: the request body is teed, and the sender of production's outcome is
    /// returned. Never waits: a full queue passes the request through, counted.
    fn hand_over(
        &self,
        route: &Arc<RouteEntry>,
        parts: &http::request::Parts,
        peer: SocketAddr,
        body: Incoming,
        has_body: bool,
    ) -> (TeeBody<Incoming>, Option<oneshot::Sender<ProdOutcome>>) {
        let Some(mirror) = &self.mirror else {
            return (TeeBody::passthrough(body), None);
        };
        if mirror.decide(parts, peer.ip()) != Decision::Mirror {
            return (TeeBody::passthrough(body), None);
        }
        let length = if has_body {
            body.size_hint().exact()
        } else {
            Some(0)
        };
        let Ok(slot) = mirror.reserve(length) else {
            return (TeeBody::passthrough(body), None);
        };
        let (ptx, prx) = oneshot::channel();
        let (job_body, upstream_body) = if has_body {
            let (btx, brx) = oneshot::channel();
            (
                JobBody::Pending(brx),
                TeeBody::request(body, mirror.max_body(), btx),
            )
        } else {
            (JobBody::Empty, TeeBody::passthrough(body))
        };
        slot.send(
            route.clone(),
            parts,
            detached(&parts.headers),
            job_body,
            prx,
        );
        (upstream_body, Some(ptx))
    }

    /// The proxy's own answer when no production upstream gave one (502/504), told to the
    /// mirror as production's failure.
    #[cold]
    pub(crate) fn error_response(
        &self,
        kind: UpstreamError,
        prod_tx: Option<oneshot::Sender<ProdOutcome>>,
    ) -> Response<ProxyBody> {
        let (status, text, reason) = match kind {
            UpstreamError::Timeout => (
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "504 Gateway Timeout: the production upstream did not answer within {:?} (production.response_timeout)\n",
                    self.response_timeout
                ),
                "production_timeout",
            ),
            UpstreamError::Connect => (
                StatusCode::BAD_GATEWAY,
                "502 Bad Gateway: no production upstream accepted the connection\n".to_string(),
                "production_connect",
            ),
            UpstreamError::Protocol => (
                StatusCode::BAD_GATEWAY,
                "502 Bad Gateway: the production upstream closed the connection or sent an invalid response\n"
                    .to_string(),
                "production_protocol",
            ),
        };
        if let Some(tx) = prod_tx {
            let _ = tx.send(ProdOutcome::Failed {
                status: status.as_u16(),
                reason: reason.to_string(),
            });
        }
        let mut r = Response::new(Either::Right(Full::new(Bytes::from(text))));
        *r.status_mut() = status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r.headers_mut()
            .insert("x-prodlike-error", HeaderValue::from_static(reason));
        r
    }

    /// The request's URI, Host and version as the upstream gets them.
    pub(crate) fn address(
        &self,
        upstream: &Upstream,
        parts: &mut http::request::Parts,
        original_host: Option<&HeaderValue>,
    ) -> Result<(), UpstreamError> {
        parts.uri = upstream
            .target
            .uri_with(parts.uri.path_and_query())
            .map_err(|_| UpstreamError::Protocol)?;
        if self.preserve_host {
            if let Some(h) = original_host {
                parts.headers.insert(header::HOST, h.clone());
            }
        } else {
            parts.headers.remove(header::HOST);
        }
        // The client picks the upstream protocol (ALPN for https); the request's own version
        // is the client's and means nothing upstream.
        parts.version = Version::HTTP_11;
        Ok(())
    }

    async fn forward(
        &self,
        upstream: &Arc<Upstream>,
        mut parts: http::request::Parts,
        body: RequestBody,
        original_host: Option<&HeaderValue>,
    ) -> Result<Response<UpstreamBody>, UpstreamError> {
        self.address(upstream, &mut parts, original_host)?;
        let req = Request::from_parts(parts, body);
        let exchange = async {
            if let Some(h2) = &upstream.h2 {
                return h2
                    .send(req)
                    .await
                    .map(|r| r.map(UpstreamBody::Hyper))
                    .map_err(|e| upstream_failure(e.is_connect(), &e));
            }
            match &upstream.h1 {
                Some(pool) => pool
                    .send(req)
                    .await
                    .map(|r| r.map(UpstreamBody::H1))
                    .map_err(|e| upstream_failure(e.is_connect(), &e)),
                None => self
                    .client
                    .request(req)
                    .await
                    .map(|r| r.map(UpstreamBody::Hyper))
                    .map_err(|e| upstream_failure(e.is_connect(), &e)),
            }
        };
        let result = self
            .within_response_timeout(upstream, std::pin::pin!(exchange))
            .await;
        self.account(upstream, &result);
        result
    }

    /// Runs an exchange with `upstream` under `production.response_timeout`; a failure is
    /// logged with its causes and told by kind.
    pub(crate) async fn within_response_timeout<T, F>(
        &self,
        upstream: &Upstream,
        exchange: std::pin::Pin<&mut F>,
    ) -> Result<T, UpstreamError>
    where
        F: std::future::Future<Output = Result<T, (UpstreamError, String)>>,
    {
        match within(self.response_timeout, exchange).await {
            Some(Ok(t)) => Ok(t),
            Some(Err((kind, error))) => {
                tracing::warn!(upstream = upstream.label(), %error, "production upstream failed");
                Err(kind)
            }
            None => Err(UpstreamError::Timeout),
        }
    }

    /// Passive health: an upstream's answer or failure, counted.
    pub(crate) fn account<T>(
        &self,
        upstream: &Upstream,
        result: &Result<Response<T>, UpstreamError>,
    ) {
        match result {
            Ok(resp) if matches!(resp.status().as_u16(), 502..=504) => {
                self.upstreams.failure(upstream)
            }
            Ok(_) => self.upstreams.success(upstream),
            Err(kind) => {
                if let Some(c) = upstream.errors.get(*kind as usize) {
                    c.inc();
                }
                self.upstreams.failure(upstream);
            }
        }
    }
}

/// How a failed upstream exchange is reported: connect failures apart (the next upstream may
/// answer), and the error with its causes as the reason.
#[cold]
pub(crate) fn upstream_failure(
    connect: bool,
    e: &(dyn std::error::Error + 'static),
) -> (UpstreamError, String) {
    let kind = if connect {
        UpstreamError::Connect
    } else {
        UpstreamError::Protocol
    };
    (kind, prodlike_common::error::chain(e).to_string())
}
