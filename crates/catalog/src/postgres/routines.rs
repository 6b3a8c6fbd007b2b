//! Functions (`pg_get_functiondef`), triggers (`pg_get_triggerdef`), comments
//! (`pg_description`) and extensions, into [`SchemaObjects`]. Definitions are printed relative
//! to the session's search_path, like the rest of the read: a copy sets it to the copied schema
//! so that names inside it come out unqualified and resolve again wherever they are replayed.
use tokio_postgres::{Client, Row};

use super::IN_SCOPE;
use crate::error::CatalogError;
use crate::routines::{
    Comment, CommentOn, Extension, Function, FunctionKind, Policy, RelationSettings, SchemaObjects,
    Trigger, Undescribed,
};

/// `pg_depend` says an extension made the object whose catalog is `class` and oid is `oid`.
fn not_extension_member(class: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend xd WHERE xd.classid = '{class}'::regclass \
         AND xd.objid = {oid} AND xd.deptype = 'e')"
    )
}

/// Reads functions, triggers and comments in scope (`$1`, see [`IN_SCOPE`]) and every
/// extension.
pub(crate) async fn read(
    client: &Client,
    schema: Option<&str>,
) -> Result<SchemaObjects, CatalogError> {
    Ok(SchemaObjects {
        functions: functions(client, schema).await?,
        triggers: triggers(client, schema).await?,
        comments: comments(client, schema).await?,
        extensions: extensions(client).await?,
        settings: settings(client, schema).await?,
        policies: policies(client, schema).await?,
        undescribed: undescribed(client, schema).await?,
    })
}

/// Tables, views and materialized views with row-level security, options or a replica identity
/// other than the default.
async fn settings(
    client: &Client,
    schema: Option<&str>,
) -> Result<Vec<RelationSettings>, CatalogError> {
    let rows = super::rows(
        client,
        "relation settings",
        &format!(
            "SELECT n.nspname::text, c.relname::text, c.relkind::text, \
                    coalesce(c.reloptions, '{{}}'::text[]), \
                    CASE WHEN c.relkind NOT IN ('r', 'p') THEN NULL \
                      WHEN c.relreplident = 'f' THEN 'FULL' WHEN c.relreplident = 'n' THEN 'NOTHING' \
                      WHEN c.relreplident = 'i' THEN 'USING INDEX ' || quote_ident((SELECT ic.relname FROM pg_index i \
                        JOIN pg_class ic ON ic.oid = i.indexrelid \
                        WHERE i.indrelid = c.oid AND i.indisreplident LIMIT 1)) END, \
                    c.relrowsecurity, c.relforcerowsecurity \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'v', 'm') AND {IN_SCOPE} AND {own} \
               AND (c.reloptions IS NOT NULL OR c.relrowsecurity OR c.relforcerowsecurity \
                 OR (c.relreplident <> 'd' AND c.relkind IN ('r', 'p'))) \
             ORDER BY 1, 2",
            own = not_extension_member("pg_class", "c.oid"),
        ),
        &[&schema],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| RelationSettings {
            schema: r.get(0),
            name: r.get(1),
            relkind: r.get(2),
            options: r.get(3),
            replica_identity: r.get(4),
            row_security: r.get(5),
            force_row_security: r.get(6),
        })
        .collect())
}

/// Row-level security policies, their expressions printed relative to the session's
/// search_path.
async fn policies(client: &Client, schema: Option<&str>) -> Result<Vec<Policy>, CatalogError> {
    let rows = super::rows(
        client,
        "policies",
        &format!(
            "SELECT n.nspname::text, c.relname::text, p.polname::text, p.polpermissive, \
                    CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' \
                      WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END, \
                    ARRAY(SELECT pg_get_userbyid(r)::text FROM unnest(p.polroles) r \
                          WHERE r <> 0 ORDER BY 1), \
                    pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) \
             FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {IN_SCOPE} AND {own} ORDER BY 1, 2, 3",
            own = not_extension_member("pg_class", "c.oid"),
        ),
        &[&schema],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| Policy {
            schema: r.get(0),
            table: r.get(1),
            name: r.get(2),
            permissive: r.get(3),
            command: r.get(4),
            roles: r.get(5),
            using: r.get(6),
            with_check: r.get(7),
        })
        .collect())
}

/// What the model does not describe, one kind per branch (see [`Undescribed`]).
async fn undescribed(
    client: &Client,
    schema: Option<&str>,
) -> Result<Vec<Undescribed>, CatalogError> {
    let rel = "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace";
    let own = not_extension_member("pg_class", "c.oid");
    let sql = format!(
        "SELECT 'rule', c.relname::text || '.' || r.rulename::text, '' \
           FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE r.rulename <> '_RETURN' AND {IN_SCOPE} AND {own} \
         UNION ALL SELECT 'range type', t.typname::text, '' FROM pg_type t \
           JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'r' AND {IN_SCOPE} \
           AND {types} \
         UNION ALL SELECT 'unlogged table', c.relname::text, '' {rel} \
           WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'p') AND {IN_SCOPE} AND {own} \
         UNION ALL SELECT 'extended statistics', s.stxname::text, '' FROM pg_statistic_ext s \
           JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE {IN_SCOPE} \
         UNION ALL SELECT 'comment on constraint', c.relname::text || '.' || co.conname::text, '' \
           FROM pg_description d JOIN pg_constraint co \
           ON d.classoid = 'pg_constraint'::regclass AND d.objoid = co.oid \
           JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE {IN_SCOPE} AND {own} \
         UNION ALL SELECT 'comment on trigger', c.relname::text || '.' || t.tgname::text, '' \
           FROM pg_description d JOIN pg_trigger t \
           ON d.classoid = 'pg_trigger'::regclass AND d.objoid = t.oid \
           JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE {IN_SCOPE} AND {own} \
         UNION ALL SELECT 'collation', x.collname::text, '' FROM pg_collation x \
           JOIN pg_namespace n ON n.oid = x.collnamespace WHERE {IN_SCOPE} AND {pg_collation} \
         UNION ALL SELECT 'operator class', x.opcname::text, '' FROM pg_opclass x \
           JOIN pg_namespace n ON n.oid = x.opcnamespace WHERE {IN_SCOPE} AND {pg_opclass} \
         UNION ALL SELECT 'text search configuration', x.cfgname::text, '' FROM pg_ts_config x \
           JOIN pg_namespace n ON n.oid = x.cfgnamespace WHERE {IN_SCOPE} AND {pg_ts_config} \
         UNION ALL SELECT 'text search dictionary', x.dictname::text, '' FROM pg_ts_dict x \
           JOIN pg_namespace n ON n.oid = x.dictnamespace WHERE {IN_SCOPE} AND {pg_ts_dict} \
         UNION ALL SELECT 'conversion', x.conname::text, '' FROM pg_conversion x \
           JOIN pg_namespace n ON n.oid = x.connamespace WHERE {IN_SCOPE} AND {pg_conversion} \
         UNION ALL SELECT 'operator', x.oprname::text || '(' || format_type(x.oprleft, NULL) \
           || ', ' || format_type(x.oprright, NULL) || ')', '' FROM pg_operator x \
           JOIN pg_namespace n ON n.oid = x.oprnamespace WHERE {IN_SCOPE} AND {pg_operator} \
         ORDER BY 1, 2",
        types = not_extension_member("pg_type", "t.oid"),
        pg_collation = not_extension_member("pg_collation", "x.oid"),
        pg_opclass = not_extension_member("pg_opclass", "x.oid"),
        pg_ts_config = not_extension_member("pg_ts_config", "x.oid"),
        pg_ts_dict = not_extension_member("pg_ts_dict", "x.oid"),
        pg_conversion = not_extension_member("pg_conversion", "x.oid"),
        pg_operator = not_extension_member("pg_operator", "x.oid"),
    );
    let rows = super::rows(
        client,
        "objects the model does not describe",
        &sql,
        &[&schema],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| Undescribed {
            kind: r.get(0),
            name: r.get(1),
            detail: r.get::<_, Option<String>>(2).unwrap_or_default(),
        })
        .collect())
}

async fn functions(client: &Client, schema: Option<&str>) -> Result<Vec<Function>, CatalogError> {
    let rows = super::rows(
        client,
        "functions",
        &format!(
            "SELECT n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid), \
                    p.prokind::text, l.lanname::text, \
                    CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END, \
                    p.prosqlbody IS NOT NULL, \
                    a.aggkind::text, a.aggtransfn::oid::regproc::text, \
                    format_type(a.aggtranstype, NULL), \
                    CASE WHEN a.aggfinalfn::oid <> 0 THEN a.aggfinalfn::oid::regproc::text END, \
                    CASE WHEN a.aggcombinefn::oid <> 0 THEN a.aggcombinefn::oid::regproc::text END, \
                    a.agginitval, \
                    CASE WHEN a.aggsortop <> 0 THEN a.aggsortop::regoperator::text END, \
                    a.aggmtransfn::oid <> 0 OR a.aggserialfn::oid <> 0, \
                    pg_get_function_arguments(p.oid), \
                    quote_ident(n.nspname) || '.' || quote_ident(p.proname) \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             JOIN pg_language l ON l.oid = p.prolang \
             LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid \
             WHERE {IN_SCOPE} AND {} \
               AND NOT EXISTS (SELECT 1 FROM pg_depend td WHERE td.classid = 'pg_proc'::regclass \
                 AND td.objid = p.oid AND td.deptype = 'i') \
             ORDER BY 1, 2, 3",
            not_extension_member("pg_proc", "p.oid")
        ),
        &[&schema],
    )
    .await?;
    Ok(rows.iter().map(function).collect())
}

fn function(r: &Row) -> Function {
    let kind = match r.get::<_, String>(3).as_str() {
        "p" => FunctionKind::Procedure,
        "a" => FunctionKind::Aggregate,
        "w" => FunctionKind::Window,
        _ => FunctionKind::Function,
    };
    let (definition, unwritable) = match kind {
        FunctionKind::Aggregate => aggregate(r),
        _ => (r.get::<_, Option<String>>(5), None),
    };
    Function {
        schema: r.get(0),
        name: r.get(1),
        arguments: r.get(2),
        kind,
        language: r.get(4),
        definition,
        unwritable,
        sql_body: r.get(6),
    }
}

/// `CREATE AGGREGATE` for a plain aggregate; ordered-set, hypothetical, moving and parallel
/// (serial) aggregates are refused with the reason.
fn aggregate(r: &Row) -> (Option<String>, Option<String>) {
    let aggkind: Option<String> = r.get(7);
    if aggkind.as_deref() != Some("n") {
        return (
            None,
            Some("ordered-set and hypothetical-set aggregates are not recreated".into()),
        );
    }
    if r.get::<_, Option<bool>>(14).unwrap_or(false) {
        return (
            None,
            Some("aggregates with moving or serial functions are not recreated".into()),
        );
    }
    let (Some(sfunc), Some(stype)) = (r.get::<_, Option<String>>(8), r.get::<_, Option<String>>(9))
    else {
        return (
            None,
            Some("its transition function could not be read".into()),
        );
    };
    let mut parts = vec![format!("SFUNC = {sfunc}"), format!("STYPE = {stype}")];
    if let Some(f) = r.get::<_, Option<String>>(10) {
        parts.push(format!("FINALFUNC = {f}"));
    }
    if let Some(f) = r.get::<_, Option<String>>(11) {
        parts.push(format!("COMBINEFUNC = {f}"));
    }
    if let Some(i) = r.get::<_, Option<String>>(12) {
        parts.push(format!("INITCOND = '{}'", i.replace('\'', "''")));
    }
    if let Some(op) = r.get::<_, Option<String>>(13) {
        // `>(integer,integer)` → the operator alone.
        let op = op.split('(').next().unwrap_or_default().to_string();
        parts.push(format!("SORTOP = {op}"));
    }
    let name: String = r.get(16);
    let args: String = r.get(15);
    (
        Some(format!(
            "CREATE AGGREGATE {name}({args}) ({})",
            parts.join(", ")
        )),
        None,
    )
}

async fn triggers(client: &Client, schema: Option<&str>) -> Result<Vec<Trigger>, CatalogError> {
    let rows = super::rows(
        client,
        "triggers",
        &format!(
            "SELECT n.nspname::text, c.relname::text, t.tgname::text, pg_get_triggerdef(t.oid), \
                    t.tgenabled::text \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {IN_SCOPE} AND {} \
             ORDER BY 1, 2, 3",
            not_extension_member("pg_class", "c.oid")
        ),
        &[&schema],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| Trigger {
            schema: r.get(0),
            table: r.get(1),
            name: r.get(2),
            definition: r.get(3),
            enabled: r.get(4),
        })
        .collect())
}

/// Comments on relations, their columns, functions and types in scope.
async fn comments(client: &Client, schema: Option<&str>) -> Result<Vec<Comment>, CatalogError> {
    let rows = super::rows(
        client,
        "comments",
        &format!(
            "SELECT 'rel:' || c.relkind::text, n.nspname::text, c.relname::text, a.attname::text, \
                    NULL::text, d.description \
             FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0 \
             WHERE {IN_SCOPE} AND {rel} AND (d.objsubid = 0 OR a.attname IS NOT NULL) \
             UNION ALL \
             SELECT 'proc:' || p.prokind::text, n.nspname::text, p.proname::text, NULL, \
                    pg_get_function_identity_arguments(p.oid), d.description \
             FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid \
             JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE {IN_SCOPE} AND {proc} \
             UNION ALL \
             SELECT 'type:' || t.typtype::text, n.nspname::text, t.typname::text, NULL, NULL, d.description \
             FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE {IN_SCOPE} AND {ty} \
             ORDER BY 2, 3, 1, 4",
            rel = not_extension_member("pg_class", "c.oid"),
            proc = not_extension_member("pg_proc", "p.oid"),
            ty = not_extension_member("pg_type", "t.oid"),
        ),
        &[&schema],
    )
    .await?;
    Ok(rows.iter().filter_map(comment).collect())
}

fn comment(r: &Row) -> Option<Comment> {
    let kind: String = r.get(0);
    let column: Option<String> = r.get(3);
    let on = match (kind.as_str(), column.is_some()) {
        (_, true) => CommentOn::Column,
        ("rel:r" | "rel:p", _) => CommentOn::Table,
        ("rel:f", _) => CommentOn::ForeignTable,
        ("rel:v", _) => CommentOn::View,
        ("rel:m", _) => CommentOn::MaterializedView,
        ("rel:S", _) => CommentOn::Sequence,
        ("rel:i" | "rel:I", _) => CommentOn::Index,
        ("rel:c", _) => CommentOn::Type,
        ("proc:p", _) => CommentOn::Procedure,
        ("proc:a", _) => CommentOn::Aggregate,
        ("proc:f" | "proc:w", _) => CommentOn::Function,
        ("type:d", _) => CommentOn::Domain,
        ("type:e" | "type:c" | "type:r" | "type:m" | "type:b", _) => CommentOn::Type,
        _ => return None,
    };
    Some(Comment {
        on,
        schema: r.get(1),
        name: r.get(2),
        column,
        arguments: r.get(4),
        text: r.get(5),
    })
}

async fn extensions(client: &Client) -> Result<Vec<Extension>, CatalogError> {
    let rows = super::rows(
        client,
        "extensions",
        "SELECT e.extname::text, e.extversion, n.nspname::text, e.extrelocatable \
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1",
        &[],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| Extension {
            name: r.get(0),
            version: r.get(1),
            schema: r.get(2),
            relocatable: r.get(3),
        })
        .collect())
}
