//! The schema's objects beyond tables, for a PostgreSQL → PostgreSQL copy: extensions,
//! functions, views and materialized views, triggers and comments, planned from the source's
//! catalog (prodlike-catalog) into statements for the load schema, and everything the sync
//! does not recreate listed with its reason ([`NotCopied`]).
//!
//! When each runs, and why (see `target.rs`):
//! - extensions the target lacks: `CREATE EXTENSION IF NOT EXISTS` before anything else;
//! - functions before the tables, with `check_function_bodies = off`, since defaults and checks
//!   may call them; one that needs a table's row type waits for the tables;
//! - views (dependency order, found by creating what can be created until nothing is left),
//!   materialized views `WITH NO DATA`, after every table is loaded; then the materialized
//!   views are refreshed and their indexes built;
//! - triggers after the rows are in, so none fires during COPY;
//! - comments, each on its own: one whose object is missing is listed, not fatal;
//! - last, row-level security, policies and relation options (`access.rs`), each on its own.
//!
//! Function bodies other than SQL-standard ones are text, resolved at each call. Names the
//! source qualified with the copied schema (`public.film`) are pointed at the load schema while
//! it loads (a check calling the function then reads the new rows, not the target's old ones),
//! and the source's own text is put back in the swap transaction, right after the load schema
//! took the copied schema's name: from then on `public.film` names the new table. SQL-standard
//! bodies (`BEGIN ATOMIC`) bind their names when created; they are printed relative to the
//! copied schema, so their names resolve in the load schema and follow it through the rename.
//!
//! An extension installed in the copied schema itself cannot survive the swap: its objects
//! would go with the old schema (and the new tables' columns of its types with them). The sync
//! refuses such a source or target before writing anything, naming the extension and the fix.
use std::collections::{BTreeSet, HashMap};

use prodlike_catalog::{Catalog, CommentOn, FunctionKind, TableKind};
use tokio_postgres::Client;

use super::{ident, literal, qualified};
use crate::error::{DataError, Result};
use crate::schema::{Schema, Table};

pub use prodlike_results::data::sync::NotCopied;

/// One statement that creates or changes one object; `what` names it in errors
/// (`view active_users`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    pub what: String,
    pub sql: String,
}

/// The statements for a schema's objects, by when they run, and what is not copied.
#[derive(Debug, Clone, Default)]
pub struct ObjectsDdl {
    /// `CREATE EXTENSION IF NOT EXISTS`, for extensions the target lacks.
    pub extensions: Vec<Stmt>,
    /// Functions, procedures and aggregates in the load schema (bodies pointed at it).
    pub functions: Vec<Stmt>,
    /// Views and materialized views (`WITH NO DATA`), created after the tables.
    pub views: Vec<Stmt>,
    /// Materialized view name → its `REFRESH` and index statements, run in creation order.
    pub refresh: HashMap<String, Vec<Stmt>>,
    /// Triggers (and their enabled state), after the rows.
    pub triggers: Vec<Stmt>,
    /// Comments, each tried on its own.
    pub comments: Vec<Stmt>,
    /// Row-level security, policies, storage and view options, replica identity
    /// (`access.rs`), each tried on its own after the comments.
    pub settings: Vec<super::access::Setting>,
    /// After the rename, in the swap transaction: the source's own text of functions whose body
    /// was pointed at the load schema.
    pub restore: Vec<Stmt>,
    /// What the source holds that the sync does not recreate.
    pub not_copied: Vec<NotCopied>,
}

fn not_copied(kind: &str, name: impl Into<String>, reason: impl Into<String>) -> NotCopied {
    NotCopied {
        kind: kind.into(),
        name: name.into(),
        reason: reason.into(),
    }
}

/// Reads the whole catalog of schema `ns` (with the session's search_path set to it, so
/// definitions come out relative to it), for the objects beyond tables.
pub async fn read_catalog(client: &Client, ns: &str) -> Result<Catalog> {
    client
        .batch_execute(&format!("SET search_path = {}", ident(ns)))
        .await
        .map_err(DataError::pg("reading the schema's objects (search_path)"))?;
    prodlike_catalog::postgres::read(client, &prodlike_catalog::Options::schema(ns))
        .await
        .map_err(|e| match e {
            prodlike_catalog::CatalogError::Postgres { what, source } => {
                DataError::pg(format!("reading the schema ({what})"))(source)
            }
            other => DataError::Invalid(prodlike_common::error::chain(&other).to_string()),
        })
}

/// `name` as PostgreSQL's `quote_ident` writes it (unquoted when it is lower-case letters,
/// digits and underscores, not starting with a digit; key words aside).
pub fn pg_quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain { name.to_owned() } else { ident(name) }
}

/// Replaces the qualifier `from.` (as `from.` or `"from".`, not inside a longer identifier)
/// with `to.` everywhere in `text`, and `'from'` in `SET search_path` lines.
pub fn retarget(text: &str, from: &str, to: &str) -> String {
    let to_q = format!("{}.", ident(to));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let pats = [
        format!("{}.", ident(from)),
        format!("{}.", pg_quote_ident(from)),
    ];
    'scan: while !rest.is_empty() {
        for p in &pats {
            if rest.starts_with(p.as_str()) {
                let before = out.chars().last();
                let inside_word = before.is_some_and(|c| {
                    c.is_alphanumeric() || c == '_' || c == '.' || c == '"' || c == '$'
                });
                if !inside_word {
                    out.push_str(&to_q);
                    rest = &rest[p.len()..];
                    continue 'scan;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out.lines()
        .map(|l| {
            if l.trim_start().starts_with("SET search_path") {
                l.replace(&literal(from), &literal(to))
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

/// Why an extension blocks a sync of schema `ns`, if one does: it lives in `ns` itself.
pub fn unswappable_extensions(
    source: &Catalog,
    target: &[(String, String)],
    ns: &str,
) -> Option<String> {
    let mut found = Vec::new();
    if let Some(e) = source.objects.extensions.iter().find(|e| e.schema == ns) {
        found.push(format!(
            "extension {} is installed in schema {ns} of the source",
            e.name
        ));
    }
    if let Some((name, _)) = target.iter().find(|(_, s)| s == ns) {
        found.push(format!(
            "extension {name} is installed in schema {ns} of the target"
        ));
    }
    if found.is_empty() {
        return None;
    }
    Some(format!(
        "{}; a sync replaces schema {ns} by renaming a new one into its place, and an extension's \
         objects cannot move with it (they would be dropped with the old schema). Move the \
         extension to a schema of its own on both sides, e.g. `CREATE SCHEMA extensions; ALTER \
         EXTENSION <name> SET SCHEMA extensions;` with `extensions` on the search_path, or sync \
         another schema",
        found.join("; ")
    ))
}

/// Refuses, before anything is written, a sync of schema `ns` that an extension living in `ns`
/// would break (see the module's documentation); `target` is only looked at when PostgreSQL.
pub async fn refuse_unswappable(cat: &Catalog, target: &crate::url::DbUrl, ns: &str) -> Result<()> {
    let target_ext = match target {
        crate::url::DbUrl::Postgres { conn, shown } => {
            let c = super::connect(conn, shown).await?;
            target_extensions(&c).await?
        }
        crate::url::DbUrl::Sqlite { .. } | crate::url::DbUrl::Mysql(_) => Vec::new(),
    };
    match unswappable_extensions(cat, &target_ext, ns) {
        None => Ok(()),
        Some(reason) => Err(DataError::Target {
            target: target.shown(),
            reason,
        }),
    }
}

/// The target's extensions and their schemas.
pub async fn target_extensions(client: &Client) -> Result<Vec<(String, String)>> {
    let rows = client
        .query(
            "SELECT e.extname::text, n.nspname::text FROM pg_extension e \
             JOIN pg_namespace n ON n.oid = e.extnamespace",
            &[],
        )
        .await
        .map_err(DataError::pg("reading the target's extensions"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

fn function_kind_word(k: FunctionKind) -> &'static str {
    match k {
        FunctionKind::Procedure => "procedure",
        FunctionKind::Aggregate => "aggregate",
        FunctionKind::Function | FunctionKind::Window => "function",
    }
}

/// The tables, views and triggers the catalog holds but data's schema leaves out (`schema` is
/// what the sync copies), with the reason; the same list whatever the target, so verify can
/// recompute it.
pub fn static_not_copied(cat: &Catalog, schema: &Schema, tables: &[&Table]) -> Vec<NotCopied> {
    let copied: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let mut out = Vec::new();
    for t in cat.tables.iter().filter(|t| !t.extension_member) {
        // A partition is copied with its partitioned table.
        let with_parent = tables
            .iter()
            .any(|c| c.layout.partitions.iter().any(|p| p.name == t.name));
        if copied.contains(t.name.as_str()) || with_parent {
            continue;
        }
        let in_schema = schema.tables.iter().any(|s| s.name == t.name);
        let (kind, reason) = match (t.kind, t.is_partition) {
            (TableKind::Foreign, _) => (
                "foreign table",
                "foreign tables are not copied: their rows live in another server; create the server and the table on the target",
            ),
            (TableKind::Partitioned, _) => ("table", "partitioned tables are not copied"),
            (_, true) => ("table", "partitions are not copied"),
            _ if in_schema => ("table", "left out of this copy"),
            _ => ("table", "not copied"),
        };
        out.push(not_copied(kind, t.name.clone(), reason));
    }
    for tr in &cat.objects.triggers {
        if !copied.contains(tr.table.as_str()) {
            out.push(not_copied(
                "trigger",
                format!("{}.{}", tr.table, tr.name),
                format!("its table {} is not copied", tr.table),
            ));
        }
    }
    for u in &cat.objects.undescribed {
        let (table, _) = u.name.split_once('.').unwrap_or((u.name.as_str(), ""));
        // Objects of tables left out are gone with their table, which is listed already.
        let on_table = cat.tables.iter().any(|t| t.name == table);
        if on_table && !copied.contains(table) {
            continue;
        }
        let reason = if u.detail.is_empty() {
            "not copied yet: recreate it on the target after the sync".to_string()
        } else {
            format!(
                "not copied yet ({}): recreate it on the target after the sync",
                u.detail
            )
        };
        out.push(not_copied(u.kind.as_str(), u.name.clone(), reason));
    }
    for f in &cat.objects.functions {
        if f.definition.is_none() {
            out.push(not_copied(
                function_kind_word(f.kind),
                format!("{}({})", f.name, f.arguments),
                f.unwritable
                    .clone()
                    .unwrap_or_else(|| "its definition could not be read".into()),
            ));
        }
    }
    out
}

/// Everything of `cat` (schema `ns`) that a target which cannot hold it (SQLite) loses.
pub fn not_copied_to_sqlite(cat: &Catalog) -> Vec<NotCopied> {
    let why = "a SQLite target has no such objects";
    let mut out = Vec::new();
    for f in &cat.objects.functions {
        out.push(not_copied(
            function_kind_word(f.kind),
            format!("{}({})", f.name, f.arguments),
            why,
        ));
    }
    for v in cat.views.iter().filter(|v| !v.extension_member) {
        let kind = if v.materialized {
            "materialized view"
        } else {
            "view"
        };
        out.push(not_copied(kind, v.name.clone(), why));
    }
    for t in &cat.objects.triggers {
        out.push(not_copied(
            "trigger",
            format!("{}.{}", t.table, t.name),
            why,
        ));
    }
    for c in &cat.objects.comments {
        out.push(not_copied("comment", comment_name(c), why));
    }
    out.extend(super::access::not_copied_to_sqlite(cat));
    out
}

pub fn comment_name(c: &prodlike_catalog::Comment) -> String {
    match (&c.column, &c.arguments) {
        (Some(col), _) => format!("comment on column {}.{col}", c.name),
        (_, Some(args)) => format!(
            "comment on {} {}({args})",
            c.on.sql().to_lowercase(),
            c.name
        ),
        _ => format!("comment on {} {}", c.on.sql().to_lowercase(), c.name),
    }
}

/// Plans the objects of `cat` (schema `ns` of the source) for the load schema `load_ns`.
/// `target_ext` are the target's extensions (name, schema).
// Long: one pass per kind of object, in the order they run.
#[allow(clippy::too_many_lines)]
pub fn plan(
    cat: &Catalog,
    schema: &Schema,
    tables: &[&Table],
    load_ns: &str,
    target_ext: &[(String, String)],
    roles: &std::collections::BTreeMap<String, String>,
) -> ObjectsDdl {
    let ns = schema.namespace.as_str();
    let copied: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let mut ddl = ObjectsDdl {
        not_copied: static_not_copied(cat, schema, tables),
        ..Default::default()
    };
    for e in &cat.objects.extensions {
        if e.name == "plpgsql" || target_ext.iter().any(|(n, _)| *n == e.name) {
            continue;
        }
        ddl.extensions.push(Stmt {
            what: format!("extension {}", e.name),
            sql: format!(
                "CREATE EXTENSION IF NOT EXISTS {} SCHEMA {}",
                ident(&e.name),
                ident(&e.schema)
            ),
        });
    }
    for f in &cat.objects.functions {
        let Some(def) = &f.definition else { continue };
        let what = format!("{} {}({})", function_kind_word(f.kind), f.name, f.arguments);
        let loaded = if f.sql_body {
            // Printed relative to the copied schema: only the name needs moving.
            retarget_header(def, ns, load_ns)
        } else {
            retarget(def, ns, load_ns)
        };
        if !f.sql_body
            && f.kind != FunctionKind::Aggregate
            && loaded != retarget_header(def, ns, load_ns)
        {
            ddl.restore.push(Stmt {
                what: what.clone(),
                sql: def.clone(),
            });
        }
        ddl.functions.push(Stmt { what, sql: loaded });
    }
    for v in cat.views.iter().filter(|v| !v.extension_member) {
        let query = v.definition.trim().trim_end_matches(';');
        let q = qualified(load_ns, &v.name);
        if v.materialized {
            ddl.views.push(Stmt {
                what: format!("materialized view {}", v.name),
                sql: format!("CREATE MATERIALIZED VIEW {q} AS {query} WITH NO DATA"),
            });
            let mut then = vec![Stmt {
                what: format!("materialized view {} (refreshing it)", v.name),
                sql: format!("REFRESH MATERIALIZED VIEW {q}"),
            }];
            for i in &v.indexes {
                if let Some(d) = &i.definition {
                    then.push(Stmt {
                        what: format!("index {} of materialized view {}", i.name, v.name),
                        sql: super::ddl::retarget_index(d, ns, load_ns),
                    });
                }
            }
            ddl.refresh
                .insert(format!("materialized view {}", v.name), then);
        } else {
            ddl.views.push(Stmt {
                what: format!("view {}", v.name),
                sql: format!("CREATE VIEW {q} AS {query}"),
            });
        }
    }
    for t in &cat.objects.triggers {
        if !copied.contains(t.table.as_str()) {
            continue;
        }
        let what = format!("trigger {} on {}", t.name, t.table);
        // `pg_get_triggerdef` qualifies the table; a trigger binds its names when created.
        ddl.triggers.push(Stmt {
            what: what.clone(),
            sql: retarget(&t.definition, ns, load_ns),
        });
        let state = match t.enabled.as_str() {
            "D" => Some("DISABLE TRIGGER"),
            "R" => Some("ENABLE REPLICA TRIGGER"),
            "A" => Some("ENABLE ALWAYS TRIGGER"),
            _ => None,
        };
        if let Some(state) = state {
            ddl.triggers.push(Stmt {
                what,
                sql: format!(
                    "ALTER TABLE {} {state} {}",
                    qualified(load_ns, &t.table),
                    ident(&t.name)
                ),
            });
        }
    }
    for c in &cat.objects.comments {
        let target = match (c.on, &c.column, &c.arguments) {
            (CommentOn::Column, Some(col), _) => {
                format!("{}.{}", qualified(load_ns, &c.name), ident(col))
            }
            (_, _, Some(args)) => format!("{}({args})", qualified(load_ns, &c.name)),
            _ => qualified(load_ns, &c.name),
        };
        let on_table = matches!(c.on, CommentOn::Table | CommentOn::ForeignTable)
            || (c.on == CommentOn::Column && cat.table(ns, &c.name).is_some());
        if on_table && !copied.contains(c.name.as_str()) {
            ddl.not_copied.push(not_copied(
                "comment",
                comment_name(c),
                format!("{} is not copied", c.name),
            ));
            continue;
        }
        ddl.comments.push(Stmt {
            what: comment_name(c),
            sql: format!("COMMENT ON {} {target} IS {}", c.on.sql(), literal(&c.text)),
        });
    }
    // Relations the copy creates: its tables, their partitions, and every view.
    let mut created: BTreeSet<&str> = copied.clone();
    for t in tables {
        created.extend(t.layout.partitions.iter().map(|p| p.name.as_str()));
    }
    created.extend(
        cat.views
            .iter()
            .filter(|v| !v.extension_member)
            .map(|v| v.name.as_str()),
    );
    ddl.settings = super::access::plan(cat, ns, load_ns, &created, roles);
    ddl
}

/// Moves only the created object's name (`CREATE … FUNCTION ns.f(`) to the load schema.
fn retarget_header(def: &str, ns: &str, load_ns: &str) -> String {
    for pat in [
        format!("{}.", pg_quote_ident(ns)),
        format!("{}.", ident(ns)),
    ] {
        for kw in ["FUNCTION ", "PROCEDURE ", "AGGREGATE "] {
            let full = format!("{kw}{pat}");
            if let Some(i) = def.find(&full) {
                return format!(
                    "{}{kw}{}.{}",
                    &def[..i],
                    ident(load_ns),
                    &def[i + full.len()..]
                );
            }
        }
    }
    def.to_owned()
}

/// Runs `stmts` in the session's open transaction, each in a savepoint, in passes until every
/// one ran: a statement that fails waits for the next pass (it may need one created later in
/// the list). Returns the statements that never ran, with the last error of each, once a pass
/// creates nothing.
pub async fn create_in_order(
    client: &Client,
    stmts: &[Stmt],
) -> Result<(Vec<Stmt>, Vec<(Stmt, tokio_postgres::Error)>)> {
    let mut done = Vec::new();
    let mut pending: Vec<Stmt> = stmts.to_vec();
    loop {
        let mut failed = Vec::new();
        let before = done.len();
        for s in pending {
            savepoint(client, "SAVEPOINT prodlike_object").await?;
            match client.batch_execute(&s.sql).await {
                Ok(()) => {
                    savepoint(client, "RELEASE SAVEPOINT prodlike_object").await?;
                    done.push(s);
                }
                Err(e) => {
                    savepoint(client, "ROLLBACK TO SAVEPOINT prodlike_object").await?;
                    failed.push((s, e));
                }
            }
        }
        if failed.is_empty() || done.len() == before {
            return Ok((done, failed));
        }
        pending = failed.into_iter().map(|(s, _)| s).collect();
    }
}

/// PostgreSQL's own message (`relation "x" does not exist`), for a reason in [`NotCopied`].
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => d.message().to_owned(),
        None => prodlike_common::error::chain(e).to_string(),
    }
}

async fn savepoint(client: &Client, sql: &str) -> Result<()> {
    client
        .batch_execute(sql)
        .await
        .map_err(DataError::pg("creating the schema's objects (savepoint)"))
}

/// The first failure of [`create_in_order`] as the error of the sync, naming the object.
pub fn first_failure(failed: Vec<(Stmt, tokio_postgres::Error)>) -> Result<()> {
    match failed.into_iter().next() {
        None => Ok(()),
        Some((s, e)) => Err(DataError::pg(format!("creating {}", s.what))(e)),
    }
}

/// After the tables are loaded, in the session's open transaction (search_path the load
/// schema): the functions still waiting, views in dependency order, materialized views
/// refreshed with their indexes, triggers, then comments (one that fails is listed, with
/// PostgreSQL's message).
pub async fn after_load(
    client: &Client,
    ddl: &ObjectsDdl,
    waiting: &[Stmt],
) -> Result<Vec<NotCopied>> {
    let mut first: Vec<Stmt> = waiting.to_vec();
    first.extend(ddl.views.iter().cloned());
    let (created, failed) = create_in_order(client, &first).await?;
    first_failure(failed)?;
    for s in &created {
        for r in ddl.refresh.get(&s.what).into_iter().flatten() {
            client
                .batch_execute(&r.sql)
                .await
                .map_err(DataError::pg(format!("creating {}", r.what)))?;
        }
    }
    for t in &ddl.triggers {
        client
            .batch_execute(&t.sql)
            .await
            .map_err(DataError::pg(format!("creating {}", t.what)))?;
    }
    let (_, failed) = create_in_order(client, &ddl.comments).await?;
    let mut lost: Vec<NotCopied> = failed
        .into_iter()
        .map(|(s, e)| not_copied("comment", s.what, pg_message(&e)))
        .collect();
    let stmts: Vec<Stmt> = ddl.settings.iter().map(|s| s.stmt.clone()).collect();
    let (_, failed) = create_in_order(client, &stmts).await?;
    for (stmt, e) in failed {
        if let Some(s) = ddl.settings.iter().find(|s| s.stmt == stmt) {
            lost.push(not_copied(s.kind, s.name.clone(), pg_message(&e)));
        }
    }
    Ok(lost)
}

/// Before the tables, in the session's open transaction: the extensions the target lacks (one
/// that cannot be created is listed) and every function that can be created now; the rest
/// (a row type of a table in a signature) wait for [`after_load`].
pub async fn before_tables(
    client: &Client,
    ddl: &ObjectsDdl,
) -> Result<(Vec<Stmt>, Vec<NotCopied>)> {
    let (_, failed) = create_in_order(client, &ddl.extensions).await?;
    let lost = failed
        .into_iter()
        .map(|(s, e)| {
            not_copied(
                "extension",
                s.what.trim_start_matches("extension ").to_owned(),
                pg_message(&e),
            )
        })
        .collect();
    client
        .batch_execute("SET LOCAL check_function_bodies = off")
        .await
        .map_err(DataError::pg("creating functions (check_function_bodies)"))?;
    let (_, waiting) = create_in_order(client, &ddl.functions).await?;
    Ok((waiting.into_iter().map(|(s, _)| s).collect(), lost))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_of_the_copied_schema_move_and_nothing_else() {
        let body = "SELECT public.f(x) FROM public.film, \"public\".a, mypublic.b, x.public.c\n SET search_path TO 'public'";
        assert_eq!(
            retarget(body, "public", "load_1"),
            "SELECT \"load_1\".f(x) FROM \"load_1\".film, \"load_1\".a, mypublic.b, x.public.c\n SET search_path TO 'load_1'"
        );
    }

    #[test]
    fn only_the_created_name_moves_in_the_header() {
        assert_eq!(
            retarget_header(
                "CREATE OR REPLACE FUNCTION public.f(a integer)\n RETURNS integer\n BEGIN ATOMIC SELECT public.g(); END",
                "public",
                "l"
            ),
            "CREATE OR REPLACE FUNCTION \"l\".f(a integer)\n RETURNS integer\n BEGIN ATOMIC SELECT public.g(); END"
        );
    }

    #[test]
    fn quoting_follows_quote_ident() {
        assert_eq!(pg_quote_ident("public"), "public");
        assert_eq!(pg_quote_ident("My Schema"), "\"My Schema\"");
        assert_eq!(pg_quote_ident("1a"), "\"1a\"");
    }
}
