//! Compares production's response with staging's: status, chosen headers, and body — JSON
//! structurally by path with ignore rules and numeric tolerance, anything else by hash.
use http::{HeaderMap, HeaderName};
use serde::Serialize;
use serde_json::Value;

use prodlike_common::glob::Glob;

/// Diffs kept per comparison for examples; all are counted.
const KEPT_DIFFS: usize = 10;
/// Values shown in a diff are cut to this many characters.
const SHOWN_CHARS: usize = 120;

// The diff types are part of the published result (prodlike.shadow/2).
pub use prodlike_results::shadow::{Diff, DiffKind};

/// One environment's response.
pub struct Side<'a> {
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: BodyView<'a>,
}

impl<'a> Side<'a> {
    pub fn new(status: u16, headers: &'a HeaderMap, body: BodyView<'a>) -> Self {
        Side {
            status,
            headers,
            body,
        }
    }
}

/// Why an exchange, or its body, was not compared. Never counted as matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCompared {
    /// A body larger than `compare.max_body`.
    TooLarge,
    /// A body cut short (the connection ended, or production's copy never completed).
    CutShort,
    /// A `Content-Encoding` that is unknown, or a body that does not decode.
    Encoding,
    /// A body that decodes to more than the limit (a decompression bomb, cut off).
    DecodedTooLarge,
    /// A body that says it is JSON but does not parse.
    NotJson,
    /// Staging answered with an error, or not at all.
    StagingFailed,
    /// Staging did not answer within `mirror.timeout`.
    StagingTimeout,
    /// Production's response never completed.
    ProductionFailed,
    /// A stream (server-sent events, `mirror.stream_types`) whose copy was cut off at
    /// `mirror.stream_cut` bytes, so the mirror never holds it open.
    StreamCut,
}

impl NotCompared {
    pub const ALL: [NotCompared; 9] = [
        NotCompared::TooLarge,
        NotCompared::CutShort,
        NotCompared::Encoding,
        NotCompared::DecodedTooLarge,
        NotCompared::NotJson,
        NotCompared::StagingFailed,
        NotCompared::StagingTimeout,
        NotCompared::ProductionFailed,
        NotCompared::StreamCut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotCompared::TooLarge => "too_large",
            NotCompared::CutShort => "cut_short",
            NotCompared::Encoding => "encoding",
            NotCompared::DecodedTooLarge => "decoded_too_large",
            NotCompared::NotJson => "not_json",
            NotCompared::StagingFailed => "staging_failed",
            NotCompared::StagingTimeout => "staging_timeout",
            NotCompared::ProductionFailed => "production_failed",
            NotCompared::StreamCut => "stream_cut",
        }
    }
}

/// What is known of one side's body.
pub enum BodyView<'a> {
    Json(&'a Value),
    Bytes(&'a [u8]),
    /// Not comparable, and why.
    Unavailable(NotCompared),
}

/// What one exchange's comparison established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Matched,
    Mismatched,
    NotCompared(NotCompared),
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Comparison {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<(u16, u16)>,
    /// Headers that differ: name, production value, staging value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, Option<String>, Option<String>)>,
    /// Body differences (the first few).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<Diff>,
    /// All body differences, kept or not.
    pub body_diff_count: usize,
    /// Why the bodies could not be compared, when they could not.
    pub body_not_compared: Option<NotCompared>,
    /// Every differing body path, array indices as `*` (at most 64): what noise learns from.
    #[serde(skip)]
    pub paths: Vec<String>,
    /// Diffs left out because their path is noise (generalised paths, at most 64).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub noise: Vec<String>,
}

/// Differing paths remembered per comparison.
const MAX_PATHS: usize = 64;

impl Comparison {
    pub fn status_differs(&self) -> bool {
        self.status.is_some()
    }
    pub fn headers_differ(&self) -> bool {
        !self.headers.is_empty()
    }
    pub fn body_differs(&self) -> bool {
        self.body_diff_count > 0
    }
    /// No difference found in what was compared (which may not be everything: see
    /// [`Comparison::outcome`]).
    pub fn matches(&self) -> bool {
        !self.status_differs() && !self.headers_differ() && !self.body_differs()
    }

    /// Matched, mismatched, or not compared: a difference found anywhere is a mismatch; no
    /// difference with a body that could not be compared proves nothing.
    pub fn outcome(&self) -> Outcome {
        match (self.matches(), self.body_not_compared) {
            (false, _) => Outcome::Mismatched,
            (true, Some(why)) => Outcome::NotCompared(why),
            (true, None) => Outcome::Matched,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Comparator {
    headers: Vec<HeaderName>,
    ignore: Vec<Glob>,
    abs_tol: f64,
    rel_tol: f64,
}

impl Comparator {
    /// `headers` and `ignore` were checked by config validation; invalid entries are skipped.
    /// `grpc-status` is always compared: gRPC answers errors with HTTP 200 and puts its status
    /// in the trailers, which join the headers compared (absent on both sides, it agrees).
    pub fn new(headers: &[String], ignore: &[String], abs_tol: f64, rel_tol: f64) -> Self {
        let mut headers: Vec<HeaderName> = headers
            .iter()
            .filter_map(|h| HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes()).ok())
            .collect();
        let grpc_status = HeaderName::from_static("grpc-status");
        if !headers.contains(&grpc_status) {
            headers.push(grpc_status);
        }
        Self {
            headers,
            ignore: ignore
                .iter()
                .filter_map(|p| Glob::url_path(p).ok())
                .collect(),
            abs_tol,
            rel_tol,
        }
    }

    /// `staging_masked` is staging's JSON body masked like production's (see `walk`).
    pub fn compare(
        &self,
        prod: Side<'_>,
        staging: Side<'_>,
        staging_masked: Option<&Value>,
    ) -> Comparison {
        self.compare_excluding(prod, staging, staging_masked, &[])
    }

    /// Like [`Comparator::compare`], leaving out body diffs whose generalised path is in
    /// `noise` (they are listed in [`Comparison::noise`] instead).
    pub fn compare_excluding(
        &self,
        prod: Side<'_>,
        staging: Side<'_>,
        staging_masked: Option<&Value>,
        noise: &[String],
    ) -> Comparison {
        let Side {
            status: prod_status,
            headers: prod_headers,
            body: prod_body,
        } = prod;
        let Side {
            status: staging_status,
            headers: staging_headers,
            body: staging_body,
        } = staging;
        let mut c = Comparison::default();
        if prod_status != staging_status {
            c.status = Some((prod_status, staging_status));
        }
        for name in &self.headers {
            // Most compared headers agree: compare the raw values before rendering any text.
            if prod_headers
                .get_all(name)
                .iter()
                .eq(staging_headers.get_all(name).iter())
            {
                continue;
            }
            let p = header_text(prod_headers, name);
            let s = header_text(staging_headers, name);
            if p != s {
                c.headers.push((name.to_string(), p, s));
            }
        }
        match (prod_body, staging_body) {
            (BodyView::Json(p), BodyView::Json(s)) => {
                let mut path = String::new();
                self.walk(p, s, staging_masked, &mut path, &mut c, noise);
            }
            (BodyView::Bytes(p), BodyView::Bytes(s)) => {
                if blake3::hash(p) != blake3::hash(s) {
                    c.body_diff_count = 1;
                    c.body.push(Diff {
                        path: String::new(),
                        kind: DiffKind::Changed,
                        production: Some(format!("{} bytes, blake3 {}", p.len(), short_hash(p))),
                        staging: Some(format!("{} bytes, blake3 {}", s.len(), short_hash(s))),
                    });
                }
            }
            (BodyView::Json(p), BodyView::Bytes(s)) => {
                c.body_diff_count = 1;
                c.body.push(Diff {
                    path: String::new(),
                    kind: DiffKind::TypeChanged,
                    production: Some(render(p)),
                    staging: Some(format!("{} bytes, not JSON", s.len())),
                });
            }
            (BodyView::Bytes(p), BodyView::Json(s)) => {
                c.body_diff_count = 1;
                c.body.push(Diff {
                    path: String::new(),
                    kind: DiffKind::TypeChanged,
                    production: Some(format!("{} bytes, not JSON", p.len())),
                    staging: Some(render(s)),
                });
            }
            (BodyView::Unavailable(why), _) | (_, BodyView::Unavailable(why)) => {
                c.body_not_compared = Some(why);
            }
        }
        c
    }

    fn ignored(&self, path: &str) -> bool {
        !path.is_empty() && self.ignore.iter().any(|p| p.matches(path))
    }

    #[allow(clippy::too_many_arguments)] // one diff's parts, kept apart so nothing is built for noise
    fn push(
        &self,
        c: &mut Comparison,
        path: &str,
        kind: DiffKind,
        p: Option<&Value>,
        s: Option<&Value>,
        noise: &[String],
    ) {
        let general = crate::noise::generalise(path);
        if noise.contains(&general) {
            if c.noise.len() < MAX_PATHS && !c.noise.contains(&general) {
                c.noise.push(general);
            }
            return;
        }
        if c.paths.len() < MAX_PATHS && !c.paths.contains(&general) {
            c.paths.push(general);
        }
        c.body_diff_count += 1;
        if c.body.len() < KEPT_DIFFS {
            c.body.push(Diff {
                path: if path.is_empty() {
                    "/".into()
                } else {
                    path.to_string()
                },
                kind,
                production: p.map(render),
                staging: s.map(render),
            });
        }
    }

    /// `alt` is staging masked the way production was: a leaf matches when production equals
    /// staging as it is (staging holds masked data, or echoes a masked copy) or as masked (staging
    /// holds the same raw data).
    /// One object member or array item, on either side or both: walked when on both, else
    /// added or removed (unless its path is ignored).
    fn member(
        &self,
        p: Option<&Value>,
        s: Option<&Value>,
        alt: Option<&Value>,
        path: &mut String,
        c: &mut Comparison,
        noise: &[String],
    ) {
        match (p, s) {
            (Some(pv), Some(sv)) => self.walk(pv, sv, alt, path, c, noise),
            (Some(pv), None) if !self.ignored(path) => {
                self.push(c, path, DiffKind::Removed, Some(pv), None, noise);
            }
            (None, Some(sv)) if !self.ignored(path) => {
                self.push(c, path, DiffKind::Added, None, Some(sv), noise);
            }
            _ => {}
        }
    }

    fn walk(
        &self,
        p: &Value,
        s: &Value,
        alt: Option<&Value>,
        path: &mut String,
        c: &mut Comparison,
        noise: &[String],
    ) {
        if self.ignored(path) {
            return;
        }
        match (p, s) {
            (Value::Object(po), Value::Object(so)) => {
                let mut keys: Vec<&String> = po
                    .keys()
                    .chain(so.keys().filter(|k| !po.contains_key(*k)))
                    .collect();
                keys.sort();
                for k in keys {
                    let len = path.len();
                    path.push('/');
                    push_escaped(path, k);
                    let alt = alt.and_then(|a| a.get(k.as_str()));
                    self.member(po.get(k), so.get(k), alt, path, c, noise);
                    path.truncate(len);
                }
            }
            (Value::Array(pa), Value::Array(sa)) => {
                for i in 0..pa.len().max(sa.len()) {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&i.to_string());
                    let alt = alt.and_then(|a| a.get(i));
                    self.member(pa.get(i), sa.get(i), alt, path, c, noise);
                    path.truncate(len);
                }
            }
            _ if alt.is_some_and(|a| a == p) => {}
            (Value::Number(a), Value::Number(b)) => {
                if !self.numbers_equal(a, b) {
                    self.push(c, path, DiffKind::Changed, Some(p), Some(s), noise);
                }
            }
            _ if std::mem::discriminant(p) != std::mem::discriminant(s) => {
                self.push(c, path, DiffKind::TypeChanged, Some(p), Some(s), noise);
            }
            _ => {
                if p != s {
                    self.push(c, path, DiffKind::Changed, Some(p), Some(s), noise);
                }
            }
        }
    }

    fn numbers_equal(&self, a: &serde_json::Number, b: &serde_json::Number) -> bool {
        if a == b {
            return true;
        }
        match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => {
                let d = (x - y).abs();
                d <= self.abs_tol || d <= self.rel_tol * x.abs().max(y.abs())
            }
            _ => false,
        }
    }
}

/// JSON-pointer escaping (RFC 6901).
fn push_escaped(path: &mut String, key: &str) {
    for ch in key.chars() {
        match ch {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

fn header_text(h: &HeaderMap, name: &HeaderName) -> Option<String> {
    let vals: Vec<String> = h
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    if vals.is_empty() {
        None
    } else {
        Some(vals.join(", "))
    }
}

fn render(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= SHOWN_CHARS {
        s
    } else {
        let cut: String = s.chars().take(SHOWN_CHARS).collect();
        format!("{cut}…")
    }
}

fn short_hash(b: &[u8]) -> String {
    blake3::hash(b).to_hex()[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn cmp(ignore: &[&str], tol: f64) -> Comparator {
        Comparator::new(
            &["content-type".into()],
            &ignore.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            tol,
            0.0,
        )
    }

    fn diff(c: &Comparator, p: Value, s: Value) -> Comparison {
        let h = HeaderMap::new();
        c.compare(
            Side::new(200, &h, BodyView::Json(&p)),
            Side::new(200, &h, BodyView::Json(&s)),
            None,
        )
    }

    #[test]
    fn structural_diff_by_path() {
        let c = cmp(&[], 0.0);
        let r = diff(
            &c,
            json!({"items": [{"price": 10, "name": "a"}], "total": 1, "gone": true}),
            json!({"items": [{"price": 11, "name": "a"}, {"price": 1}], "total": "1", "extra": null}),
        );
        let paths: Vec<(&str, DiffKind)> =
            r.body.iter().map(|d| (d.path.as_str(), d.kind)).collect();
        assert_eq!(
            paths,
            vec![
                ("/extra", DiffKind::Added),
                ("/gone", DiffKind::Removed),
                ("/items/0/price", DiffKind::Changed),
                ("/items/1", DiffKind::Added),
                ("/total", DiffKind::TypeChanged),
            ]
        );
        assert_eq!(r.body_diff_count, 5);
        assert!(!r.matches());
    }

    #[test]
    fn ignore_rules_and_tolerance() {
        let c = cmp(&["/meta/**", "**/request_id"], 0.01);
        let r = diff(
            &c,
            json!({"meta": {"host": "a"}, "x": {"request_id": 1}, "price": 10.0}),
            json!({"meta": {"host": "b", "new": 1}, "x": {"request_id": 2}, "price": 10.005}),
        );
        assert!(r.matches(), "{r:?}");
        let strict = cmp(&[], 0.0);
        assert_eq!(
            diff(&strict, json!({"price": 10.0}), json!({"price": 10.005})).body_diff_count,
            1
        );
        let rel = Comparator::new(&[], &[], 0.0, 0.01);
        assert!(diff(&rel, json!([1000.0]), json!([1005.0])).matches());
        assert!(!diff(&rel, json!([1000.0]), json!([1020.0])).matches());
    }

    #[test]
    fn escaped_keys_and_status_and_headers() {
        let c = cmp(&["/a~1b"], 0.0);
        assert!(diff(&c, json!({"a/b": 1}), json!({"a/b": 2})).matches());
        let mut ph = HeaderMap::new();
        ph.insert("content-type", "application/json".parse().unwrap());
        let sh = HeaderMap::new();
        let r = c.compare(
            Side::new(200, &ph, BodyView::Bytes(b"x")),
            Side::new(500, &sh, BodyView::Bytes(b"x")),
            None,
        );
        assert_eq!(r.status, Some((200, 500)));
        assert_eq!(
            r.headers,
            vec![("content-type".into(), Some("application/json".into()), None)]
        );
        assert!(!r.body_differs());
        let r = c.compare(
            Side::new(200, &ph, BodyView::Bytes(b"x")),
            Side::new(200, &ph, BodyView::Bytes(b"y")),
            None,
        );
        assert!(r.body_differs());
        let r = c.compare(
            Side::new(200, &ph, BodyView::Unavailable(NotCompared::TooLarge)),
            Side::new(200, &ph, BodyView::Bytes(b"y")),
            None,
        );
        assert!(r.matches());
        assert_eq!(r.outcome(), Outcome::NotCompared(NotCompared::TooLarge));
        // A status difference is a finding even when the bodies could not be compared.
        let r = c.compare(
            Side::new(200, &ph, BodyView::Unavailable(NotCompared::CutShort)),
            Side::new(500, &ph, BodyView::Bytes(b"y")),
            None,
        );
        assert_eq!(r.outcome(), Outcome::Mismatched);
    }

    #[test]
    fn masked_leaves_match_staging_as_is_or_masked_alike() {
        let c = cmp(&[], 0.0);
        let h = HeaderMap::new();
        // Production masked; staging holds the same raw value; its masked view agrees.
        let prod = json!({"email": "m@x", "plan": "free"});
        let staging_raw = json!({"email": "raw@corp", "plan": "pro"});
        let staging_masked = json!({"email": "m@x", "plan": "pro"});
        let r = c.compare(
            Side::new(200, &h, BodyView::Json(&prod)),
            Side::new(200, &h, BodyView::Json(&staging_raw)),
            Some(&staging_masked),
        );
        assert_eq!(
            r.body.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
            vec!["/plan"]
        );
        // Staging echoing the masked copy matches without the masked view.
        let echo = json!({"email": "m@x", "plan": "free"});
        assert!(
            c.compare(
                Side::new(200, &h, BodyView::Json(&prod)),
                Side::new(200, &h, BodyView::Json(&echo)),
                None
            )
            .matches()
        );
    }

    #[test]
    fn kept_diffs_are_bounded_but_all_counted() {
        let c = cmp(&[], 0.0);
        let p = Value::Array((0..100).map(|i| json!(i)).collect());
        let s = Value::Array((0..100).map(|i| json!(i + 1)).collect());
        let r = diff(&c, p, s);
        assert_eq!(r.body_diff_count, 100);
        assert_eq!(r.body.len(), KEPT_DIFFS);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            "[a-z]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::hash_map("[a-z/~]{1,4}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn identical_documents_match_and_diffs_are_symmetric(a in arb_json(), b in arb_json()) {
            let c = cmp(&[], 0.0);
            prop_assert!(diff(&c, a.clone(), a.clone()).matches());
            let ab = diff(&c, a.clone(), b.clone());
            let ba = diff(&c, b, a);
            prop_assert_eq!(ab.body_diff_count, ba.body_diff_count);
        }
    }
}
