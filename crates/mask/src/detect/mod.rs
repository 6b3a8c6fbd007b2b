//! PII detection: from column names, from sampled values, and from keys inside JSON values.
//!
//! Everything this module returns is built from kinds, counts and fixed pattern names: never from
//! the values it looked at, so a profile can hold detections without holding PII.
//!
//! ```
//! use prodlike_mask::detect::{detect_column, PiiKind};
//! let d = detect_column("contact", ["ann@x.org", "bob@y.com", "carl@z.net"]).unwrap();
//! assert_eq!(d.kind, PiiKind::Email);
//! assert_eq!(d.recommended.name(), "email");
//! ```

mod content;
mod field;
mod json;
mod names;
mod person;
mod secret;
mod text;
mod values;

pub use content::{
    ClassShare, Content, ContentScan, ContentVerdict, NameDict, NameRole, NameSpan, list_parts,
    name_spans,
};
pub(crate) use field::is_bare_id;
pub use field::{
    Detector, DetectorCounts, FieldHit, KeyClass, Scalar, classify_field, classify_key,
};
pub use json::{JsonDetection, JsonPiiScan};
pub use names::detect_name;
pub(crate) use person::is_surname;
pub use person::{NameKey, is_given_name, is_person_name};
pub use secret::{auth_scheme_len, is_credential, is_jwt};
pub use text::{MAX_SCANNED_TEXT, TextSpan, find_spans};
pub use values::{ValueScan, classify_value};

use serde::{Deserialize, Serialize};

use crate::transform::{
    Alphabet, DateNoiseOptions, FakeOptions, FormatPreservingOptions, HashOptions, PhoneOptions,
    Transform,
};

/// What kind of personal data a column or field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Name,
    FirstName,
    LastName,
    Email,
    Phone,
    StreetAddress,
    City,
    PostalCode,
    IpAddress,
    CardNumber,
    /// US Social Security Number.
    UsSsn,
    /// UK National Insurance number.
    UkNino,
    /// Other national identifiers: passport, driving licence, tax id…
    NationalId,
    /// IBAN or bank account number.
    BankAccount,
    DateOfBirth,
    /// Passwords, password hashes, API keys, tokens.
    Secret,
    Username,
}

impl PiiKind {
    /// Every kind, in a fixed order.
    pub const ALL: [PiiKind; 17] = [
        PiiKind::Name,
        PiiKind::FirstName,
        PiiKind::LastName,
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::StreetAddress,
        PiiKind::City,
        PiiKind::PostalCode,
        PiiKind::IpAddress,
        PiiKind::CardNumber,
        PiiKind::UsSsn,
        PiiKind::UkNino,
        PiiKind::NationalId,
        PiiKind::BankAccount,
        PiiKind::DateOfBirth,
        PiiKind::Secret,
        PiiKind::Username,
    ];

    /// The transform applied to this kind when no rule says otherwise ("safe by default").
    pub fn default_transform(self) -> Transform {
        let fp = |alphabet| {
            Transform::FormatPreserving(FormatPreservingOptions {
                alphabet,
                ..Default::default()
            })
        };
        match self {
            PiiKind::Name => Transform::Name(FakeOptions::default()),
            PiiKind::FirstName => Transform::FirstName(FakeOptions::default()),
            PiiKind::LastName => Transform::LastName(FakeOptions::default()),
            PiiKind::Email => Transform::Email(Default::default()),
            PiiKind::Phone => Transform::Phone(PhoneOptions::default()),
            PiiKind::StreetAddress => Transform::StreetAddress(FakeOptions::default()),
            PiiKind::City => Transform::City(FakeOptions::default()),
            PiiKind::PostalCode => fp(Alphabet::Alnum),
            PiiKind::IpAddress => Transform::Ip,
            PiiKind::CardNumber => Transform::Card(Default::default()),
            PiiKind::UsSsn | PiiKind::UkNino | PiiKind::NationalId | PiiKind::BankAccount => {
                fp(Alphabet::Alnum)
            }
            PiiKind::DateOfBirth => Transform::DateNoise(DateNoiseOptions { days: 180 }),
            PiiKind::Secret => Transform::Hash(HashOptions {
                length: 32,
                ..Default::default()
            }),
            PiiKind::Username => Transform::Username(FakeOptions::default()),
        }
    }
}

/// Why something was flagged. Holds pattern names and counts only, never sampled values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Evidence {
    /// The column or key name matched a known pattern (e.g. `email`, `date_of_birth`).
    Name { pattern: String },
    /// `matched` of `sampled` non-empty values matched the kind's value pattern.
    Values { matched: u64, sampled: u64 },
    /// Both the name and the values point to the same kind.
    NameAndValues {
        pattern: String,
        matched: u64,
        sampled: u64,
    },
}

/// A detected PII kind with its confidence (0..=1) and recommended transform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub kind: PiiKind,
    pub confidence: f64,
    pub evidence: Evidence,
    /// [`PiiKind::default_transform`] of `kind`.
    pub recommended: Transform,
}

impl Detection {
    pub(crate) fn new(kind: PiiKind, confidence: f64, evidence: Evidence) -> Self {
        Self {
            kind,
            confidence: (confidence.clamp(0.0, 1.0) * 1000.0).round() / 1000.0,
            evidence,
            recommended: kind.default_transform(),
        }
    }
}

/// Combines name-based and value-based evidence for one column. Agreement raises confidence;
/// when they disagree, the stronger one wins (values usually, since names can mislead).
pub fn combine(by_name: Option<Detection>, by_values: Option<Detection>) -> Option<Detection> {
    match (by_name, by_values) {
        (None, v) => v,
        (n, None) => n,
        (Some(n), Some(v)) => {
            if n.kind == v.kind || compatible(n.kind, v.kind) {
                let (pattern, matched, sampled) = match (&n.evidence, &v.evidence) {
                    (Evidence::Name { pattern }, Evidence::Values { matched, sampled }) => {
                        (pattern.clone(), *matched, *sampled)
                    }
                    _ => return Some(if n.confidence >= v.confidence { n } else { v }),
                };
                let confidence = 1.0 - (1.0 - n.confidence) * (1.0 - v.confidence);
                // The name is more specific when compatible (e.g. a `ssn` column of ids).
                Some(Detection::new(
                    n.kind,
                    confidence,
                    Evidence::NameAndValues {
                        pattern,
                        matched,
                        sampled,
                    },
                ))
            } else if v.confidence >= n.confidence {
                Some(v)
            } else {
                Some(n)
            }
        }
    }
}

/// Kinds whose value patterns overlap with a more specific name-based kind.
fn compatible(name_kind: PiiKind, value_kind: PiiKind) -> bool {
    matches!(
        (name_kind, value_kind),
        (
            PiiKind::NationalId | PiiKind::BankAccount,
            PiiKind::UsSsn | PiiKind::UkNino | PiiKind::CardNumber | PiiKind::Phone
        ) | (PiiKind::Username, PiiKind::Email)
    )
}

/// Detection for one column from its name and a sample of its values (as text; NULLs left out).
pub fn detect_column<'a, I>(name: &str, samples: I) -> Option<Detection>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut scan = ValueScan::new();
    for s in samples {
        scan.add(s);
    }
    combine(detect_name(name), scan.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_transform_is_valid() {
        for k in PiiKind::ALL {
            k.default_transform().validate().unwrap();
        }
    }

    #[test]
    fn name_and_values_agreeing_raise_confidence() {
        let by_name = detect_name("email").unwrap();
        let both = detect_column("email", ["a@b.co", "c@d.org", "e@f.net", "g@h.io"]).unwrap();
        assert_eq!(both.kind, PiiKind::Email);
        assert!(both.confidence > by_name.confidence);
        assert!(matches!(
            both.evidence,
            Evidence::NameAndValues {
                matched: 4,
                sampled: 4,
                ..
            }
        ));
    }

    #[test]
    fn values_override_a_misleading_name() {
        let d = detect_column(
            "notes",
            [
                "10.0.0.1",
                "192.168.3.4",
                "172.16.0.9",
                "8.8.8.8",
                "1.1.1.1",
            ],
        )
        .unwrap();
        assert_eq!(d.kind, PiiKind::IpAddress);
    }

    #[test]
    fn ordinary_columns_are_not_flagged() {
        assert!(detect_column("quantity", ["1", "2", "3", "40"]).is_none());
        assert!(detect_column("status", ["active", "closed", "active"]).is_none());
        assert!(detect_column("product_name", ["Widget", "Gadget"]).is_none());
    }
}
