//! A transform bound to a key: the object callers apply to values.

use std::fmt;
use std::sync::Arc;

use crate::engine::{Keys, Masker};
use crate::fakes::{self, NameKind};
use crate::fit::{FIT_REGENERATIONS, Fit, shorten};
use crate::fpe::{FpeSpec, fpe_str};
use crate::hex;
use crate::prf::below;
use crate::transform::{Alphabet, HashEncoding, Transform};
use crate::unique::UniqueScope;
use crate::values;

/// Days between 1970-01-01 and 2000-01-01, the epoch of PostgreSQL's binary `date` and
/// `timestamp` formats: `pg_days + PG_EPOCH_DAYS` is days since 1970.
pub const PG_EPOCH_DAYS: i32 = 10_957;

/// Attempts a [`UniqueScope`] makes before giving up on one value.
pub const MAX_UNIQUE_ATTEMPTS: u32 = 64;

/// What [`Mask::apply_str`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The masked text is in the output buffer.
    Text,
    /// The value becomes NULL (transform `null`); the buffer is empty.
    Null,
}

/// A value could not be masked. Never carries the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaskError {
    /// The transform does not apply to this value (e.g. `ip` on text that is not an address).
    #[error("`{transform}` cannot mask {what}; {hint}")]
    Unsupported {
        transform: &'static str,
        what: &'static str,
        hint: &'static str,
    },
    /// A uniqueness scope found no free pseudonym.
    #[error(
        "`{transform}`: no unused pseudonym after {attempts} attempts; the unique column has more distinct values than this transform can tell apart — use `format_preserving` or a longer `hash`"
    )]
    UniqueExhausted {
        transform: &'static str,
        attempts: u32,
    },
    /// No value of the transform's class fits the column (its length, or its CHECK).
    #[error(
        "`{transform}`: no value fits the column ({why}); mask it with a transform whose values fit, e.g. `hash` with a shorter `length`, `format_preserving` or `constant`"
    )]
    CannotFit {
        transform: &'static str,
        why: String,
    },
    /// `shuffle` needs the whole column and is not applied value by value.
    #[error(
        "`shuffle` is a column-level transform: permute the column with Masker::permutation or shuffle::shuffle_block instead of masking values one by one"
    )]
    ColumnLevel,
}

/// A validated transform bound to a key. Cheap to clone, `Send + Sync`.
///
/// Text goes through [`Mask::apply_str`] (reusing the caller's buffer), typed columns through
/// [`Mask::apply_i64`], [`Mask::apply_f64`], [`Mask::apply_date_days`],
/// [`Mask::apply_timestamp_micros`] and [`Mask::apply_uuid`], JSON through [`Mask::apply_json`]; unique columns through
/// [`Mask::apply_str_unique`].
#[derive(Clone)]
pub struct Mask {
    engine: Masker,
    transform: Arc<Transform>,
}

impl fmt::Debug for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mask({})", self.transform.name())
    }
}

impl Mask {
    pub(crate) fn new(engine: Masker, transform: Transform) -> Self {
        Self {
            engine,
            transform: Arc::new(transform),
        }
    }

    /// The transform this mask applies.
    pub fn transform(&self) -> &Transform {
        &self.transform
    }

    fn keys(&self) -> &Keys {
        self.engine.keys()
    }

    fn unsupported(&self, what: &'static str, hint: &'static str) -> MaskError {
        MaskError::Unsupported {
            transform: self.transform.name(),
            what,
            hint,
        }
    }

    /// Masks `input` into `out` (cleared first). Deterministic: the same input, key and transform
    /// always give the same output.
    pub fn apply_str(&self, input: &str, out: &mut String) -> Result<Output, MaskError> {
        out.clear();
        self.write_fresh(input, 0, out)
    }

    /// Convenience form of [`Mask::apply_str`] that allocates; `None` means NULL.
    pub fn mask_str(&self, input: &str) -> Result<Option<String>, MaskError> {
        let mut out = String::new();
        match self.apply_str(input, &mut out)? {
            Output::Text => Ok(Some(out)),
            Output::Null => Ok(None),
        }
    }

    /// Like [`Mask::apply_str`], but the output is also unique within `scope`: when the
    /// pseudonym is already held by a different input, the value is re-derived with a keyed
    /// retry counter until a free one is found. Same input → same output within a scope, always;
    /// across scopes the output differs only for inputs that had to retry. Bijective transforms
    /// skip the scope (they cannot collide).
    pub fn apply_str_unique(
        &self,
        input: &str,
        scope: &UniqueScope,
        out: &mut String,
    ) -> Result<Output, MaskError> {
        if self.transform.is_injective() {
            return self.apply_str(input, out);
        }
        let tag = scope.input_tag(&self.keys().unique, self.transform.name(), input);
        for attempt in 0..MAX_UNIQUE_ATTEMPTS {
            out.clear();
            if self.write_fresh(input, attempt, out)? == Output::Null {
                return Ok(Output::Null);
            }
            if scope.claim(out.as_bytes(), tag) {
                return Ok(Output::Text);
            }
        }
        out.clear();
        Err(MaskError::UniqueExhausted {
            transform: self.transform.name(),
            attempts: MAX_UNIQUE_ATTEMPTS,
        })
    }

    /// [`Mask::apply_str`] or [`Mask::apply_str_unique`] (with `scope`), fitted to what the
    /// column accepts ([`Fit`]). The canonical value is kept whenever it fits; otherwise the
    /// value is regenerated within its class, then shortened as its class allows, then (for a
    /// list of allowed values) replaced by a keyed member of the list. Deterministic: the same
    /// input, key, transform and fit always give the same output. A unique column's collisions
    /// are retried as in [`Mask::apply_str_unique`], each retry fitted.
    pub fn apply_str_fitted(
        &self,
        input: &str,
        fit: &Fit,
        scope: Option<&UniqueScope>,
        out: &mut String,
    ) -> Result<Output, MaskError> {
        if fit.is_free() {
            return match scope {
                Some(s) => self.apply_str_unique(input, s, out),
                None => self.apply_str(input, out),
            };
        }
        let scope = scope.filter(|_| !self.transform.is_injective());
        let Some(scope) = scope else {
            return self.write_fitted(input, 0, fit, out);
        };
        let tag = scope.input_tag(&self.keys().unique, self.transform.name(), input);
        for retry in 0..MAX_UNIQUE_ATTEMPTS {
            if self.write_fitted(input, retry, fit, out)? == Output::Null {
                return Ok(Output::Null);
            }
            if scope.claim(out.as_bytes(), tag) {
                return Ok(Output::Text);
            }
        }
        out.clear();
        Err(MaskError::UniqueExhausted {
            transform: self.transform.name(),
            attempts: MAX_UNIQUE_ATTEMPTS,
        })
    }

    /// One uniqueness retry, fitted: regenerations (bits 16.. of the attempt), then shortening,
    /// then a keyed member of the allowed list.
    fn write_fitted(
        &self,
        input: &str,
        retry: u32,
        fit: &Fit,
        out: &mut String,
    ) -> Result<Output, MaskError> {
        let regenerates = self.transform.regenerates();
        for k in 0..FIT_REGENERATIONS {
            out.clear();
            if self.write_fresh(input, retry | (k << 16), out)? == Output::Null {
                return Ok(Output::Null);
            }
            if fit.accepts(out) {
                return Ok(Output::Text);
            }
            if !regenerates {
                break;
            }
        }
        out.clear();
        self.write_fresh(input, retry, out)?;
        if let Some(max) = fit.max_chars
            && out.chars().count() > max
        {
            shorten(
                &self.transform,
                out,
                max,
                (retry & fakes::RETRY_BITS) >= fakes::DISAMBIGUATE_FROM,
            );
        }
        if fit.accepts(out) && !self.same_as_source(input, out) {
            return Ok(Output::Text);
        }
        if !fit.one_of.is_empty() {
            let others: Vec<&String> = fit.one_of.iter().filter(|v| *v != input).collect();
            let choices: Vec<&String> = if others.is_empty() {
                fit.one_of.iter().collect()
            } else {
                others
            };
            let r = self.keys().fit.u64_parts(&[
                self.transform.name().as_bytes(),
                input.as_bytes(),
                &retry.to_le_bytes(),
            ]);
            if let Some(v) = choices.get(below(r, choices.len())) {
                out.clear();
                out.push_str(v);
                if fit.accepts(out) {
                    return Ok(Output::Text);
                }
            }
        }
        out.clear();
        let why = match (fit.max_chars, fit.one_of.is_empty()) {
            (Some(m), true) => format!("at most {m} characters"),
            (Some(m), false) => format!("at most {m} characters, one of its CHECK's values"),
            (None, false) => "one of its CHECK's values".to_owned(),
            (None, true) => "its CHECK".to_owned(),
        };
        Err(MaskError::CannotFit {
            transform: self.transform.name(),
            why,
        })
    }

    /// True when a free-form class's output spells its input again (case and surrounding space
    /// aside).
    fn same_as_source(&self, input: &str, out: &str) -> bool {
        fn lower(s: &str) -> impl Iterator<Item = char> + '_ {
            s.trim().chars().flat_map(char::to_lowercase)
        }
        self.transform.is_free_form() && !input.trim().is_empty() && lower(out).eq(lower(input))
    }

    /// [`Mask::write_attempt`], with the never-equal rule of free-form classes (names, emails,
    /// addresses, cities, companies, usernames, hashes): an output that spells the source value
    /// again is regenerated (bits 24.. of the attempt) until it does not. Deterministic, so the
    /// value keeps one pseudonym.
    fn write_fresh(
        &self,
        input: &str,
        attempt: u32,
        out: &mut String,
    ) -> Result<Output, MaskError> {
        let r = self.write_attempt(input, attempt, out)?;
        if r == Output::Text && self.same_as_source(input, out) {
            for k in 1u32..=8 {
                out.clear();
                self.write_attempt(input, attempt | (k << 24), out)?;
                if !self.same_as_source(input, out) {
                    break;
                }
            }
        }
        Ok(r)
    }

    fn write_attempt(
        &self,
        input: &str,
        attempt: u32,
        out: &mut String,
    ) -> Result<Output, MaskError> {
        let keys = self.keys();
        let attempt_bytes = attempt.to_le_bytes();
        match &*self.transform {
            Transform::Keep => out.push_str(input),
            Transform::Null => return Ok(Output::Null),
            Transform::Constant(c) => match &c.value {
                serde_json::Value::String(s) => out.push_str(s),
                other => out.push_str(&other.to_string()),
            },
            Transform::Hash(o) => {
                let digest = if attempt == 0 {
                    keys.hash.hash(input.as_bytes())
                } else {
                    keys.hash.hash_parts(&[input.as_bytes(), &attempt_bytes])
                };
                match o.encoding {
                    HashEncoding::Hex => hex::push_hex(&digest, o.length, out),
                    HashEncoding::Base32 => hex::push_base32(&digest, o.length, out),
                }
            }
            Transform::Name(o) => fakes::name(keys, o.locale, NameKind::Full, input, attempt, out),
            Transform::FirstName(o) => {
                fakes::name(keys, o.locale, NameKind::First, input, attempt, out);
            }
            Transform::LastName(o) => {
                fakes::name(keys, o.locale, NameKind::Last, input, attempt, out);
            }
            Transform::Email(o) => fakes::email(keys, o, input, attempt, out),
            Transform::Username(_) => fakes::local_part(keys, input, attempt, out),
            Transform::StreetAddress(o) => fakes::street(keys, o.locale, input, attempt, out),
            Transform::City(o) => fakes::city(keys, o.locale, input, attempt, out),
            Transform::Company(o) => fakes::company(keys, o.locale, input, attempt, out),
            Transform::Phone(o) => values::phone(keys, o.keep_country_code, input, out),
            Transform::FormatPreserving(o) => {
                let spec = FpeSpec {
                    alphabet: o.alphabet,
                    keep_prefix: o.keep_prefix,
                    keep_suffix: o.keep_suffix,
                    luhn: o.luhn,
                    // Same rule as for integers, so `12345` as text and as a number agree.
                    no_leading_zero: o.alphabet != Alphabet::Hex,
                };
                fpe_str(&keys.fpe, &spec, b"", input, out);
            }
            Transform::Card(o) => {
                let mut spec = FpeSpec::new(Alphabet::Digits);
                spec.luhn = true;
                spec.keep_prefix = if o.keep_bin { 6 } else { 1 };
                spec.no_leading_zero = true;
                fpe_str(&keys.card, &spec, b"", input, out);
            }
            Transform::Ip => {
                values::ip(keys, input, out).ok_or_else(|| {
                    self.unsupported(
                        "text that is not an IP address",
                        "use `hash` or `format_preserving` for other identifiers",
                    )
                })?;
            }
            Transform::Noise(o) => {
                values::noise_text(&keys.noise, input, o.percent, out).ok_or_else(|| {
                    self.unsupported(
                        "text that is not a decimal number",
                        "`noise` applies to numbers such as 12 or -3.50",
                    )
                })?;
            }
            Transform::DateNoise(o) => {
                values::date_noise_text(&keys.date, input, o.days, out).ok_or_else(|| {
                    self.unsupported(
                        "text that does not start with a valid YYYY-MM-DD date",
                        "`date_noise` applies to ISO dates and timestamps",
                    )
                })?;
            }
            Transform::Shuffle(_) => return Err(MaskError::ColumnLevel),
        }
        Ok(Output::Text)
    }

    /// Masks an integer column value: `noise` scales it; `format_preserving`, `card` and `phone`
    /// permute its digits exactly as they would its text form (same digit count and sign); `null`
    /// gives `None`; `constant` needs an integer constant.
    pub fn apply_i64(&self, v: i64) -> Result<Option<i64>, MaskError> {
        let keys = self.keys();
        match &*self.transform {
            Transform::Keep => Ok(Some(v)),
            Transform::Null => Ok(None),
            Transform::Noise(o) => Ok(Some(values::noise_i64(&keys.noise, v, o.percent))),
            Transform::Constant(c) => c
                .value
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.unsupported("an integer", "the constant is not an integer")),
            Transform::FormatPreserving(o) if o.alphabet == Alphabet::Hex => Err(self.unsupported(
                "an integer",
                "alphabet = \"hex\" would put letters in it; use alphabet = \"digits\"",
            )),
            Transform::FormatPreserving(_) | Transform::Card(_) | Transform::Phone(_) => {
                let digits = v.unsigned_abs().to_string();
                let mut out = String::with_capacity(digits.len() + 1);
                self.digits_no_leading_zero(&digits, &mut out);
                // A 19-digit output can exceed i64::MAX: cycle-walk (mask the output again) until
                // it fits. The input fits, so its cycle leads back into range, and the result
                // stays a bijection on the integers.
                let mut guard = 0;
                loop {
                    match out.parse::<i64>() {
                        Ok(m) => return Ok(Some(if v < 0 { -m } else { m })),
                        Err(_) if guard < 10_000 => {
                            let again = std::mem::take(&mut out);
                            self.digits_no_leading_zero(&again, &mut out);
                            guard += 1;
                        }
                        Err(_) => {
                            return Err(self.unsupported(
                                "this integer",
                                "its masked digits do not fit 64 bits",
                            ));
                        }
                    }
                }
            }
            Transform::Shuffle(_) => Err(MaskError::ColumnLevel),
            _ => Err(self.unsupported(
                "an integer",
                "use noise, format_preserving, null, constant or keep on integer columns",
            )),
        }
    }

    /// The digits of an integer, masked exactly as the same digits written as text.
    fn digits_no_leading_zero(&self, digits: &str, out: &mut String) {
        let keys = self.keys();
        match &*self.transform {
            Transform::Phone(o) => values::phone(keys, o.keep_country_code, digits, out),
            _ => {
                let _ = self.write_attempt(digits, 0, out);
            }
        }
    }

    /// Masks a UUID given as its 16 bytes. `format_preserving` with `alphabet = "hex"` gives the
    /// same result as masking the canonical text form (`550e8400-e29b-…`, lowercase), so a UUID
    /// stored as `uuid` in one table and as text in another still joins.
    pub fn apply_uuid(&self, uuid: [u8; 16]) -> Result<Option<[u8; 16]>, MaskError> {
        match &*self.transform {
            Transform::Keep => Ok(Some(uuid)),
            Transform::Null => Ok(None),
            Transform::FormatPreserving(o) if o.alphabet == Alphabet::Hex => {
                let mut text = String::with_capacity(36);
                for (i, b) in uuid.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        text.push('-');
                    }
                    hex::push_hex(&[*b], 2, &mut text);
                }
                let mut out = String::with_capacity(36);
                self.apply_str(&text, &mut out)?;
                let mut bytes = [0u8; 16];
                let mut nibbles = out.bytes().filter(u8::is_ascii_hexdigit).map(|c| match c {
                    b'0'..=b'9' => c - b'0',
                    b'a'..=b'f' => c - b'a' + 10,
                    _ => c - b'A' + 10,
                });
                for b in &mut bytes {
                    let hi = nibbles.next().unwrap_or(0);
                    let lo = nibbles.next().unwrap_or(0);
                    *b = (hi << 4) | lo;
                }
                Ok(Some(bytes))
            }
            Transform::Shuffle(_) => Err(MaskError::ColumnLevel),
            _ => Err(self.unsupported(
                "a UUID",
                "use { type = \"format_preserving\", alphabet = \"hex\" }, null or keep on uuid columns",
            )),
        }
    }

    /// Masks a floating-point value (`noise`, `null`, `constant`, `keep`).
    pub fn apply_f64(&self, v: f64) -> Result<Option<f64>, MaskError> {
        match &*self.transform {
            Transform::Keep => Ok(Some(v)),
            Transform::Null => Ok(None),
            Transform::Noise(o) => Ok(Some(values::noise_f64(&self.keys().noise, v, o.percent))),
            Transform::Constant(c) => c
                .value
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.unsupported("a number", "the constant is not a number")),
            Transform::Shuffle(_) => Err(MaskError::ColumnLevel),
            _ => Err(self.unsupported(
                "a floating-point number",
                "use noise, null, constant or keep on float columns",
            )),
        }
    }

    /// Masks a date given as days since 1970-01-01 (add [`PG_EPOCH_DAYS`] to PostgreSQL's binary
    /// value first). `date_noise` shifts it; the same date gets the same shift as its text form.
    pub fn apply_date_days(&self, days: i32) -> Result<Option<i32>, MaskError> {
        match &*self.transform {
            Transform::Keep => Ok(Some(days)),
            Transform::Null => Ok(None),
            Transform::DateNoise(o) => {
                let d = i64::from(days);
                let shifted = d + values::day_shift(&self.keys().date, d, o.days);
                Ok(Some(
                    shifted.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
                ))
            }
            Transform::Shuffle(_) => Err(MaskError::ColumnLevel),
            _ => Err(self.unsupported("a date", "use date_noise, null or keep on date columns")),
        }
    }

    /// Masks a timestamp given as microseconds since 1970-01-01T00:00:00Z: `date_noise` shifts it
    /// by whole days (keyed by its calendar day), keeping the time of day.
    pub fn apply_timestamp_micros(&self, micros: i64) -> Result<Option<i64>, MaskError> {
        const DAY: i64 = 86_400_000_000;
        match &*self.transform {
            Transform::Keep => Ok(Some(micros)),
            Transform::Null => Ok(None),
            Transform::DateNoise(o) => {
                let day = micros.div_euclid(DAY);
                let shift = values::day_shift(&self.keys().date, day, o.days);
                Ok(Some(micros.saturating_add(shift * DAY)))
            }
            Transform::Shuffle(_) => Err(MaskError::ColumnLevel),
            _ => Err(self.unsupported(
                "a timestamp",
                "use date_noise, null or keep on timestamp columns",
            )),
        }
    }

    /// Masks a JSON value in place. Strings go through [`Mask::apply_str`]; numbers keep their
    /// type where the transform allows (noise, digit permutation, epoch-second date noise) and
    /// become strings otherwise; booleans are replaced by a keyed boolean; arrays and objects
    /// have every scalar inside masked. A value the transform cannot handle becomes `null`
    /// (nothing unmasked leaks); the count of those is returned.
    pub fn apply_json(&self, v: &mut serde_json::Value) -> usize {
        use serde_json::Value;
        match &*self.transform {
            Transform::Keep => return 0,
            Transform::Null => {
                *v = Value::Null;
                return 0;
            }
            Transform::Constant(c) => {
                *v = c.value.clone();
                return 0;
            }
            _ => {}
        }
        match v {
            Value::Null => 0,
            Value::Array(items) => items.iter_mut().map(|i| self.apply_json(i)).sum(),
            Value::Object(map) => map.values_mut().map(|i| self.apply_json(i)).sum(),
            Value::Bool(b) => {
                let r = self.keys().scalar.hash_parts(&[b"bool", &[u8::from(*b)]]);
                *b = r[0] & 1 == 1;
                0
            }
            Value::String(s) => {
                let mut out = String::with_capacity(s.len() + 8);
                match self.apply_str(s, &mut out) {
                    Ok(Output::Text) => {
                        *s = out;
                        0
                    }
                    Ok(Output::Null) => {
                        *v = Value::Null;
                        0
                    }
                    Err(_) => {
                        *v = Value::Null;
                        1
                    }
                }
            }
            Value::Number(n) => match self.json_number(n) {
                Some(m) => {
                    *v = m;
                    0
                }
                None => {
                    *v = Value::Null;
                    1
                }
            },
        }
    }

    /// Writes the JSON text of what [`Mask::apply_json`] makes of the string `s`, as
    /// serde_json prints it (`buf` is scratch). The text route of JSON masking
    /// (`json_text.rs`) masks strings here without building a `Value`.
    pub(crate) fn push_json_str(&self, s: &str, buf: &mut String, out: &mut String) {
        match &*self.transform {
            Transform::Keep => crate::json_text::push_json_str(s, out),
            Transform::Null => out.push_str("null"),
            Transform::Constant(c) => {
                use std::fmt::Write as _;
                let _ = write!(out, "{}", c.value);
            }
            _ => match self.apply_str(s, buf) {
                Ok(Output::Text) => crate::json_text::push_json_str(buf, out),
                Ok(Output::Null) | Err(_) => out.push_str("null"),
            },
        }
    }

    fn json_number(&self, n: &serde_json::Number) -> Option<serde_json::Value> {
        use serde_json::Value;
        let keys = self.keys();
        match &*self.transform {
            Transform::Noise(o) => {
                if let Some(i) = n.as_i64() {
                    Some(Value::from(values::noise_i64(&keys.noise, i, o.percent)))
                } else {
                    let f = values::noise_f64(&keys.noise, n.as_f64()?, o.percent);
                    serde_json::Number::from_f64(f).map(Value::Number)
                }
            }
            Transform::FormatPreserving(_) | Transform::Card(_) | Transform::Phone(_) => {
                if let Some(i) = n.as_i64() {
                    self.apply_i64(i).ok().flatten().map(Value::from)
                } else {
                    // Floats and huge integers: permute the digits of the text form.
                    let mut out = String::new();
                    self.apply_str(&n.to_string(), &mut out).ok()?;
                    Some(Value::String(out))
                }
            }
            Transform::DateNoise(o) => {
                // Epoch seconds, or milliseconds when the magnitude says so (> year 5138 in s).
                let i = n.as_i64()?;
                let per_day: i64 = if i.unsigned_abs() >= 100_000_000_000 {
                    86_400_000
                } else {
                    86_400
                };
                let day = i.div_euclid(per_day);
                let shift = values::day_shift(&keys.date, day, o.days);
                Some(Value::from(i.saturating_add(shift * per_day)))
            }
            _ => {
                let mut out = String::new();
                match self.apply_str(&n.to_string(), &mut out).ok()? {
                    Output::Text => Some(Value::String(out)),
                    Output::Null => Some(Value::Null),
                }
            }
        }
    }
}
