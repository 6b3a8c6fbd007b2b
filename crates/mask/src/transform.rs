//! Transform specifications: what a column or field is masked with, as written in TOML.
//!
//! A transform is written either as a bare name (`"email"`, using the defaults) or as an inline
//! table with a `type` and that transform's options:
//!
//! ```toml
//! email = "email"
//! ssn   = { type = "format_preserving" }
//! token = { type = "hash", encoding = "base32", length = 26 }
//! ```

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use crate::locale::Locale;

/// A masking transform. See `docs/masking.md` for every option and guarantee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// Keyed blake3 digest, hex or base32, truncated to `length` characters.
    Hash(HashOptions),
    /// Full name, token by token (first names stay first names, surnames stay surnames),
    /// keeping the input's shape: token count, `Last, First` order, case, titles.
    Name(FakeOptions),
    /// Given name(s).
    FirstName(FakeOptions),
    /// Family name(s).
    LastName(FakeOptions),
    /// Email address: local part rebuilt from fake names with the input's separators and digit
    /// runs; domain faked keeping its shape (labels and public suffix), kept, or chosen from a list.
    Email(EmailOptions),
    /// Phone number: the country code (and trunk `0`) kept, every other digit replaced by a keyed
    /// bijection; separators, spaces and parentheses stay where they were.
    Phone(PhoneOptions),
    /// Street line: house number (same digit count) and a locale street name.
    StreetAddress(FakeOptions),
    /// City name from the locale.
    City(FakeOptions),
    /// Company name from the locale.
    Company(FakeOptions),
    /// Login/handle: like an email local part (word runs, separators and digit runs kept).
    Username(FakeOptions),
    /// Keyed bijection over the characters of the value: digits stay digits, letters stay letters
    /// with their case, everything else stays in place. Collision-free by construction.
    FormatPreserving(FormatPreservingOptions),
    /// Payment card number: format-preserving on the digits with a valid Luhn check digit; the
    /// first digit (card network) is kept, and the whole BIN with `keep_bin`.
    Card(CardOptions),
    /// IPv4 or IPv6 address mapped by a keyed bijection of the address space.
    Ip,
    /// Multiply a number by `1 + u`, `u` uniform in ±`percent`%, the same `u` for the same input.
    Noise(NoiseOptions),
    /// Shift a date or timestamp by a whole number of days in ±`days`, the same shift for the same
    /// calendar day; time of day, format and offset are kept.
    DateNoise(DateNoiseOptions),
    /// Replace by NULL (JSON `null`; an empty value in a query string).
    Null,
    /// Replace by a fixed value.
    Constant(ConstantOptions),
    /// Copy the value unchanged. Needed to keep a detected PII column raw on purpose.
    Keep,
    /// Permute the column's values between rows (column-level: see [`crate::shuffle`]).
    Shuffle(ShuffleOptions),
}

/// Every transform name, as written in `type = "…"`.
pub const TRANSFORM_NAMES: &[&str] = &[
    "hash",
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "street_address",
    "city",
    "company",
    "username",
    "format_preserving",
    "card",
    "ip",
    "noise",
    "date_noise",
    "null",
    "constant",
    "keep",
    "shuffle",
];

/// Options of `hash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HashOptions {
    /// `hex` (default, 0-9a-f) or `base32` (a-z2-7, RFC 4648 alphabet, lowercase, unpadded).
    pub encoding: HashEncoding,
    /// Number of characters kept, 1..=64 for hex and 1..=52 for base32. Default 16 (64 bits).
    pub length: usize,
}

impl Default for HashOptions {
    fn default() -> Self {
        Self {
            encoding: HashEncoding::Hex,
            length: 16,
        }
    }
}

/// Alphabet of a `hash` digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HashEncoding {
    #[default]
    Hex,
    Base32,
}

/// Options shared by the fake-value transforms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FakeOptions {
    /// Locale of the generated words (`en` default; `fr_FR`, `de_DE`, `it_IT`, `nl_NL`, `pt_BR`,
    /// `pt_PT`, `ja_JP`, `zh_CN`, `zh_TW`, `ar_SA`, `tr_TR`, `fa_IR`, `cy_GB`).
    pub locale: Locale,
}

/// Options of `email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EmailOptions {
    /// Keep the input's domain unchanged (only the local part is masked).
    pub keep_domain: bool,
    /// Replace the domain by one of these (chosen per input domain, so all addresses of one
    /// domain land on the same one). Use reserved domains such as `example.com` when staging
    /// sends real mail. Empty (default): a fake domain with the input's shape and public suffix.
    pub domains: Vec<String>,
}

/// Options of `phone`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhoneOptions {
    /// Keep a leading international prefix and country code (`+33`, `0044`) and a national trunk
    /// `0`. Default true.
    pub keep_country_code: bool,
}

impl Default for PhoneOptions {
    fn default() -> Self {
        Self {
            keep_country_code: true,
        }
    }
}

/// Options of `format_preserving`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FormatPreservingOptions {
    /// Which characters are permuted: `alnum` (default: digits and ASCII letters, case kept),
    /// `digits` (letters stay as they are) or `hex` (0-9a-f, case-insensitive, e.g. UUIDs).
    pub alphabet: Alphabet,
    /// Number of leading maskable characters kept as they are (e.g. a country or type prefix).
    pub keep_prefix: usize,
    /// Number of trailing maskable characters kept as they are.
    pub keep_suffix: usize,
    /// Treat the last digit as a Luhn check digit and recompute it (needs `alphabet = "digits"`).
    pub luhn: bool,
}

/// Characters a format-preserving transform permutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Alphabet {
    #[default]
    Alnum,
    Digits,
    Hex,
}

/// Options of `card`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CardOptions {
    /// Keep the first six digits (the issuer BIN), so card brand and issuer statistics survive.
    pub keep_bin: bool,
}

/// Options of `noise`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseOptions {
    /// Largest relative change, in percent, in (0, 100]. Default 10.
    pub percent: f64,
}

impl Default for NoiseOptions {
    fn default() -> Self {
        Self { percent: 10.0 }
    }
}

/// Options of `date_noise`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DateNoiseOptions {
    /// Largest shift in days, 1..=36500. Default 30.
    pub days: u32,
}

impl Default for DateNoiseOptions {
    fn default() -> Self {
        Self { days: 30 }
    }
}

/// Options of `constant`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstantOptions {
    /// The replacement: a string, number or boolean.
    pub value: serde_json::Value,
}

/// Options of `shuffle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ShuffleOptions {
    /// Shuffle within consecutive blocks of this many rows (bounded memory while streaming).
    /// Absent: the whole column is one block.
    pub block_rows: Option<u64>,
}

/// A transform option that is out of range or inconsistent. `field` is the option's path
/// relative to the transform (e.g. `length`); callers prefix it with [`TransformError::at`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct TransformError {
    /// Path of the bad option, e.g. `tables.users.columns.email.domains[1]`.
    pub field: String,
    /// What is wrong and how to fix it (never contains masked data).
    pub message: String,
}

impl TransformError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Prefixes the field path with where the transform sits in its file, e.g.
    /// `err.at("tables.users.columns.email")` turns `length` into
    /// `tables.users.columns.email.length`.
    #[must_use]
    pub fn at(mut self, prefix: &str) -> Self {
        if prefix.is_empty() {
            return self;
        }
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// How a value is stored, so that a transform can be checked against a column's type before a
/// sync starts (`Transform::check_kind`). The data engine maps SQL types onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Text,
    Integer,
    Float,
    /// Exact decimal written as text (`numeric`).
    Decimal,
    Date,
    Timestamp,
    Bool,
    Uuid,
    Json,
    Bytes,
    /// Network address (`inet`).
    Inet,
}

impl Transform {
    /// The transform's name as written in `type = "…"`.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Hash(_) => "hash",
            Transform::Name(_) => "name",
            Transform::FirstName(_) => "first_name",
            Transform::LastName(_) => "last_name",
            Transform::Email(_) => "email",
            Transform::Phone(_) => "phone",
            Transform::StreetAddress(_) => "street_address",
            Transform::City(_) => "city",
            Transform::Company(_) => "company",
            Transform::Username(_) => "username",
            Transform::FormatPreserving(_) => "format_preserving",
            Transform::Card(_) => "card",
            Transform::Ip => "ip",
            Transform::Noise(_) => "noise",
            Transform::DateNoise(_) => "date_noise",
            Transform::Null => "null",
            Transform::Constant(_) => "constant",
            Transform::Keep => "keep",
            Transform::Shuffle(_) => "shuffle",
        }
    }

    /// A free-form class (names, emails, usernames, addresses, cities, companies, hashes): a
    /// masked value never equals its source value (`DECISIONS.md`, "Masking"). Bijections
    /// (`phone`, `format_preserving`, `card`, `ip`) are not regenerated, as that would break
    /// their injectivity; their fixed points are as rare as one in 10^(masked digits).
    pub fn is_free_form(&self) -> bool {
        self.regenerates()
    }

    /// The output depends on the attempt counter, so a value can be regenerated within its
    /// class (for uniqueness, fitting or the never-equal rule).
    pub(crate) fn regenerates(&self) -> bool {
        matches!(
            self,
            Transform::Name(_)
                | Transform::FirstName(_)
                | Transform::LastName(_)
                | Transform::Email(_)
                | Transform::Username(_)
                | Transform::StreetAddress(_)
                | Transform::City(_)
                | Transform::Company(_)
                | Transform::Hash(_)
        )
    }

    /// The transform with default options for a bare name such as `"email"`.
    pub fn from_name(name: &str) -> Result<Self, TransformError> {
        Ok(match name {
            "hash" => Transform::Hash(HashOptions::default()),
            "name" => Transform::Name(FakeOptions::default()),
            "first_name" => Transform::FirstName(FakeOptions::default()),
            "last_name" => Transform::LastName(FakeOptions::default()),
            "email" => Transform::Email(EmailOptions::default()),
            "phone" => Transform::Phone(PhoneOptions::default()),
            "street_address" => Transform::StreetAddress(FakeOptions::default()),
            "city" => Transform::City(FakeOptions::default()),
            "company" => Transform::Company(FakeOptions::default()),
            "username" => Transform::Username(FakeOptions::default()),
            "format_preserving" => Transform::FormatPreserving(Default::default()),
            "card" => Transform::Card(CardOptions::default()),
            "ip" => Transform::Ip,
            "noise" => Transform::Noise(NoiseOptions::default()),
            "date_noise" => Transform::DateNoise(DateNoiseOptions::default()),
            "null" => Transform::Null,
            "keep" => Transform::Keep,
            "shuffle" => Transform::Shuffle(ShuffleOptions::default()),
            "constant" => {
                return Err(TransformError::new(
                    "value",
                    "`constant` needs a value: write { type = \"constant\", value = \"…\" }",
                ));
            }
            other => {
                return Err(TransformError::new(
                    "type",
                    format!(
                        "unknown transform `{other}`; expected one of {}",
                        TRANSFORM_NAMES.join(", ")
                    ),
                ));
            }
        })
    }

    /// Checks every option; the error names the bad option (relative path, see
    /// [`TransformError::at`]) and says how to fix it.
    pub fn validate(&self) -> Result<(), TransformError> {
        match self {
            Transform::Hash(o) => {
                let max = match o.encoding {
                    HashEncoding::Hex => 64,
                    HashEncoding::Base32 => 52,
                };
                if o.length == 0 || o.length > max {
                    return Err(TransformError::new(
                        "length",
                        format!(
                            "is {}; a {:?} digest has 1..={max} characters",
                            o.length, o.encoding
                        ),
                    ));
                }
            }
            Transform::Email(o) => {
                if o.keep_domain && !o.domains.is_empty() {
                    return Err(TransformError::new(
                        "domains",
                        "cannot be combined with keep_domain = true; remove one of them",
                    ));
                }
                for (i, d) in o.domains.iter().enumerate() {
                    if !is_plausible_domain(d) {
                        return Err(TransformError::new(
                            format!("domains[{i}]"),
                            format!(
                                "`{d}` is not a domain name; use labels of letters, digits and `-` separated by dots, e.g. \"example.com\""
                            ),
                        ));
                    }
                }
            }
            Transform::FormatPreserving(o) => {
                if o.luhn && o.alphabet != Alphabet::Digits {
                    return Err(TransformError::new(
                        "luhn",
                        "a Luhn check digit needs alphabet = \"digits\"",
                    ));
                }
                if o.luhn && o.keep_suffix > 0 {
                    return Err(TransformError::new(
                        "keep_suffix",
                        "must be 0 with luhn = true: the last digit is the recomputed check digit",
                    ));
                }
            }
            Transform::Noise(o) => {
                if !(o.percent.is_finite() && o.percent > 0.0 && o.percent <= 100.0) {
                    return Err(TransformError::new(
                        "percent",
                        format!("is {}; use a number in (0, 100], e.g. 10", o.percent),
                    ));
                }
            }
            Transform::DateNoise(o) => {
                if o.days == 0 || o.days > 36_500 {
                    return Err(TransformError::new(
                        "days",
                        format!("is {}; use 1..=36500, e.g. 30", o.days),
                    ));
                }
            }
            Transform::Constant(o) => {
                if o.value.is_array() || o.value.is_object() || o.value.is_null() {
                    return Err(TransformError::new(
                        "value",
                        "must be a string, number or boolean (use type = \"null\" for NULL)",
                    ));
                }
            }
            Transform::Shuffle(o) => {
                if o.block_rows.is_some_and(|b| b < 2) {
                    return Err(TransformError::new(
                        "block_rows",
                        "must be at least 2 (or absent to shuffle the whole column)",
                    ));
                }
            }
            Transform::Name(_)
            | Transform::FirstName(_)
            | Transform::LastName(_)
            | Transform::Phone(_)
            | Transform::StreetAddress(_)
            | Transform::City(_)
            | Transform::Company(_)
            | Transform::Username(_)
            | Transform::Card(_)
            | Transform::Ip
            | Transform::Null
            | Transform::Keep => {}
        }
        Ok(())
    }

    /// True when distinct inputs always give distinct outputs (a keyed bijection, or `keep`), so
    /// a unique column stays unique with no bookkeeping. Other transforms need a
    /// [`crate::UniqueScope`] on unique columns.
    pub fn is_injective(&self) -> bool {
        matches!(
            self,
            Transform::FormatPreserving(_)
                | Transform::Card(_)
                | Transform::Phone(_)
                | Transform::Ip
                | Transform::Keep
        )
    }

    /// True for transforms that need the whole column (`shuffle`); they are not applied value by
    /// value.
    pub fn is_column_level(&self) -> bool {
        matches!(self, Transform::Shuffle(_))
    }

    /// True when the transform can be applied to values of `kind`.
    pub fn accepts(&self, kind: ValueKind) -> bool {
        use ValueKind as K;
        match self {
            Transform::Null | Transform::Keep | Transform::Constant(_) | Transform::Shuffle(_) => {
                true
            }
            Transform::Hash(_)
            | Transform::Name(_)
            | Transform::FirstName(_)
            | Transform::LastName(_)
            | Transform::Email(_)
            | Transform::StreetAddress(_)
            | Transform::City(_)
            | Transform::Company(_)
            | Transform::Username(_) => matches!(kind, K::Text | K::Json),
            Transform::Phone(_) | Transform::Card(_) => {
                matches!(kind, K::Text | K::Json | K::Integer | K::Decimal)
            }
            Transform::FormatPreserving(o) => match o.alphabet {
                Alphabet::Hex => matches!(kind, K::Text | K::Json | K::Uuid),
                _ => matches!(kind, K::Text | K::Json | K::Integer | K::Decimal),
            },
            Transform::Ip => matches!(kind, K::Text | K::Json | K::Inet),
            Transform::Noise(_) => {
                matches!(kind, K::Integer | K::Float | K::Decimal | K::Text | K::Json)
            }
            Transform::DateNoise(_) => {
                matches!(kind, K::Date | K::Timestamp | K::Text | K::Json)
            }
        }
    }

    /// Like [`Transform::accepts`], as an error naming the transform and the kind.
    pub fn check_kind(&self, kind: ValueKind) -> Result<(), TransformError> {
        if self.accepts(kind) {
            return Ok(());
        }
        Err(TransformError::new(
            "type",
            format!(
                "`{}` cannot mask a {kind:?} value; pick a transform that fits the column type (see docs/masking.md)",
                self.name()
            ),
        ))
    }
}

fn is_plausible_domain(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl Serialize for Transform {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Transform::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for Transform {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TransformVisitor;
        impl<'de> Visitor<'de> for TransformVisitor {
            type Value = Transform;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a transform name such as \"email\" or a table such as { type = \"hash\", length = 16 }",
                )
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Transform, E> {
                Transform::from_name(s).map_err(|e| E::custom(e.message))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Transform, A::Error> {
                Transform::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_any(TransformVisitor)
    }
}
