//! The masking section of an HTTP component's config (used by `prodlike shadow`), and the
//! compiled masker that applies it to every part of an exchange: path, query, headers, and JSON,
//! form and text bodies.

use std::borrow::Cow;
use std::sync::Arc;

use prodlike_common::percent::{self, Plus};
use serde::{Deserialize, Serialize};

use crate::detect::{DetectorCounts, KeyClass};
use crate::detection::Detection;
use crate::engine::Masker;
use crate::json::{
    BodyError, BodyMask, JsonMaskStats, JsonMasker, JsonRule, KeepRule, pointer_glob,
};
use crate::query::{QueryMaskStats, QueryMasker, QueryRule};
use crate::transform::TransformError;

/// Rules for masking HTTP traffic, to embed in a config file:
///
/// ```toml
/// [mask]
/// # Detection is on unless turned off: emails, phones, cards, national ids, tokens, secrets
/// # by key name, IP addresses and person names are masked wherever they appear.
/// detect = true
/// # What a team has decided is not personal: JSON-pointer globs (`/…`), `query:NAME`,
/// # `header:NAME`, or a bare NAME (a JSON member, query parameter or header of that name).
/// keep = ["/artist/name", "query:q"]
/// [[mask.json]]
/// key = "email"
/// transform = "email"
/// [[mask.json]]
/// path = "/payment/card"
/// transform = { type = "card", keep_bin = true }
/// [[mask.query]]
/// param = "token"
/// transform = { type = "hash", length = 24 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpMaskRules {
    /// Mask every personal value that detection finds, beyond what the rules name. On by
    /// default: turning it off leaves only what `json` and `query` name masked.
    pub detect: bool,
    /// Values kept unmasked although detection flags them (see the type's docs for the forms).
    /// Rules still mask what they name.
    pub keep: Vec<String>,
    /// Rules for JSON request and response bodies.
    pub json: Vec<JsonRule>,
    /// Rules for query-string parameters.
    pub query: Vec<QueryRule>,
}

impl Default for HttpMaskRules {
    fn default() -> Self {
        Self {
            detect: true,
            keep: Vec::new(),
            json: Vec::new(),
            query: Vec::new(),
        }
    }
}

/// One `keep` entry, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Keep {
    /// A JSON-pointer glob.
    Pointer(String),
    Query(String),
    Header(String),
    /// A JSON member, query parameter or header of this name.
    Name(String),
}

fn parse_keep(entry: &str) -> Result<Keep, TransformError> {
    let bad = |why: &str| TransformError::new("", format!("`{entry}`: {why}"));
    if entry.trim().is_empty() {
        return Err(bad("must not be empty"));
    }
    if entry.starts_with('/') {
        pointer_glob(entry).map_err(|e| TransformError::new("", e.message))?;
        return Ok(Keep::Pointer(entry.to_owned()));
    }
    let name = |rest: &str| {
        if rest.is_empty() {
            Err(bad(
                "a name must follow the prefix, e.g. \"header:x-request-id\"",
            ))
        } else {
            Ok(rest.to_owned())
        }
    };
    if let Some(rest) = entry.strip_prefix("query:") {
        return Ok(Keep::Query(name(rest)?));
    }
    if let Some(rest) = entry.strip_prefix("header:") {
        return Ok(Keep::Header(name(rest)?.to_ascii_lowercase()));
    }
    Ok(Keep::Name(entry.to_owned()))
}

impl HttpMaskRules {
    /// No rules, no keep entries and detection off: masking does nothing.
    pub fn is_noop(&self) -> bool {
        !self.detect && self.json.is_empty() && self.query.is_empty()
    }

    /// Checks every rule; error fields look like `json[1].transform.length` or `keep[0]`
    /// (prefix them with the section name via [`TransformError::at`], e.g. `mask`).
    pub fn validate(&self) -> Result<(), TransformError> {
        for (i, r) in self.json.iter().enumerate() {
            r.validate().map_err(|e| e.at(&format!("json[{i}]")))?;
        }
        for (i, r) in self.query.iter().enumerate() {
            r.validate().map_err(|e| e.at(&format!("query[{i}]")))?;
        }
        for (i, k) in self.keep.iter().enumerate() {
            parse_keep(k).map_err(|e| e.at(&format!("keep[{i}]")))?;
        }
        Ok(())
    }

    /// A short digest of the rules (detection, keep, json, query), for capture headers and
    /// reports: two runs with the same digest masked by the same rules.
    pub fn digest(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        let hash = blake3::hash(text.as_bytes());
        hash.to_hex()[..16].to_owned()
    }

    /// Compiles the rules with `masker`'s key.
    pub fn compile(&self, masker: &Masker) -> Result<HttpMasker, TransformError> {
        let mut keep = Vec::with_capacity(self.keep.len());
        for (i, k) in self.keep.iter().enumerate() {
            keep.push(parse_keep(k).map_err(|e| e.at(&format!("keep[{i}]")))?);
        }
        if !self.detect {
            return Ok(HttpMasker {
                json: JsonMasker::new(masker, &self.json).map_err(|e| e.at("json"))?,
                query: QueryMasker::new(masker, &self.query).map_err(|e| e.at("query"))?,
                detection: None,
                keep_headers: Arc::from([]),
            });
        }
        let detection = Arc::new(Detection::new(masker)?);
        let json_keep: Vec<KeepRule> = keep
            .iter()
            .filter_map(|k| match k {
                Keep::Pointer(p) | Keep::Name(p) => Some(KeepRule(p.clone())),
                _ => None,
            })
            .collect();
        let query_keep: Vec<String> = keep
            .iter()
            .filter_map(|k| match k {
                Keep::Query(n) | Keep::Name(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        let keep_headers: Vec<String> = keep
            .iter()
            .filter_map(|k| match k {
                Keep::Header(n) => Some(n.clone()),
                Keep::Name(n) => Some(n.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        Ok(HttpMasker {
            json: JsonMasker::detecting(masker, &self.json, &json_keep, detection.clone())
                .map_err(|e| e.at("json"))?,
            query: QueryMasker::detecting(masker, &self.query, &query_keep, detection.clone())
                .map_err(|e| e.at("query"))?,
            detection: Some(detection),
            keep_headers: keep_headers.into(),
        })
    }
}

/// Headers that never carry personal data and are left alone without looking.
const PLAIN_HEADERS: [&str; 36] = [
    "accept",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "cache-control",
    "connection",
    "content-encoding",
    "content-language",
    "content-length",
    "content-type",
    "date",
    "etag",
    "expires",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "keep-alive",
    "last-modified",
    "pragma",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
    "server",
    "te",
    "traceparent",
    "tracestate",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "vary",
    "via",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-prodlike-shadow",
];

/// Headers whose value is a URL: its path and query are masked as a request target is.
const URL_HEADERS: [&str; 4] = ["referer", "location", "content-location", "origin"];

/// Compiled HTTP masking rules. Cheap to clone, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct HttpMasker {
    /// Masks JSON bodies.
    pub json: JsonMasker,
    /// Masks query strings and form bodies.
    pub query: QueryMasker,
    detection: Option<Arc<Detection>>,
    /// Lower-case header names kept as they are.
    keep_headers: Arc<[String]>,
}

/// Counts from masking one piece of an exchange.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaskCounts {
    /// Values masked by a configured rule.
    pub by_rule: usize,
    /// Values the transform could not handle, dropped (nulled or emptied) so nothing leaks.
    pub dropped: usize,
    /// Values (or spans of text) masked by detection, per detector.
    pub detected: DetectorCounts,
}

impl MaskCounts {
    pub fn merge(&mut self, other: &MaskCounts) {
        self.by_rule += other.by_rule;
        self.dropped += other.dropped;
        self.detected.merge(&other.detected);
    }

    fn from_json(s: &JsonMaskStats) -> Self {
        Self {
            by_rule: s.masked,
            dropped: s.nulled,
            detected: s.detected,
        }
    }

    fn from_query(s: &QueryMaskStats) -> Self {
        Self {
            by_rule: s.masked,
            dropped: s.emptied,
            detected: s.detected,
        }
    }
}

impl HttpMasker {
    /// Whether detection is on.
    pub fn detects(&self) -> bool {
        self.detection.is_some()
    }

    /// Shorthand for `self.json.mask_body(body)`.
    pub fn mask_json_body(&self, body: &[u8]) -> Result<BodyMask, BodyError> {
        self.json.mask_body(body)
    }

    /// Masks a JSON body, with counts.
    pub fn mask_json_body_counted(
        &self,
        body: &[u8],
        counts: &mut MaskCounts,
    ) -> Result<BodyMask, BodyError> {
        let (m, s) = self.json.mask_body_with_stats(body)?;
        counts.merge(&MaskCounts::from_json(&s));
        Ok(m)
    }

    /// Masks a parsed JSON document in place, with counts.
    pub fn mask_json_value(&self, doc: &mut serde_json::Value, counts: &mut MaskCounts) {
        let s = self.json.mask_value(doc);
        counts.merge(&MaskCounts::from_json(&s));
    }

    /// Shorthand for `self.query.mask(query)`.
    pub fn mask_query<'a>(&self, query: &'a str) -> Cow<'a, str> {
        self.query.mask(query)
    }

    /// Masks a query string or a form body, with counts.
    pub fn mask_query_counted<'a>(&self, query: &'a str, counts: &mut MaskCounts) -> Cow<'a, str> {
        let (m, s) = self.query.mask_with_stats(query);
        counts.merge(&MaskCounts::from_query(&s));
        m
    }

    /// Masks a request target (`/path?query`): the query by the query rules and detection, and,
    /// with detection on, each path segment that is personal by itself (`/users/ann@x.org`).
    pub fn mask_target<'a>(&self, target: &'a str, counts: &mut MaskCounts) -> Cow<'a, str> {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        let masked_path = self.mask_path(path, counts);
        let masked_query = query.map(|q| self.mask_query_counted(q, counts));
        match (&masked_path, &masked_query) {
            (Cow::Borrowed(_), None | Some(Cow::Borrowed(_))) => Cow::Borrowed(target),
            _ => {
                let mut out = masked_path.into_owned();
                if let Some(q) = masked_query {
                    out.push('?');
                    out.push_str(&q);
                }
                Cow::Owned(out)
            }
        }
    }

    fn mask_path<'a>(&self, path: &'a str, counts: &mut MaskCounts) -> Cow<'a, str> {
        let Some(d) = &self.detection else {
            return Cow::Borrowed(path);
        };
        let mut out: Option<String> = None;
        let mut decoded = Vec::new();
        for (i, segment) in path.split('/').enumerate() {
            // Words (`api`, `orders`, `v2`) cannot be personal by their value alone: only an
            // `@`, a `%` escape, a colon or enough digits can make them so.
            let plain = segment.len() < 24
                && !segment.bytes().any(|b| matches!(b, b'@' | b'%' | b':'))
                && segment.bytes().filter(u8::is_ascii_digit).count() < 4;
            if plain {
                if let Some(o) = &mut out {
                    if i > 0 {
                        o.push('/');
                    }
                    o.push_str(segment);
                }
                continue;
            }
            decoded.clear();
            percent::decode_into(segment.as_bytes(), Plus::Space, &mut decoded);
            let text = String::from_utf8_lossy(&decoded);
            // A path segment has no key: only its value can tell, and a bare run of digits in a
            // path is an id (`/orders/4111…`) even when it happens to pass Luhn.
            let masked = d.field(KeyClass::Identifier, &text, &mut counts.detected);
            match (masked, &mut out) {
                (Some(m), _) => {
                    let o = out.get_or_insert_with(|| rebuild(path, i));
                    if i > 0 {
                        o.push('/');
                    }
                    percent::encode_into(&m, o);
                }
                (None, Some(o)) => {
                    if i > 0 {
                        o.push('/');
                    }
                    o.push_str(segment);
                }
                (None, None) => {}
            }
        }
        match out {
            Some(o) => Cow::Owned(o),
            None => Cow::Borrowed(path),
        }
    }

    /// Masks one header value. `None` when it is unchanged: a plain header, a kept one, or
    /// nothing personal in it.
    pub fn mask_header(&self, name: &str, value: &str, counts: &mut MaskCounts) -> Option<String> {
        let d = self.detection.as_ref()?;
        let lower = name.to_ascii_lowercase();
        if PLAIN_HEADERS.contains(&lower.as_str()) || self.keep_headers.contains(&lower) {
            return None;
        }
        match lower.as_str() {
            "cookie" => return mask_cookie_pairs(d, value, "; ", counts),
            // Only the cookie itself is secret, not its attributes (`Path=/; HttpOnly`).
            "set-cookie" => {
                let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
                let masked = mask_cookie_pairs(d, pair, "; ", counts)?;
                return Some(if attributes.is_empty() {
                    masked
                } else {
                    format!("{masked};{attributes}")
                });
            }
            _ => {}
        }
        if URL_HEADERS.contains(&lower.as_str()) {
            return self.mask_url(value, counts);
        }
        d.field(d.key_class(&lower), value, &mut counts.detected)
    }

    /// A URL's path and query masked as a request target, and anything else in it as text.
    fn mask_url(&self, url: &str, counts: &mut MaskCounts) -> Option<String> {
        let (origin, target) = match url.find("://") {
            Some(s) => match url[s + 3..].find('/') {
                Some(p) => url.split_at(s + 3 + p),
                None => (url, ""),
            },
            None => ("", url),
        };
        let masked = self.mask_target(target, counts);
        let d = self.detection.as_ref()?;
        // The authority can hold credentials (`user:pass@host`) or an IP address.
        let masked_origin = d.text(origin, &mut counts.detected);
        if matches!(masked, Cow::Borrowed(_)) && masked_origin.is_none() {
            return None;
        }
        Some(format!(
            "{}{}",
            masked_origin.as_deref().unwrap_or(origin),
            masked
        ))
    }

    /// Masks free text (a text or XML body, a log line): every personal span is replaced.
    /// `None` when nothing was found.
    pub fn mask_text(&self, text: &str, counts: &mut MaskCounts) -> Option<String> {
        self.detection.as_ref()?.text(text, &mut counts.detected)
    }
}

/// `a=1; b=2`: every cookie value is a session or tracking identifier, masked as a secret.
fn mask_cookie_pairs(
    d: &Detection,
    value: &str,
    sep: &str,
    counts: &mut MaskCounts,
) -> Option<String> {
    let secret = KeyClass::Kind(crate::detect::PiiKind::Secret);
    let mut parts = Vec::new();
    let mut changed = false;
    for pair in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((name, v)) if !v.is_empty() => match d.field(secret, v, &mut counts.detected) {
                Some(m) => {
                    changed = true;
                    parts.push(format!("{name}={m}"));
                }
                None => parts.push(pair.to_owned()),
            },
            _ => parts.push(pair.to_owned()),
        }
    }
    changed.then(|| parts.join(sep))
}

/// The first `segments` segments of `path`, joined as they were (for a path rebuilt from the
/// first masked segment on).
fn rebuild(path: &str, segments: usize) -> String {
    let mut out = String::with_capacity(path.len() + 16);
    for (i, s) in path.split('/').take(segments).enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::MaskKey;

    fn masker(rules: &str) -> HttpMasker {
        let rules: HttpMaskRules = toml::from_str(rules).unwrap();
        rules
            .compile(&Masker::new(
                MaskKey::from_secret(b"http masker test key").unwrap(),
            ))
            .unwrap()
    }

    #[test]
    fn detection_is_on_by_default_everywhere() {
        let m = masker("");
        let mut c = MaskCounts::default();
        let t = m.mask_target("/users/ann@x.org/orders?email=bob%40y.com&page=2", &mut c);
        assert!(
            !t.contains("ann@x.org") && !t.contains("bob%40y.com"),
            "{t}"
        );
        assert!(t.starts_with("/users/") && t.ends_with("&page=2"), "{t}");
        let h = m
            .mask_header("Authorization", "Bearer abcdefghijklmnop", &mut c)
            .unwrap();
        assert!(h.starts_with("Bearer ") && !h.contains("abcdefghijklmnop"));
        let cookie = m
            .mask_header("cookie", "sid=abc123456; theme=dark", &mut c)
            .unwrap();
        assert!(cookie.starts_with("sid=") && !cookie.contains("abc123456"));
        assert!(
            m.mask_header("content-type", "application/json", &mut c)
                .is_none()
        );
        let r = m
            .mask_header(
                "referer",
                "https://shop.example/p?email=ann%40x.org",
                &mut c,
            )
            .unwrap();
        assert!(r.starts_with("https://shop.example/p?email=") && !r.contains("ann%40x.org"));
        assert!(c.detected.total() >= 5);
    }

    #[test]
    fn keep_entries_keep_exactly_what_they_name() {
        let m = masker(r#"keep = ["header:x-user-email", "query:contact", "/people/*/name"]"#);
        let mut c = MaskCounts::default();
        assert!(m.mask_header("x-user-email", "ann@x.org", &mut c).is_none());
        assert!(
            m.mask_header("x-other-email", "ann@x.org", &mut c)
                .is_some()
        );
        let q = m.mask_query_counted("contact=ann%40x.org&email=ann%40x.org", &mut c);
        assert!(q.starts_with("contact=ann%40x.org&email=") && !q.ends_with("ann%40x.org"));
        let mut doc = serde_json::json!({"people": [{"name": "Ann Smith", "email": "ann@x.org"}]});
        m.mask_json_value(&mut doc, &mut c);
        assert_eq!(doc["people"][0]["name"], "Ann Smith");
        assert_ne!(doc["people"][0]["email"], "ann@x.org");
    }

    #[test]
    fn detection_off_masks_only_the_rules() {
        let m = masker("detect = false\n[[query]]\nparam = \"card\"\ntransform = \"card\"");
        let mut c = MaskCounts::default();
        let q = m.mask_query_counted("card=4111111111111111&email=ann%40x.org", &mut c);
        assert!(q.ends_with("&email=ann%40x.org") && !q.contains("4111111111111111"));
        assert!(
            m.mask_header("authorization", "Bearer abcdefghijkl", &mut c)
                .is_none()
        );
    }

    #[test]
    fn bad_keep_entries_name_the_field() {
        let rules: HttpMaskRules =
            toml::from_str(r#"keep = ["/ok", "header:", "/bad~2"]"#).unwrap();
        let e = rules.validate().unwrap_err();
        assert_eq!(e.field, "keep[1]");
    }
}
