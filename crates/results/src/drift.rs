//! `prodlike.drift/1`: what `prodlike drift` (files) and `prodlike drift schema` (databases)
//! compared and what differed. Built by `crates/drift` (compare.rs, schema/, locate.rs).
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::shared::RuleKind;

/// `schema` of the JSON envelope.
pub const SCHEMA: &str = "prodlike.drift/1";

/// What was compared and what differed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DriftReport {
    /// `files` (configuration files or directories) or `schema` (live databases).
    pub mode: Mode,
    /// The baseline as given (a path, or a database URL with its password removed).
    pub baseline: String,
    /// The candidate as given.
    pub candidate: String,
    /// The rules file, when one was used.
    pub rules_file: Option<String>,
    /// Counts of what was compared and found.
    pub summary: Summary,
    /// Every difference, drift and accepted alike, in file, object and path order.
    pub findings: Vec<Finding>,
    /// Every rule with how it was used.
    pub rules: Vec<RuleUse>,
}

/// What was compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Configuration files or directories.
    Files,
    /// Live databases.
    Schema,
}

/// Counts of what was compared and found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Differences no rule accepts: the ones to resolve. Non-zero means exit code 1.
    pub drift: usize,
    /// Differences a rule declares intended.
    pub accepted: usize,
    /// Files (or, for schemas, sources) compared.
    pub files: usize,
    /// Objects compared (Kubernetes objects, YAML documents, tables, ...).
    pub objects: usize,
    /// Rules whose expiry date has passed.
    pub rules_expired: usize,
    /// Active rules that matched nothing.
    pub rules_unused: usize,
}

/// One difference between baseline and candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Relative file path (the candidate's; the baseline's for removed files), or `schema`.
    pub file: String,
    /// The object inside the file: `Deployment/shop/web`, `document 2`, `table public.orders`;
    /// absent for single-document files.
    pub object: Option<String>,
    /// Path inside the object, e.g. `spec.template.spec.containers[name=web].image`; empty
    /// when the whole file or object was added or removed.
    pub path: String,
    /// What kind of difference.
    pub change: Change,
    /// Drift to resolve, or accepted by a rule.
    pub status: Status,
    /// Baseline value (absent when added). Secrets print as `<secret:fingerprint>`.
    pub baseline: Option<serde_json::Value>,
    /// Candidate value (absent when removed).
    pub candidate: Option<serde_json::Value>,
    /// The value sits under a secret-looking key and was compared by keyed hash only.
    pub secret: bool,
    /// The rule (1-based) that accepted it, or the must_equal rule that enforced it.
    pub rule: Option<usize>,
    /// That rule's reason.
    pub reason: Option<String>,
    /// Why a rule did or did not accept it, e.g. "scale rule 1 expects 2 (4 × 0.5), found 3".
    pub note: Option<String>,
    /// 1-based line in the candidate file (the baseline's for removals), best effort.
    pub line: Option<usize>,
    /// Where the differing value sits in the baseline file (absent when added, or when the
    /// format keeps no positions and the text search found nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_at: Option<Location>,
    /// Where the differing value sits in the candidate file (absent when removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_at: Option<Location>,
}

/// A position in one side's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    /// That side's relative file path.
    pub file: String,
    /// 1-based line of the value (of its key, for a map or list).
    pub line: usize,
    /// 1-based column, in characters, where the format gives one (YAML, JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Same type, different value.
    Changed,
    /// Only in the candidate.
    Added,
    /// Only in the baseline.
    Removed,
    /// Different types (e.g. string `"8080"` against number `8080`).
    TypeChanged,
    /// Same items, different order, in a list whose order matters.
    OrderChanged,
    /// A key, list item, object or file that a rename rule pairs under another name.
    Renamed,
    /// A literal on one side where the other has an expression (Terraform: `45` in staging
    /// where production says `var.connection_timeout`).
    HardCoded,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::Changed => "changed",
            Change::Added => "added",
            Change::Removed => "removed",
            Change::TypeChanged => "type changed",
            Change::OrderChanged => "order changed",
            Change::Renamed => "renamed",
            Change::HardCoded => "hard-coded",
        }
    }
}

/// Whether a difference is to be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not explained by any rule: resolve it.
    Drift,
    /// Declared intended by a rule.
    Accepted,
}

/// A rule and what it did in this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleUse {
    /// 1-based position in the rules file.
    pub index: usize,
    /// What the rule does.
    pub kind: RuleKind,
    /// e.g. `scale ×0.5 spec.replicas`.
    pub description: String,
    /// Why the difference is intended, as written.
    pub reason: String,
    /// Who answers for the rule, as written.
    pub owner: Option<String>,
    /// `YYYY-MM-DD`, the last day the rule holds.
    pub expires: Option<String>,
    /// What the rule did in this run.
    pub state: RuleState,
    /// Differences it accepted (or, for must_equal, enforced as drift).
    pub matched: usize,
    /// Differences it matched (path, file and object) but did not accept, each with the
    /// reason, e.g. "scale 0.5 expects 5, found 3" (at most 20 reasons kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
    /// How many differences it matched but did not accept (`rejected` keeps the first 20).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rejected_count: usize,
    /// Differences it would have accepted, had an earlier rule not accepted them first.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shadowed: usize,
}

/// What a rule did in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleState {
    /// Accepted or enforced at least one difference.
    Used,
    /// A must_equal rule whose paths exist and are all equal.
    Held,
    /// Active but matched nothing: stale, or a typo in its path.
    Unused,
    /// Matched differences but accepted none of them (`rejected` says why).
    Rejected,
    /// Would have accepted differences, but an earlier rule always accepted them first.
    Shadowed,
    /// Past its expiry date: accepts nothing any more.
    Expired,
}

impl DriftReport {
    /// Findings that are drift.
    pub fn drift(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.status == Status::Drift)
    }

    /// Exit outcome: a finding when anything drifted.
    pub fn outcome(&self) -> prodlike_report::Outcome {
        if self.summary.drift > 0 {
            prodlike_report::Outcome::Finding
        } else {
            prodlike_report::Outcome::Success
        }
    }

    /// One sentence for the envelope's `summary`.
    pub fn sentence(&self) -> String {
        let s = &self.summary;
        let what = match self.mode {
            Mode::Files => format!(
                "{} file{}, {} object{}",
                s.files,
                plural(s.files),
                s.objects,
                plural(s.objects)
            ),
            Mode::Schema => format!("{} schema object{}", s.objects, plural(s.objects)),
        };
        let mut out = format!(
            "{} drift{}, {} accepted difference{} across {what}",
            s.drift,
            plural(s.drift),
            s.accepted,
            plural(s.accepted)
        );
        if s.rules_expired > 0 {
            out.push_str(&format!(
                "; {} expired rule{}",
                s.rules_expired,
                plural(s.rules_expired)
            ));
        }
        if s.rules_unused > 0 {
            out.push_str(&format!(
                "; {} unused rule{}",
                s.rules_unused,
                plural(s.rules_unused)
            ));
        }
        out
    }

    /// The `--out` envelope.
    pub fn envelope(&self, started_at: String) -> prodlike_report::CommandResult<&DriftReport> {
        let command = match self.mode {
            Mode::Files => "drift",
            Mode::Schema => "drift schema",
        };
        prodlike_report::CommandResult::new(
            SCHEMA,
            command,
            started_at,
            self.outcome(),
            self.sentence(),
            self,
        )
    }
}

/// Counts that are zero are left out, so documents written before these fields read and
/// write back unchanged.
fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
