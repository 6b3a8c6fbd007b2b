//! The mask engine applied to traffic, on the mirror side only (never on production's path):
//! the copy's target, headers and body before it is sent to staging, and both responses before
//! they are compared, captured or shown.
//!
//! Detection is on by default (`mask.detect`): every value that prodlike-mask's detectors find
//! personal is masked with its class's canonical pseudonym, the same one `prodlike data` gives
//! the same value under the same key. Compressed bodies (gzip, deflate, br, zstd) are decoded
//! first, within a size limit. A body that cannot be inspected (an unknown or corrupt coding, a
//! decoded size over the limit, binary, JSON that does not parse) is not copied in clear: the
//! copy is dropped as `unmaskable_body`, and a captured response keeps its length but not its
//! bytes.
use std::borrow::Cow;

use bytes::Bytes;
use http::HeaderMap;
use prodlike_mask::detect::MAX_SCANNED_TEXT;
use prodlike_mask::{BodyMask, HttpMasker, KeyError, MaskCounts, MaskKey, Masker};
use prodlike_net::decode::{self, DecodeError};
use serde::Serialize;
use serde_json::Value;

use crate::config::MaskConfig;
use crate::error::ShadowError;

/// Why a body could not be inspected (and so was neither copied nor captured).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmaskable {
    /// A `Content-Encoding` that is unknown, or a body that does not decode.
    Encoding,
    /// The decoded body is larger than the limit: a decompression bomb, or just too large.
    DecodedTooLarge,
    /// It claims to be JSON but does not parse.
    NotJson,
    /// Bytes that are not text.
    Binary,
    /// Text longer than the detectors scan.
    TooLong,
}

impl Unmaskable {
    pub fn as_str(self) -> &'static str {
        match self {
            Unmaskable::Encoding => "encoding",
            Unmaskable::DecodedTooLarge => "decoded_too_large",
            Unmaskable::NotJson => "not_json",
            Unmaskable::Binary => "binary",
            Unmaskable::TooLong => "too_long",
        }
    }
}

/// What became of a body.
#[derive(Debug, PartialEq)]
pub enum MaskedBody {
    /// Safe to send: nothing personal in it, or it was masked.
    Ready(Bytes),
    /// It was decoded from its `Content-Encoding` and masked: send `masked` without that header.
    /// `plain` is the decoded body before masking (never sent; it pairs raw and masked values).
    Decoded { plain: Bytes, masked: Bytes },
    /// It cannot be proven clean: not mirrored, not captured.
    Unmaskable(Unmaskable),
}

/// Where the mask key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// The variable named by `mask.key_env`.
    Env,
    /// Given by the caller (tests, the demo).
    Given,
    /// Random for this process: no key was configured.
    Ephemeral,
}

/// What masking does in this run, for the capture header, the result and the start-up log.
/// Never holds the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaskInfo {
    /// Whether detection is on.
    pub detect: bool,
    /// Digest of the rules (detect, keep, json, query): equal digests, equal rules.
    pub rules_digest: String,
    /// The key's fingerprint; absent when nothing is masked.
    pub key_fingerprint: Option<String>,
    pub key_source: Option<KeySource>,
}

#[derive(Clone)]
pub struct TrafficMasker {
    http: Option<HttpMasker>,
    info: MaskInfo,
}

impl Default for TrafficMasker {
    /// Masks nothing (only for tests of the proxy's plumbing; configs get detection by default).
    fn default() -> Self {
        Self {
            http: None,
            info: MaskInfo {
                detect: false,
                rules_digest: String::new(),
                key_fingerprint: None,
                key_source: None,
            },
        }
    }
}

impl TrafficMasker {
    /// Builds the masker of `cfg`, with `key` if given, else the key in `mask.key_env`, else a
    /// random key for this run (with a warning: its pseudonyms match no other run's).
    pub fn from_config(cfg: &MaskConfig, key: Option<MaskKey>) -> Result<Self, ShadowError> {
        let rules = cfg.rules();
        let digest = rules.digest();
        if rules.is_noop() {
            tracing::warn!(
                "masking is off (mask.detect = false and no mask rules): staging, the capture and the \
                 divergence examples get production's values in clear"
            );
            return Ok(Self {
                http: None,
                info: MaskInfo {
                    detect: false,
                    rules_digest: digest,
                    key_fingerprint: None,
                    key_source: None,
                },
            });
        }
        if !rules.detect {
            tracing::warn!(
                "mask.detect = false: only the values that mask rules name are masked; anything \
                 else personal reaches staging and the capture in clear"
            );
        }
        let (key, source) = match key {
            Some(k) => (k, KeySource::Given),
            None => match MaskKey::from_env(&cfg.key_env) {
                Ok(k) => (k, KeySource::Env),
                Err(KeyError::MissingEnv { var }) => {
                    tracing::warn!(
                        "{var} is not set: masking with a random key for this run only; its \
                         pseudonyms match neither prodlike data's nor another shadow instance's \
                         (set {var} to a secret of 16+ bytes to make them stable)"
                    );
                    (
                        MaskKey::ephemeral().map_err(ShadowError::MaskKey)?,
                        KeySource::Ephemeral,
                    )
                }
                Err(e) => return Err(ShadowError::MaskKey(e)),
            },
        };
        let masker = Masker::new(key);
        let http = rules
            .compile(&masker)
            .map_err(|e| ShadowError::MaskRules(e.at("mask")))?;
        Ok(Self {
            info: MaskInfo {
                detect: rules.detect,
                rules_digest: digest,
                key_fingerprint: Some(masker.key_fingerprint().to_owned()),
                key_source: Some(source),
            },
            http: Some(http),
        })
    }

    pub fn is_active(&self) -> bool {
        self.http.is_some()
    }

    /// Whether detection is on: every record is then masked as a whole.
    pub fn detects(&self) -> bool {
        self.http.as_ref().is_some_and(HttpMasker::detects)
    }

    pub fn info(&self) -> &MaskInfo {
        &self.info
    }

    /// Masks a request target: the query, and with detection the path's personal segments.
    pub fn target<'a>(&self, path_and_query: &'a str, counts: &mut MaskCounts) -> Cow<'a, str> {
        match &self.http {
            Some(http) => http.mask_target(path_and_query, counts),
            None => Cow::Borrowed(path_and_query),
        }
    }

    /// A header's masked value, or `None` to keep it.
    pub fn header(&self, name: &str, value: &str, counts: &mut MaskCounts) -> Option<String> {
        self.http.as_ref()?.mask_header(name, value, counts)
    }

    /// Free text (a header shown in a diff, a non-JSON body).
    pub fn text<'a>(&self, text: &'a str, counts: &mut MaskCounts) -> Cow<'a, str> {
        match self.http.as_ref().and_then(|h| h.mask_text(text, counts)) {
            Some(m) => Cow::Owned(m),
            None => Cow::Borrowed(text),
        }
    }

    /// Masks a request body by its content type: JSON by the JSON rules and detection, form
    /// bodies as queries, text by the text detectors. A compressed body is decoded first (at
    /// most `limit` bytes decoded). With detection on, a body that cannot be inspected is
    /// [`MaskedBody::Unmaskable`].
    pub fn body(
        &self,
        headers: &HeaderMap,
        body: Bytes,
        limit: usize,
        counts: &mut MaskCounts,
    ) -> MaskedBody {
        if self.http.is_none() || body.is_empty() {
            return MaskedBody::Ready(body);
        }
        match decoded(headers, &body, limit) {
            Ok(None) => self.plain_body(headers, body, counts),
            Ok(Some(plain)) => match self.plain_body(headers, plain.clone(), counts) {
                MaskedBody::Ready(masked) => MaskedBody::Decoded { plain, masked },
                other => other,
            },
            Err(why) => MaskedBody::Unmaskable(why),
        }
    }

    /// A body with no content coding (or decoded already).
    fn plain_body(&self, headers: &HeaderMap, body: Bytes, counts: &mut MaskCounts) -> MaskedBody {
        let Some(http) = &self.http else {
            return MaskedBody::Ready(body);
        };
        let detects = http.detects();
        match body_kind(headers, &body) {
            Kind::Json => match http.mask_json_body_counted(&body, counts) {
                Ok(BodyMask::Unchanged) => MaskedBody::Ready(body),
                Ok(BodyMask::Masked(m)) => MaskedBody::Ready(Bytes::from(m)),
                Err(_) => MaskedBody::Unmaskable(Unmaskable::NotJson),
            },
            Kind::Form => match std::str::from_utf8(&body) {
                Ok(text) => match http.mask_query_counted(text, counts) {
                    Cow::Borrowed(_) => MaskedBody::Ready(body),
                    Cow::Owned(m) => MaskedBody::Ready(Bytes::from(m)),
                },
                Err(_) if detects => MaskedBody::Unmaskable(Unmaskable::Binary),
                Err(_) => MaskedBody::Ready(body),
            },
            Kind::Other if !detects => MaskedBody::Ready(body),
            Kind::Other => match std::str::from_utf8(&body) {
                Ok(text) if text.len() > MAX_SCANNED_TEXT => {
                    MaskedBody::Unmaskable(Unmaskable::TooLong)
                }
                Ok(text) => match http.mask_text(text, counts) {
                    Some(m) => MaskedBody::Ready(Bytes::from(m)),
                    None => MaskedBody::Ready(body),
                },
                Err(_) => MaskedBody::Unmaskable(Unmaskable::Binary),
            },
        }
    }

    /// Masks a parsed JSON value in place.
    pub fn json(&self, v: &mut Value, counts: &mut MaskCounts) {
        if let Some(http) = &self.http {
            http.mask_json_value(v, counts);
        }
    }
}

/// The body decoded from its `Content-Encoding`, within `limit` bytes; `None` when it has no
/// content coding.
pub fn decoded(
    headers: &HeaderMap,
    body: &[u8],
    limit: usize,
) -> Result<Option<Bytes>, Unmaskable> {
    let codings = decode::codings(headers).map_err(|_| Unmaskable::Encoding)?;
    if codings.is_empty() {
        return Ok(None);
    }
    match decode::decode(body, &codings, limit) {
        Ok(plain) => Ok(Some(Bytes::from(plain))),
        Err(DecodeError::TooLarge { .. }) => Err(Unmaskable::DecodedTooLarge),
        Err(_) => Err(Unmaskable::Encoding),
    }
}

enum Kind {
    Json,
    Form,
    Other,
}

fn body_kind(headers: &HeaderMap, body: &[u8]) -> Kind {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.contains("json") {
        Kind::Json
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        Kind::Form
    } else if ct.is_empty() && looks_like_json(body) {
        Kind::Json
    } else {
        Kind::Other
    }
}

/// A body without a content type that starts like a JSON document.
pub fn looks_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{') | Some(b'[')
    )
}
