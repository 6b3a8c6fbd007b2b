//! Masking inside JSON documents, by key name anywhere or by JSON-pointer glob.

use std::sync::Arc;

use prodlike_common::glob::{Glob, State, Step};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::detect::{DetectorCounts, KeyClass};
use crate::detection::Detection;
use crate::engine::Masker;
use crate::mask::Mask;
use crate::transform::{Transform, TransformError};

/// One JSON masking rule: which values (by `key` or by `path`, exactly one of them) and how.
///
/// ```toml
/// [[json]]
/// key = "email"                 # any object member named email, EMAIL, Email… at any depth
/// transform = "email"
///
/// [[json]]
/// path = "/users/*/card"        # `*` one segment, `**` any number of segments (RFC 6901 escapes)
/// transform = { type = "card", keep_bin = true }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonRule {
    /// Object member name matched at any depth, ASCII case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// JSON-pointer glob: `/a/b` exact, `*` any one segment (key or array index), `**` any number
    /// of segments (including none), e.g. `/users/*/email`, `/**/card`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How a matching value is masked. Objects and arrays matched as a whole have every scalar
    /// inside masked.
    pub transform: Transform,
}

impl JsonRule {
    /// A rule matching member `key` anywhere.
    pub fn key(key: &str, transform: Transform) -> Self {
        Self {
            key: Some(key.to_owned()),
            path: None,
            transform,
        }
    }

    /// A rule matching the pointer glob `path`.
    pub fn path(path: &str, transform: Transform) -> Self {
        Self {
            key: None,
            path: Some(path.to_owned()),
            transform,
        }
    }

    /// Checks the rule; errors name the field (`key`, `path`, `transform.length`…).
    pub fn validate(&self) -> Result<(), TransformError> {
        match (&self.key, &self.path) {
            (Some(_), Some(_)) => {
                return Err(TransformError::new(
                    "path",
                    "give either `key` or `path`, not both (use two rules)",
                ));
            }
            (None, None) => {
                return Err(TransformError::new(
                    "key",
                    "a JSON rule needs `key = \"name\"` or `path = \"/pointer/glob\"`",
                ));
            }
            (Some(k), None) if k.is_empty() => {
                return Err(TransformError::new("key", "must not be empty"));
            }
            (None, Some(p)) => {
                pointer_glob(p)?;
            }
            _ => {}
        }
        if self.transform.is_column_level() {
            return Err(TransformError::new(
                "transform",
                "`shuffle` needs a whole column and cannot mask JSON fields",
            ));
        }
        self.transform.validate().map_err(|e| e.at("transform"))
    }
}

/// Compiles a JSON-pointer glob (`prodlike_common::glob`: `*` one segment, `**` any number,
/// `v*` within a segment, RFC 6901 escapes); the error names the `path` field.
pub(crate) fn pointer_glob(p: &str) -> Result<Glob, TransformError> {
    Glob::pointer(p).map_err(|e| TransformError::new("path", e.to_string()))
}

/// Where a visited value sits: its step from the parent, its key's class, and whether the
/// object holding it is about a person.
#[derive(Clone, Copy)]
struct Visit<'a> {
    step: Step<'a>,
    key: KeyClass,
    person_context: bool,
}

/// Which rule takes the child reached by `step` from the parent's `states` (one per rule):
/// the first in order that matches it, and whether any rule may still match below it; the path
/// rules' states at the child are written to `next`. The one decision both JSON routes (the
/// tree walk here, the text pass of `json_text.rs`) take, so they cannot disagree on it.
pub(crate) fn match_child<'r>(
    rules: &'r [CompiledRule],
    step: Step<'_>,
    states: &[State],
    next: &mut [State],
) -> (Option<&'r CompiledRule>, bool) {
    let mut hit: Option<&CompiledRule> = None;
    let mut alive = false;
    for (i, rule) in rules.iter().enumerate() {
        match &rule.matcher {
            Matcher::Key(k) => {
                if hit.is_none() && matches!(step, Step::Key(s) if s.eq_ignore_ascii_case(k)) {
                    hit = Some(rule);
                }
                alive = true;
            }
            Matcher::Path(g) => {
                next[i] = if states[i].is_dead() {
                    State::DEAD
                } else {
                    g.step(states[i], step)
                };
                if !next[i].is_dead() {
                    alive = true;
                }
                if hit.is_none() && g.accepts(next[i]) {
                    hit = Some(rule);
                }
            }
        }
    }
    (hit, alive)
}

pub(crate) enum Matcher {
    Key(String),
    Path(Glob),
}

pub(crate) enum Action {
    Mask(Mask),
    /// Kept as it is, subtree included: what a team has declared not personal.
    Keep,
}

pub(crate) struct CompiledRule {
    pub(crate) matcher: Matcher,
    pub(crate) action: Action,
}

/// Counts from one masking pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonMaskStats {
    /// Values matched by a rule and masked (a matched object or array counts once).
    pub masked: usize,
    /// Scalars the transform could not handle, replaced by `null` so nothing leaks.
    pub nulled: usize,
    /// Values (or spans of text) masked by detection, per detector.
    pub detected: DetectorCounts,
}

impl JsonMaskStats {
    /// Whether anything in the document changed.
    pub fn changed(&self) -> bool {
        self.masked > 0 || self.nulled > 0 || self.detected.total() > 0
    }
}

/// What to keep unmasked although detection would flag it: a JSON-pointer glob (`/genre/name`,
/// `/**/title`) when it starts with `/`, else a member name matched anywhere, ASCII
/// case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepRule(pub String);

impl KeepRule {
    fn matcher(&self) -> Result<Matcher, TransformError> {
        if self.0.starts_with('/') {
            Ok(Matcher::Path(pointer_glob(&self.0)?))
        } else if self.0.is_empty() {
            Err(TransformError::new("", "must not be empty"))
        } else {
            Ok(Matcher::Key(self.0.clone()))
        }
    }
}

/// The result of masking a raw body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyMask {
    /// No rule matched: send the original bytes unchanged.
    Unchanged,
    /// The re-serialised, masked document (compact JSON).
    Masked(Vec<u8>),
}

/// A body that could not be masked. The caller decides: a proxy should not mirror a body that
/// claims to be JSON but does not parse (it cannot prove the body is clean).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("body is not valid JSON (line {line}, column {column}): {category}")]
    NotJson {
        line: usize,
        column: usize,
        /// `syntax`, `eof` or `data` (from serde_json), never any body bytes.
        category: &'static str,
    },
}

/// Masks JSON values by a list of rules and, when detection is on, every value detection finds
/// personal that no rule names and no keep rule keeps. Cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct JsonMasker {
    /// Mask rules first (in order), then keep rules: a value both masked and kept is masked.
    rules: Arc<[CompiledRule]>,
    detection: Option<Arc<Detection>>,
}

impl std::fmt::Debug for JsonMasker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsonMasker({} rules)", self.rules.len())
    }
}

impl JsonMasker {
    /// Validates and compiles `rules` (errors are prefixed with `[i]`, the rule's index).
    pub fn new(masker: &Masker, rules: &[JsonRule]) -> Result<Self, TransformError> {
        Ok(Self {
            rules: compile(masker, rules)?.into(),
            detection: None,
        })
    }

    /// Like [`JsonMasker::new`], with detection on: values no rule names are masked when they
    /// are personal, unless a `keep` rule keeps them (errors are prefixed with `keep[i]`).
    pub fn with_detection(
        masker: &Masker,
        rules: &[JsonRule],
        keep: &[KeepRule],
    ) -> Result<Self, TransformError> {
        let detection = Detection::new(masker)?;
        Self::detecting(masker, rules, keep, Arc::new(detection))
    }

    pub(crate) fn detecting(
        masker: &Masker,
        rules: &[JsonRule],
        keep: &[KeepRule],
        detection: Arc<Detection>,
    ) -> Result<Self, TransformError> {
        let mut compiled = compile(masker, rules)?;
        for (i, k) in keep.iter().enumerate() {
            compiled.push(CompiledRule {
                matcher: k.matcher().map_err(|e| e.at(&format!("keep[{i}]")))?,
                action: Action::Keep,
            });
        }
        Ok(Self {
            rules: compiled.into(),
            detection: Some(detection),
        })
    }

    /// Whether detection is on.
    pub fn detects(&self) -> bool {
        self.detection.is_some()
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules and detection is off (masking is then a no-op).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.detection.is_none()
    }

    /// Masks `doc` in place. The first rule (in order) matching a value wins, and a masked or
    /// kept value's subtree is not visited again. With detection on, every other scalar is
    /// checked.
    pub fn mask_value(&self, doc: &mut Value) -> JsonMaskStats {
        let mut stats = JsonMaskStats::default();
        if self.is_empty() {
            return stats;
        }
        let states: Vec<State> = self
            .rules
            .iter()
            .map(|r| match &r.matcher {
                Matcher::Path(g) => g.start(),
                Matcher::Key(_) => State::DEAD,
            })
            .collect();
        // The root itself can match a path rule (`""` or `/**`).
        if let Some(rule) = self
            .rules
            .iter()
            .zip(&states)
            .find_map(|(r, &s)| match &r.matcher {
                Matcher::Path(g) if g.accepts(s) => Some(r),
                _ => None,
            })
        {
            if let Action::Mask(mask) = &rule.action {
                stats.masked += 1;
                stats.nulled += mask.apply_json(doc);
            }
            return stats;
        }
        match (
            &self.detection,
            matches!(doc, Value::Object(_) | Value::Array(_)),
        ) {
            (_, true) => self.walk(doc, &states, KeyClass::Plain, &mut stats),
            (Some(d), false) => d.json_scalar(KeyClass::Plain, doc, false, &mut stats.detected),
            (None, false) => {}
        }
        stats
    }

    /// Visits the members of an object or the items of an array. `key` is the class of the key
    /// holding `v`: array items inherit it (`"emails": ["…", "…"]`).
    fn walk(&self, v: &mut Value, states: &[State], key: KeyClass, stats: &mut JsonMaskStats) {
        let mut next = vec![State::DEAD; states.len()];
        match v {
            Value::Object(map) => {
                // Each key is classified once: for the object's person context, then for its
                // member.
                let classes: Vec<KeyClass> = match &self.detection {
                    Some(d) => map.keys().map(|k| d.key_class(k)).collect(),
                    None => Vec::new(),
                };
                let person_context = classes.iter().any(|c| c.is_personal());
                for (i, (k, child)) in map.iter_mut().enumerate() {
                    let at = Visit {
                        step: Step::Key(k),
                        key: classes.get(i).copied().unwrap_or(KeyClass::Plain),
                        person_context,
                    };
                    self.visit(at, child, states, &mut next, stats);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    let at = Visit {
                        step: Step::Index(i),
                        key,
                        person_context: false,
                    };
                    self.visit(at, child, states, &mut next, stats);
                }
            }
            _ => {}
        }
    }

    fn visit(
        &self,
        at: Visit<'_>,
        child: &mut Value,
        states: &[State],
        next: &mut [State],
        stats: &mut JsonMaskStats,
    ) {
        let (hit, alive) = match_child(&self.rules, at.step, states, next);
        match hit.map(|r| &r.action) {
            Some(Action::Mask(mask)) => {
                stats.masked += 1;
                stats.nulled += mask.apply_json(child);
            }
            Some(Action::Keep) => {}
            None if matches!(child, Value::Object(_) | Value::Array(_)) => {
                if alive || self.detection.is_some() {
                    let snapshot = next.to_vec();
                    self.walk(child, &snapshot, at.key, stats);
                }
            }
            None => {
                if let Some(d) = &self.detection {
                    d.json_scalar(at.key, child, at.person_context, &mut stats.detected);
                }
            }
        }
    }

    /// Masks a JSON document given as text and prints it compactly: exactly
    /// `serde_json::from_str`, [`JsonMasker::mask_value`] and `to_string` (members sorted by
    /// key, whitespace dropped, strings escaped as serde_json escapes), which is how a JSON
    /// column is masked. `None` when the text is not JSON.
    ///
    /// Without detection the document is masked in one pass over its text
    /// (`json_text.rs`), several times faster than through a `Value` tree; documents that pass
    /// cannot take (duplicate keys, lone surrogates, deep nesting) go through the tree.
    pub fn mask_text(&self, text: &str) -> Option<String> {
        if self.detection.is_none()
            && let Ok(out) = crate::json_text::mask(&self.rules, text)
        {
            return Some(out);
        }
        let mut doc: Value = serde_json::from_str(text).ok()?;
        self.mask_value(&mut doc);
        Some(doc.to_string())
    }

    /// Masks a raw JSON body: parses it, masks it, and re-serialises it compactly when anything
    /// was masked. An empty or whitespace-only body is [`BodyMask::Unchanged`].
    ///
    /// Note that re-serialisation normalises whitespace and, unless serde_json's `preserve_order`
    /// feature is enabled somewhere in the build, orders object members by key; the document is
    /// semantically the same.
    pub fn mask_body(&self, body: &[u8]) -> Result<BodyMask, BodyError> {
        Ok(self.mask_body_with_stats(body)?.0)
    }

    /// Like [`JsonMasker::mask_body`], with counts.
    pub fn mask_body_with_stats(
        &self,
        body: &[u8],
    ) -> Result<(BodyMask, JsonMaskStats), BodyError> {
        if self.is_empty() || body.iter().all(u8::is_ascii_whitespace) {
            return Ok((BodyMask::Unchanged, JsonMaskStats::default()));
        }
        let mut doc: Value = serde_json::from_slice(body).map_err(|e| BodyError::NotJson {
            line: e.line(),
            column: e.column(),
            category: match e.classify() {
                serde_json::error::Category::Syntax => "syntax",
                serde_json::error::Category::Eof => "eof",
                serde_json::error::Category::Data => "data",
                serde_json::error::Category::Io => "io",
            },
        })?;
        let stats = self.mask_value(&mut doc);
        if !stats.changed() {
            return Ok((BodyMask::Unchanged, stats));
        }
        // Serialising a Value into a Vec cannot fail (no I/O, string keys only).
        Ok((
            BodyMask::Masked(serde_json::to_vec(&doc).unwrap_or_default()),
            stats,
        ))
    }
}

/// Validates and compiles mask rules (errors are prefixed with `[i]`, the rule's index).
fn compile(masker: &Masker, rules: &[JsonRule]) -> Result<Vec<CompiledRule>, TransformError> {
    let mut compiled = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        r.validate().map_err(|e| e.at(&format!("[{i}]")))?;
        let matcher = match (&r.key, &r.path) {
            (Some(k), _) => Matcher::Key(k.clone()),
            (None, Some(p)) => Matcher::Path(pointer_glob(p).map_err(|e| e.at(&format!("[{i}]")))?),
            (None, None) => unreachable_rule(i)?,
        };
        let mask = masker
            .mask(&r.transform)
            .map_err(|e| e.at(&format!("[{i}].transform")))?;
        compiled.push(CompiledRule {
            matcher,
            action: Action::Mask(mask),
        });
    }
    Ok(compiled)
}

fn unreachable_rule(i: usize) -> Result<Matcher, TransformError> {
    Err(TransformError::new(
        format!("[{i}].key"),
        "a JSON rule needs `key` or `path`",
    ))
}
