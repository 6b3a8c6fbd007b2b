//! PII inside JSON values (JSON columns, API bodies): found by key name and by value pattern,
//! reported per JSON-pointer glob with array indices generalised to `*`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Detection, Evidence, PiiKind, ValueScan, classify_value, combine, detect_name};
use crate::json::JsonRule;
use crate::transform::Transform;

/// Distinct paths tracked per scan; further paths are counted in `paths_dropped`.
const MAX_PATHS: usize = 2048;
/// Deepest level visited.
const MAX_DEPTH: usize = 64;

/// PII found at one path of the scanned JSON values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonDetection {
    /// JSON-pointer glob, usable as [`JsonRule::path`]: array indices, numeric keys and keys that
    /// themselves look like PII (e.g. maps keyed by email) are written `*`.
    pub path: String,
    pub kind: PiiKind,
    pub confidence: f64,
    pub evidence: Evidence,
    pub recommended: Transform,
}

impl JsonDetection {
    /// The masking rule this detection recommends.
    pub fn to_rule(&self) -> JsonRule {
        JsonRule::path(&self.path, self.recommended.clone())
    }
}

#[derive(Default)]
struct PathStats {
    name_hit: Option<Detection>,
    values: ValueScan,
}

/// Scans JSON documents for PII. Feed it samples with [`JsonPiiScan::add`], then
/// [`JsonPiiScan::finish`]. Holds per-path counts only, never values.
#[derive(Default)]
pub struct JsonPiiScan {
    paths: BTreeMap<String, PathStats>,
    paths_dropped: u64,
    documents: u64,
}

impl JsonPiiScan {
    /// An empty scan.
    pub fn new() -> Self {
        Self::default()
    }

    /// Documents scanned so far.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// Paths not tracked because the scan already held its maximum.
    pub fn paths_dropped(&self) -> u64 {
        self.paths_dropped
    }

    /// Scans one document.
    pub fn add(&mut self, doc: &Value) {
        self.documents += 1;
        let mut path = String::new();
        self.walk(doc, &mut path, None, 0);
    }

    /// Parses and scans a document given as text; text that is not JSON is ignored (returns
    /// false).
    pub fn add_text(&mut self, text: &str) -> bool {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => {
                self.add(&v);
                true
            }
            Err(_) => false,
        }
    }

    fn walk(&mut self, v: &Value, path: &mut String, key: Option<&str>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let len = path.len();
                    path.push('/');
                    push_segment(k, path);
                    self.walk(child, path, Some(k), depth + 1);
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for child in items {
                    let len = path.len();
                    path.push_str("/*");
                    // Elements of an array share their parent's key for name detection.
                    self.walk(child, path, key, depth + 1);
                    path.truncate(len);
                }
            }
            Value::Null => {}
            scalar => {
                let text = match scalar {
                    Value::String(s) => Some(s.as_str()),
                    _ => None,
                };
                let number;
                let text = match (text, scalar) {
                    (Some(t), _) => t,
                    (None, Value::Number(n)) => {
                        number = n.to_string();
                        number.as_str()
                    }
                    _ => "",
                };
                if !self.paths.contains_key(path.as_str()) {
                    if self.paths.len() >= MAX_PATHS {
                        self.paths_dropped += 1;
                        return;
                    }
                    let name_hit = key.and_then(detect_name);
                    self.paths.insert(
                        path.clone(),
                        PathStats {
                            name_hit,
                            values: ValueScan::new(),
                        },
                    );
                }
                if let Some(stats) = self.paths.get_mut(path.as_str()) {
                    if !text.is_empty() {
                        stats.values.add(text);
                    }
                }
            }
        }
    }

    /// Detections per path, most confident first.
    pub fn finish(&self) -> Vec<JsonDetection> {
        let mut out: Vec<JsonDetection> = self
            .paths
            .iter()
            .filter_map(|(path, s)| {
                let d = combine(s.name_hit.clone(), s.values.finish())?;
                Some(JsonDetection {
                    path: if path.is_empty() {
                        String::new()
                    } else {
                        path.clone()
                    },
                    kind: d.kind,
                    confidence: d.confidence,
                    evidence: d.evidence,
                    recommended: d.recommended,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then_with(|| a.path.cmp(&b.path))
        });
        out
    }
}

/// Writes a key as a pointer segment: `*` when the key is data rather than schema (numeric, or
/// itself PII-shaped, or very long), RFC 6901 escapes otherwise.
fn push_segment(key: &str, path: &mut String) {
    let is_data = key.is_empty()
        || key.len() > 64
        || key.bytes().all(|b| b.is_ascii_digit())
        || classify_value(key).is_some()
        || looks_like_uuid(key);
    if is_data {
        path.push('*');
        return;
    }
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

fn looks_like_uuid(k: &str) -> bool {
    k.len() == 36
        && k.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_pii_by_key_and_by_value_with_generalised_paths() {
        let mut scan = JsonPiiScan::new();
        for i in 0..5 {
            scan.add(&json!({
                "customer": {"email": format!("u{i}@shop.example"), "tier": "gold"},
                "items": [{"sku": "A-1", "qty": 2}],
                "meta": {"client": format!("10.0.0.{i}")},
                "by_user": {format!("someone{i}@x.org"): {"visits": 3}}
            }));
        }
        let found = scan.finish();
        let paths: Vec<(&str, PiiKind)> = found.iter().map(|d| (d.path.as_str(), d.kind)).collect();
        assert!(
            paths.contains(&("/customer/email", PiiKind::Email)),
            "{paths:?}"
        );
        assert!(
            paths.contains(&("/meta/client", PiiKind::IpAddress)),
            "{paths:?}"
        );
        assert!(
            !paths
                .iter()
                .any(|(p, _)| p.contains("sku") || p.contains("tier"))
        );
        // The email-keyed map never shows its keys.
        let text = serde_json::to_string(&found).unwrap();
        assert!(!text.contains("someone"));
        assert!(!text.contains("shop.example"));
    }
}
