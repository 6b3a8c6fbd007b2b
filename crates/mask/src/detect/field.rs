//! One field at a time: is this value, under this key, personal? Used where values arrive one by
//! one and no column sample exists to vote on (HTTP traffic: JSON members, query and form
//! parameters, headers).
//!
//! The key speaks first when it is specific (`email`, `password_hash`, `customer_name`); the
//! value speaks when it has an unmistakable shape (an email address, a Luhn-valid card number, a
//! JWT); a bare `name` needs both (see [`super::person`]). Free text that is none of these is
//! left to [`super::text::find_spans`].

use serde::{Deserialize, Serialize};

use super::person::{NameKey, is_person_name};
use super::secret::is_credential;
use super::{PiiKind, classify_value, compatible, detect_name};

/// What flagged a value: one label per detector, for counters and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    Email,
    Phone,
    Card,
    /// US SSN, UK NINO, passports, tax ids…
    NationalId,
    /// IBAN and bank account numbers.
    BankAccount,
    /// A credential recognised by its value: JWT, `Bearer …`, a prefixed API key.
    Token,
    /// A secret recognised by its key name: `password`, `api_key`, `token`…
    Secret,
    Ip,
    PersonName,
    Address,
    City,
    PostalCode,
    DateOfBirth,
    Username,
}

impl Detector {
    /// Every detector, in a fixed order (the index of [`Detector::index`]).
    pub const ALL: [Detector; 14] = [
        Detector::Email,
        Detector::Phone,
        Detector::Card,
        Detector::NationalId,
        Detector::BankAccount,
        Detector::Token,
        Detector::Secret,
        Detector::Ip,
        Detector::PersonName,
        Detector::Address,
        Detector::City,
        Detector::PostalCode,
        Detector::DateOfBirth,
        Detector::Username,
    ];

    /// Position in [`Detector::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The label used in metrics and reports (`email`, `person_name`, …).
    pub fn name(self) -> &'static str {
        match self {
            Detector::Email => "email",
            Detector::Phone => "phone",
            Detector::Card => "card",
            Detector::NationalId => "national_id",
            Detector::BankAccount => "bank_account",
            Detector::Token => "token",
            Detector::Secret => "secret",
            Detector::Ip => "ip",
            Detector::PersonName => "person_name",
            Detector::Address => "address",
            Detector::City => "city",
            Detector::PostalCode => "postal_code",
            Detector::DateOfBirth => "date_of_birth",
            Detector::Username => "username",
        }
    }

    /// The detector of a kind found by key or by shape (not a value-recognised credential).
    pub fn of_kind(kind: PiiKind) -> Self {
        match kind {
            PiiKind::Name | PiiKind::FirstName | PiiKind::LastName => Detector::PersonName,
            PiiKind::Email => Detector::Email,
            PiiKind::Phone => Detector::Phone,
            PiiKind::StreetAddress => Detector::Address,
            PiiKind::City => Detector::City,
            PiiKind::PostalCode => Detector::PostalCode,
            PiiKind::IpAddress => Detector::Ip,
            PiiKind::CardNumber => Detector::Card,
            PiiKind::UsSsn | PiiKind::UkNino | PiiKind::NationalId => Detector::NationalId,
            PiiKind::BankAccount => Detector::BankAccount,
            PiiKind::DateOfBirth => Detector::DateOfBirth,
            PiiKind::Secret => Detector::Secret,
            PiiKind::Username => Detector::Username,
        }
    }
}

/// Counts of values masked, per detector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectorCounts(pub [u32; Detector::ALL.len()]);

impl DetectorCounts {
    pub fn add(&mut self, d: Detector) {
        self.0[d.index()] = self.0[d.index()].saturating_add(1);
    }

    pub fn merge(&mut self, other: &DetectorCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a = a.saturating_add(b);
        }
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|&c| u64::from(c)).sum()
    }

    /// `(detector, count)` for every detector that counted something.
    pub fn iter(&self) -> impl Iterator<Item = (Detector, u32)> + '_ {
        Detector::ALL
            .iter()
            .zip(self.0)
            .filter(|(_, c)| *c > 0)
            .map(|(d, c)| (*d, c))
    }
}

/// What a key says about its values, decided once per distinct key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyClass {
    /// Nothing personal in the name.
    Plain,
    /// The name is an identifier's (`order_id`, `sku`, `invoice_number`): digit strings under it
    /// are ids, not card or phone numbers, unless they have a card's or phone's grouping.
    Identifier,
    /// The name says what the value is (`email`, `password_hash`, `shipping_address`).
    Kind(PiiKind),
    /// A person's name, for sure (`first_name`, `customer_name`) or only maybe (bare `name`).
    PersonName(PiiKind, NameKey),
}

impl KeyClass {
    /// Whether a sibling with this key makes its object about a person.
    pub fn is_personal(self) -> bool {
        match self {
            KeyClass::Kind(k) => !matches!(k, PiiKind::Secret | PiiKind::IpAddress),
            KeyClass::PersonName(_, NameKey::Certain) => true,
            _ => false,
        }
    }
}

/// Last words of identifier names.
const IDENTIFIER_WORDS: [&str; 21] = [
    "id",
    "ids",
    "uuid",
    "guid",
    "number",
    "no",
    "num",
    "nr",
    "ref",
    "reference",
    "code",
    "sku",
    "seq",
    "count",
    "total",
    "amount",
    "qty",
    "quantity",
    "price",
    "version",
    "key",
];

/// Classifies a key name (JSON member, query parameter, header name).
pub fn classify_key(key: &str) -> KeyClass {
    if let Some(d) = detect_name(key) {
        return match d.kind {
            PiiKind::Name | PiiKind::FirstName | PiiKind::LastName => {
                let certainty = if d.confidence >= 0.75 {
                    NameKey::Certain
                } else {
                    NameKey::Ambiguous
                };
                KeyClass::PersonName(d.kind, certainty)
            }
            k => KeyClass::Kind(k),
        };
    }
    let tokens = super::names::tokens(key);
    match tokens.last() {
        Some(t) if IDENTIFIER_WORDS.contains(&t.as_str()) => KeyClass::Identifier,
        _ => KeyClass::Plain,
    }
}

/// A scalar as the detectors see it.
#[derive(Debug, Clone, Copy)]
pub enum Scalar<'a> {
    Text(&'a str),
    /// A JSON number, as written.
    Number(&'a str),
    /// Booleans and nulls: a closed domain, never personal by itself.
    Other,
}

/// A value found to be personal, and what found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldHit {
    pub kind: PiiKind,
    pub detector: Detector,
}

/// Whether one value is personal, given its key's class and whether the object around it is about
/// a person. `None` for values to keep as they are (free text may still hold spans: see
/// [`super::text::find_spans`]).
pub fn classify_field(key: KeyClass, value: Scalar<'_>, person_context: bool) -> Option<FieldHit> {
    let (text, is_number) = match value {
        Scalar::Text(t) => (t, false),
        Scalar::Number(n) => (n, true),
        Scalar::Other => return None,
    };
    if text.trim().is_empty() {
        return None;
    }
    let by_key = |kind| {
        Some(FieldHit {
            kind,
            detector: Detector::of_kind(kind),
        })
    };
    match key {
        // Small numbers under a secret's key are counts and lifetimes (`token_ttl: 3600`); a
        // one-time code has six digits or more.
        KeyClass::Kind(PiiKind::Secret) if is_number && text.len() < 6 => {}
        KeyClass::Kind(PiiKind::Secret) => return by_key(PiiKind::Secret),
        KeyClass::Kind(kind) => {
            // A value with the unmistakable shape of another kind is that kind (`"phone":
            // "ann@x.org"`): the key's transform may not take it (a phone's keeps every
            // character but the digits) and would pass it through.
            if !is_number && is_credential(text.trim()) {
                return Some(FieldHit {
                    kind: PiiKind::Secret,
                    detector: Detector::Token,
                });
            }
            return match classify_value(text) {
                Some(shape) if shape != kind && !compatible(kind, shape) => by_key(shape),
                _ => by_key(kind),
            };
        }
        KeyClass::PersonName(kind, certainty)
            if !is_number && is_person_name(certainty, text, person_context) =>
        {
            return by_key(kind);
        }
        _ => {}
    }
    if !is_number && is_credential(text.trim()) {
        return Some(FieldHit {
            kind: PiiKind::Secret,
            detector: Detector::Token,
        });
    }
    let kind = classify_value(text)?;
    if is_bare_id(key, text) && matches!(kind, PiiKind::CardNumber | PiiKind::Phone) {
        return None;
    }
    by_key(kind)
}

/// Whether `text` is a bare run of digits under an identifier's key (`order_id`, a path
/// segment): an id, even when it passes Luhn or looks like a phone by chance. Grouped layouts
/// (`4111 1111 …`, `+1 415…`) are not bare and still count. Callers that scan a value as free
/// text after [`classify_field`] leave such a value alone too, or the scan would undo the veto.
pub(crate) fn is_bare_id(key: KeyClass, text: &str) -> bool {
    key == KeyClass::Identifier && !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(key: &str, v: &str) -> Option<Detector> {
        classify_field(classify_key(key), Scalar::Text(v), false).map(|h| h.detector)
    }

    #[test]
    fn key_value_and_both() {
        assert_eq!(hit("contact", "ann@x.org"), Some(Detector::Email));
        assert_eq!(hit("password_hash", "$2b$12$abc"), Some(Detector::Secret));
        assert_eq!(hit("note", "Bearer abcdefghijkl"), Some(Detector::Token));
        assert_eq!(hit("customer_name", "Rock"), Some(Detector::PersonName));
        assert_eq!(hit("Name", "Rock"), None);
        assert_eq!(hit("Name", "For Those About To Rock"), None);
        assert_eq!(hit("name", "Anna Smith"), Some(Detector::PersonName));
        assert_eq!(hit("order_id", "4111111111111111"), None);
        assert_eq!(hit("card", "4111111111111111"), Some(Detector::Card));
        assert_eq!(hit("GenreId", "1"), None);
        // A value with another kind's unmistakable shape is that kind.
        assert_eq!(hit("phone", "ann@x.org"), Some(Detector::Email));
        assert_eq!(
            hit("card_number", "Bearer abcdefghijkl"),
            Some(Detector::Token)
        );
        assert_eq!(
            hit("passport_no", "123-45-6789"),
            Some(Detector::NationalId)
        );
        let ttl = classify_field(classify_key("token_ttl"), Scalar::Number("3600"), false);
        assert_eq!(ttl, None);
        assert_eq!(
            classify_field(classify_key("flag"), Scalar::Other, true),
            None
        );
    }
}
