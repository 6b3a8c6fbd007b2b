//! A rule as written (`[[rule]]` in a TOML file, or any serde format) and its validation into a
//! [`Rule`]. The layout is documented for users in docs/drift.md ("The rules file").
use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::error::{Problem, RuleError};
use crate::path::Glob;
use crate::rule::{Action, Rule};

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Differences under `path` are intended.
    Ignore,
    /// candidate = baseline × `factor`, within `tolerance`, units understood.
    Scale,
    /// Baseline value → allowed candidate value, from `values`.
    Map,
    /// Any difference under `path` is a finding, even where another rule would accept it.
    #[serde(alias = "must-equal")]
    MustEqual,
    /// The candidate value matches `regex`.
    Pattern,
    /// `from` in the baseline stands for `to` in the candidate, in values and in names.
    Rename,
}

impl RuleKind {
    /// The kind as written in a rules file (`must_equal`).
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Ignore => "ignore",
            RuleKind::Scale => "scale",
            RuleKind::Map => "map",
            RuleKind::MustEqual => "must_equal",
            RuleKind::Pattern => "pattern",
            RuleKind::Rename => "rename",
        }
    }
}

/// One `[[rule]]` as written; [`RuleSpec::validate`] turns it into a [`Rule`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `ignore`, `scale`, `map`, `must_equal`, `pattern` or `rename`.
    pub kind: Option<RuleKind>,
    /// Path glob inside each file or object, e.g. `spec.replicas`, `**.resources.limits.memory`.
    /// Required for every kind but `rename`, where it narrows where the rename applies.
    pub path: Option<String>,
    /// Relative file path glob (either side's); default: every file.
    pub file: Option<String>,
    /// Object glob such as `Deployment/*/web` or `table public.*`; default: every object.
    pub object: Option<String>,
    /// Why this difference is intended. Required.
    pub reason: Option<String>,
    /// Who answers for it.
    pub owner: Option<String>,
    /// Last day the rule holds (`2026-12-31`); after it the rule no longer accepts anything
    /// and is reported as expired.
    pub expires: Option<ExpiryText>,
    /// `scale`: candidate = baseline × factor.
    pub factor: Option<f64>,
    /// `scale`: allowed relative deviation from baseline × factor (0.1 = ±10%); default 0.
    pub tolerance: Option<f64>,
    /// `map`: baseline value → allowed candidate value.
    pub values: Option<BTreeMap<String, String>>,
    /// `pattern`: regular expression the candidate value must match (unanchored unless you
    /// anchor it).
    pub regex: Option<String>,
    /// `rename`: text in the baseline...
    pub from: Option<String>,
    /// `rename`: ...that stands for this text in the candidate.
    pub to: Option<String>,
}

/// The `expires` value as text, whatever its type in the file: a TOML date (`2026-12-31`), a
/// date-time, or a string. Anything else is kept as its text (or empty), so validation can
/// name it as "not a date" instead of a type error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiryText(pub String);

impl RuleSpec {
    /// Checks the rule at 1-based position `index` (as reports name it: "rule 3") and names the
    /// first bad field by its place (`rule[3].factor`), with the value and the fix. `today`
    /// decides whether it has expired.
    pub fn validate(mut self, index: usize, today: Date) -> Result<Rule, RuleError> {
        let at = |field: &str| format!("rule[{index}].{field}");
        let fail = |field: &str, problem: Problem| RuleError {
            field: at(field),
            problem,
        };
        let Some(kind) = self.kind else {
            return Err(fail("kind", Problem::MissingKind));
        };
        let reason = match self.reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => return Err(fail("reason", Problem::MissingReason)),
        };
        let glob = |field: &str,
                    v: &Option<String>,
                    compile: fn(&str) -> Result<Glob, crate::GlobError>| {
            v.as_deref()
                .map(|p| compile(p).map_err(|e| fail(field, Problem::Glob(e))))
                .transpose()
        };
        let path = glob("path", &self.path, Glob::path)?;
        let file = glob("file", &self.file, Glob::file)?;
        let object = glob("object", &self.object, Glob::object)?;
        if path.is_none() && kind != RuleKind::Rename {
            return Err(fail("path", Problem::MissingPath { kind: kind.name() }));
        }
        let expires = match &self.expires {
            None => None,
            Some(ExpiryText(text)) => {
                // A date-time counts by its day.
                let day = text.get(..10).unwrap_or(text);
                let date = Date::parse(day)
                    .ok_or_else(|| fail("expires", Problem::NotADate { text: text.clone() }))?;
                Some(date)
            }
        };
        self.check_stray_fields(kind, &at)?;
        let owner = self.owner.take();
        let action = self.action(kind, &fail)?;
        Ok(Rule {
            index,
            kind,
            action,
            path,
            file,
            object,
            reason,
            owner,
            expired: expires.is_some_and(|d| d < today),
            expires,
        })
    }

    /// Fields that belong to another kind are mistakes worth naming.
    fn check_stray_fields(
        &self,
        kind: RuleKind,
        at: &dyn Fn(&str) -> String,
    ) -> Result<(), RuleError> {
        let stray = [
            ("factor", self.factor.is_some(), RuleKind::Scale),
            ("tolerance", self.tolerance.is_some(), RuleKind::Scale),
            ("values", self.values.is_some(), RuleKind::Map),
            ("regex", self.regex.is_some(), RuleKind::Pattern),
            ("from", self.from.is_some(), RuleKind::Rename),
            ("to", self.to.is_some(), RuleKind::Rename),
        ];
        match stray.iter().find(|(_, set, owner)| *set && *owner != kind) {
            Some(&(field, _, owner)) => Err(RuleError {
                field: at(field),
                problem: Problem::StrayField {
                    field,
                    owner: owner.name(),
                    kind: kind.name(),
                },
            }),
            None => Ok(()),
        }
    }

    /// The kind's own fields, checked.
    fn action(
        self,
        kind: RuleKind,
        fail: &dyn Fn(&str, Problem) -> RuleError,
    ) -> Result<Action, RuleError> {
        Ok(match kind {
            RuleKind::Ignore => Action::Ignore,
            RuleKind::MustEqual => Action::MustEqual,
            RuleKind::Scale => {
                let factor = self
                    .factor
                    .ok_or_else(|| fail("factor", Problem::MissingFactor))?;
                if !(factor.is_finite() && factor > 0.0) {
                    return Err(fail("factor", Problem::BadFactor { factor }));
                }
                let tolerance = self.tolerance.unwrap_or(0.0);
                if !(tolerance.is_finite() && (0.0..1.0).contains(&tolerance)) {
                    return Err(fail("tolerance", Problem::BadTolerance { tolerance }));
                }
                Action::Scale { factor, tolerance }
            }
            RuleKind::Map => {
                let values = self.values.unwrap_or_default();
                if values.is_empty() {
                    return Err(fail("values", Problem::MissingValues));
                }
                Action::Map(values)
            }
            RuleKind::Pattern => {
                let text = self
                    .regex
                    .ok_or_else(|| fail("regex", Problem::MissingRegex))?;
                let re = Regex::new(&text)
                    .map_err(|source| fail("regex", Problem::BadRegex { text, source }))?;
                Action::Pattern(re)
            }
            RuleKind::Rename => {
                let from = self.from.unwrap_or_default();
                if from.is_empty() {
                    return Err(fail("from", Problem::MissingFrom));
                }
                let Some(to) = self.to else {
                    return Err(fail("to", Problem::MissingTo));
                };
                if from == to {
                    return Err(fail("to", Problem::RenameUnchanged));
                }
                Action::Rename { from, to }
            }
        })
    }
}

/// TOML date-times arrive through serde as a one-entry map with this private key.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for ExpiryText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ExpiryText, D::Error> {
        d.deserialize_any(ExpiryVisitor).map(ExpiryText)
    }
}

struct ExpiryVisitor;

impl<'de> Visitor<'de> for ExpiryVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date such as 2026-12-31")
    }
    fn visit_bool<E>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_unit<E>(self) -> Result<String, E> {
        Ok("null".to_string())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(String::new())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
        let mut text = String::new();
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            if first && key == TOML_DATETIME_KEY {
                text = map.next_value::<String>()?;
            } else {
                map.next_value::<de::IgnoredAny>()?;
            }
            first = false;
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rules;

    fn today() -> Date {
        Date::parse("2026-06-01").unwrap()
    }

    /// Rules from the `[[rule]]` tables of a TOML text.
    fn parse(text: &str) -> Result<Rules, String> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            rule: Vec<RuleSpec>,
        }
        let file: File = toml::from_str(text).map_err(|e| e.message().to_string())?;
        Rules::from_specs(file.rule, today()).map_err(|e| chain(&e))
    }

    /// The error as `{:#}` prints it: every layer once.
    fn chain(e: &dyn std::error::Error) -> String {
        let mut out = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            out.push_str(&format!(": {s}"));
            source = s.source();
        }
        out
    }

    #[test]
    fn reads_every_kind() {
        let rules = parse(
            r#"
[[rule]]
kind = "scale"
path = "spec.replicas"
factor = 0.5
tolerance = 0.1
reason = "staging runs half the pods"
owner = "platform"
expires = 2026-12-31

[[rule]]
kind = "map"
path = "nodeSelector.instance-type"
values = { "t3.xlarge" = "t3.large" }
reason = "smaller nodes"

[[rule]]
kind = "must-equal"
path = "**.image"
reason = "same build"

[[rule]]
kind = "pattern"
path = "**.host"
regex = "staging"
reason = "hostnames"
expires = "2026-01-01"

[[rule]]
kind = "rename"
from = "prod-db"
to = "staging-db"
reason = "database host"

[[rule]]
kind = "ignore"
path = "metadata.annotations.**"
object = "Deployment/*"
file = "k8s/*.yaml"
reason = "deploy tooling"
"#,
        )
        .unwrap();
        assert_eq!(rules.len(), 6);
        let r = |i: usize| rules.get(i).unwrap();
        assert!(!r(0).expired);
        assert_eq!(r(0).expires.unwrap().to_string(), "2026-12-31");
        assert!(r(3).expired, "2026-01-01 is before 2026-06-01");
        assert_eq!(r(2).kind, RuleKind::MustEqual);
        assert_eq!(r(0).describe(), "scale ×0.5 ±10% spec.replicas");
        assert!(r(5).covers(&["k8s/web.yaml"], "Deployment/shop/web"));
        assert!(!r(5).covers(&["k8s/web.yaml"], "Service/shop/web"));
        assert!(r(5).matches_path("metadata.annotations.deployed-by"));
        let (renamed, used) = rules.rename("jdbc://prod-db:5432", &["a"], "", "url");
        assert_eq!(
            (renamed.as_str(), used),
            ("jdbc://staging-db:5432", vec![5])
        );
    }

    #[test]
    fn errors_name_the_field() {
        let e = |text: &str| parse(text).unwrap_err();
        let err = e("[[rule]]\nkind = \"scale\"\npath = \"a\"\nreason = \"r\"\n");
        assert!(err.starts_with("rule[1].factor: missing"), "{err}");
        let err = e("[[rule]]\nkind = \"ignore\"\npath = \"a\"\n");
        assert!(err.starts_with("rule[1].reason"), "{err}");
        let err = e("[[rule]]\nkind = \"ignore\"\npath = \"a\"\nreason = \"r\"\nfactor = 2.0\n");
        assert!(err.starts_with("rule[1].factor: only scale rules"), "{err}");
        let err = e("[[rule]]\nkind = \"pattern\"\npath = \"a\"\nreason = \"r\"\nregex = \"(\"\n");
        assert!(
            err.starts_with("rule[1].regex: `(`: regex parse error"),
            "{err}"
        );
        let err =
            e("[[rule]]\nkind = \"ignore\"\npath = \"a\"\nreason = \"r\"\nexpires = \"soon\"\n");
        assert_eq!(
            err,
            "rule[1].expires: `soon` is not a date; write YYYY-MM-DD"
        );
        let err = e("[[rule]]\nkind = \"ignore\"\npath = \"\"\nreason = \"r\"\n");
        assert!(err.starts_with("rule[1].path: an empty pattern"), "{err}");
        let err = e("[[rule]]\nkind = \"ignore\"\nreason = \"r\"\n");
        assert!(
            err.starts_with("rule[1].path: missing; a ignore rule"),
            "{err}"
        );
        let err = e("[[rule]]\nkind = \"scale\"\npath = \"a\"\nreason = \"r\"\nfactor = -1\n");
        assert_eq!(err, "rule[1].factor: -1 must be a positive number");
        let err = e("[[rule]]\nkind = \"rename\"\nfrom = \"a\"\nto = \"a\"\nreason = \"r\"\n");
        assert!(err.starts_with("rule[1].to: equals `from`"), "{err}");
        // A later rule is named by its own position.
        let err = e(
            "[[rule]]\nkind = \"ignore\"\npath = \"a\"\nreason = \"r\"\n[[rule]]\nkind = \"map\"\npath = \"a\"\nreason = \"r\"\n",
        );
        assert!(err.starts_with("rule[2].values"), "{err}");
    }

    #[test]
    fn date_times_expire_by_their_day() {
        let rules = parse(
            "[[rule]]\nkind = \"ignore\"\npath = \"a\"\nreason = \"r\"\nexpires = 2026-05-31T23:59:00Z\n",
        )
        .unwrap();
        let r = rules.get(0).unwrap();
        assert!(r.expired);
        assert_eq!(r.expires.unwrap().to_string(), "2026-05-31");
        let err = parse("[[rule]]\nkind = \"ignore\"\npath = \"a\"\nreason = \"r\"\nexpires = 5\n")
            .unwrap_err();
        assert_eq!(err, "rule[1].expires: `5` is not a date; write YYYY-MM-DD");
    }
}
