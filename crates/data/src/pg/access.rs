//! A relation's settings beyond its definition, for a PostgreSQL → PostgreSQL copy: row-level
//! security (enabled, forced) and its policies, storage options (`fillfactor`, autovacuum…),
//! view options (`security_barrier`, `check_option`) and replica identity. Staging without the
//! source's policies answers queries production refuses, so they are copied like the rest of
//! the schema: planned from the source's catalog, run after the rows, views and triggers (in
//! the load schema, before the swap), each on its own. One PostgreSQL refuses (a policy for a
//! role the target does not have) is listed as not copied with PostgreSQL's message, never
//! dropped silently. Policy roles go through the `[grants] map` rule, like grants.
use std::collections::{BTreeMap, BTreeSet};

use prodlike_catalog::{Catalog, Policy, RelationSettings};

use super::objects::{NotCopied, Stmt};
use super::{ident, qualified};

/// One statement, with the `not_copied` kind and name it is listed under if it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub kind: &'static str,
    pub name: String,
    pub stmt: Stmt,
}

/// `ALTER … ` keyword of a relation kind.
fn alter_keyword(relkind: &str) -> &'static str {
    match relkind {
        "v" => "VIEW",
        "m" => "MATERIALIZED VIEW",
        _ => "TABLE",
    }
}

fn setting(kind: &'static str, name: &str, sql: String) -> Setting {
    Setting {
        kind,
        name: name.to_owned(),
        stmt: Stmt {
            what: format!("{kind} {name}"),
            sql,
        },
    }
}

/// The statements that give the relations of the load schema `load_ns` that the copy creates
/// (`created`: tables, their partitions, views) the settings and policies of the source's
/// (schema `ns`). `roles`: the `[grants] map` rule.
pub fn plan(
    cat: &Catalog,
    ns: &str,
    load_ns: &str,
    created: &BTreeSet<&str>,
    roles: &BTreeMap<String, String>,
) -> Vec<Setting> {
    let mut out = Vec::new();
    for s in cat
        .objects
        .settings
        .iter()
        .filter(|s| s.schema == ns && created.contains(s.name.as_str()))
    {
        out.extend(relation(s, load_ns));
    }
    for p in cat
        .objects
        .policies
        .iter()
        .filter(|p| p.schema == ns && created.contains(p.table.as_str()))
    {
        out.push(setting(
            "policy",
            &policy_name(p),
            create_policy(p, load_ns, roles),
        ));
    }
    out
}

fn relation(s: &RelationSettings, load_ns: &str) -> Vec<Setting> {
    let q = qualified(load_ns, &s.name);
    let kw = alter_keyword(&s.relkind);
    let mut out = Vec::new();
    if !s.options.is_empty() {
        let kind = if s.relkind == "v" {
            "view options"
        } else {
            "storage options"
        };
        out.push(setting(
            kind,
            &s.name,
            format!("ALTER {kw} {q} SET ({})", s.options.join(", ")),
        ));
    }
    if let Some(r) = &s.replica_identity {
        out.push(setting(
            "replica identity",
            &s.name,
            format!("ALTER TABLE {q} REPLICA IDENTITY {r}"),
        ));
    }
    if s.row_security {
        out.push(setting(
            "row-level security",
            &s.name,
            format!("ALTER TABLE {q} ENABLE ROW LEVEL SECURITY"),
        ));
    }
    if s.force_row_security {
        out.push(setting(
            "row-level security",
            &s.name,
            format!("ALTER TABLE {q} FORCE ROW LEVEL SECURITY"),
        ));
    }
    out
}

/// `table.policy`, the name a policy is listed and compared under.
pub fn policy_name(p: &Policy) -> String {
    format!("{}.{}", p.table, p.name)
}

/// A policy's roles as the target should have them: mapped by `roles`, PUBLIC when none.
pub fn target_roles(p: &Policy, roles: &BTreeMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = p
        .roles
        .iter()
        .map(|r| roles.get(r).cloned().unwrap_or_else(|| r.clone()))
        .collect();
    out.sort();
    out
}

fn create_policy(p: &Policy, load_ns: &str, roles: &BTreeMap<String, String>) -> String {
    let to = target_roles(p, roles);
    let to = if to.is_empty() {
        "PUBLIC".to_owned()
    } else {
        to.iter().map(|r| ident(r)).collect::<Vec<_>>().join(", ")
    };
    let mut sql = format!(
        "CREATE POLICY {} ON {} AS {} FOR {} TO {to}",
        ident(&p.name),
        qualified(load_ns, &p.table),
        if p.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        },
        p.command
    );
    if let Some(u) = &p.using {
        sql.push_str(&format!(" USING ({u})"));
    }
    if let Some(c) = &p.with_check {
        sql.push_str(&format!(" WITH CHECK ({c})"));
    }
    sql
}

/// What a target without policies or relation settings (SQLite) loses.
pub fn not_copied_to_sqlite(cat: &Catalog) -> Vec<NotCopied> {
    let why = "a SQLite target has no such settings";
    let entry = |kind: &str, name: &str| NotCopied {
        kind: kind.into(),
        name: name.into(),
        reason: why.into(),
    };
    let mut out = Vec::new();
    for s in &cat.objects.settings {
        if !s.options.is_empty() {
            out.push(entry("storage options", &s.name));
        }
        if s.replica_identity.is_some() {
            out.push(entry("replica identity", &s.name));
        }
        if s.row_security || s.force_row_security {
            out.push(entry("row-level security", &s.name));
        }
    }
    for p in &cat.objects.policies {
        out.push(entry("policy", &policy_name(p)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(roles: &[&str]) -> Policy {
        Policy {
            schema: "public".into(),
            table: "docs".into(),
            name: "own rows".into(),
            permissive: false,
            command: "SELECT".into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            using: Some("(owner = CURRENT_USER)".into()),
            with_check: None,
        }
    }

    #[test]
    fn a_policy_is_recreated_in_the_load_schema_with_its_roles_mapped() {
        let map = BTreeMap::from([("app_prod".to_owned(), "app_staging".to_owned())]);
        assert_eq!(
            create_policy(&policy(&["app_prod", "auditor"]), "load_1", &map),
            "CREATE POLICY \"own rows\" ON \"load_1\".\"docs\" AS RESTRICTIVE FOR SELECT \
             TO \"app_staging\", \"auditor\" USING ((owner = CURRENT_USER))"
        );
        assert!(create_policy(&policy(&[]), "l", &map).contains(" TO PUBLIC USING"));
    }
}
