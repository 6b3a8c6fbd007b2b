//! Views, sequences and user types (enums, domains, composites) in scope.
use std::collections::HashMap;

use tokio_postgres::Client;

use super::IN_SCOPE;
use super::tables::Relation;
use crate::error::CatalogError;
use crate::model::{CompositeType, DomainType, EnumType, Index, OwnedBy, Sequence, View};

/// The views and materialized views among `relations`, a materialized view with its indexes
/// (taken out of `indexes`).
pub(crate) async fn views(
    client: &Client,
    relations: &[Relation],
    indexes: &mut HashMap<u32, Vec<Index>>,
) -> Result<Vec<View>, CatalogError> {
    let views: Vec<&Relation> = relations
        .iter()
        .filter(|r| r.relkind == "v" || r.relkind == "m")
        .collect();
    let oids: Vec<u32> = views.iter().map(|r| r.oid).collect();
    let rows = super::rows(
        client,
        "views",
        "SELECT c.oid, pg_get_viewdef(c.oid) FROM pg_class c WHERE c.oid = ANY($1)",
        &[&oids],
    )
    .await?;
    let mut definitions: HashMap<u32, Option<String>> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(views
        .into_iter()
        .map(|rel| View {
            schema: rel.schema.clone(),
            name: rel.name.clone(),
            materialized: rel.relkind == "m",
            definition: definitions.remove(&rel.oid).flatten().unwrap_or_default(),
            indexes: indexes.remove(&rel.oid).unwrap_or_default(),
            extension_member: rel.extension_member,
        })
        .collect())
}

/// Sequences in scope, with the column that owns each, if any.
pub(crate) async fn sequences(
    client: &Client,
    schema: Option<&str>,
) -> Result<Vec<Sequence>, CatalogError> {
    let rows = super::rows(
        client,
        "sequences",
        &format!(
            "SELECT n.nspname::text, c.relname::text, q.seqtypid::regtype::text, q.seqstart, \
                        q.seqmin, q.seqmax, q.seqincrement, q.seqcycle, q.seqcache, \
                        tn.nspname::text, t.relname::text, a.attname::text, d.deptype::text, \
                        (SELECT s.last_value FROM pg_sequences s \
                         WHERE s.schemaname = n.nspname AND s.sequencename = c.relname) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_sequence q ON q.seqrelid = c.oid \
                 LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass \
                      AND d.deptype IN ('a', 'i') \
                 LEFT JOIN pg_class t ON t.oid = d.refobjid \
                 LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace \
                 LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                 WHERE c.relkind = 'S' AND {IN_SCOPE} ORDER BY n.nspname, c.relname"
        ),
        &[&schema],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let owner: (Option<String>, Option<String>, Option<String>) =
                (r.get(9), r.get(10), r.get(11));
            Sequence {
                schema: r.get(0),
                name: r.get(1),
                data_type: r.get(2),
                start: r.get(3),
                min: r.get(4),
                max: r.get(5),
                increment: r.get(6),
                cycle: r.get(7),
                cache: r.get(8),
                owned_by: match owner {
                    (Some(schema), Some(table), Some(column)) => Some(OwnedBy {
                        schema,
                        table,
                        column,
                    }),
                    _ => None,
                },
                identity: r.get::<_, Option<String>>(12).as_deref() == Some("i"),
                last_value: r.get(13),
            }
        })
        .collect())
}

/// Enum types in scope with their labels in sort order.
pub(crate) async fn enums(
    client: &Client,
    schema: Option<&str>,
) -> Result<Vec<EnumType>, CatalogError> {
    let rows = super::rows(
        client,
        "enum types",
        &format!(
            "SELECT n.nspname::text, t.typname::text, \
                        array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
                 FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
                 JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {IN_SCOPE} \
                 GROUP BY n.nspname, t.typname ORDER BY n.nspname, t.typname"
        ),
        &[&schema],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| EnumType {
            schema: r.get(0),
            name: r.get(1),
            labels: r.get(2),
        })
        .collect())
}

/// Domains in scope with their CHECK constraints (by name), by schema then name; `oid` gives
/// their creation order.
pub(crate) async fn domains(
    client: &Client,
    schema: Option<&str>,
) -> Result<Vec<DomainType>, CatalogError> {
    let rows = super::rows(
        client,
        "domains",
        &format!(
            "SELECT t.oid, n.nspname::text, t.typname::text, \
                        format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault, \
                        CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation \
                             THEN (SELECT collname::text FROM pg_collation WHERE oid = t.typcollation) END, \
                        ARRAY(SELECT con.conname::text FROM pg_constraint con \
                              WHERE con.contypid = t.oid AND con.contype = 'c' ORDER BY con.conname), \
                        ARRAY(SELECT pg_get_constraintdef(con.oid) FROM pg_constraint con \
                              WHERE con.contypid = t.oid AND con.contype = 'c' ORDER BY con.conname) \
                 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 JOIN pg_type b ON b.oid = t.typbasetype \
                 WHERE t.typtype = 'd' AND {IN_SCOPE} \
                   AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_type'::regclass \
                                   AND dep.objid = t.oid AND dep.deptype = 'e') \
                 ORDER BY n.nspname, t.typname"
        ),
        &[&schema],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| DomainType {
            oid: r.get(0),
            schema: r.get(1),
            name: r.get(2),
            base_type: r.get(3),
            not_null: r.get(4),
            default: r.get(5),
            collation: r.get(6),
            checks: r
                .get::<_, Vec<String>>(7)
                .into_iter()
                .zip(r.get::<_, Vec<String>>(8))
                .collect(),
        })
        .collect())
}

/// Standalone composite types in scope (`pg_class.relkind = 'c'`), by schema then name.
pub(crate) async fn composites(
    client: &Client,
    schema: Option<&str>,
) -> Result<Vec<CompositeType>, CatalogError> {
    let rows = super::rows(
        client,
        "composite types",
        &format!(
            "SELECT t.oid, n.nspname::text, t.typname::text, \
                        ARRAY(SELECT a.attname::text FROM pg_attribute a \
                              WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped \
                              ORDER BY a.attnum), \
                        ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
                              WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped \
                              ORDER BY a.attnum) \
                 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 JOIN pg_class c ON c.oid = t.typrelid \
                 WHERE t.typtype = 'c' AND c.relkind = 'c' AND {IN_SCOPE} \
                   AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_type'::regclass \
                                   AND dep.objid = t.oid AND dep.deptype = 'e') \
                 ORDER BY n.nspname, t.typname"
        ),
        &[&schema],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| CompositeType {
            oid: r.get(0),
            schema: r.get(1),
            name: r.get(2),
            attributes: r
                .get::<_, Vec<String>>(3)
                .into_iter()
                .zip(r.get::<_, Vec<String>>(4))
                .collect(),
        })
        .collect())
}
