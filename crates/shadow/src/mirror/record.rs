//! The capture record of one exchange, built only from masked parts: the masked copy, and each
//! response's masked view. A body that could not be inspected is left out with its reason.
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use prodlike_capture::{Body as CaptureBody, CapturedRequest, CapturedResponse, Exchange};
use prodlike_mask::MaskCounts;

use super::masked::{MaskedRequest, NEVER_CAPTURED, ResponseView, captured_headers};
use crate::body::ProdOutcome;
use crate::masking::TrafficMasker;

/// A response ready to be captured: status, headers, its masked view and latency.
pub(super) struct Answer<'a> {
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub view: &'a ResponseView,
    pub latency: Duration,
}

/// Everything a capture record is made of.
pub(super) struct RecordParts<'a> {
    pub id: u64,
    pub arrived_at: SystemTime,
    pub route: &'a str,
    pub method: &'a str,
    pub version: http::Version,
    pub copy: &'a MaskedRequest,
    pub production: Option<Answer<'a>>,
    pub production_error: Option<String>,
    pub staging: Option<Answer<'a>>,
    pub staging_error: Option<String>,
}

pub(super) fn exchange(
    masker: &TrafficMasker,
    parts: RecordParts<'_>,
    max_body: u64,
    counts: &mut MaskCounts,
) -> Exchange {
    let copy = parts.copy;
    let request_headers: Vec<(String, String)> = copy
        .headers
        .iter()
        .filter(|(k, _)| !NEVER_CAPTURED.contains(&k.as_str()))
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut response = |a: Answer<'_>| captured_response(masker, copy, a, max_body, counts);
    let production = parts.production.map(&mut response);
    let staging = parts.staging.map(&mut response);
    Exchange {
        id: parts.id,
        ts_us: parts
            .arrived_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0),
        route: parts.route.to_string(),
        masked: masker.detects(),
        request: CapturedRequest {
            method: parts.method.to_string(),
            target: copy.target.clone(),
            version: format!("{:?}", parts.version),
            headers: request_headers,
            body: captured_body(&copy.body, max_body),
            body_len: copy.body.len() as u64,
            body_truncated: copy.body.len() as u64 > max_body,
            body_omitted: None,
        },
        production,
        production_error: parts.production_error,
        staging,
        staging_error: parts.staging_error,
    }
}

/// Why production gave no response, for the record.
pub(super) fn production_error(p: Option<&ProdOutcome>) -> Option<String> {
    match p {
        Some(ProdOutcome::Failed { reason, status }) => Some(format!("{reason} ({status})")),
        None => Some("no_response".into()),
        _ => None,
    }
}

fn captured_body(b: &[u8], max: u64) -> Option<CaptureBody> {
    if b.is_empty() {
        return None;
    }
    let cut = &b[..b.len().min(max as usize)];
    Some(CaptureBody::from_bytes(cut))
}

fn captured_response(
    masker: &TrafficMasker,
    copy: &MaskedRequest,
    a: Answer<'_>,
    max_body: u64,
    counts: &mut MaskCounts,
) -> CapturedResponse {
    let view = a.view;
    let (body, truncated) = match (&view.omitted, &view.json, &view.bytes) {
        (Some(_), _, _) => (None, false),
        (None, Some(v), _) => {
            let text = v.to_string();
            (
                captured_body(text.as_bytes(), max_body),
                text.len() as u64 > max_body,
            )
        }
        (None, None, Some(b)) => (captured_body(b, max_body), b.len() as u64 > max_body),
        // Too large to read, or cut short: nothing of it was kept.
        (None, None, None) => (None, view.len > 0),
    };
    let mut headers = captured_headers(masker, &copy.scrub, a.headers, counts);
    if view.decoded {
        // The body is kept decoded: its coding and length no longer describe it.
        headers.retain(|(k, _)| k != "content-encoding" && k != "content-length");
    }
    CapturedResponse {
        status: a.status,
        headers,
        body,
        body_len: view.len,
        body_truncated: truncated,
        body_omitted: view.omitted.map(|u| u.as_str().to_string()),
        latency_us: a.latency.as_micros() as u64,
    }
}
