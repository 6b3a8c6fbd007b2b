//! Plain copies of the few types a payload embeds from a deeper shared crate (stats' latency
//! summary and tests, rules' rule kind, mask's PII kinds and evidence), with `From` conversions.
//!
//! Copies rather than derives in those crates: a published schema changes only when a type in
//! this crate changes, and a change in stats, rules or mask that would alter a result's layout
//! breaks the conversion below at compile time instead of silently changing the document.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A histogram's percentiles in milliseconds, the shape every prodlike report uses.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct LatencySummary {
    /// Values recorded.
    pub count: u64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl From<prodlike_stats::LatencySummary> for LatencySummary {
    fn from(s: prodlike_stats::LatencySummary) -> Self {
        let prodlike_stats::LatencySummary {
            count,
            min_ms,
            mean_ms,
            p50_ms,
            p90_ms,
            p95_ms,
            p99_ms,
            p999_ms,
            max_ms,
        } = s;
        Self {
            count,
            min_ms,
            mean_ms,
            p50_ms,
            p90_ms,
            p95_ms,
            p99_ms,
            p999_ms,
            max_ms,
        }
    }
}

/// A Mann–Whitney U test of two samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MannWhitney {
    /// U statistic of the first sample.
    pub u: f64,
    /// Normal approximation with tie and continuity correction.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Probability that a random value of the first sample exceeds one of the second (ties
    /// count half): 0.5 means no difference; the common-language effect size.
    pub prob_a_greater: f64,
    /// Size of the first sample.
    pub n1: usize,
    /// Size of the second sample.
    pub n2: usize,
}

impl From<prodlike_stats::MannWhitney> for MannWhitney {
    fn from(m: prodlike_stats::MannWhitney) -> Self {
        let prodlike_stats::MannWhitney {
            u,
            z,
            p_value,
            prob_a_greater,
            n1,
            n2,
        } = m;
        Self {
            u,
            z,
            p_value,
            prob_a_greater,
            n1,
            n2,
        }
    }
}

/// A two-proportion z-test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProportionTest {
    pub rate_a: f64,
    pub rate_b: f64,
    /// rate_a − rate_b
    pub difference: f64,
    pub z: f64,
    /// Two-sided p-value; 1 when there is nothing to compare.
    pub p_value: f64,
    pub n_a: u64,
    pub n_b: u64,
}

impl From<prodlike_stats::ProportionTest> for ProportionTest {
    fn from(t: prodlike_stats::ProportionTest) -> Self {
        let prodlike_stats::ProportionTest {
            rate_a,
            rate_b,
            difference,
            z,
            p_value,
            n_a,
            n_b,
        } = t;
        Self {
            rate_a,
            rate_b,
            difference,
            z,
            p_value,
            n_a,
            n_b,
        }
    }
}

/// What a drift rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Differences under `path` are intended.
    Ignore,
    /// candidate = baseline × `factor`, within `tolerance`, units understood.
    Scale,
    /// Baseline value → allowed candidate value, from `values`.
    Map,
    /// Any difference under `path` is a finding, even where another rule would accept it.
    MustEqual,
    /// The candidate value matches `regex`.
    Pattern,
    /// `from` in the baseline stands for `to` in the candidate, in values and in names.
    Rename,
}

impl From<prodlike_rules::RuleKind> for RuleKind {
    fn from(k: prodlike_rules::RuleKind) -> Self {
        use prodlike_rules::RuleKind as R;
        match k {
            R::Ignore => Self::Ignore,
            R::Scale => Self::Scale,
            R::Map => Self::Map,
            R::MustEqual => Self::MustEqual,
            R::Pattern => Self::Pattern,
            R::Rename => Self::Rename,
        }
    }
}

/// What kind of personal data a column or field holds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
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

impl From<prodlike_mask::detect::PiiKind> for PiiKind {
    fn from(k: prodlike_mask::detect::PiiKind) -> Self {
        use prodlike_mask::detect::PiiKind as K;
        match k {
            K::Name => Self::Name,
            K::FirstName => Self::FirstName,
            K::LastName => Self::LastName,
            K::Email => Self::Email,
            K::Phone => Self::Phone,
            K::StreetAddress => Self::StreetAddress,
            K::City => Self::City,
            K::PostalCode => Self::PostalCode,
            K::IpAddress => Self::IpAddress,
            K::CardNumber => Self::CardNumber,
            K::UsSsn => Self::UsSsn,
            K::UkNino => Self::UkNino,
            K::NationalId => Self::NationalId,
            K::BankAccount => Self::BankAccount,
            K::DateOfBirth => Self::DateOfBirth,
            K::Secret => Self::Secret,
            K::Username => Self::Username,
        }
    }
}

/// Why something was flagged as personal data. Holds pattern names and counts only, never
/// sampled values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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

impl From<prodlike_mask::detect::Evidence> for Evidence {
    fn from(e: prodlike_mask::detect::Evidence) -> Self {
        use prodlike_mask::detect::Evidence as E;
        match e {
            E::Name { pattern } => Self::Name { pattern },
            E::Values { matched, sampled } => Self::Values { matched, sampled },
            E::NameAndValues {
                pattern,
                matched,
                sampled,
            } => Self::NameAndValues {
                pattern,
                matched,
                sampled,
            },
        }
    }
}
