//! `data.toml`: per-table sampling and per-column masking rules.
//!
//! ```toml
//! [defaults]
//! sample = 0.1                  # share of root rows kept (1.0 = everything)
//! seed = 42
//!
//! [tables.users]
//! sample = 0.1
//! where = "created_at >= '2024-01-01'"
//! stratify = "plan"             # exact share per value of this column
//! keep_rare = ["status"]        # at least one row for every value
//!
//! [tables.users.columns]
//! email = "email"
//! phone = { type = "phone" }
//! notes = "keep"
//!
//! [[tables.events.json]]
//! column = "payload"
//! key = "email"
//! transform = "email"
//!
//! [grants]
//! map = { app_prod = "app_staging" }   # the source role's privileges, given to staging's
//! ```

use std::collections::BTreeMap;

use prodlike_mask::{JsonRule, Transform};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result, did_you_mean};
use crate::schema::{Kind, Schema};

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Settings for every table.
    #[serde(default)]
    pub defaults: Defaults,
    /// Per-table rules, by table name.
    #[serde(default)]
    pub tables: BTreeMap<String, TableRules>,
    /// Source privileges given to staging roles (PostgreSQL).
    #[serde(default)]
    pub grants: GrantRules,
}

/// `[grants]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrantRules {
    /// Source role → target role: every privilege the source role holds on the copied schema,
    /// its tables and its sequences is granted to the target role in the new contents (on top
    /// of the target's own grants, which are always kept).
    pub map: BTreeMap<String, String>,
}

/// `[defaults]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// Share of root rows kept, in (0, 1]. Absent: 1 (full copy) unless `--sample` is given.
    pub sample: Option<f64>,
    /// Seed of every sampling decision (same seed, same subset).
    pub seed: Option<u64>,
    /// Fail when a detected PII column has no rule.
    pub strict: bool,
    /// Columns with at most this many distinct values get at least one row per value.
    pub rare_max_distinct: usize,
    /// Lookups — referenced tables with no foreign keys of their own and at most this many
    /// rows — are copied whole when sampling.
    pub lookup_max_rows: u64,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            sample: None,
            seed: None,
            strict: false,
            rare_max_distinct: 32,
            lookup_max_rows: 1000,
        }
    }
}

/// Which rows of a table a sync keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowsMode {
    /// Decided from the foreign-key graph: roots sampled, children follow their parent,
    /// lookups (small referenced tables with no foreign keys of their own) whole.
    Auto,
    /// Sample this table's rows directly.
    Sample,
    /// Every row.
    All,
    /// Only rows other tables' rows need as parents.
    None,
    /// Only rows whose parent (on `driven_by`) is kept, plus needed parents.
    Follow,
}

/// `[tables.<name>]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TableRules {
    /// How rows are chosen (default `auto`).
    pub rows: Option<RowsMode>,
    /// Share of rows kept for this table (implies `rows = "sample"`).
    pub sample: Option<f64>,
    /// Keep only rows matching this SQL condition (implies `rows = "sample"`; with `sample`,
    /// a share of the matching rows).
    #[serde(rename = "where")]
    pub where_: Option<String>,
    /// Columns hashed to decide sampling (default the primary key). Sampling several tables by
    /// the same column (e.g. `tenant_id`) keeps the same tenants everywhere.
    pub hash_key: Vec<String>,
    /// Sample exactly `sample` of the rows of every value of this column.
    pub stratify: Option<String>,
    /// Columns whose every value keeps at least one row (low-cardinality columns get this
    /// automatically).
    pub keep_rare: Vec<String>,
    /// Whether kept rows bring their children along (default true).
    pub follow_children: Option<bool>,
    /// Foreign-key columns of the parent this table follows (default chosen from the graph).
    pub driven_by: Option<Vec<String>>,
    /// Column → transform.
    pub columns: BTreeMap<String, Transform>,
    /// Masks inside JSON columns.
    pub json: Vec<JsonColumnRule>,
}

/// `[[tables.<name>.json]]`: a JSON rule for one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonColumnRule {
    /// The JSON (or text holding JSON) column.
    pub column: String,
    /// Member name matched at any depth.
    #[serde(default)]
    pub key: Option<String>,
    /// JSON-pointer glob (`/user/*/email`).
    #[serde(default)]
    pub path: Option<String>,
    /// The transform.
    pub transform: Transform,
}

impl JsonColumnRule {
    pub fn rule(&self) -> JsonRule {
        JsonRule {
            key: self.key.clone(),
            path: self.path.clone(),
            transform: self.transform.clone(),
        }
    }
}

fn err(file: &str, field: impl Into<String>, reason: impl Into<String>) -> DataError {
    DataError::Rules {
        file: file.to_owned(),
        field: field.into(),
        reason: reason.into(),
    }
}

impl Rules {
    /// Parses rules; `file` names the source in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self> {
        // The parser's message keeps its lines: the quoted source line and the caret under the
        // error only line up when printed as they are.
        let rules: Rules = toml::from_str(text).map_err(|e| DataError::RulesSyntax {
            file: file.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        rules.validate_shape(file)?;
        Ok(rules)
    }

    /// Reads and parses a rules file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
            what: "could not read the rules file",
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn validate_shape(&self, file: &str) -> Result<()> {
        let frac = |field: String, v: Option<f64>| -> Result<()> {
            match v {
                Some(f) if !(f > 0.0 && f <= 1.0) => Err(err(
                    file,
                    field,
                    format!("{f} is not a share of rows; use a number in (0, 1], e.g. 0.1 for 10%"),
                )),
                _ => Ok(()),
            }
        };
        frac("defaults.sample".into(), self.defaults.sample)?;
        for (from, to) in &self.grants.map {
            if from.trim().is_empty() || to.trim().is_empty() {
                return Err(err(
                    file,
                    format!("grants.map.{from}"),
                    "a role name is empty; write `source_role = \"target_role\"`",
                ));
            }
        }
        for (t, r) in &self.tables {
            frac(format!("tables.{t}.sample"), r.sample)?;
            for (c, tr) in &r.columns {
                tr.validate().map_err(|e| {
                    let e = e.at(&format!("tables.{t}.columns.{c}"));
                    err(file, e.field, e.message)
                })?;
            }
            for (i, j) in r.json.iter().enumerate() {
                j.rule().validate().map_err(|e| {
                    let e = e.at(&format!("tables.{t}.json[{i}]"));
                    err(file, e.field, e.message)
                })?;
            }
            if let Some(w) = &r.where_
                && w.trim().is_empty()
            {
                return Err(err(
                    file,
                    format!("tables.{t}.where"),
                    "empty condition; remove it or write SQL such as \"created_at > '2024-01-01'\"",
                ));
            }
        }
        Ok(())
    }

    /// Checks every table, column and transform against the source schema.
    // Long: one check per rule field, each naming the field it refuses.
    #[allow(clippy::too_many_lines)]
    pub fn validate(&self, schema: &Schema, file: &str, url: &str) -> Result<()> {
        for (t, r) in &self.tables {
            let table = schema.table(t).ok_or_else(|| {
                err(
                    file,
                    format!("tables.{t}"),
                    format!(
                        "no table `{t}` in {url}{}",
                        did_you_mean(t, schema.tables.iter().map(|x| x.name.as_str()))
                    ),
                )
            })?;
            let col = |field: String, c: &str| -> Result<&crate::schema::Column> {
                table.column(c).ok_or_else(|| {
                    err(
                        file,
                        field,
                        format!(
                            "no column `{c}` in table `{t}`{}",
                            did_you_mean(c, table.columns.iter().map(|x| x.name.as_str()))
                        ),
                    )
                })
            };
            for (c, tr) in &r.columns {
                let column = col(format!("tables.{t}.columns.{c}"), c)?;
                tr.check_kind(column.kind.value_kind()).map_err(|e| {
                    err(
                        file,
                        format!("tables.{t}.columns.{c}"),
                        format!("{} (column type {})", e.message, column.sql_type),
                    )
                })?;
                if matches!(tr, Transform::Null) && !column.nullable {
                    return Err(err(
                        file,
                        format!("tables.{t}.columns.{c}"),
                        "`null` on a NOT NULL column; use `constant` or a fake instead",
                    ));
                }
                if matches!(tr, Transform::Constant(_)) && table.is_single_unique(c) {
                    return Err(err(
                        file,
                        format!("tables.{t}.columns.{c}"),
                        "`constant` on a unique column would break the constraint; use `hash` or `format_preserving`",
                    ));
                }
                if matches!(
                    column.kind,
                    Kind::Other | Kind::Bytes | Kind::Time | Kind::Bool
                ) && matches!(tr, Transform::Constant(_))
                {
                    return Err(err(
                        file,
                        format!("tables.{t}.columns.{c}"),
                        format!(
                            "`constant` cannot be written to a {} column; use `null` or `keep`",
                            column.sql_type
                        ),
                    ));
                }
            }
            for (i, j) in r.json.iter().enumerate() {
                let column = col(format!("tables.{t}.json[{i}].column"), &j.column)?;
                if !matches!(column.kind, Kind::Json | Kind::Text) {
                    return Err(err(
                        file,
                        format!("tables.{t}.json[{i}].column"),
                        format!("`{}` is {}, not JSON or text", j.column, column.sql_type),
                    ));
                }
            }
            for (i, c) in r.hash_key.iter().enumerate() {
                col(format!("tables.{t}.hash_key[{i}]"), c)?;
            }
            for (i, c) in r.keep_rare.iter().enumerate() {
                col(format!("tables.{t}.keep_rare[{i}]"), c)?;
            }
            if let Some(s) = &r.stratify {
                col(format!("tables.{t}.stratify"), s)?;
            }
            if let Some(d) = &r.driven_by {
                if !table.foreign_keys.iter().any(|fk| &fk.columns == d) {
                    let fks: Vec<String> = table
                        .foreign_keys
                        .iter()
                        .map(|f| format!("{:?}", f.columns))
                        .collect();
                    return Err(err(
                        file,
                        format!("tables.{t}.driven_by"),
                        format!(
                            "no foreign key of `{t}` has columns {d:?}; its foreign keys are {}",
                            if fks.is_empty() {
                                "none".into()
                            } else {
                                fks.join(", ")
                            }
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_grants_map_needs_both_role_names() {
        let e = Rules::parse("[grants]\nmap = { app_prod = \"\" }\n", "data.toml").unwrap_err();
        assert!(e.to_string().contains("grants.map.app_prod"), "{e}");
        let r = Rules::parse(
            "[grants]\nmap = { app_prod = \"app_staging\" }\n",
            "data.toml",
        )
        .unwrap();
        assert_eq!(r.grants.map.get("app_prod").unwrap(), "app_staging");
        assert!(Rules::parse("[grants]\nroles = {}\n", "data.toml").is_err());
    }

    #[test]
    fn parses_the_documented_example() {
        let r = Rules::parse(
            r#"
            [defaults]
            sample = 0.1
            seed = 7
            [tables.users]
            stratify = "plan"
            keep_rare = ["status"]
            [tables.users.columns]
            email = "email"
            phone = { type = "phone" }
            notes = "keep"
            [[tables.events.json]]
            column = "payload"
            key = "email"
            transform = "email"
            "#,
            "data.toml",
        )
        .unwrap();
        assert_eq!(r.defaults.sample, Some(0.1));
        assert_eq!(r.tables["users"].columns.len(), 3);
        assert_eq!(r.tables["events"].json[0].column, "payload");
    }

    #[test]
    fn toml_errors_keep_their_lines_and_the_caret_under_the_error() {
        let e = Rules::parse("[tables.users]\nsample = = 2\n", "d.toml")
            .unwrap_err()
            .to_string();
        let lines: Vec<&str> = e.lines().collect();
        assert!(
            lines[0].starts_with("rules d.toml: TOML parse error at line 2, column "),
            "{e}"
        );
        let column: usize = lines[0]
            .rsplit("column ")
            .next()
            .and_then(|c| c.trim().parse().ok())
            .expect(&e);
        let quoted = lines.iter().find(|l| l.contains("sample = = 2")).expect(&e);
        let caret = lines
            .iter()
            .find(|l| l.trim_start_matches([' ', '|']).starts_with('^'))
            .expect(&e);
        // The caret sits under the character the header names, in the quoted line.
        let text_starts = quoted.find("| ").expect(&e) + 2;
        assert_eq!(caret.find('^'), Some(text_starts + column - 1), "{e}");
    }

    #[test]
    fn errors_name_the_field() {
        let e = Rules::parse("[tables.users]\nsampel = 0.1\n", "d.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sampel") && e.contains("d.toml"), "{e}");
        let e = Rules::parse("[tables.users]\nsample = 2\n", "d.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tables.users.sample"), "{e}");
        let e = Rules::parse("[tables.users.columns]\nemail = \"emial\"\n", "d.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("emial"), "{e}");
        let e = Rules::parse(
            "[tables.u.columns]\nh = { type = \"hash\", length = 0 }\n",
            "d.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("tables.u.columns.h.length"), "{e}");
    }

    #[test]
    fn validation_against_the_schema_names_table_column_and_type() {
        let s = crate::schema::tests::shop();
        let check = |toml: &str| {
            Rules::parse(toml, "d.toml")
                .unwrap()
                .validate(&s, "d.toml", "sqlite://x")
                .unwrap_err()
                .to_string()
        };
        assert!(check("[tables.user]\nsample = 0.5").contains("did you mean `users`"));
        assert!(
            check("[tables.users.columns]\nemial = \"hash\"")
                .contains("tables.users.columns.emial")
        );
        let e = check("[tables.users.columns]\nid = \"email\"");
        assert!(e.contains("cannot mask") && e.contains("Int"), "{e}");
        assert!(check("[tables.orders]\ndriven_by = [\"nope\"]").contains("driven_by"));
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,200}") {
            let _ = Rules::parse(&s, "fuzz.toml");
        }

        #[test]
        fn parser_never_panics_on_toml_like_input(
            table in "[a-z_]{1,8}", key in "(sample|where|rows|columns|stratify|seed|x)", val in "(0\\.5|-1|\"[a-z]{0,6}\"|\\[\\]|true|\\{ type = \"[a-z_]{0,10}\" \\})"
        ) {
            let text = format!("[tables.{table}]\n{key} = {val}\n[defaults]\n{key} = {val}\n");
            let _ = Rules::parse(&text, "fuzz.toml");
        }
    }
}
