//! One exchange, masked: the copy as staging gets it (target, headers, body) and both responses
//! as they are compared, shown and captured. Everything that leaves the production side passes
//! through here, and every value masked is counted per detector.
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use prodlike_mask::MaskCounts;
use serde_json::Value;

use crate::body::BodyCopy;
use crate::compare::NotCompared;
use crate::masking::{MaskedBody, TrafficMasker, Unmaskable, decoded, looks_like_json};
use crate::scrub::Scrubber;

/// The copy of a request, masked.
pub(super) struct MaskedRequest {
    /// Path and query as sent to staging and captured.
    pub target: String,
    /// Headers with personal values masked and echoes of masked values scrubbed.
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The raw values this exchange's masking replaced, to replace wherever production echoes
    /// them (a response repeating the query, a `Location` header).
    pub scrub: Scrubber,
}

impl MaskedRequest {
    /// Masks the copy, or says why its body cannot be inspected (the copy is then not sent).
    /// A compressed body is decoded (at most `decode_limit` bytes) and sent to staging decoded.
    pub fn new(
        masker: &TrafficMasker,
        raw_target: &str,
        mut raw_headers: HeaderMap,
        raw_body: Bytes,
        decode_limit: usize,
        counts: &mut MaskCounts,
    ) -> Result<Self, Unmaskable> {
        let target = masker.target(raw_target, counts).into_owned();
        let (plain_body, body) =
            match masker.body(&raw_headers, raw_body.clone(), decode_limit, counts) {
                MaskedBody::Ready(b) => (raw_body, b),
                MaskedBody::Decoded { plain, masked } => {
                    // The copy travels decoded: its coding and length no longer apply.
                    raw_headers.remove(http::header::CONTENT_ENCODING);
                    raw_headers.remove(http::header::CONTENT_LENGTH);
                    (plain, masked)
                }
                MaskedBody::Unmaskable(why) => return Err(why),
            };
        let scrub = scrubber_for(raw_target, &target, &raw_headers, &plain_body, &body);
        let mut headers = mask_headers(masker, raw_headers, counts);
        scrub_headers(&scrub, &mut headers);
        Ok(Self {
            target,
            headers,
            body,
            scrub,
        })
    }
}

/// Every header value the masker finds personal is replaced; a value that is not text cannot
/// be inspected and is left out when detection is on.
fn mask_headers(masker: &TrafficMasker, headers: HeaderMap, counts: &mut MaskCounts) -> HeaderMap {
    if !masker.is_active() {
        return headers;
    }
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in &headers {
        let masked = match value.to_str() {
            Ok(text) => match masker.header(name.as_str(), text, counts) {
                Some(m) => HeaderValue::from_str(&m).ok(),
                None => Some(value.clone()),
            },
            Err(_) if masker.detects() => None,
            Err(_) => Some(value.clone()),
        };
        if let Some(v) = masked {
            out.append(name.clone(), v);
        }
    }
    out
}

/// A response as the mirror side may use it: compared, shown in examples, captured.
pub(super) struct ResponseView {
    /// The JSON body, masked and scrubbed.
    pub json: Option<Value>,
    /// The JSON body as received, when asked for (staging's, compared as it is as well as
    /// masked); never shown or written.
    pub unmasked_json: Option<Value>,
    /// A body that is not JSON: masked text, or raw bytes that are only compared by hash.
    pub bytes: Option<Bytes>,
    /// Why the body must not be written or shown (it could not be inspected).
    pub omitted: Option<Unmaskable>,
    /// The body was decoded from its `Content-Encoding`: what is kept is the decoded body.
    pub decoded: bool,
    /// Why this body cannot be compared at all (neither structurally nor by hash).
    pub not_comparable: Option<NotCompared>,
    /// The whole body's length as received.
    pub len: u64,
}

impl ResponseView {
    /// Masks a response body by its headers; `counts` gains what was masked. A compressed body
    /// is decoded first (at most `decode_limit` bytes). `keep_unmasked` keeps the parsed JSON
    /// as received too.
    pub fn new(
        masker: &TrafficMasker,
        scrub: &Scrubber,
        headers: &HeaderMap,
        body: &BodyCopy,
        decode_limit: usize,
        keep_unmasked: bool,
        counts: &mut MaskCounts,
    ) -> Self {
        let received = match body {
            BodyCopy::Complete(b) => b,
            BodyCopy::TooLarge { seen } => return Self::unavailable(*seen, NotCompared::TooLarge),
            BodyCopy::Incomplete => return Self::unavailable(0, NotCompared::CutShort),
            BodyCopy::Cut { seen } => return Self::unavailable(*seen, NotCompared::StreamCut),
        };
        let len = received.len() as u64;
        let mut view = Self {
            json: None,
            unmasked_json: None,
            bytes: None,
            omitted: None,
            decoded: false,
            not_comparable: None,
            len,
        };
        let plain;
        let raw = match decoded(headers, received, decode_limit) {
            Ok(None) => received,
            Ok(Some(p)) => {
                view.decoded = true;
                plain = p;
                &plain
            }
            // Not inspected, so never shown, written or compared: identical bytes on both
            // sides are still found equal before any decoding (see process.rs).
            Err(why) => {
                view.omitted = Some(why);
                view.not_comparable = Some(match why {
                    Unmaskable::DecodedTooLarge => NotCompared::DecodedTooLarge,
                    _ => NotCompared::Encoding,
                });
                return view;
            }
        };
        if is_json(headers, raw) {
            match serde_json::from_slice::<Value>(raw) {
                Ok(mut v) if !raw.is_empty() => {
                    if keep_unmasked {
                        view.unmasked_json = Some(v.clone());
                    }
                    masker.json(&mut v, counts);
                    scrub.scrub_json(&mut v);
                    view.json = Some(v);
                }
                // JSON that did not parse is never written: it cannot be proven clean.
                _ if masker.is_active() => {
                    view.omitted = Some(Unmaskable::NotJson);
                    view.not_comparable = Some(NotCompared::NotJson);
                }
                _ => view.bytes = Some(raw.clone()),
            }
        } else {
            match std::str::from_utf8(raw) {
                Ok(text) => {
                    let masked = masker.text(text, counts);
                    let clean = scrub.scrub_str(&masked);
                    view.bytes = Some(Bytes::from(clean.into_owned()));
                }
                Err(_) if masker.detects() => {
                    view.bytes = Some(raw.clone());
                    view.omitted = Some(Unmaskable::Binary);
                }
                Err(_) => view.bytes = Some(Bytes::from(scrub.scrub_bytes(raw).into_owned())),
            }
        }
        view
    }

    fn unavailable(len: u64, why: NotCompared) -> Self {
        Self {
            json: None,
            unmasked_json: None,
            bytes: None,
            omitted: None,
            decoded: false,
            not_comparable: Some(why),
            len,
        }
    }
}

pub(super) fn is_json(headers: &HeaderMap, body: &[u8]) -> bool {
    match headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        Some(ct) => ct
            .as_bytes()
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"json")),
        None => looks_like_json(body),
    }
}

/// A response's headers for the capture: credentials left out, the rest masked, then scrubbed
/// of echoed raw values.
pub(super) fn captured_headers(
    masker: &TrafficMasker,
    scrub: &Scrubber,
    h: &HeaderMap,
    counts: &mut MaskCounts,
) -> Vec<(String, String)> {
    h.iter()
        .filter(|(k, _)| !NEVER_CAPTURED.contains(&k.as_str()))
        .filter_map(|(k, v)| {
            let text = match v.to_str() {
                Ok(t) => t,
                Err(_) if masker.detects() => return None,
                Err(_) => {
                    return Some((
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    ));
                }
            };
            let masked = masker
                .header(k.as_str(), text, counts)
                .unwrap_or_else(|| text.to_owned());
            Some((
                k.as_str().to_string(),
                scrub.scrub_str(&masked).into_owned(),
            ))
        })
        .collect()
}

/// Headers never written to a capture: credentials and session cookies.
pub(super) const NEVER_CAPTURED: [&str; 4] = [
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
];

/// The scrubber of one exchange: the raw values its masking replaced.
fn scrubber_for(
    raw_target: &str,
    masked_target: &str,
    headers: &HeaderMap,
    raw_body: &Bytes,
    masked_body: &Bytes,
) -> Scrubber {
    let mut s = Scrubber::default();
    let split = |t: &str| match t.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (t.to_owned(), None),
    };
    let (raw_path, raw_query) = split(raw_target);
    let (masked_path, masked_query) = split(masked_target);
    if raw_path != masked_path {
        s.add_path(&raw_path, &masked_path);
    }
    if let (Some(rq), Some(mq)) = (raw_query, masked_query) {
        s.add_query(&rq, &mq);
    }
    if raw_body != masked_body {
        if is_json(headers, raw_body) {
            if let (Ok(r), Ok(m)) = (
                serde_json::from_slice::<Value>(raw_body),
                serde_json::from_slice::<Value>(masked_body),
            ) {
                s.add_json(&r, &m);
            }
        } else if is_form(headers)
            && let (Ok(r), Ok(m)) = (
                std::str::from_utf8(raw_body),
                std::str::from_utf8(masked_body),
            )
        {
            s.add_query(r, m);
        }
        // Spans masked in free text are found by their shape wherever they are echoed, with the
        // same pseudonym: they need no scrubbing.
    }
    s.finish();
    s
}

fn is_form(headers: &HeaderMap) -> bool {
    headers.get(http::header::CONTENT_TYPE).is_some_and(|ct| {
        ct.as_bytes()
            .starts_with(b"application/x-www-form-urlencoded")
    })
}

/// Headers of the copy can echo masked values too (a custom header repeating the query).
fn scrub_headers(scrub: &Scrubber, h: &mut HeaderMap) {
    if scrub.is_empty() {
        return;
    }
    for v in h.values_mut() {
        if let Ok(text) = v.to_str()
            && let std::borrow::Cow::Owned(clean) = scrub.scrub_str(text)
            && let Ok(nv) = HeaderValue::from_str(&clean)
        {
            *v = nv;
        }
    }
}
