//! Verify's schema check. PostgreSQL source and target: every table, view, materialized view,
//! function, trigger, enum, domain and composite type, sequence, comment and grant of the
//! source's schema is in the target, defined alike, and no sequence is behind the keys of the
//! column that owns it. What the sync declared not copied is left out: the `not_copied` list of
//! its result when verify is given one, else the same list recomputed from the source's catalog
//! (`pg/objects.rs` static_not_copied) and grants (roles the `[grants] map` rule does not map,
//! whose privileges the target does not grant them itself). Definitions are compared as
//! PostgreSQL prints them, both read with search_path set to the schema, so they name the same
//! objects alike. Grants go through the `[grants] map` rule: a privilege of a mapped role must be
//! held by its staging role; owners are not compared (they differ by design).
//!
//! MySQL or MariaDB on both sides: tables, views, triggers and routines (definitions as
//! `prodlike_catalog::mysql` makes them portable, without definer or database name) and each
//! table's AUTO_INCREMENT position, which must not be behind the source's. SQLite on both sides:
//! tables and views. Across engines (a PostgreSQL source synced to SQLite): tables and views
//! present. The report names what was compared, so an empty list never passes for more.
use std::collections::{BTreeMap, BTreeSet};

use prodlike_catalog::Catalog;
use tokio_postgres::Client;

use crate::error::Result;
use crate::pg::{grants, ident, objects};
use crate::schema::{Schema, Table};
use crate::source::Source;

pub use prodlike_results::data::verify::SchemaDifference;

fn diff(kind: &str, name: impl Into<String>, difference: impl Into<String>) -> SchemaDifference {
    SchemaDifference {
        kind: kind.into(),
        name: name.into(),
        difference: difference.into(),
    }
}

/// What was declared not copied, as (kind, name).
pub type Declared = BTreeSet<(String, String)>;

/// What [`check`] compared for PostgreSQL on both sides.
pub const CHECKED_POSTGRES: &str = "tables, views, materialized views, functions, procedures, \
    aggregates, triggers, enums, domains, composite types, sequences and their positions, \
    comments, grants, row-level security, policies, storage and view options, replica identity";
/// What [`check`] compared for MySQL or MariaDB on both sides.
pub const CHECKED_MYSQL: &str =
    "tables, views, triggers, routines and AUTO_INCREMENT positions (not behind the source's)";
/// What [`check`] compared for SQLite on both sides (the catalog reads tables and views).
pub const CHECKED_SQLITE: &str = "tables and views";
/// What [`check`] compared across engines.
pub const CHECKED_ACROSS: &str =
    "tables and views present (definitions are not compared across engines)";

/// The differences between the schema of `source` and of `target`, and what was compared
/// (one of the `CHECKED_*` sentences; never a silent nothing). `map`: the `[grants] map` rule;
/// `declared`: the sync result's `not_copied`, if verify was given one, else recomputed.
pub async fn check(
    source: &Source,
    target: &Source,
    schema: &Schema,
    map: &BTreeMap<String, String>,
    declared: Option<&Declared>,
) -> Result<(Vec<SchemaDifference>, &'static str)> {
    match (source.engine(), target.engine()) {
        ("postgres", "postgres") => check_postgres(source, target, schema, map, declared)
            .await
            .map(|d| (d, CHECKED_POSTGRES)),
        ("mysql", "mysql") => {
            let (src, dst) = (source.catalog().await?, target.catalog().await?);
            let declared = declared.cloned().unwrap_or_default();
            let mut out = compare(&src, &dst, &declared);
            out.extend(auto_increment_positions(&src, &dst));
            Ok((out, CHECKED_MYSQL))
        }
        (s, t) => {
            let (src, dst) = (source.catalog().await?, target.catalog().await?);
            let declared = match declared {
                Some(d) => d.clone(),
                // What a sync from this source declares: a SQLite source's views, a PostgreSQL
                // source's objects a SQLite target has no room for.
                None if s == "sqlite" => src
                    .views
                    .iter()
                    .map(|v| ("view".to_owned(), v.name.clone()))
                    .collect(),
                None => {
                    let tables: Vec<&Table> = schema.tables.iter().collect();
                    let mut lost = objects::static_not_copied(&src, schema, &tables);
                    lost.extend(objects::not_copied_to_sqlite(&src));
                    lost.into_iter().map(|n| (n.kind, n.name)).collect()
                }
            };
            if s == t {
                Ok((compare(&src, &dst, &declared), CHECKED_SQLITE))
            } else {
                Ok((presence(&src, &dst, &declared), CHECKED_ACROSS))
            }
        }
    }
}

/// PostgreSQL on both sides: objects, grants, access settings and sequence positions.
async fn check_postgres(
    source: &Source,
    target: &Source,
    schema: &Schema,
    map: &BTreeMap<String, String>,
    declared: Option<&Declared>,
) -> Result<Vec<SchemaDifference>> {
    let (Some(src), Some(dst)) = (source.pg_catalog().await?, target.pg_catalog().await?) else {
        return Ok(Vec::new());
    };
    let (Some(held), Some(target_held)) = (source.privileges().await?, target.privileges().await?)
    else {
        return Ok(Vec::new());
    };
    let gaps = grants::gaps(&held, &target_held, map);
    let declared = match declared {
        Some(d) => d.clone(),
        None => {
            let tables: Vec<&Table> = schema.tables.iter().collect();
            let mut d: Declared = objects::static_not_copied(&src, schema, &tables)
                .into_iter()
                .map(|n| (n.kind, n.name))
                .collect();
            d.extend(
                gaps.unmapped_missing
                    .keys()
                    .map(|g| ("grants".to_owned(), g.clone())),
            );
            d
        }
    };
    let mut out = compare(&src, &dst, &declared);
    out.extend(compare_grants(&gaps, &schema.namespace, &declared));
    out.extend(compare_access(&src, &dst, map, &declared));
    if let Some(c) = target.pg_session().await? {
        out.extend(sequence_positions(&c, &dst).await);
    }
    Ok(out)
}

/// What [`against_catalog`] compared: the snapshot's catalog against the target's.
pub const CHECKED_SNAPSHOT: &str = "tables, views, materialized views, functions, procedures, \
    aggregates, triggers, enums, domains, composite types, sequences and their positions, \
    comments, row-level security, policies, storage and view options, replica identity, \
    against the catalog the snapshot holds";
/// What [`against_catalog`] cannot compare.
pub const NOT_COMPARED_SNAPSHOT: &str = "grants: a snapshot holds none of the source's \
    privileges, and the restore keeps the target's own";

/// The differences between the catalog a snapshot holds (`src`, read from the source by the
/// dump) and a PostgreSQL `target`'s, those `declared` not copied left out: as [`check`] for
/// PostgreSQL on both sides, but grants ([`NOT_COMPARED_SNAPSHOT`]).
pub async fn against_catalog(
    src: &Catalog,
    target: &Source,
    declared: &Declared,
) -> Result<Vec<SchemaDifference>> {
    let Some(dst) = target.pg_catalog().await? else {
        return Ok(Vec::new());
    };
    let mut out = compare(src, &dst, declared);
    out.extend(compare_access(src, &dst, &BTreeMap::new(), declared));
    if let Some(c) = target.pg_session().await? {
        out.extend(sequence_positions(&c, &dst).await);
    }
    Ok(out)
}

/// Tables and views of `src` the other engine's `dst` lacks, but those declared not copied.
fn presence(src: &Catalog, dst: &Catalog, declared: &Declared) -> Vec<SchemaDifference> {
    let is_declared = |name: &str| declared.iter().any(|(_, n)| n == name);
    let in_target = |name: &str| {
        dst.tables.iter().any(|t| t.name == name) || dst.views.iter().any(|v| v.name == name)
    };
    let tables = src
        .tables
        .iter()
        .filter(|t| !t.extension_member)
        .map(|t| ("table", &t.name));
    let views = src.views.iter().filter(|v| !v.extension_member).map(|v| {
        (
            if v.materialized {
                "materialized view"
            } else {
                "view"
            },
            &v.name,
        )
    });
    tables
        .chain(views)
        .filter(|(_, name)| !is_declared(name) && !in_target(name))
        .map(|(kind, name)| diff(kind, name.clone(), "missing in the target"))
        .collect()
}

/// MySQL tables whose next AUTO_INCREMENT value in `dst` is below `src`'s: the sync carries
/// the position, so that staging's next insert never reuses a key production has handed out
/// (rows deleted at the top included). InnoDB never lets a position fall behind its own keys,
/// so behind the source's is what can go wrong.
fn auto_increment_positions(src: &Catalog, dst: &Catalog) -> Vec<SchemaDifference> {
    let mut out = Vec::new();
    for s in &src.tables {
        let Some(want) = s.auto_increment else {
            continue;
        };
        let Some(d) = dst.tables.iter().find(|d| d.name == s.name) else {
            continue;
        };
        match d.auto_increment {
            Some(got) if got >= want => {}
            got => out.push(diff(
                "auto_increment",
                s.name.clone(),
                format!(
                    "behind the source's: next value {} in the target, {want} in the source",
                    got.map_or_else(|| "unknown".to_owned(), |g| g.to_string())
                ),
            )),
        }
    }
    out
}

/// The source's privileges the target lacks: a mapped role's always (the sync grants them to
/// its staging role), another role's unless declared not copied. Privileges on a relation
/// declared not copied are left out with it.
fn compare_grants(
    gaps: &grants::GrantGaps,
    ns: &str,
    declared: &Declared,
) -> Vec<SchemaDifference> {
    let not_copied = |p: &grants::Privilege| {
        p.relation
            .as_ref()
            .is_some_and(|r| declared.iter().any(|(_, name)| name == r))
    };
    let mut out = Vec::new();
    for (p, to) in gaps.mapped_missing.iter().filter(|(p, _)| !not_copied(p)) {
        out.push(diff(
            "grant",
            format!("{} on {} to {to}", p.privilege, p.object(ns)),
            format!(
                "the source grants it to {}, which the [grants] map rule maps to {to}; the \
                 target does not",
                p.grantee_name()
            ),
        ));
    }
    for (grantee, missing) in &gaps.unmapped_missing {
        if declared.contains(&("grants".to_owned(), grantee.clone())) {
            continue;
        }
        for p in missing.iter().filter(|p| !not_copied(p)) {
            out.push(diff(
                "grant",
                format!("{} on {} to {grantee}", p.privilege, p.object(ns)),
                "the source grants it, the target does not, and the sync did not list it as \
                 not copied",
            ));
        }
    }
    out
}

/// Row-level security, policies, storage and view options and replica identity of `src`'s
/// relations that `dst` holds otherwise, but those declared not copied (or on a relation
/// declared not copied, or missing, which is a difference of its own). Policy roles go through
/// the `[grants] map` rule.
fn compare_access(
    src: &Catalog,
    dst: &Catalog,
    map: &BTreeMap<String, String>,
    declared: &Declared,
) -> Vec<SchemaDifference> {
    let is_declared = |kind: &str, name: &str| {
        declared.contains(&(kind.to_owned(), name.to_owned()))
            || declared.iter().any(|(k, n)| {
                n == name && matches!(k.as_str(), "table" | "view" | "materialized view")
            })
    };
    let in_target = |name: &str| {
        dst.tables.iter().any(|t| t.name == name) || dst.views.iter().any(|v| v.name == name)
    };
    let none = prodlike_catalog::RelationSettings {
        schema: String::new(),
        name: String::new(),
        relkind: String::new(),
        options: Vec::new(),
        replica_identity: None,
        row_security: false,
        force_row_security: false,
    };
    let mut out = Vec::new();
    for s in src.objects.settings.iter().filter(|s| in_target(&s.name)) {
        let d = dst
            .objects
            .settings
            .iter()
            .find(|d| d.name == s.name)
            .unwrap_or(&none);
        let options = if s.relkind == "v" {
            "view options"
        } else {
            "storage options"
        };
        let mut sorted = (s.options.clone(), d.options.clone());
        sorted.0.sort();
        sorted.1.sort();
        if sorted.0 != sorted.1 && !is_declared(options, &s.name) {
            out.push(diff(
                options,
                s.name.clone(),
                format!(
                    "source ({}), target ({})",
                    s.options.join(", "),
                    d.options.join(", ")
                ),
            ));
        }
        if s.replica_identity != d.replica_identity && !is_declared("replica identity", &s.name) {
            out.push(diff(
                "replica identity",
                s.name.clone(),
                format!(
                    "source {}, target {}",
                    s.replica_identity.as_deref().unwrap_or("DEFAULT"),
                    d.replica_identity.as_deref().unwrap_or("DEFAULT")
                ),
            ));
        }
        let rls =
            |x: &prodlike_catalog::RelationSettings| match (x.row_security, x.force_row_security) {
                (false, false) => "off",
                (true, false) => "enabled",
                (false, true) => "forced but not enabled",
                (true, true) => "enabled and forced",
            };
        if rls(s) != rls(d) && !is_declared("row-level security", &s.name) {
            out.push(diff(
                "row-level security",
                s.name.clone(),
                format!("source {}, target {}", rls(s), rls(d)),
            ));
        }
    }
    out.extend(compare_policies(src, dst, map, &is_declared, &in_target));
    out
}

/// The source's policies on relations the target holds, by table and name.
fn compare_policies(
    src: &Catalog,
    dst: &Catalog,
    map: &BTreeMap<String, String>,
    is_declared: &dyn Fn(&str, &str) -> bool,
    in_target: &dyn Fn(&str) -> bool,
) -> Vec<SchemaDifference> {
    use crate::pg::access::{policy_name, target_roles};
    let mut out = Vec::new();
    for p in src.objects.policies.iter().filter(|p| in_target(&p.table)) {
        let name = policy_name(p);
        if is_declared("policy", &name) || is_declared("policy", &p.table) {
            continue;
        }
        match dst
            .objects
            .policies
            .iter()
            .find(|d| d.table == p.table && d.name == p.name)
        {
            None => out.push(diff("policy", name, "missing in the target")),
            Some(d)
                if d.permissive != p.permissive
                    || d.command != p.command
                    || d.using != p.using
                    || d.with_check != p.with_check =>
            {
                out.push(diff("policy", name, "defined otherwise"));
            }
            Some(d) if target_roles(d, &BTreeMap::new()) != target_roles(p, map) => {
                out.push(diff(
                    "policy",
                    name,
                    format!(
                        "for roles {:?} in the target, {:?} expected",
                        d.roles,
                        target_roles(p, map)
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    out
}

/// Comments of `src` missing from `dst` or worded otherwise, but those declared not copied.
fn compare_comments(src: &Catalog, dst: &Catalog, declared: &Declared) -> Vec<SchemaDifference> {
    let mut out = Vec::new();
    for c in &src.objects.comments {
        let name = objects::comment_name(c);
        // A comment goes with its object: one on an object declared not copied is not listed
        // again.
        let object = match &c.arguments {
            Some(args) => format!("{}({args})", c.name),
            None => c.name.clone(),
        };
        if declared.contains(&("comment".to_owned(), name.clone()))
            || declared.iter().any(|(_, n)| *n == object)
        {
            continue;
        }
        let found = dst.objects.comments.iter().find(|d| {
            d.on == c.on && d.name == c.name && d.column == c.column && d.arguments == c.arguments
        });
        match found {
            None => out.push(diff("comment", name, "missing in the target")),
            Some(d) if d.text != c.text => out.push(diff("comment", name, "text differs")),
            Some(_) => {}
        }
    }
    out
}

/// Objects of `src` missing from `dst` or defined otherwise, but those `declared` not copied.
pub fn compare(src: &Catalog, dst: &Catalog, declared: &Declared) -> Vec<SchemaDifference> {
    let is_declared =
        |kind: &str, name: &str| declared.contains(&(kind.to_owned(), name.to_owned()));
    let mut out = Vec::new();
    for t in src.tables.iter().filter(|t| !t.extension_member) {
        let kind = if t.kind == prodlike_catalog::TableKind::Foreign {
            "foreign table"
        } else {
            "table"
        };
        if !is_declared(kind, &t.name) && !dst.tables.iter().any(|d| d.name == t.name) {
            out.push(diff(kind, t.name.clone(), "missing in the target"));
        }
    }
    for v in src.views.iter().filter(|v| !v.extension_member) {
        let kind = if v.materialized {
            "materialized view"
        } else {
            "view"
        };
        if is_declared(kind, &v.name) {
            continue;
        }
        match dst.views.iter().find(|d| d.name == v.name) {
            None => out.push(diff(kind, v.name.clone(), "missing in the target")),
            Some(d) if d.materialized != v.materialized => {
                out.push(diff(
                    kind,
                    v.name.clone(),
                    "a view of the other kind in the target",
                ));
            }
            Some(d) if d.definition.trim() != v.definition.trim() => {
                out.push(diff(kind, v.name.clone(), "definition differs"));
            }
            Some(_) => {}
        }
    }
    let functions: BTreeMap<(&str, &str), &prodlike_catalog::Function> = dst
        .objects
        .functions
        .iter()
        .map(|f| ((f.name.as_str(), f.arguments.as_str()), f))
        .collect();
    for f in &src.objects.functions {
        let kind = match f.kind {
            prodlike_catalog::FunctionKind::Procedure => "procedure",
            prodlike_catalog::FunctionKind::Aggregate => "aggregate",
            _ => "function",
        };
        let name = format!("{}({})", f.name, f.arguments);
        if is_declared(kind, &name) {
            continue;
        }
        match functions.get(&(f.name.as_str(), f.arguments.as_str())) {
            None => out.push(diff(kind, name, "missing in the target")),
            Some(d) if d.definition != f.definition => {
                out.push(diff(kind, name, "definition differs"));
            }
            Some(_) => {}
        }
    }
    for t in &src.objects.triggers {
        let name = format!("{}.{}", t.table, t.name);
        if is_declared("trigger", &name) {
            continue;
        }
        match dst
            .objects
            .triggers
            .iter()
            .find(|d| d.table == t.table && d.name == t.name)
        {
            None => out.push(diff("trigger", name, "missing in the target")),
            Some(d) if d.definition != t.definition => {
                out.push(diff("trigger", name, "definition differs"));
            }
            Some(d) if d.enabled != t.enabled => {
                out.push(diff("trigger", name, "enabled otherwise"));
            }
            Some(_) => {}
        }
    }
    out.extend(compare_types(src, dst));
    out.extend(compare_comments(src, dst, declared));
    for s in &src.sequences {
        if !dst.sequences.iter().any(|d| d.name == s.name) {
            out.push(diff("sequence", s.name.clone(), "missing in the target"));
        }
    }
    out
}

/// User types: enums (labels), domains (base type, NOT NULL, default, collation, checks) and
/// composite types (attributes).
fn compare_types(src: &Catalog, dst: &Catalog) -> Vec<SchemaDifference> {
    let mut out = Vec::new();
    for e in &src.enums {
        match dst.enums.iter().find(|d| d.name == e.name) {
            None => out.push(diff("type", e.name.clone(), "missing in the target")),
            Some(d) if d.labels != e.labels => {
                out.push(diff("type", e.name.clone(), "labels differ"));
            }
            Some(_) => {}
        }
    }
    for t in &src.domains {
        let same = |d: &&prodlike_catalog::DomainType| {
            d.base_type == t.base_type
                && d.not_null == t.not_null
                && d.default == t.default
                && d.collation == t.collation
                && d.checks == t.checks
        };
        match dst.domains.iter().find(|d| d.name == t.name) {
            None => out.push(diff("domain", t.name.clone(), "missing in the target")),
            Some(d) if !same(&d) => out.push(diff(
                "domain",
                t.name.clone(),
                "defined otherwise (base type, NOT NULL, default, collation or checks)",
            )),
            Some(_) => {}
        }
    }
    for t in &src.composites {
        match dst.composites.iter().find(|d| d.name == t.name) {
            None => out.push(diff("type", t.name.clone(), "missing in the target")),
            Some(d) if d.attributes != t.attributes => {
                out.push(diff("type", t.name.clone(), "attributes differ"));
            }
            Some(_) => {}
        }
    }
    out
}

/// Sequences of `dst` owned by a column whose next value is not past that column's maximum
/// (the staging application's next insert would collide).
async fn sequence_positions(c: &Client, dst: &Catalog) -> Vec<SchemaDifference> {
    let mut out = Vec::new();
    for s in &dst.sequences {
        let Some(o) = &s.owned_by else { continue };
        if s.increment <= 0 {
            continue;
        }
        let sql = format!(
            "SELECT CASE WHEN q.is_called THEN q.last_value + {inc} ELSE q.last_value END, \
                    (SELECT max({col})::bigint FROM {ns}.{t}) FROM {ns}.{seq} q",
            inc = s.increment,
            col = ident(&o.column),
            ns = ident(&s.schema),
            t = ident(&o.table),
            seq = ident(&s.name),
        );
        // A column whose maximum is no integer has no position to be behind.
        let _ = c.batch_execute("SAVEPOINT prodlike_seq").await;
        let Ok(row) = c.query_one(&sql, &[]).await else {
            let _ = c.batch_execute("ROLLBACK TO SAVEPOINT prodlike_seq").await;
            continue;
        };
        let (next, max): (i64, Option<i64>) = (row.get(0), row.get(1));
        if let Some(max) = max
            && max >= next
        {
            out.push(diff(
                "sequence",
                s.name.clone(),
                format!(
                    "behind its keys: next value {next}, {}.{} holds up to {max}",
                    o.table, o.column
                ),
            ));
        }
    }
    out
}
