//! The rules file (`drift.toml`): declared intentional differences, each with a reason and
//! optionally an owner and an expiry date. Format documented in docs/drift.md.
use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::error::{DriftError, line_col};
use crate::path::Glob;
use crate::secrets::SecretPolicy;
use crate::tree::Node;

/// Keys tried, in order, to match items of a list of objects. A key is used when every item of
/// both lists has it, with a distinct scalar value. Values that differ by environment by nature
/// (`host`, `ip`) are left out: they would turn every change into a removal and an addition.
pub const DEFAULT_IDENTITY_KEYS: &[&str] = &[
    "name",
    "metadata.name",
    "id",
    "key",
    "containerPort",
    "port",
    "mountPath",
    "devicePath",
    "path",
    "uid",
];

/// Lists whose order carries meaning by default: command lines and init containers.
pub const DEFAULT_ORDERED: &[&str] = &[
    "**.args",
    "**.command",
    "**.entrypoint",
    "**.initContainers",
];

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// The intentional differences, one `[[rule]]` table each.
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
    /// Secret detection.
    #[serde(default)]
    pub secrets: SecretsSpec,
    /// How lists are matched.
    #[serde(default)]
    pub lists: ListsSpec,
    /// Relative file paths (globs) left out of a directory comparison, e.g. `templates/**`.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// `[secrets]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSpec {
    /// Extra words that make a key secret-looking, added to the built-in ones
    /// (password, token, key, secret, credential, ...).
    #[serde(default)]
    pub keys: Vec<String>,
}

/// `[lists]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListsSpec {
    /// Identity keys tried in order to match list items; replaces the default list
    /// (name, metadata.name, id, key, containerPort, port, mountPath, devicePath, path, uid);
    /// a dotted key looks inside the item.
    pub identity_keys: Option<Vec<String>>,
    /// Path globs of lists whose order matters; added to the defaults (`**.args`,
    /// `**.command`, `**.entrypoint`, `**.initContainers`).
    #[serde(default)]
    pub ordered: Vec<String>,
}

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
    /// Any difference under `path` is drift, even where another rule would accept it.
    #[serde(alias = "must-equal")]
    MustEqual,
    /// The candidate value matches `regex`.
    Pattern,
    /// `from` in the baseline stands for `to` in the candidate, in values and in names.
    Rename,
}

impl RuleKind {
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

/// One `[[rule]]` as written; [`RulesFile::validate`] turns it into a [`Rule`].
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
    pub expires: Option<Node>,
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

/// A validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// 1-based position in the file, as reports name it: "rule 3".
    pub index: usize,
    pub kind: RuleKind,
    pub action: Action,
    pub path: Option<Glob>,
    pub file: Option<Glob>,
    pub object: Option<Glob>,
    pub reason: String,
    pub owner: Option<String>,
    pub expires: Option<Date>,
    /// The expiry date has passed: the rule accepts nothing.
    pub expired: bool,
}

#[derive(Debug, Clone)]
pub enum Action {
    Ignore,
    Scale { factor: f64, tolerance: f64 },
    Map(BTreeMap<String, String>),
    MustEqual,
    Pattern(Regex),
    Rename { from: String, to: String },
}

impl Rule {
    /// Whether this rule's file and object selectors cover a finding's place.
    pub fn covers(&self, files: &[&str], object: &str) -> bool {
        let file_ok = match &self.file {
            Some(g) => files.iter().any(|f| g.matches(f)),
            None => true,
        };
        let object_ok = match &self.object {
            Some(g) => g.matches(object),
            None => true,
        };
        file_ok && object_ok
    }

    /// Whether this rule applies at a path (rename rules without a path apply everywhere).
    pub fn matches_path(&self, path: &str) -> bool {
        match &self.path {
            Some(g) => g.matches(path),
            None => true,
        }
    }

    /// Short description for reports: `scale ×0.5 ±10% spec.replicas`.
    pub fn describe(&self) -> String {
        let what = match &self.action {
            Action::Ignore => "ignore".to_string(),
            Action::Scale { factor, tolerance } if *tolerance > 0.0 => {
                format!("scale ×{factor} ±{}%", tolerance * 100.0)
            }
            Action::Scale { factor, .. } => format!("scale ×{factor}"),
            Action::Map(values) => format!("map ({} values)", values.len()),
            Action::MustEqual => "must_equal".to_string(),
            Action::Pattern(re) => format!("pattern /{}/", re.as_str()),
            Action::Rename { from, to } => format!("rename {from} → {to}"),
        };
        match &self.path {
            Some(p) => format!("{what} {}", p.as_str()),
            None => what,
        }
    }
}

/// Rules plus the settings that shape a comparison.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub secrets: SecretPolicy,
    pub identity_keys: Vec<String>,
    pub ordered: Vec<Glob>,
    pub exclude: Vec<Glob>,
}

impl Default for RuleSet {
    fn default() -> Self {
        RulesFile::default()
            .validate(Date::today())
            .unwrap_or_else(|_| RuleSet {
                rules: Vec::new(),
                secrets: SecretPolicy::default(),
                identity_keys: Vec::new(),
                ordered: Vec::new(),
                exclude: Vec::new(),
            })
    }
}

impl RuleSet {
    /// Reads and validates a rules file. `today` decides which rules have expired.
    pub fn load(path: &Path, today: Date) -> Result<RuleSet, DriftError> {
        let text = std::fs::read_to_string(path).map_err(|source| DriftError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, today).map_err(|message| DriftError::Rules {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses rules from TOML text; the error names the line or the field.
    pub fn parse(text: &str, today: Date) -> Result<RuleSet, String> {
        let file: RulesFile = toml::from_str(text).map_err(|e| {
            let place = e
                .span()
                .map(|s| {
                    let (l, c) = line_col(text, s.start);
                    format!("line {l}, column {c}: ")
                })
                .unwrap_or_default();
            format!("{place}{}", e.message().trim())
        })?;
        file.validate(today)
    }

    /// Whether the list at `path` keeps its order.
    pub fn is_ordered(&self, path: &str) -> bool {
        self.ordered.iter().any(|g| g.matches(path))
    }

    /// Whether a relative file path is excluded.
    pub fn is_excluded(&self, rel: &str) -> bool {
        self.exclude.iter().any(|g| g.matches(rel))
    }

    /// Applies the active rename rules that cover this place to `text`. Returns the renamed
    /// text and the rules that changed it.
    pub fn rename(
        &self,
        text: &str,
        files: &[&str],
        object: &str,
        path: &str,
    ) -> (String, Vec<usize>) {
        let mut out = text.to_string();
        let mut used = Vec::new();
        for rule in &self.rules {
            if rule.expired {
                continue;
            }
            if let Action::Rename { from, to } = &rule.action {
                if out.contains(from.as_str())
                    && rule.covers(files, object)
                    && rule.matches_path(path)
                {
                    out = out.replace(from.as_str(), to);
                    used.push(rule.index);
                }
            }
        }
        (out, used)
    }
}

impl RulesFile {
    /// Checks every rule and names the first bad field by its place in the file
    /// (`rule[3].factor`, rules numbered from 1 in file order), with the value and the fix.
    pub fn validate(self, today: Date) -> Result<RuleSet, String> {
        let mut rules = Vec::new();
        for (i, spec) in self.rule.into_iter().enumerate() {
            rules.push(validate_rule(i, spec, today)?);
        }
        let mut ordered = Vec::new();
        for p in DEFAULT_ORDERED
            .iter()
            .map(|s| s.to_string())
            .chain(self.lists.ordered)
        {
            ordered.push(Glob::path(&p).map_err(|e| format!("lists.ordered: {e}"))?);
        }
        let mut exclude = Vec::new();
        for p in &self.exclude {
            exclude.push(Glob::file(p).map_err(|e| format!("exclude: {e}"))?);
        }
        let identity_keys = match self.lists.identity_keys {
            Some(keys) => {
                if let Some(bad) = keys.iter().find(|k| k.is_empty()) {
                    return Err(format!(
                        "lists.identity_keys: `{bad}` is empty; name a key such as `name`"
                    ));
                }
                keys
            }
            None => DEFAULT_IDENTITY_KEYS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        if let Some(bad) = self.secrets.keys.iter().find(|k| k.trim().is_empty()) {
            return Err(format!(
                "secrets.keys: `{bad}` is empty; give a word such as `pin`"
            ));
        }
        Ok(RuleSet {
            rules,
            secrets: SecretPolicy {
                extra_words: self.secrets.keys.iter().map(|k| k.to_lowercase()).collect(),
            },
            identity_keys,
            ordered,
            exclude,
        })
    }
}

fn validate_rule(i: usize, spec: RuleSpec, today: Date) -> Result<Rule, String> {
    let at = |field: &str| format!("rule[{}].{field}", i + 1);
    let Some(kind) = spec.kind else {
        return Err(format!(
            "{}: missing; use one of ignore, scale, map, must_equal, pattern, rename",
            at("kind")
        ));
    };
    let reason = match spec.reason.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => {
            return Err(format!(
                "{}: missing; every rule says why the difference is intended",
                at("reason")
            ));
        }
    };
    let glob = |field: &str, v: &Option<String>, f: fn(&str) -> Result<Glob, String>| {
        v.as_deref()
            .map(|p| f(p).map_err(|e| format!("{}: {e}", at(field))))
            .transpose()
    };
    let path = glob("path", &spec.path, Glob::path)?;
    let file = glob("file", &spec.file, Glob::file)?;
    let object = glob("object", &spec.object, Glob::object)?;
    if path.is_none() && kind != RuleKind::Rename {
        return Err(format!(
            "{}: missing; a {} rule needs the path it applies to, e.g. `spec.replicas` or `**.image`",
            at("path"),
            kind.name()
        ));
    }
    let expires = match &spec.expires {
        None => None,
        Some(node) => {
            let text = node.scalar_text().unwrap_or_default();
            let date = Date::parse(text.get(..10).unwrap_or(&text)).ok_or_else(|| {
                format!(
                    "{}: `{text}` is not a date; write YYYY-MM-DD",
                    at("expires")
                )
            })?;
            Some(date)
        }
    };
    // Fields that belong to another kind are mistakes worth naming.
    let stray = [
        ("factor", spec.factor.is_some(), RuleKind::Scale),
        ("tolerance", spec.tolerance.is_some(), RuleKind::Scale),
        ("values", spec.values.is_some(), RuleKind::Map),
        ("regex", spec.regex.is_some(), RuleKind::Pattern),
        ("from", spec.from.is_some(), RuleKind::Rename),
        ("to", spec.to.is_some(), RuleKind::Rename),
    ];
    if let Some((field, _, owner)) = stray.iter().find(|(_, set, owner)| *set && *owner != kind) {
        return Err(format!(
            "{}: only {} rules take `{field}`; this rule is {}",
            at(field),
            owner.name(),
            kind.name()
        ));
    }
    let action = match kind {
        RuleKind::Ignore => Action::Ignore,
        RuleKind::MustEqual => Action::MustEqual,
        RuleKind::Scale => {
            let factor = spec.factor.ok_or_else(|| {
                format!(
                    "{}: missing; e.g. `factor = 0.5` for half of production",
                    at("factor")
                )
            })?;
            if !(factor.is_finite() && factor > 0.0) {
                return Err(format!(
                    "{}: {factor} must be a positive number",
                    at("factor")
                ));
            }
            let tolerance = spec.tolerance.unwrap_or(0.0);
            if !(tolerance.is_finite() && (0.0..1.0).contains(&tolerance)) {
                return Err(format!(
                    "{}: {tolerance} must be a fraction in [0, 1), e.g. 0.1 for ±10%",
                    at("tolerance")
                ));
            }
            Action::Scale { factor, tolerance }
        }
        RuleKind::Map => {
            let values = spec.values.unwrap_or_default();
            if values.is_empty() {
                return Err(format!(
                    "{}: missing or empty; e.g. `values = {{ \"t3.xlarge\" = \"t3.large\" }}`",
                    at("values")
                ));
            }
            Action::Map(values)
        }
        RuleKind::Pattern => {
            let text = spec
                .regex
                .ok_or_else(|| format!("{}: missing; e.g. `regex = \"staging\"`", at("regex")))?;
            let re = Regex::new(&text).map_err(|e| format!("{}: `{text}`: {e}", at("regex")))?;
            Action::Pattern(re)
        }
        RuleKind::Rename => {
            let from = spec.from.unwrap_or_default();
            if from.is_empty() {
                return Err(format!(
                    "{}: missing or empty; e.g. `from = \"prod-db\"`",
                    at("from")
                ));
            }
            let Some(to) = spec.to else {
                return Err(format!("{}: missing; e.g. `to = \"staging-db\"`", at("to")));
            };
            if from == to {
                return Err(format!(
                    "{}: equals `from`; a rename must change something",
                    at("to")
                ));
            }
            Action::Rename { from, to }
        }
    };
    Ok(Rule {
        index: i + 1,
        kind,
        action,
        path,
        file,
        object,
        reason,
        owner: spec.owner,
        expired: expires.is_some_and(|d| d < today),
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::parse("2026-06-01").unwrap()
    }

    #[test]
    fn reads_every_kind() {
        let set = RuleSet::parse(
            r#"
exclude = ["templates/**"]
[secrets]
keys = ["pin"]
[lists]
ordered = ["**.steps"]

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
            today(),
        )
        .unwrap();
        assert_eq!(set.rules.len(), 6);
        assert!(!set.rules[0].expired);
        assert!(set.rules[3].expired, "2026-01-01 is before 2026-06-01");
        assert_eq!(set.rules[2].kind, RuleKind::MustEqual);
        assert!(set.is_ordered("jobs[name=a].steps"));
        assert!(set.is_ordered("spec.containers[name=web].args"));
        assert!(set.is_excluded("templates/deploy.yaml"));
        assert!(set.secrets.is_secret_key("card_pin"));
        let (renamed, used) = set.rename("jdbc://prod-db:5432", &["a"], "", "url");
        assert_eq!(
            (renamed.as_str(), used),
            ("jdbc://staging-db:5432", vec![5])
        );
    }

    #[test]
    fn errors_name_the_field_or_line() {
        let e = RuleSet::parse(
            "[[rule]]\nkind = \"scale\"\npath = \"a\"\nreason = \"r\"\n",
            today(),
        )
        .unwrap_err();
        assert!(e.starts_with("rule[1].factor: missing"), "{e}");
        let e = RuleSet::parse(
            "[[rule]]\nkind = \"ignore\"\npath = \"a\"\nreason = \"r\"\nfactr = 2\n",
            today(),
        )
        .unwrap_err();
        assert!(e.contains("line 5") && e.contains("factr"), "{e}");
        let e = RuleSet::parse("[[rule]]\nkind = \"ignore\"\npath = \"a\"\n", today()).unwrap_err();
        assert!(e.starts_with("rule[1].reason"), "{e}");
        let e = RuleSet::parse(
            "[[rule]]\nkind = \"ignore\"\npath = \"a\"\nreason = \"r\"\nfactor = 2.0\n",
            today(),
        )
        .unwrap_err();
        assert!(e.starts_with("rule[1].factor: only scale rules"), "{e}");
        let e = RuleSet::parse(
            "[[rule]]\nkind = \"pattern\"\npath = \"a\"\nreason = \"r\"\nregex = \"(\"\n",
            today(),
        )
        .unwrap_err();
        assert!(e.starts_with("rule[1].regex"), "{e}");
        let e = RuleSet::parse(
            "[[rule]]\nkind = \"ignore\"\npath = \"a\"\nreason = \"r\"\nexpires = \"soon\"\n",
            today(),
        )
        .unwrap_err();
        assert!(e.starts_with("rule[1].expires"), "{e}");
    }
}
