//! One sampled exchange on the mirror side, step by step: wait for the request body, mask the
//! copy, send it to staging, wait for production's answer, mask both responses, compare and
//! record per route, capture. Runs on the mirror runtime only.
use std::sync::Arc;
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
    // The probe resends the request as the client sent it, to production only.
    let probe_headers = match ctx.probe.as_ref().map(|p| p.admit(&method)) {
        Some(Ok(true)) => Some(headers.clone()),
        Some(Err(())) => {
            ctx.metrics.noise_probes_capped.inc();
            None
        }
        _ => None,
    };
    let mut counts = MaskCounts::default();
    let decode_limit = ctx.max_body as usize;
    let copy = match MaskedRequest::new(
        &ctx.masker,
        &target,
        headers,
        request_body,
        decode_limit,
        &mut counts,
    ) {
        Ok(c) => c,
        Err(why) => {
            tracing::debug!(route = %route.name, reason = why.as_str(), "copy not mirrored: its body cannot be inspected");
            ctx.drops.count(match why {
                Unmaskable::DecodedTooLarge => DropReason::DecodedTooLarge,
                _ => DropReason::UnmaskableBody,
            });
            ctx.metrics.count_masked(&route.name, &counts);
            return;
        }
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

    if let (Some(p), Some(h), Some(ProdOutcome::Response { head, body, .. })) =
        (&ctx.probe, &probe_headers, &production)
    {
        ctx.metrics.noise_probes.inc();
        let paths = p
            .differing_paths(
                &ctx.comparator,
                head.upstream,
                (&method, &target, h),
                (head, body),
                ctx.compare_max_body,
            )
            .await;
        if let Some(paths) = paths {
            route.with_divergence(|d| d.record_probe(&paths, &ctx.noise));
        }
    }

    // Identical bytes match whatever their masking; when nothing is captured they need no
    // parsing or masking at all.
    let identical = matches!(
        (&production, &staging),
        (
            Some(ProdOutcome::Response { body: BodyCopy::Complete(p), .. }),
            StagingOutcome::Answered { body: BodyCopy::Complete(s), .. },
        ) if p == s
    );
    let views = if identical && ctx.capture.is_none() {
        None
    } else {
        Some(Views::new(
            ctx,
            &copy,
            production.as_ref(),
            &staging,
            &mut counts,
        ))
    };

    if let (
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
    ) = (&production, &staging)
    {
        let comparison = match &views {
            _ if identical => {
                let same = raw_view(prod_body);
                let same_again = raw_view(st_body);
                ctx.comparator.compare(
                    Side::new(head.status, &head.headers, same),
                    Side::new(*status, st_headers, same_again),
                    None,
                )
            }
            Some(v) => {
                let noise = route.with_divergence(|d| d.noise.ignored());
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
        let comparison = shown(ctx, &copy, comparison, &mut counts);
        record_comparison(ctx, &route, &comparison, *prod_latency, *st_latency, || {
            DiffExample {
                at: humantime::format_rfc3339_seconds(arrived_at).to_string(),
                method: method.to_string(),
                target: copy.target.clone(),
                production_status: head.status,
                staging_status: *status,
                headers: comparison.headers.clone(),
                body: comparison.body.clone(),
                body_diff_count: comparison.body_diff_count,
            }
        });
    }

    if matches!(staging, StagingOutcome::Answered { .. })
        && !matches!(production, Some(ProdOutcome::Response { .. }))
    {
        route.with_divergence(|d| d.record_not_compared(NotCompared::ProductionFailed));
        route.count_not_compared(&ctx.metrics, NotCompared::ProductionFailed);
    }

    if let (Some(capture), Some(views)) = (&ctx.capture, &views) {
        let production_answer = match &production {
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
        let staging_answer = match &staging {
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
        let exchange = record::exchange(
            &ctx.masker,
            RecordParts {
                id: ctx.ids.fetch_add(1, Ordering::Relaxed),
                arrived_at,
                route: &route.name,
                method: method.as_str(),
                version,
                copy: &copy,
                production: production_answer,
                production_error: record::production_error(production.as_ref()),
                staging: staging_answer,
                staging_error: match &staging {
                    StagingOutcome::Failed(r) => Some(r.as_str().to_string()),
                    _ => None,
                },
            },
            ctx.capture_max_body,
            &mut counts,
        );
        capture.write(exchange, &ctx.metrics);
    }
    ctx.metrics.count_masked(&route.name, &counts);
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
    route: &Arc<RouteEntry>,
    c: &Comparison,
    prod_latency: Duration,
    staging_latency: Duration,
    example: impl FnOnce() -> DiffExample,
) {
    ctx.timeline.record_latencies(prod_latency, staging_latency);
    let outcome = route.with_divergence(|d| {
        d.production_latency.record(prod_latency);
        d.staging_latency.record(staging_latency);
        d.record_with_noise(c, &ctx.noise, example)
    });
    route.count_comparison(
        &ctx.metrics,
        outcome,
        [c.status_differs(), c.headers_differ(), c.body_differs()],
    );
}
