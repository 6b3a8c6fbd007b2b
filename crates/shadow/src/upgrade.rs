//! Upgraded connections: WebSocket and any other HTTP/1.1 `Upgrade`. The request goes to one
//! production upstream on a connection of its own (prodlike-net's `H1Pool::upgrade` for
//! `http://`, hyper's client for `https://`); when the upstream answers `101 Switching
//! Protocols`, the client's connection and the upstream's are spliced byte for byte until either
//! side closes or nothing moves either way for `production.upgrade_idle_timeout`. An upstream
//! that does not switch is answered through as any response. Upgrades are never mirrored (a
//! sampled one is counted as dropped, reason `upgrade`) and are counted by how they ended
//! (`prodlike_shadow_upgrades_total`, `prodlike_shadow_upgrades_active`).
//!
//! Not done: WebSocket over HTTP/2 (RFC 8441 extended CONNECT), and upgrades to `h2c://`
//! upstreams (HTTP/2 has no `Upgrade`); both are answered 502 with the reason.
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode, Version};
use http_body_util::{Either, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use prodlike_net::h1::{UpgradeOutcome, Upgraded};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::body::{TeeBody, UpstreamBody};
use crate::headers::{add_forwarded, remove_hop_by_hop};
use crate::mirror::DropReason;
use crate::proxy::{Proxy, ProxyBody, UpstreamError, upstream_failure};
use crate::sampler::Decision;
use crate::upstream::Upstream;

/// An HTTP/1.1 request that asks to switch protocols: `Upgrade` present and named by
/// `Connection`.
pub fn wants_upgrade<B>(req: &Request<B>) -> bool {
    req.version() == Version::HTTP_11
        && req.headers().contains_key(header::UPGRADE)
        && req
            .headers()
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// What the upstream side of a switched connection is.
enum UpstreamIo {
    Plain(Upgraded),
    Hyper(TokioIo<hyper::upgrade::Upgraded>),
}

impl Proxy {
    /// Serves a request that asks to upgrade; see the module documentation.
    pub(crate) async fn upgrade(
        self: Arc<Self>,
        mut req: Request<Incoming>,
        peer: std::net::SocketAddr,
        client: HeaderValue,
    ) -> Response<ProxyBody> {
        let route = self.routes.entry_for(req.uri().path());
        route
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let client_side = hyper::upgrade::on(&mut req);
        let (mut parts, _) = req.into_parts();
        if let Some(mirror) = &self.mirror
            && mirror.decide(&parts, peer.ip()) == Decision::Mirror
        {
            mirror.count_drop(DropReason::Upgrade);
        }
        let protocol = parts.headers.get(header::UPGRADE).cloned();
        let original_host = parts.headers.get(header::HOST).cloned();
        remove_hop_by_hop(&mut parts.headers);
        add_forwarded(
            &mut parts.headers,
            &client,
            self.proto,
            original_host.as_ref(),
        );
        if let Some(p) = protocol {
            parts.headers.insert(header::UPGRADE, p);
            parts
                .headers
                .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        }
        let upstream = self.upstreams.pick(None);
        let switched = Box::pin(self.open(&upstream, parts, original_host.as_ref())).await;
        let (head, upstream_io) = match switched {
            Ok(Switch::Switched(head, io)) => (head, io),
            Ok(Switch::Answered(resp)) => {
                self.count("refused");
                let (mut head, body) = resp.into_parts();
                remove_hop_by_hop(&mut head.headers);
                return Response::from_parts(head, Either::Left(TeeBody::passthrough(body)));
            }
            Err(kind) => return self.error_response(kind, None),
        };
        let proxy = self.clone();
        tokio::spawn(async move {
            let ended = match client_side.await {
                Ok(client_io) => {
                    proxy.metrics.upgrades_active.inc();
                    let ended = match upstream_io {
                        UpstreamIo::Plain(u) => {
                            splice(
                                TokioIo::new(client_io),
                                u.io,
                                u.leftover,
                                proxy.upgrade_idle_timeout,
                            )
                            .await
                        }
                        UpstreamIo::Hyper(u) => {
                            splice(
                                TokioIo::new(client_io),
                                u,
                                Bytes::new(),
                                proxy.upgrade_idle_timeout,
                            )
                            .await
                        }
                    };
                    proxy.metrics.upgrades_active.dec();
                    ended
                }
                Err(_) => "error",
            };
            proxy.count(ended);
        });
        let mut resp = Response::new(Either::Right(http_body_util::Full::new(Bytes::new())));
        *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        *resp.headers_mut() = head.headers;
        resp
    }

    fn count(&self, how: &str) {
        self.metrics
            .upgrades
            .get_or_create(&crate::metrics::ReasonLabels {
                reason: how.to_string(),
            })
            .inc();
    }

    /// Sends the upgrade request to `upstream` within the response timeout.
    async fn open(
        &self,
        upstream: &Arc<Upstream>,
        mut parts: http::request::Parts,
        original_host: Option<&HeaderValue>,
    ) -> Result<Switch, UpstreamError> {
        self.address(upstream, &mut parts, original_host)?;
        let exchange = async {
            if upstream.h2.is_some() {
                return Err((
                    UpstreamError::Protocol,
                    "HTTP/2 (h2c://) upstreams cannot switch protocols".to_string(),
                ));
            }
            match &upstream.h1 {
                Some(pool) => match pool.upgrade(&parts).await {
                    Ok(UpgradeOutcome::Switched(head, io)) => {
                        Ok(Switch::Switched(head, UpstreamIo::Plain(io)))
                    }
                    Ok(UpgradeOutcome::Answered(resp)) => {
                        Ok(Switch::Answered(resp.map(UpstreamBody::H1)))
                    }
                    Err(e) => Err(upstream_failure(e.is_connect(), &e)),
                },
                None => {
                    let req = Request::from_parts(parts, Either::Right(Empty::new()));
                    let mut resp = self
                        .client
                        .request(req)
                        .await
                        .map_err(|e| upstream_failure(e.is_connect(), &e))?;
                    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
                        return Ok(Switch::Answered(resp.map(UpstreamBody::Hyper)));
                    }
                    let io = hyper::upgrade::on(&mut resp)
                        .await
                        .map_err(|e| upstream_failure(false, &e))?;
                    let (head, _) = resp.into_parts();
                    Ok(Switch::Switched(head, UpstreamIo::Hyper(TokioIo::new(io))))
                }
            }
        };
        let result = self
            .within_response_timeout(upstream, std::pin::pin!(exchange))
            .await;
        let health = result.as_ref().map(|_| Response::new(())).map_err(|k| *k);
        self.account(upstream, &health);
        result
    }
}

enum Switch {
    Switched(http::response::Parts, UpstreamIo),
    Answered(Response<UpstreamBody>),
}

/// Copies bytes both ways until both sides have closed, one fails, or nothing moves for
/// `idle`; says which (`closed`, `error`, `idle_timeout`). `leftover` (bytes of the new
/// protocol that came with the upstream's 101) goes to the client first. A side that closes
/// its writing half has that passed on, and the other direction goes on.
async fn splice<C, U>(client: C, upstream: U, leftover: Bytes, idle: Duration) -> &'static str
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
{
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut ur, mut uw) = tokio::io::split(upstream);
    if !leftover.is_empty() && cw.write_all(&leftover).await.is_err() {
        return "error";
    }
    let mut from_client = vec![0u8; 16 * 1024];
    let mut from_upstream = vec![0u8; 16 * 1024];
    let (mut client_open, mut upstream_open) = (true, true);
    while client_open || upstream_open {
        let moved = tokio::select! {
            r = cr.read(&mut from_client), if client_open => match r {
                Ok(0) => {
                    client_open = false;
                    uw.shutdown().await
                }
                Ok(n) => uw.write_all(&from_client[..n]).await,
                Err(e) => Err(e),
            },
            r = ur.read(&mut from_upstream), if upstream_open => match r {
                Ok(0) => {
                    upstream_open = false;
                    cw.shutdown().await
                }
                Ok(n) => cw.write_all(&from_upstream[..n]).await,
                Err(e) => Err(e),
            },
            () = tokio::time::sleep(idle) => return "idle_timeout",
        };
        if moved.is_err() {
            return "error";
        }
    }
    "closed"
}
