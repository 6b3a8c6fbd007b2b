//! Detection bound to a key: finds personal values one field at a time (see
//! [`crate::detect::classify_field`]) and masks each with its class's canonical transform
//! ([`PiiKind::default_transform`], the same one `prodlike data` applies to a detected column),
//! so that one email gets one pseudonym in a table, a JSON body, a query string and a capture.
//!
//! Used by [`crate::JsonMasker`], [`crate::QueryMasker`] and [`crate::HttpMasker`] when detection
//! is on.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock};

use serde_json::Value;

use crate::detect::{
    Detector, DetectorCounts, FieldHit, KeyClass, PiiKind, Scalar, auth_scheme_len, classify_field,
    classify_key, find_spans, is_bare_id,
};
use crate::engine::Masker;
use crate::mask::{Mask, Output};
use crate::transform::TransformError;

/// Distinct keys whose class is remembered; traffic has few distinct keys, and a flood of
/// random ones (maps keyed by id) must not grow memory without bound.
const MAX_CACHED_KEYS: usize = 4096;

/// Masked values remembered: traffic repeats itself (a client's IP on every request, the same
/// customer in every response), and a format-preserving transform costs thousands of
/// instructions. Bounded; cleared when full.
const MAX_MEMO: usize = 8192;

/// Detection with one bound mask per PII kind.
pub(crate) struct Detection {
    masks: Vec<(PiiKind, Mask)>,
    keys: RwLock<HashMap<Box<str>, KeyClass>>,
    memo: Mutex<Memo>,
}

/// (kind, value) → masked value, or `None` when the kind's transform cannot take the value.
type Memo = HashMap<(PiiKind, Box<str>), Option<Box<str>>>;

impl std::fmt::Debug for Detection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Detection")
    }
}

impl Detection {
    pub(crate) fn new(masker: &Masker) -> Result<Self, TransformError> {
        let mut masks = Vec::with_capacity(PiiKind::ALL.len());
        for kind in PiiKind::ALL {
            masks.push((kind, masker.mask(&kind.default_transform())?));
        }
        Ok(Self {
            masks,
            keys: RwLock::new(HashMap::new()),
            memo: Mutex::new(HashMap::new()),
        })
    }

    fn mask(&self, kind: PiiKind) -> Option<&Mask> {
        self.masks.iter().find(|(k, _)| *k == kind).map(|(_, m)| m)
    }

    /// The class of a key name, remembered.
    pub(crate) fn key_class(&self, key: &str) -> KeyClass {
        if let Some(c) = self
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
        {
            return *c;
        }
        let class = classify_key(key);
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        if keys.len() < MAX_CACHED_KEYS {
            keys.insert(key.into(), class);
        }
        class
    }

    /// Masks one JSON scalar in place when it is personal, or the personal spans of its text.
    pub(crate) fn json_scalar(
        &self,
        key: KeyClass,
        v: &mut Value,
        person_context: bool,
        counts: &mut DetectorCounts,
    ) {
        let hit = match v {
            Value::String(s) => classify_field(key, Scalar::Text(s), person_context),
            // A number is personal by its key, or as a card (13 digits or more): prices,
            // counts, ratings and ids under plain keys are answered without rendering them.
            Value::Number(n) if !could_be_personal_number(key, n) => None,
            Value::Number(n) => classify_field(key, Scalar::Number(&n.to_string()), false),
            _ => None,
        };
        match (hit, &mut *v) {
            (Some(hit), Value::String(s)) => {
                if let Some(masked) = self.apply_hit(hit, s) {
                    *s = masked;
                } else {
                    *v = Value::Null;
                }
                counts.add(hit.detector);
            }
            (Some(hit), _) => {
                if let Some(mask) = self.mask(hit.kind) {
                    mask.apply_json(v);
                } else {
                    *v = Value::Null;
                }
                counts.add(hit.detector);
            }
            (None, Value::String(s)) if !is_bare_id(key, s) => {
                if let Some(masked) = self.text(s, counts) {
                    *s = masked;
                }
            }
            _ => {}
        }
    }

    /// A text field (query parameter, header, form field) under `key`: the masked text when
    /// anything in it was personal.
    pub(crate) fn field(
        &self,
        key: KeyClass,
        value: &str,
        counts: &mut DetectorCounts,
    ) -> Option<String> {
        match classify_field(key, Scalar::Text(value), false) {
            Some(hit) => {
                counts.add(hit.detector);
                // A value no transform can handle is emptied: nothing passes unmasked.
                Some(self.apply_hit(hit, value).unwrap_or_default())
            }
            None if is_bare_id(key, value) => None,
            None => self.text(value, counts),
        }
    }

    /// Free text: the text with every personal span replaced, or `None` when it had none.
    pub(crate) fn text(&self, text: &str, counts: &mut DetectorCounts) -> Option<String> {
        let spans = find_spans(text);
        if spans.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut at = 0;
        for span in spans {
            out.push_str(&text[at..span.range.start]);
            let piece = &text[span.range.clone()];
            let detector = if span.credential {
                Detector::Token
            } else {
                Detector::of_kind(span.kind)
            };
            let hit = FieldHit {
                kind: span.kind,
                detector,
            };
            // A span the transform cannot take is dropped rather than kept.
            if let Some(masked) = self.apply_hit(hit, piece) {
                out.push_str(&masked);
            }
            counts.add(detector);
            at = span.range.end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }

    /// The masked form of a value found personal; `None` when its transform cannot take it.
    /// Remembered (see [`MAX_MEMO`]): masking is deterministic, so a repeat is a lookup.
    pub(crate) fn apply_hit(&self, hit: FieldHit, value: &str) -> Option<String> {
        let key = (hit.kind, Box::<str>::from(value));
        if let Some(m) = self
            .memo
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return m.as_deref().map(str::to_owned);
        }
        let masked = self.apply_hit_uncached(hit, value);
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        if memo.len() >= MAX_MEMO {
            memo.clear();
        }
        memo.insert(key, masked.as_deref().map(Box::from));
        masked
    }

    fn apply_hit_uncached(&self, hit: FieldHit, value: &str) -> Option<String> {
        let mask = self.mask(hit.kind)?;
        // `Bearer <credential>`: the scheme says how to authenticate and is not secret.
        let (scheme, credential) = match auth_scheme_len(value) {
            Some(n) if hit.kind == PiiKind::Secret => value.split_at(n),
            _ => ("", value),
        };
        let mut out = String::with_capacity(value.len() + 8);
        match mask.apply_str(credential, &mut out) {
            // A transform that gave the value back unchanged (a phone's or a card's on text
            // without digits: `"card": "Ann Smith"`) masked nothing; the value is hashed instead.
            Ok(Output::Text) if out == credential && hit.kind != PiiKind::Secret => {
                let hit = FieldHit {
                    kind: PiiKind::Secret,
                    detector: hit.detector,
                };
                self.apply_hit(hit, credential)
                    .map(|hashed| format!("{scheme}{hashed}"))
            }
            Ok(Output::Text) => Some(format!("{scheme}{out}")),
            Ok(Output::Null) | Err(_) => None,
        }
    }
}

/// Whether a JSON number needs looking at: under a key that names a kind, or an integer long
/// enough to be a card number (the only kind a bare number can have by its value alone).
fn could_be_personal_number(key: KeyClass, n: &serde_json::Number) -> bool {
    match key {
        KeyClass::Kind(_) | KeyClass::PersonName(..) => true,
        KeyClass::Plain | KeyClass::Identifier => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u >= 1_000_000_000_000,
            (None, Some(i)) => i.unsigned_abs() >= 1_000_000_000_000,
            // Floats: no card or phone is written with a fraction.
            (None, None) => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::MaskKey;

    fn detection() -> Detection {
        Detection::new(&Masker::new(
            MaskKey::from_secret(b"detection test secret").unwrap(),
        ))
        .unwrap()
    }

    #[test]
    fn masks_fields_and_spans_with_counts() {
        let d = detection();
        let mut counts = DetectorCounts::default();
        let masked = d
            .field(d.key_class("email"), "ann@x.org", &mut counts)
            .unwrap();
        assert_ne!(masked, "ann@x.org");
        assert!(masked.contains('@'));
        let bearer = d
            .field(
                d.key_class("authorization"),
                "Bearer abcdefghijklmnop",
                &mut counts,
            )
            .unwrap();
        assert!(bearer.starts_with("Bearer ") && !bearer.contains("abcdefghijklmnop"));
        let text = d
            .text("mail ann@x.org or call +1 415 555 0100", &mut counts)
            .unwrap();
        assert!(!text.contains("ann@x.org") && !text.contains("415 555 0100"));
        assert!(text.starts_with("mail ") && text.contains(" or call +1 "));
        assert_eq!(counts.0[Detector::Email.index()], 2);
        assert_eq!(counts.0[Detector::Phone.index()], 1);
        assert!(d.text("nothing to see here", &mut counts).is_none());
    }

    #[test]
    fn ids_stay_and_unchanged_transforms_fall_back_to_a_hash() {
        let d = detection();
        let mut c = DetectorCounts::default();
        // The id key's veto is not undone by scanning the value as text.
        assert_eq!(
            d.field(d.key_class("order_id"), "4111111111111111", &mut c),
            None
        );
        let mut id = Value::String("4111111111111111".into());
        d.json_scalar(d.key_class("order_id"), &mut id, false, &mut c);
        assert_eq!(id, "4111111111111111");
        // A card's transform leaves text without digits as it is: hashed instead.
        let masked = d
            .field(d.key_class("card_number"), "Ann Smith", &mut c)
            .unwrap();
        assert_ne!(masked, "Ann Smith");
        assert_eq!(c.total(), 1);
    }

    #[test]
    fn the_same_value_gets_the_same_pseudonym_in_every_place() {
        let d = detection();
        let mut c = DetectorCounts::default();
        let in_field = d.field(d.key_class("contact"), "ann@x.org", &mut c);
        let in_text = d.text("ann@x.org", &mut c);
        let mut json = Value::String("ann@x.org".into());
        d.json_scalar(d.key_class("email"), &mut json, false, &mut c);
        assert_eq!(in_field, in_text);
        assert_eq!(json.as_str(), in_field.as_deref());
    }
}
