//! The rules file (`drift.toml`): declared intentional differences (`[[rule]]`, validated by
//! prodlike-rules), plus what shapes a drift comparison: secret detection (`[secrets]`), list
//! matching (`[lists]`) and excluded files (`exclude`). Format documented in docs/drift.md.
use std::path::Path;

use prodlike_common::source::line_col;
use serde::Deserialize;

pub use prodlike_rules::{Action, Rule, RuleKind, RuleSpec, Rules};
use prodlike_rules::{Date, Glob, GlobError, RuleError};

use crate::error::DriftError;
use crate::secrets::SecretPolicy;

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
    /// Layered values compared instead of BASELINE and CANDIDATE.
    pub layers: Option<LayersSpec>,
    /// What `drift schema` reads besides the catalog.
    #[serde(default)]
    pub schema: SchemaSpec,
    /// Role names mapped between environments for `drift schema`'s grants.
    #[serde(default)]
    pub grants: GrantsSpec,
}

/// `[schema]`
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaSpec {
    /// Compare sequences' current positions (`last_value`); off by default, since they move
    /// with every insert.
    #[serde(default)]
    pub sequence_positions: bool,
}

/// `[grants]`, as `prodlike data` writes it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantsSpec {
    /// Baseline role → candidate role: `map = { app_prod = "app_staging" }` compares the
    /// privileges of `app_prod` in the baseline with those of `app_staging` in the candidate.
    #[serde(default)]
    pub map: std::collections::BTreeMap<String, String>,
}

/// `[layers]`: each side a stack of values files merged as Helm merges `-f a -f b`; paths
/// relative to the rules file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayersSpec {
    /// The baseline's layers, first to last, e.g. `["values.yaml", "values-production.yaml"]`.
    pub baseline: Vec<String>,
    /// The candidate's layers, e.g. `["values.yaml", "values-staging.yaml"]`.
    pub candidate: Vec<String>,
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

/// A rules file refused: where (`rule[3].factor`, `lists.ordered`, `line 5, column 1`), and
/// what is wrong there as the source.
#[derive(Debug, thiserror::Error)]
#[error("{place}")]
pub struct RulesFileError {
    /// The field by its place in the file, or the line and column of a syntax error.
    pub place: String,
    /// What is wrong there, and the fix.
    #[source]
    pub problem: RulesFileProblem,
}

/// What is wrong at a [`RulesFileError`]'s place.
#[derive(Debug, thiserror::Error)]
pub enum RulesFileProblem {
    /// Not TOML, or a key the format does not have.
    #[error(transparent)]
    Syntax(#[from] TomlSyntax),
    /// A `[[rule]]` refused by prodlike-rules.
    #[error(transparent)]
    Rule(#[from] prodlike_rules::Problem),
    /// An `exclude` or `lists.ordered` glob that does not compile.
    #[error(transparent)]
    Glob(#[from] GlobError),
    #[error("`{key}` is empty; name a key such as `name`")]
    EmptyIdentityKey { key: String },
    #[error("`{word}` is empty; give a word such as `pin`")]
    EmptySecretWord { word: String },
    #[error(
        "no layers given; list the values files, first to last, e.g. [\"values.yaml\", \"values-production.yaml\"]"
    )]
    NoLayers,
    #[error("a role name is empty; write map = {{ app_prod = \"app_staging\" }}")]
    EmptyRole,
}

/// A TOML parse error shown by its message alone: the place is the [`RulesFileError`]'s, and
/// toml's own rendering (a multi-line snippet) would repeat it.
#[derive(Debug)]
pub struct TomlSyntax(pub toml::de::Error);

impl std::fmt::Display for TomlSyntax {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.message().trim())
    }
}

impl std::error::Error for TomlSyntax {}

impl From<RuleError> for RulesFileError {
    fn from(e: RuleError) -> Self {
        RulesFileError {
            place: e.field,
            problem: RulesFileProblem::Rule(e.problem),
        }
    }
}

/// Rules plus the settings that shape a comparison.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The `[[rule]]`s, in file order.
    pub rules: Rules,
    /// Which keys hold secrets.
    pub secrets: SecretPolicy,
    /// Keys tried in order to pair list items.
    pub identity_keys: Vec<String>,
    /// Lists whose order matters.
    pub ordered: Vec<Glob>,
    /// Relative file paths left out of a directory comparison.
    pub exclude: Vec<Glob>,
    /// `[layers]`: the baseline's and the candidate's stacks of values files (resolved
    /// against the rules file's folder by [`RuleSet::load`]).
    pub layers: Option<(Vec<std::path::PathBuf>, Vec<std::path::PathBuf>)>,
    /// `[schema] sequence_positions`.
    pub sequence_positions: bool,
    /// `[grants] map`: baseline role → candidate role.
    pub grant_map: std::collections::BTreeMap<String, String>,
}

impl Default for RuleSet {
    fn default() -> Self {
        RulesFile::default()
            .validate(Date::today())
            .unwrap_or_else(|_| RuleSet {
                rules: Rules::default(),
                secrets: SecretPolicy::default(),
                identity_keys: Vec::new(),
                ordered: Vec::new(),
                exclude: Vec::new(),
                layers: None,
                sequence_positions: false,
                grant_map: Default::default(),
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
        let mut set = Self::parse(&text, today).map_err(|e| DriftError::Rules {
            path: path.to_path_buf(),
            place: e.place,
            source: Box::new(e.problem),
        })?;
        if let (Some((b, c)), Some(dir)) = (set.layers.as_mut(), path.parent()) {
            for p in b.iter_mut().chain(c.iter_mut()) {
                if p.is_relative() {
                    *p = dir.join(&*p);
                }
            }
        }
        Ok(set)
    }

    /// Parses rules from TOML text; the error names the line or the field.
    pub fn parse(text: &str, today: Date) -> Result<RuleSet, RulesFileError> {
        let file: RulesFile = toml::from_str(text).map_err(|e| {
            let place = match e.span() {
                Some(s) => {
                    let (l, c) = line_col(text, s.start);
                    format!("line {l}, column {c}")
                }
                None => "not valid TOML".to_string(),
            };
            RulesFileError {
                place,
                problem: TomlSyntax(e).into(),
            }
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
}

impl RulesFile {
    /// Checks every rule and setting and names the first bad field by its place in the file
    /// (`rule[3].factor`, rules numbered from 1 in file order), with the value and the fix.
    pub fn validate(self, today: Date) -> Result<RuleSet, RulesFileError> {
        if let Some(l) = &self.layers {
            for (place, list) in [
                ("layers.baseline", &l.baseline),
                ("layers.candidate", &l.candidate),
            ] {
                if list.is_empty() {
                    return Err(RulesFileError {
                        place: place.into(),
                        problem: RulesFileProblem::NoLayers,
                    });
                }
            }
        }
        if let Some((from, _)) = self
            .grants
            .map
            .iter()
            .find(|(f, t)| f.is_empty() || t.is_empty())
        {
            return Err(RulesFileError {
                place: format!("grants.map.{from}"),
                problem: RulesFileProblem::EmptyRole,
            });
        }
        let rules = Rules::from_specs(self.rule, today)?;
        let glob_error = |place: &str| {
            let place = place.to_string();
            move |e: GlobError| RulesFileError {
                place,
                problem: e.into(),
            }
        };
        let mut ordered = Vec::new();
        for p in DEFAULT_ORDERED
            .iter()
            .map(|s| s.to_string())
            .chain(self.lists.ordered)
        {
            ordered.push(Glob::path(&p).map_err(glob_error("lists.ordered"))?);
        }
        let mut exclude = Vec::new();
        for p in &self.exclude {
            exclude.push(Glob::file(p).map_err(glob_error("exclude"))?);
        }
        let identity_keys = match self.lists.identity_keys {
            Some(keys) => {
                if let Some(bad) = keys.iter().find(|k| k.is_empty()) {
                    return Err(RulesFileError {
                        place: "lists.identity_keys".into(),
                        problem: RulesFileProblem::EmptyIdentityKey { key: bad.clone() },
                    });
                }
                keys
            }
            None => DEFAULT_IDENTITY_KEYS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        if let Some(bad) = self.secrets.keys.iter().find(|k| k.trim().is_empty()) {
            return Err(RulesFileError {
                place: "secrets.keys".into(),
                problem: RulesFileProblem::EmptySecretWord { word: bad.clone() },
            });
        }
        Ok(RuleSet {
            rules,
            secrets: SecretPolicy {
                extra_words: self.secrets.keys.iter().map(|k| k.to_lowercase()).collect(),
            },
            identity_keys,
            ordered,
            exclude,
            layers: self.layers.map(|l| {
                let paths = |v: Vec<String>| v.into_iter().map(std::path::PathBuf::from).collect();
                (paths(l.baseline), paths(l.candidate))
            }),
            sequence_positions: self.schema.sequence_positions,
            grant_map: self.grants.map,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::parse("2026-06-01").unwrap()
    }

    #[test]
    fn reads_rules_and_comparison_settings() {
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
reason = "staging runs half the pods"

[[rule]]
kind = "rename"
from = "prod-db"
to = "staging-db"
reason = "database host"
"#,
            today(),
        )
        .unwrap();
        assert_eq!(set.rules.len(), 2);
        assert!(set.is_ordered("jobs[name=a].steps"));
        assert!(set.is_ordered("spec.containers[name=web].args"));
        assert!(set.is_excluded("templates/deploy.yaml"));
        assert!(set.secrets.is_secret_key("card_pin"));
        assert_eq!(set.identity_keys.len(), DEFAULT_IDENTITY_KEYS.len());
        let (renamed, used) = set.rules.rename("jdbc://prod-db:5432", &["a"], "", "url");
        assert_eq!(
            (renamed.as_str(), used),
            ("jdbc://staging-db:5432", vec![2])
        );
    }

    #[test]
    fn errors_name_the_field_or_line() {
        let e = |text: &str| {
            let e = RuleSet::parse(text, today()).unwrap_err();
            format!("{}: {}", e.place, e.problem)
        };
        let err = e("[[rule]]\nkind = \"scale\"\npath = \"a\"\nreason = \"r\"\n");
        assert!(err.starts_with("rule[1].factor: missing"), "{err}");
        let err = e("[[rule]]\nkind = \"ignore\"\npath = \"a\"\nreason = \"r\"\nfactr = 2\n");
        assert!(
            err.starts_with("line 5, column 1: unknown field `factr`"),
            "{err}"
        );
        assert!(
            !err.contains('\n'),
            "one line, without toml's snippet: {err}"
        );
        let err = e("[lists]\nidentity_keys = [\"\"]\n");
        assert_eq!(
            err,
            "lists.identity_keys: `` is empty; name a key such as `name`"
        );
        let err = e("[secrets]\nkeys = [\" \"]\n");
        assert!(err.starts_with("secrets.keys: ` ` is empty"), "{err}");
        let err = e("exclude = [\"\"]\n");
        assert!(err.starts_with("exclude: an empty pattern"), "{err}");
    }

    #[test]
    fn a_bad_file_names_its_path_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drift.toml");
        std::fs::write(&path, "[[rule]]\nkind = \"ignore\"\npath = \"a\"\n").unwrap();
        let e = RuleSet::load(&path, today()).unwrap_err();
        let source = std::error::Error::source(&e).unwrap();
        assert_eq!(
            format!("{e}: {source}"),
            format!(
                "rules file {}: rule[1].reason: missing; every rule says why the difference is intended",
                path.display()
            )
        );
    }
}
