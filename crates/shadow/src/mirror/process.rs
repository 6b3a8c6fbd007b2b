//! One sampled exchange on the mirror side, step by step: wait for the request body, mask the
//! copy, send it to staging, wait for production's answer, mask both responses, compare and
//! record per route, capture. Runs on the mirror runtime only.
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use prodlike_mask::MaskCounts;
use serde_json::Value;

use super::drops::DropReason;
use super::masked::{MaskedRequest, ResponseView};
use super::record::{self, Answer, RecordParts};
use super::staging::{StagingOutcome, prepare_headers, send};
use super::{JobBody, MirrorContext, MirrorJob};
use crate::body::{BodyCopy, ProdOutcome};
use crate::compare::{BodyView, Comparison, NotCompared, Side};
use crate::divergence::DiffExample;
use crate::masking::Unmaskable;
use crate::routes::RouteEntry;

pub(super) async fn process(ctx: &MirrorContext, job: MirrorJob) {
    let MirrorJob {
        route,
        method,
        target,
        version,
        headers,
        body,
        production,
        arrived_at,
        ..
    } = job;
    let Some(request_body) = request_body(ctx, body).await else {
        return;
    };
    let probe_headers = probe_admission(ctx, &method, &headers);
    let mut counts = MaskCounts::default();
    let Some(copy) = masked_copy(ctx, &route, &target, headers, request_body, &mut counts) else {
        return;
    };
    let staging = send_copy(ctx, &route, &method, &copy).await;
    if ctx.capture.is_none() && !matches!(staging, StagingOutcome::Answered { .. }) {
        // Nothing to compare and nothing to capture: do not hold a slot for production.
        ctx.metrics.count_masked(&route.name, &counts);
        return;
    }
    let production = match tokio::time::timeout(ctx.production_wait, production).await {
        Ok(Ok(p)) => Some(p),
        _ => None,
    };
    if let Some(h) = &probe_headers {
        probe(ctx, &route, (&method, &target, h), production.as_ref()).await;
    }
    let exchange = Exchange {
        route: &route,
        method: &method,
        arrived_at,
        copy: &copy,
        production: production.as_ref(),
        staging: &staging,
    };
    let views = exchange.views(ctx, &mut counts);
    exchange.compare_and_record(ctx, views.as_ref(), &mut counts);
    if let (Some(capture), Some(views)) = (&ctx.capture, &views) {
        let record = exchange.capture_record(ctx, views, version, &mut counts);
        capture.write(record, &ctx.metrics);
    }
    ctx.metrics.count_masked(&route.name, &counts);
}

/// Whether this exchange is probed against a second production upstream; the request's
/// headers as the client sent them when it is (the probe goes to production only).
fn probe_admission(
    ctx: &MirrorContext,
    method: &http::Method,
    headers: &HeaderMap,
) -> Option<HeaderMap> {
    match ctx.probe.as_ref().map(|p| p.admit(method)) {
        Some(Ok(true)) => Some(headers.clone()),
        Some(Err(())) => {
            ctx.metrics.noise_probes_capped.inc();
            None
        }
        _ => None,
    }
}

/// The copy, masked; `None` (counted) when its body cannot be inspected.
fn masked_copy(
    ctx: &MirrorContext,
    route: &RouteEntry,
    target: &str,
    headers: HeaderMap,
    body: Bytes,
    counts: &mut MaskCounts,
) -> Option<MaskedRequest> {
    match MaskedRequest::new(
        &ctx.masker,
        target,
        headers,
        body,
        ctx.max_body as usize,
        counts,
    ) {
        Ok(c) => Some(c),
        Err(why) => {
            tracing::debug!(route = %route.name, reason = why.as_str(), "copy not mirrored: its body cannot be inspected");
            ctx.drops.count(match why {
                Unmaskable::DecodedTooLarge => DropReason::DecodedTooLarge,
                _ => DropReason::UnmaskableBody,
            });
            ctx.metrics.count_masked(&route.name, counts);
            None
        }
    }
}

/// Sends the request to a second production upstream and feeds what production disagreed
/// with itself on to the route's noise learning.
async fn probe(
    ctx: &MirrorContext,
    route: &RouteEntry,
    request: (&http::Method, &str, &HeaderMap),
    production: Option<&ProdOutcome>,
) {
    let (Some(p), Some(ProdOutcome::Response { head, body, .. })) = (&ctx.probe, production) else {
        return;
    };
    ctx.metrics.noise_probes.inc();
    let paths = p
        .differing_paths(
            &ctx.comparator,
            head.upstream,
            request,
            (head, body),
            ctx.compare_max_body,
        )
        .await;
    if let Some(paths) = paths {
        route.with_divergence(|d| d.record_probe(&paths, &ctx.noise));
    }
}

/// One exchange once both sides have answered (or not).
struct Exchange<'a> {
    route: &'a RouteEntry,
    method: &'a http::Method,
    arrived_at: std::time::SystemTime,
    copy: &'a MaskedRequest,
    production: Option<&'a ProdOutcome>,
    staging: &'a StagingOutcome,
}

impl Exchange<'_> {
    /// Identical bytes match whatever their masking: with nothing to capture they need no
    /// parsing or masking at all.
    fn identical(&self) -> bool {
        matches!(
            (self.production, self.staging),
            (
                Some(ProdOutcome::Response { body: BodyCopy::Complete(p), .. }),
                StagingOutcome::Answered { body: BodyCopy::Complete(s), .. },
            ) if p == s
        )
    }

    /// Both responses masked, unless they need not be.
    fn views(&self, ctx: &MirrorContext, counts: &mut MaskCounts) -> Option<Views> {
        if self.identical() && ctx.capture.is_none() {
            return None;
        }
        Some(Views::new(
            ctx,
            self.copy,
            self.production,
            self.staging,
            counts,
        ))
    }

    /// Compares the two responses and records the outcome on the route; an exchange staging
    /// answered but production did not is recorded as not compared.
    fn compare_and_record(
        &self,
        ctx: &MirrorContext,
        views: Option<&Views>,
        counts: &mut MaskCounts,
    ) {
        let (
            Some(ProdOutcome::Response {
                head,
                body: prod_body,
                latency: prod_latency,
            }),
            StagingOutcome::Answered {
                status,
                headers: st_headers,
                body: st_body,
                latency: st_latency,
            },
        ) = (self.production, self.staging)
        else {
            if matches!(self.staging, StagingOutcome::Answered { .. }) {
                let why = NotCompared::ProductionFailed;
                self.route.with_divergence(|d| d.record_not_compared(why));
                self.route.count_not_compared(&ctx.metrics, why);
            }
            return;
        };
        let comparison = match views {
            _ if self.identical() => ctx.comparator.compare(
                Side::new(head.status, &head.headers, raw_view(prod_body)),
                Side::new(*status, st_headers, raw_view(st_body)),
                None,
            ),
            Some(v) => {
                let noise = self.route.with_divergence(|d| d.noise.ignored());
                v.compare(
                    ctx,
                    &noise,
                    head.status,
                    &head.headers,
                    *status,
                    st_headers,
                    st_body,
                )
            }
            None => Comparison::default(),
        };
        let comparison = shown(ctx, self.copy, comparison, counts);
        record_comparison(
            ctx,
            self.route,
            &comparison,
            (head.status, *prod_latency),
            (*status, *st_latency),
            || DiffExample {
                at: humantime::format_rfc3339_seconds(self.arrived_at).to_string(),
                method: self.method.to_string(),
                target: self.copy.target.clone(),
                production_status: head.status,
                staging_status: *status,
                headers: comparison.headers.clone(),
                body: comparison.body.clone(),
                body_diff_count: comparison.body_diff_count,
            },
        );
    }

    /// The capture record of this exchange, from its masked parts only.
    fn capture_record(
        &self,
        ctx: &MirrorContext,
        views: &Views,
        version: http::Version,
        counts: &mut MaskCounts,
    ) -> prodlike_capture::Exchange {
        let production_answer = match self.production {
            Some(ProdOutcome::Response { head, latency, .. }) => {
                views.production.as_ref().map(|v| Answer {
                    status: head.status,
                    headers: &head.headers,
                    view: v,
                    latency: *latency,
                })
            }
            _ => None,
        };
        let staging_answer = match self.staging {
            StagingOutcome::Answered {
                status,
                headers,
                latency,
                ..
            } => views.staging.as_ref().map(|v| Answer {
                status: *status,
                headers,
                view: v,
                latency: *latency,
            }),
            _ => None,
        };
        record::exchange(
            &ctx.masker,
            RecordParts {
                id: ctx.ids.fetch_add(1, Ordering::Relaxed),
                arrived_at: self.arrived_at,
                route: &self.route.name,
                method: self.method.as_str(),
                version,
                copy: self.copy,
                production: production_answer,
                production_error: record::production_error(self.production),
                staging: staging_answer,
                staging_error: match self.staging {
                    StagingOutcome::Failed(r) => Some(r.as_str().to_string()),
                    _ => None,
                },
            },
            ctx.capture_max_body,
            counts,
        )
    }
}

/// The request body copy, once production has read it; `None` (counted) when it never came
/// whole.
async fn request_body(ctx: &MirrorContext, body: JobBody) -> Option<Bytes> {
    match body {
        JobBody::Empty => Some(Bytes::new()),
        JobBody::Pending(rx) => match tokio::time::timeout(ctx.production_wait, rx).await {
            Ok(Ok(BodyCopy::Complete(b))) => Some(b),
            Ok(Ok(BodyCopy::TooLarge { .. })) => {
                ctx.drops.count(DropReason::BodyTooLarge);
                None
            }
            _ => {
                ctx.drops.count(DropReason::RequestIncomplete);
                None
            }
        },
    }
}

/// Sends the masked copy to staging, unless there is no staging or its circuit is open.
async fn send_copy(
    ctx: &MirrorContext,
    route: &RouteEntry,
    method: &http::Method,
    copy: &MaskedRequest,
) -> StagingOutcome {
    let Some(st) = &ctx.staging else {
        return StagingOutcome::NotSent;
    };
    if st.circuit.is_open() {
        ctx.drops.count(DropReason::CircuitOpen);
        return StagingOutcome::Failed(DropReason::CircuitOpen);
    }
    let mut headers = copy.headers.clone();
    prepare_headers(st, &mut headers, copy.body.len());
    route.with_divergence(|d| d.mirrored += 1);
    ctx.metrics.mirrored.inc();
    // Boxed: the exchange's state is large, and unboxed it would be copied with the whole task
    // into the runtime on every spawn.
    let outcome = Box::pin(send(
        st,
        ctx.compare_max_body,
        method,
        &copy.target,
        &headers,
        copy.body.clone(),
    ))
    .await;
    match &outcome {
        StagingOutcome::Answered {
            status, latency, ..
        } => {
            st.circuit.success();
            route.staging.record(&ctx.metrics, *status, *latency);
        }
        StagingOutcome::Failed(reason) => {
            st.circuit.failure();
            ctx.drops.count(*reason);
            let why = match reason {
                DropReason::Timeout => NotCompared::StagingTimeout,
                _ => NotCompared::StagingFailed,
            };
            route.with_divergence(|d| {
                d.staging_failures += 1;
                d.record_not_compared(why);
            });
            route.count_not_compared(&ctx.metrics, why);
        }
        StagingOutcome::NotSent => {}
    }
    outcome
}

/// Both responses, masked.
struct Views {
    production: Option<ResponseView>,
    staging: Option<ResponseView>,
}

impl Views {
    fn new(
        ctx: &MirrorContext,
        copy: &MaskedRequest,
        production: Option<&ProdOutcome>,
        staging: &StagingOutcome,
        counts: &mut MaskCounts,
    ) -> Self {
        let production = match production {
            Some(ProdOutcome::Response { head, body, .. }) => Some(ResponseView::new(
                &ctx.masker,
                &copy.scrub,
                &head.headers,
                body,
                ctx.compare_max_body as usize,
                false,
                counts,
            )),
            _ => None,
        };
        let staging = match staging {
            StagingOutcome::Answered { headers, body, .. } => Some(ResponseView::new(
                &ctx.masker,
                &copy.scrub,
                headers,
                body,
                ctx.compare_max_body as usize,
                true,
                counts,
            )),
            _ => None,
        };
        Self {
            production,
            staging,
        }
    }

    /// Compares the masked production response with staging's. Staging may hold data masked
    /// already (loaded by `prodlike data` with the same key) or production's raw values: a
    /// value matches when production's masked value equals staging's as it is or as masked.
    #[allow(clippy::too_many_arguments)] // both responses' parts, borrowed where they live
    fn compare(
        &self,
        ctx: &MirrorContext,
        noise: &[String],
        prod_status: u16,
        prod_headers: &HeaderMap,
        st_status: u16,
        st_headers: &HeaderMap,
        st_body: &BodyCopy,
    ) -> Comparison {
        let (Some(p), Some(s)) = (&self.production, &self.staging) else {
            return Comparison::default();
        };
        let prod_view = view_of(p);
        let st_view = match (&s.unmasked_json, &s.bytes, st_body) {
            (Some(raw), _, _) => BodyView::Json(raw),
            // Staging's raw text equal to production's masked text: staging holds masked data.
            (None, Some(_), BodyCopy::Complete(raw))
                if p.bytes.as_deref() == Some(raw.as_ref()) =>
            {
                BodyView::Bytes(raw)
            }
            _ => view_of(s),
        };
        let mut c = ctx.comparator.compare_excluding(
            Side::new(prod_status, prod_headers, prod_view),
            Side::new(st_status, st_headers, st_view),
            s.json.as_ref(),
            noise,
        );
        if let Some(masked) = &s.json {
            show_masked_staging_values(&mut c, masked);
        }
        c
    }
}

fn view_of(v: &ResponseView) -> BodyView<'_> {
    match (&v.json, &v.bytes) {
        (Some(j), _) => BodyView::Json(j),
        (None, Some(b)) => BodyView::Bytes(b),
        _ => BodyView::Unavailable(v.not_comparable.unwrap_or(NotCompared::CutShort)),
    }
}

/// A body as received, for bytes compared as they are.
fn raw_view(body: &BodyCopy) -> BodyView<'_> {
    match body {
        BodyCopy::Complete(b) => BodyView::Bytes(b),
        BodyCopy::TooLarge { .. } => BodyView::Unavailable(NotCompared::TooLarge),
        BodyCopy::Incomplete => BodyView::Unavailable(NotCompared::CutShort),
        BodyCopy::Cut { .. } => BodyView::Unavailable(NotCompared::StreamCut),
    }
}

/// What is shown of staging's values is masked too, so a diff never displays an unmasked value.
fn show_masked_staging_values(c: &mut Comparison, masked: &Value) {
    for d in &mut c.body {
        if d.staging.is_some() {
            let pointer = if d.path == "/" { "" } else { d.path.as_str() };
            d.staging = masked.pointer(pointer).map(|v| {
                let s = v.to_string();
                if s.chars().count() > 120 {
                    format!("{}…", s.chars().take(120).collect::<String>())
                } else {
                    s
                }
            });
        }
    }
}

/// The comparison as it may be shown: header values masked and scrubbed. Body values are
/// masked already (both sides' views are).
fn shown(
    ctx: &MirrorContext,
    copy: &MaskedRequest,
    mut c: Comparison,
    counts: &mut MaskCounts,
) -> Comparison {
    for (name, p, s) in &mut c.headers {
        for v in [p, s].into_iter().flatten() {
            let masked = ctx
                .masker
                .header(name, v, counts)
                .unwrap_or_else(|| v.clone());
            *v = copy.scrub.scrub_str(&masked).into_owned();
        }
    }
    c
}

fn record_comparison(
    ctx: &MirrorContext,
    route: &RouteEntry,
    c: &Comparison,
    (prod_status, prod_latency): (u16, Duration),
    (staging_status, staging_latency): (u16, Duration),
    example: impl FnOnce() -> DiffExample,
) {
    ctx.timeline.record_latencies(prod_latency, staging_latency);
    let outcome = route.with_divergence(|d| {
        d.production_latency.record(prod_latency);
        d.staging_latency.record(staging_latency);
        d.production_statuses.record(prod_status);
        d.staging_statuses.record(staging_status);
        d.record_with_noise(c, &ctx.noise, example)
    });
    route.count_comparison(
        &ctx.metrics,
        outcome,
        [c.status_differs(), c.headers_differ(), c.body_differs()],
    );
}
