//! Masking listed parameters of a raw URL query string.

use std::borrow::Cow;
use std::sync::Arc;

use prodlike_common::percent::{self, Plus};
use serde::{Deserialize, Serialize};

use crate::detect::DetectorCounts;
use crate::detection::Detection;
use crate::engine::Masker;
use crate::mask::{Mask, Output};
use crate::transform::{Transform, TransformError};

/// One query-parameter rule.
///
/// ```toml
/// [[query]]
/// param = "email"
/// transform = "email"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryRule {
    /// Parameter name, compared after percent-decoding, ASCII case-insensitively.
    pub param: String,
    /// How its values are masked (every occurrence of a repeated parameter is masked).
    pub transform: Transform,
}

impl QueryRule {
    /// A rule for `param`.
    pub fn new(param: &str, transform: Transform) -> Self {
        Self {
            param: param.to_owned(),
            transform,
        }
    }

    /// Checks the rule; errors name the field (`param`, `transform.…`).
    pub fn validate(&self) -> Result<(), TransformError> {
        if self.param.is_empty() {
            return Err(TransformError::new("param", "must not be empty"));
        }
        if self.transform.is_column_level() {
            return Err(TransformError::new(
                "transform",
                "`shuffle` needs a whole column and cannot mask query parameters",
            ));
        }
        self.transform.validate().map_err(|e| e.at("transform"))
    }
}

/// Counts from one query masking pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryMaskStats {
    /// Parameter values masked by a rule.
    pub masked: usize,
    /// Values the transform could not handle, emptied so nothing leaks.
    pub emptied: usize,
    /// Values (or spans of them) masked by detection, per detector.
    pub detected: DetectorCounts,
}

/// Masks listed parameters of a query string, leaving every other byte exactly as it was; with
/// detection on, also every parameter whose name or value is personal, unless kept. Cheap to
/// clone, `Send + Sync`.
#[derive(Clone)]
pub struct QueryMasker {
    /// Parameter names (compared decoded, ASCII case-insensitively) and their mask; `None`
    /// keeps the parameter as it is.
    rules: Arc<[(String, Option<Mask>)]>,
    detection: Option<Arc<Detection>>,
}

impl std::fmt::Debug for QueryMasker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "QueryMasker({} rules)", self.rules.len())
    }
}

impl QueryMasker {
    /// Validates and compiles `rules` (errors are prefixed with `[i]`).
    pub fn new(masker: &Masker, rules: &[QueryRule]) -> Result<Self, TransformError> {
        let mut compiled = Vec::with_capacity(rules.len());
        for (i, r) in rules.iter().enumerate() {
            r.validate().map_err(|e| e.at(&format!("[{i}]")))?;
            let mask = masker
                .mask(&r.transform)
                .map_err(|e| e.at(&format!("[{i}].transform")))?;
            compiled.push((r.param.clone(), Some(mask)));
        }
        Ok(Self {
            rules: compiled.into(),
            detection: None,
        })
    }

    /// Like [`QueryMasker::new`], with detection on: parameters in `keep` (names) are kept.
    pub(crate) fn detecting(
        masker: &Masker,
        rules: &[QueryRule],
        keep: &[String],
        detection: Arc<Detection>,
    ) -> Result<Self, TransformError> {
        let base = Self::new(masker, rules)?;
        let mut compiled: Vec<(String, Option<Mask>)> = base.rules.to_vec();
        compiled.extend(keep.iter().map(|k| (k.clone(), None)));
        Ok(Self {
            rules: compiled.into(),
            detection: Some(detection),
        })
    }

    /// True when there are no rules and detection is off.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.detection.is_none()
    }

    /// Masks `query` (with or without its leading `?`). Borrowed when nothing was masked.
    pub fn mask<'a>(&self, query: &'a str) -> Cow<'a, str> {
        self.mask_with_stats(query).0
    }

    /// Like [`QueryMasker::mask`], with counts.
    pub fn mask_with_stats<'a>(&self, query: &'a str) -> (Cow<'a, str>, QueryMaskStats) {
        let mut stats = QueryMaskStats::default();
        if self.is_empty() || query.is_empty() {
            return (Cow::Borrowed(query), stats);
        }
        let mut out: Option<String> = None;
        let mut copied_to = 0;
        let mut name_buf = Vec::new();
        let mut pos = 0;
        let bytes = query.as_bytes();
        while pos <= bytes.len() {
            let end = query[pos..].find('&').map_or(bytes.len(), |e| pos + e);
            let pair = &query[pos..end];
            let (name, value_start) = match pair.find('=') {
                Some(eq) => (&pair[..eq], pos + eq + 1),
                // A bare value (`?ann@x.org`) has no name to go by: only its text can tell.
                None => ("", pos),
            };
            let name = name.strip_prefix('?').filter(|_| pos == 0).unwrap_or(name);
            let value_start = if value_start == pos && pos == 0 && pair.starts_with('?') {
                1
            } else {
                value_start
            };
            name_buf.clear();
            percent::decode_into(name.as_bytes(), Plus::Space, &mut name_buf);
            let rule = self
                .rules
                .iter()
                .find(|(p, _)| !name.is_empty() && p.as_bytes().eq_ignore_ascii_case(&name_buf));
            let raw = &query[value_start.min(end)..end];
            let replacement = match rule {
                Some((_, None)) => None,
                Some((_, Some(mask))) => Some(masked_by_rule(mask, raw, &mut stats)),
                None => self.detected(&name_buf, raw, &mut stats),
            };
            if let Some(text) = replacement {
                let o = out.get_or_insert_with(|| String::with_capacity(query.len() + 16));
                o.push_str(&query[copied_to..value_start.min(end)]);
                percent::encode_into(&text, o);
                copied_to = end;
            }
            pos = end + 1;
        }
        match out {
            None => (Cow::Borrowed(query), stats),
            Some(mut o) => {
                o.push_str(&query[copied_to.min(query.len())..]);
                (Cow::Owned(o), stats)
            }
        }
    }

    /// A parameter no rule names: its masked value when detection finds it personal.
    fn detected(&self, name: &[u8], raw: &str, stats: &mut QueryMaskStats) -> Option<String> {
        let d = self.detection.as_ref()?;
        if raw.is_empty() {
            return None;
        }
        let mut decoded = Vec::with_capacity(raw.len());
        percent::decode_into(raw.as_bytes(), Plus::Space, &mut decoded);
        let text = String::from_utf8_lossy(&decoded);
        let key = d.key_class(&String::from_utf8_lossy(name));
        d.field(key, &text, &mut stats.detected)
    }
}

/// The value of a parameter a rule names, masked (empty when the transform cannot take it).
fn masked_by_rule(mask: &Mask, raw: &str, stats: &mut QueryMaskStats) -> String {
    let mut decoded = Vec::with_capacity(raw.len());
    percent::decode_into(raw.as_bytes(), Plus::Space, &mut decoded);
    let text = String::from_utf8_lossy(&decoded);
    let mut masked = String::new();
    match mask.apply_str(&text, &mut masked) {
        Ok(Output::Text) => {
            stats.masked += 1;
            masked
        }
        Ok(Output::Null) => {
            stats.masked += 1;
            String::new()
        }
        Err(_) => {
            stats.emptied += 1;
            String::new()
        }
    }
}
