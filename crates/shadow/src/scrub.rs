//! Key-based masking cannot see PII that production echoes elsewhere: a query string repeated
//! in a JSON field, a `Referer` header, a redirect's `Location`. While a request is masked, the
//! scrubber remembers each raw value and its masked replacement; then every occurrence of those
//! raw values is replaced in whatever is compared, written or shown for that exchange. As a
//! side effect, production's echo of a value compares equal to staging's echo of the masked
//! copy.
use std::borrow::Cow;

use prodlike_common::percent::{self, Plus};
use serde_json::Value;

/// Raw values shorter than this are not scrubbed: replacing every "1" or "de" would mangle
/// unrelated text, and such values carry no identity.
const MIN_RAW_LEN: usize = 4;

#[derive(Debug, Default, Clone)]
pub struct Scrubber {
    /// (raw, masked), longest raw first.
    pairs: Vec<(String, String)>,
}

impl Scrubber {
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    fn add(&mut self, raw: &str, masked: &str) {
        if raw.chars().count() >= MIN_RAW_LEN
            && raw != masked
            && !self.pairs.iter().any(|(r, _)| r == raw)
        {
            self.pairs.push((raw.to_string(), masked.to_string()));
        }
    }

    /// Pairs up the parameters of a query (or form body) before and after masking. Both the
    /// text as sent and its percent-decoded form are remembered.
    pub fn add_query(&mut self, raw: &str, masked: &str) {
        for (r, m) in raw.split('&').zip(masked.split('&')) {
            let (Some((_, rv)), Some((_, mv))) = (r.split_once('='), m.split_once('=')) else {
                continue;
            };
            if rv == mv {
                continue;
            }
            self.add(rv, mv);
            self.add(
                &percent::decode(rv, Plus::Space),
                &percent::decode(mv, Plus::Space),
            );
        }
    }

    /// Pairs up the segments of a path before and after masking (`/users/ann@x.org`).
    pub fn add_path(&mut self, raw: &str, masked: &str) {
        for (r, m) in raw.split('/').zip(masked.split('/')) {
            if r != m {
                self.add(r, m);
                self.add(
                    &percent::decode(r, Plus::Space),
                    &percent::decode(m, Plus::Space),
                );
            }
        }
    }

    /// Pairs up string and number leaves of a JSON document before and after masking.
    pub fn add_json(&mut self, raw: &Value, masked: &Value) {
        match (raw, masked) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in a {
                    if let Some(w) = b.get(k) {
                        self.add_json(v, w);
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                for (v, w) in a.iter().zip(b) {
                    self.add_json(v, w);
                }
            }
            (Value::String(a), Value::String(b)) => self.add(a, b),
            (Value::String(a), other) => self.add(a, &other.to_string()),
            (Value::Number(a), other) => self.add(
                &a.to_string(),
                other
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| other.to_string())
                    .as_str(),
            ),
            _ => {}
        }
    }

    /// Call once all pairs are added: longer raw values are replaced first.
    pub fn finish(&mut self) {
        self.pairs.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
    }

    pub fn scrub_str<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(s);
        for (raw, masked) in &self.pairs {
            if out.contains(raw.as_str()) {
                out = Cow::Owned(out.replace(raw.as_str(), masked));
            }
        }
        out
    }

    pub fn scrub_bytes<'a>(&self, b: &'a [u8]) -> Cow<'a, [u8]> {
        if self.pairs.is_empty() {
            return Cow::Borrowed(b);
        }
        match std::str::from_utf8(b) {
            Ok(s) => match self.scrub_str(s) {
                Cow::Borrowed(_) => Cow::Borrowed(b),
                Cow::Owned(o) => Cow::Owned(o.into_bytes()),
            },
            Err(_) => {
                let mut out = b.to_vec();
                for (raw, masked) in &self.pairs {
                    out = replace_bytes(&out, raw.as_bytes(), masked.as_bytes());
                }
                Cow::Owned(out)
            }
        }
    }

    /// Scrubs every string (and number rendered as text) in place.
    pub fn scrub_json(&self, v: &mut Value) {
        if self.pairs.is_empty() {
            return;
        }
        match v {
            Value::String(s) => {
                if let Cow::Owned(o) = self.scrub_str(s) {
                    *s = o;
                }
            }
            Value::Number(n) => {
                let text = n.to_string();
                if let Some((_, masked)) = self.pairs.iter().find(|(raw, _)| *raw == text) {
                    *v = Value::String(masked.clone());
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.scrub_json(x)),
            Value::Object(o) => o.values_mut().for_each(|x| self.scrub_json(x)),
            _ => {}
        }
    }
}

fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return hay.to_vec();
    }
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn echoes_of_masked_values_are_replaced_everywhere() {
        let mut s = Scrubber::default();
        s.add_query(
            "token=SECRET123&email=a%40b.example&q=x",
            "token=h4sh&email=m%40n.example&q=x",
        );
        s.add_json(
            &json!({"user": {"email": "ann@corp.example", "age": 41}, "n": 12345}),
            &json!({"user": {"email": "zed@fake.example", "age": 41}, "n": "9f8e"}),
        );
        s.finish();
        assert_eq!(
            s.scrub_str("see ?token=SECRET123&email=a@b.example"),
            "see ?token=h4sh&email=m@n.example"
        );
        assert_eq!(s.scrub_str("raw a%40b.example"), "raw m%40n.example");
        let mut v = json!({"echo": "mail ann@corp.example now", "id": 12345, "other": 41});
        s.scrub_json(&mut v);
        assert_eq!(
            v,
            json!({"echo": "mail zed@fake.example now", "id": "9f8e", "other": 41})
        );
        assert_eq!(
            &*s.scrub_bytes(b"\xff ann@corp.example"),
            b"\xff zed@fake.example"
        );
        assert_eq!(
            s.scrub_str("q=x"),
            "q=x",
            "short or unmasked values are left alone"
        );
    }

    proptest! {
        #[test]
        fn a_scrubbed_text_never_holds_a_remembered_raw_value(
            raw in "[a-z0-9@.]{4,12}", prefix in "[ -~]{0,20}", suffix in "[ -~]{0,20}"
        ) {
            let mut s = Scrubber::default();
            s.add_query(&format!("k={raw}"), "k=MASKEDVALUE");
            s.finish();
            let text = format!("{prefix}{raw}{suffix}{raw}");
            let out = s.scrub_str(&text);
            prop_assert!(!out.contains(&raw) || "MASKEDVALUE".contains(&raw));
        }
    }
}
