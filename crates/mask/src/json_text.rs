//! Masking a JSON document given as text without building a `serde_json::Value` tree: one pass
//! over the text prints the document compactly while the rules are matched, and only the values a
//! rule matches are masked.
//!
//! The output is byte for byte what the tree route gives (`serde_json::from_str`, then
//! [`crate::JsonMasker::mask_value`], then `to_string`), which is what every masked JSON column
//! has held so far and must keep holding (`tests/pseudonyms_stable.rs`):
//! - whitespace dropped; object members sorted by key (serde_json's map is a `BTreeMap`);
//! - strings unescaped and escaped again as serde_json escapes (`\/` becomes `/`, `\u00e9`
//!   becomes `é`, control characters become `\n` or `\u001f`);
//! - integers of up to 19 digits kept as written; every other number (negative, fraction,
//!   exponent, longer) printed by serde_json itself from its own parse of that token;
//! - a matched value other than a string (a number, an object) masked through a `Value` of that
//!   value alone, as the tree route masks it.
//!
//! Anything else (duplicate keys, lone surrogates, very deep nesting, a path rule matching the
//! root, text that is not JSON) is a [`Fallback`]: the caller takes the tree route, which then
//! decides, exactly as before.

use std::borrow::Cow;
use std::fmt::Write as _;

use prodlike_common::glob::{State, Step};

use crate::json::{Action, CompiledRule, Matcher, match_child};
use crate::mask::Mask;

/// Nesting beyond this takes the tree route (serde_json refuses more than 128 levels).
const MAX_DEPTH: usize = 100;
/// Rules per masker the text route handles (one state per rule lives on the stack).
const MAX_RULES: usize = 16;

/// The text route does not handle this document; take the tree route.
#[derive(Debug)]
pub(crate) struct Fallback;

type Result<T> = std::result::Result<T, Fallback>;

/// The masked, compactly printed document, or [`Fallback`].
pub(crate) fn mask(rules: &[CompiledRule], text: &str) -> Result<String> {
    if rules.len() > MAX_RULES {
        return Err(Fallback);
    }
    let mut states = [State::DEAD; MAX_RULES];
    for (s, r) in states.iter_mut().zip(rules) {
        if let Matcher::Path(g) = &r.matcher {
            *s = g.start();
            // A rule on the root masks the whole document: the tree route does that.
            if g.accepts(*s) {
                return Err(Fallback);
            }
        }
    }
    let mut p = Printer {
        text,
        src: text.as_bytes(),
        at: 0,
        out: String::with_capacity(text.len() + 16),
        members: Vec::new(),
        rules,
        // Masked values are short (e-mails, addresses): one allocation, not a few regrowths.
        buf: String::with_capacity(64),
        depth: 0,
    };
    p.ws();
    match p.peek() {
        Some(b'{' | b'[') => p.value(Some(&states[..rules.len()]))?,
        _ => p.value(None)?,
    }
    p.ws();
    if p.at != p.src.len() {
        return Err(Fallback);
    }
    Ok(p.out)
}

/// One printed object member: its key (unescaped, for sorting) and where it sits in the output.
struct Member<'a> {
    key: Cow<'a, str>,
    start: usize,
    end: usize,
}

struct Printer<'a, 'r> {
    text: &'a str,
    src: &'a [u8],
    at: usize,
    out: String,
    /// Members of the objects being printed, innermost last.
    members: Vec<Member<'a>>,
    rules: &'r [CompiledRule],
    /// Reused for masked strings.
    buf: String,
    depth: usize,
}

impl<'a> Printer<'a, '_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.at).copied()
    }

    /// Skips JSON whitespace (exactly serde_json's four characters).
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<()> {
        self.ws();
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    /// Prints one value. `states` is `Some` while rules may still match below it (the tree
    /// route walks that subtree), `None` where it is printed as it is.
    fn value(&mut self, states: Option<&[State]>) -> Result<()> {
        self.ws();
        match self.peek().ok_or(Fallback)? {
            b'{' => self.object(states),
            b'[' => self.array(states),
            b'"' => {
                let s = self.string()?;
                match s {
                    // No escapes and no control characters: serde_json prints it as written.
                    Cow::Borrowed(raw) => {
                        self.out.push('"');
                        self.out.push_str(raw);
                        self.out.push('"');
                    }
                    Cow::Owned(s) => push_json_str(&s, &mut self.out),
                }
                Ok(())
            }
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Fallback),
        }
    }

    fn literal(&mut self, word: &str) -> Result<()> {
        if self.src[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            self.out.push_str(word);
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        self.at += 1;
        if self.depth > MAX_DEPTH {
            return Err(Fallback);
        }
        Ok(())
    }

    fn object(&mut self, states: Option<&[State]>) -> Result<()> {
        self.enter()?;
        self.out.push('{');
        let first = self.out.len();
        let base = self.members.len();
        self.ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
        } else {
            loop {
                self.ws();
                if self.peek() != Some(b'"') {
                    return Err(Fallback);
                }
                let key = self.string()?;
                if self.members.len() > base {
                    self.out.push(',');
                }
                let start = self.out.len();
                push_json_str(&key, &mut self.out);
                self.expect(b':')?;
                self.out.push(':');
                match states {
                    Some(s) => self.child(Step::Key(&key), s)?,
                    None => self.value(None)?,
                }
                let end = self.out.len();
                self.members.push(Member { key, start, end });
                self.ws();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b'}') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(Fallback),
                }
            }
        }
        self.sort_members(base, first)?;
        self.members.truncate(base);
        self.out.push('}');
        self.depth -= 1;
        Ok(())
    }

    /// Puts the members printed since `base` in key order, as serde_json's `BTreeMap` prints
    /// them. Reordering keeps the printed length, so outer members' offsets stay right.
    fn sort_members(&mut self, base: usize, first: usize) -> Result<()> {
        let ms = &self.members[base..];
        if ms.windows(2).all(|w| w[0].key < w[1].key) {
            return Ok(());
        }
        let mut order: Vec<usize> = (0..ms.len()).collect();
        order.sort_by(|&a, &b| ms[a].key.cmp(&ms[b].key));
        // A repeated key keeps only its last value in the tree route.
        if order.windows(2).any(|w| ms[w[0]].key == ms[w[1]].key) {
            return Err(Fallback);
        }
        let printed = self.out[first..].to_owned();
        self.out.truncate(first);
        for (i, &m) in order.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out
                .push_str(&printed[ms[m].start - first..ms[m].end - first]);
        }
        Ok(())
    }

    fn array(&mut self, states: Option<&[State]>) -> Result<()> {
        self.enter()?;
        self.out.push('[');
        self.ws();
        if self.peek() == Some(b']') {
            self.at += 1;
        } else {
            let mut i = 0;
            loop {
                if i > 0 {
                    self.out.push(',');
                }
                match states {
                    Some(s) => self.child(Step::Index(i), s)?,
                    None => self.value(None)?,
                }
                i += 1;
                self.ws();
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b']') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(Fallback),
                }
            }
        }
        self.out.push(']');
        self.depth -= 1;
        Ok(())
    }

    /// A member or item below a walked container: the first rule matching it (in order) masks
    /// it; else it is walked further while some rule may match below it (as
    /// `JsonMasker::visit` decides).
    fn child(&mut self, step: Step<'_>, states: &[State]) -> Result<()> {
        let rules = self.rules;
        let mut next = [State::DEAD; MAX_RULES];
        let (hit, alive) = match_child(rules, step, states, &mut next);
        match hit.map(|r| &r.action) {
            Some(Action::Mask(mask)) => self.masked(mask),
            Some(Action::Keep) => self.value(None),
            None if alive => self.value(Some(&next[..rules.len()])),
            None => self.value(None),
        }
    }

    /// A value a rule matched, masked as [`Mask::apply_json`] masks it.
    fn masked(&mut self, mask: &Mask) -> Result<()> {
        self.ws();
        if self.peek() == Some(b'"') {
            let s = self.string()?;
            mask.push_json_str(&s, &mut self.buf, &mut self.out);
            return Ok(());
        }
        // Anything else goes through a `Value` of its own text: find where it ends by printing
        // it into a scratch buffer.
        let start = self.at;
        let kept = std::mem::take(&mut self.out);
        let r = self.value(None);
        self.out = kept;
        r?;
        let raw = &self.text[start..self.at];
        let mut v: serde_json::Value = serde_json::from_str(raw).map_err(|_| Fallback)?;
        mask.apply_json(&mut v);
        let _ = write!(self.out, "{v}");
        Ok(())
    }

    fn number(&mut self) -> Result<()> {
        let start = self.at;
        let digits = |p: &mut Self| {
            let from = p.at;
            while let Some(b'0'..=b'9') = p.peek() {
                p.at += 1;
            }
            p.at > from
        };
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(Fallback),
        }
        let mut integer = !negative;
        if self.peek() == Some(b'.') {
            integer = false;
            self.at += 1;
            if !digits(self) {
                return Err(Fallback);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if !digits(self) {
                return Err(Fallback);
            }
        }
        let token = &self.text[start..self.at];
        if integer && token.len() <= 19 {
            // Fits a u64, which serde_json prints back digit for digit.
            self.out.push_str(token);
        } else {
            // `-0`, fractions, exponents, huge integers: serde_json's own reading and printing.
            let v: serde_json::Value = serde_json::from_str(token).map_err(|_| Fallback)?;
            let _ = write!(self.out, "{v}");
        }
        Ok(())
    }

    /// A string literal (at its opening quote), unescaped: borrowed when it has no escapes.
    fn string(&mut self) -> Result<Cow<'a, str>> {
        self.at += 1;
        let start = self.at;
        loop {
            match self.peek().ok_or(Fallback)? {
                b'"' => {
                    let s = &self.text[start..self.at];
                    self.at += 1;
                    return Ok(Cow::Borrowed(s));
                }
                b'\\' => break,
                0..=0x1f => return Err(Fallback),
                _ => self.at += 1,
            }
        }
        let mut s = String::from(&self.text[start..self.at]);
        loop {
            match self.peek().ok_or(Fallback)? {
                b'"' => {
                    self.at += 1;
                    return Ok(Cow::Owned(s));
                }
                b'\\' => {
                    self.at += 1;
                    let c = match self.peek().ok_or(Fallback)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.at += 1;
                            let c = self.unicode_escape()?;
                            s.push(c);
                            continue;
                        }
                        _ => return Err(Fallback),
                    };
                    self.at += 1;
                    s.push(c);
                }
                0..=0x1f => return Err(Fallback),
                _ => {
                    let from = self.at;
                    while let Some(b) = self.peek() {
                        if b == b'"' || b == b'\\' || b < 0x20 {
                            break;
                        }
                        self.at += 1;
                    }
                    s.push_str(&self.text[from..self.at]);
                }
            }
        }
    }

    /// The character of a `\uXXXX` escape (after its `u`), a surrogate pair read whole; a lone
    /// surrogate (which serde_json refuses) is a fallback.
    fn unicode_escape(&mut self) -> Result<char> {
        let n = self.hex4()?;
        let code = match n {
            0xD800..=0xDBFF => {
                if !self.src[self.at..].starts_with(b"\\u") {
                    return Err(Fallback);
                }
                self.at += 2;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(Fallback);
                }
                0x1_0000 + ((u32::from(n) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(Fallback),
            _ => u32::from(n),
        };
        char::from_u32(code).ok_or(Fallback)
    }

    fn hex4(&mut self) -> Result<u16> {
        let mut n: u16 = 0;
        for _ in 0..4 {
            let d = match self.peek().ok_or(Fallback)? {
                b @ b'0'..=b'9' => b - b'0',
                b @ b'a'..=b'f' => b - b'a' + 10,
                b @ b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(Fallback),
            };
            n = (n << 4) | u16::from(d);
            self.at += 1;
        }
        Ok(n)
    }
}

/// `s` as a JSON string literal, escaped exactly as serde_json escapes: `"`, `\` and control
/// characters only, the five common ones by letter and the others as `\u00xx`.
pub(crate) fn push_json_str(s: &str, out: &mut String) {
    out.push('"');
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x09 => "\\t",
            0x0a => "\\n",
            0x0c => "\\f",
            0x0d => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[from..i]);
        if short.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(short);
        }
        from = i + 1;
    }
    out.push_str(&s[from..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_serde_json_does() {
        let all: String = (0u32..0x100).filter_map(char::from_u32).collect();
        for s in [all.as_str(), "", "plain", "q\"b\\s/é😀\u{7f}"] {
            let mut out = String::new();
            push_json_str(s, &mut out);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }
}
