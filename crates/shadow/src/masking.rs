//! The mask engine applied to traffic: query strings, JSON bodies, form bodies, and JSON
//! values of responses before they are compared, captured or shown.
use std::borrow::Cow;

use bytes::Bytes;
use http::HeaderMap;
use prodlike_mask::{BodyMask, HttpMasker, MaskKey, Masker};
use serde_json::Value;

use crate::config::MaskConfig;
use crate::error::ShadowError;

/// What became of a body.
#[derive(Debug, PartialEq)]
pub enum MaskedBody {
    /// Safe to send: nothing matched, or it was masked.
    Ready(Bytes),
    /// It claims to be JSON but does not parse, so it cannot be proven clean: not mirrored.
    Unmaskable,
}

#[derive(Clone, Default)]
pub struct TrafficMasker {
    http: Option<HttpMasker>,
}

impl TrafficMasker {
    /// No rules: a no-op masker that needs no key.
    pub fn from_config(cfg: &MaskConfig) -> Result<Self, ShadowError> {
        if cfg.is_empty() {
            return Ok(Self::default());
        }
        let key =
            MaskKey::from_env(&cfg.key_env).map_err(|e| ShadowError::MaskKey(e.to_string()))?;
        Self::with_key(cfg, key)
    }

    pub fn with_key(cfg: &MaskConfig, key: MaskKey) -> Result<Self, ShadowError> {
        let masker = Masker::new(key);
        let http = cfg
            .rules()
            .compile(&masker)
            .map_err(|e| ShadowError::MaskKey(format!("mask.{e}")))?;
        Ok(Self { http: Some(http) })
    }

    pub fn is_active(&self) -> bool {
        self.http.is_some()
    }

    /// Masks the query of `path_and_query`.
    pub fn target<'a>(&self, path_and_query: &'a str) -> Cow<'a, str> {
        let Some(http) = &self.http else {
            return Cow::Borrowed(path_and_query);
        };
        match path_and_query.split_once('?') {
            Some((path, query)) => match http.mask_query(query) {
                Cow::Borrowed(_) => Cow::Borrowed(path_and_query),
                Cow::Owned(q) => Cow::Owned(format!("{path}?{q}")),
            },
            None => Cow::Borrowed(path_and_query),
        }
    }

    /// Masks a request or response body by its content type: JSON by the JSON rules, form
    /// bodies by the query rules; other bodies pass unchanged.
    pub fn body(&self, headers: &HeaderMap, body: Bytes) -> MaskedBody {
        let Some(http) = &self.http else {
            return MaskedBody::Ready(body);
        };
        if body.is_empty() {
            return MaskedBody::Ready(body);
        }
        match body_kind(headers, &body) {
            Kind::Json => match http.mask_json_body(&body) {
                Ok(BodyMask::Unchanged) => MaskedBody::Ready(body),
                Ok(BodyMask::Masked(m)) => MaskedBody::Ready(Bytes::from(m)),
                Err(_) => MaskedBody::Unmaskable,
            },
            Kind::Form => match std::str::from_utf8(&body) {
                Ok(text) => match http.mask_query(text) {
                    Cow::Borrowed(_) => MaskedBody::Ready(body),
                    Cow::Owned(m) => MaskedBody::Ready(Bytes::from(m)),
                },
                Err(_) => MaskedBody::Unmaskable,
            },
            Kind::Other => MaskedBody::Ready(body),
        }
    }

    /// Masks a parsed JSON value in place.
    pub fn json(&self, v: &mut Value) {
        if let Some(http) = &self.http {
            http.json.mask_value(v);
        }
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
