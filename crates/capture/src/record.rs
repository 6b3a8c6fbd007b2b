use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Value of the header's `format` field.
pub const FORMAT: &str = "prodlike-capture";
/// The format version this crate writes and the highest it reads. Version 2 changed what
/// `masked` means (every record masked, recorded per record too) and added `mask`; version 1
/// files are still read, their records taken as unmasked.
pub const VERSION: u32 = 2;

/// One line of a capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Header(Header),
    Exchange(Box<Exchange>),
}

/// First line of every capture file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version; readers refuse versions above their own.
    pub version: u32,
    /// RFC 3339 UTC time the file was started.
    pub created_at: String,
    /// What wrote it, e.g. `prodlike shadow 0.1.0`.
    pub source: String,
    /// True when every record of the file is masked: detection was on, so whatever the
    /// detectors find personal was masked, and bodies that could not be inspected were left out.
    /// In version 1 files this only meant that some rule was configured.
    pub masked: bool,
    /// How the records were masked; absent in version 1 files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<MaskSummary>,
}

/// How a capture's records were masked. Never holds the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskSummary {
    /// Whether PII detection was on (off: only configured rules were applied).
    pub detect: bool,
    /// Digest of the masking rules (detect, keep, json, query).
    pub rules_digest: String,
    /// Fingerprint of the mask key; absent when nothing was masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
    /// `env`, `given` or `ephemeral` (a random key for that run only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_source: Option<String>,
}

impl Header {
    pub fn new(
        source: impl Into<String>,
        created_at: impl Into<String>,
        masked: bool,
        mask: Option<MaskSummary>,
    ) -> Self {
        Self {
            format: FORMAT.to_string(),
            version: VERSION,
            created_at: created_at.into(),
            source: source.into(),
            masked,
            mask,
        }
    }
}

/// One request seen by the proxy, with both environments' answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// Sequence number within the writing process.
    pub id: u64,
    /// When the request arrived at the proxy, microseconds since the Unix epoch. Replay keeps
    /// the gaps between these.
    pub ts_us: u64,
    /// Normalised route (`/users/{id}`), for grouping.
    #[serde(default)]
    pub route: String,
    /// True when this record was masked as a whole (detection on). False in records written
    /// with detection off and in version 1 files: their values may be in clear.
    #[serde(default)]
    pub masked: bool,
    pub request: CapturedRequest,
    /// Production's response; absent when production failed (see `production_error`).
    #[serde(default)]
    pub production: Option<CapturedResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_error: Option<String>,
    /// Staging's response; absent when the copy was not sent or failed (see `staging_error`).
    #[serde(default)]
    pub staging: Option<CapturedResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedRequest {
    pub method: String,
    /// Path and query, as sent upstream (masked).
    pub target: String,
    /// `HTTP/1.1`, `HTTP/2`.
    #[serde(default)]
    pub version: String,
    /// Header name/value pairs in order; names lower-case.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: Option<Body>,
    /// Length of the whole body, which may exceed what `body` holds.
    #[serde(default)]
    pub body_len: u64,
    /// True when `body` holds only the first bytes of the body.
    #[serde(default)]
    pub body_truncated: bool,
    /// Why the body was left out although it was not empty: `compressed`, `binary`,
    /// `not_json`, `too_long` (it could not be inspected, so it was not written in clear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_omitted: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: Option<Body>,
    #[serde(default)]
    pub body_len: u64,
    #[serde(default)]
    pub body_truncated: bool,
    /// Why the body was left out although it was not empty (see [`CapturedRequest`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_omitted: Option<String>,
    /// From the request's arrival to the end of the response, microseconds.
    pub latency_us: u64,
}

/// A body: UTF-8 text as is, anything else base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    Text(String),
    Base64(String),
}

impl Body {
    pub fn from_bytes(bytes: &[u8]) -> Body {
        match std::str::from_utf8(bytes) {
            Ok(s) => Body::Text(s.to_string()),
            Err(_) => Body::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
        }
    }

    /// The raw bytes; `None` when base64 is malformed.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Body::Text(s) => Some(s.as_bytes().to_vec()),
            Body::Base64(b) => base64::engine::general_purpose::STANDARD.decode(b).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip() {
        for bytes in [&b"{\"a\":1}"[..], &[0xff, 0x00, 0x80][..], &b""[..]] {
            assert_eq!(Body::from_bytes(bytes).to_bytes().unwrap(), bytes);
        }
        assert!(matches!(Body::from_bytes(b"hi"), Body::Text(_)));
        assert!(matches!(Body::from_bytes(&[0xff]), Body::Base64(_)));
        assert_eq!(Body::Base64("!!".into()).to_bytes(), None);
    }
}
