//! Relations in scope, and the tables among them with their columns, constraints and indexes.
use std::collections::HashMap;

use tokio_postgres::Client;

use super::IN_SCOPE;
use crate::error::CatalogError;
use crate::model::{
    Check, Column, Constraint, ConstraintKind, ForeignKey, Generated, Identity, Index, IndexKey,
    IndexOrigin, Key, PartitionOf, PgType, PgTypeKind, Table, TableKind,
};

/// A table, view or materialized view in scope (`pg_class`).
pub(crate) struct Relation {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// `pg_class.relkind`: `r`, `p`, `f`, `v` or `m`.
    pub relkind: String,
    pub is_partition: bool,
    pub extension_member: bool,
    /// A partition's parent `(schema, table, bound)`.
    pub partition_of: Option<(String, String, String)>,
    pub partition_key: Option<String>,
    /// `INHERITS` parents `(schema, table)` in order.
    pub inherits: Vec<(String, String)>,
}

impl Relation {
    fn table_kind(&self) -> Option<TableKind> {
        match self.relkind.as_str() {
            "r" => Some(TableKind::Ordinary),
            "p" => Some(TableKind::Partitioned),
            "f" => Some(TableKind::Foreign),
            _ => None,
        }
    }
}

/// Tables, views and materialized views in scope, by schema then name (byte order: `name`
/// sorts with the C collation).
pub(crate) async fn relations(
    client: &Client,
    schema: Option<&str>,
) -> Result<Vec<Relation>, CatalogError> {
    let rows = super::rows(
        client,
        "tables",
        &format!(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.relispartition, \
                 EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_class'::regclass \
                         AND dep.objid = c.oid AND dep.deptype = 'e'), \
                 pn.nspname::text, pc.relname::text, pg_get_expr(c.relpartbound, c.oid), \
                 CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
                 ARRAY(SELECT hn.nspname::text FROM pg_inherits h \
                       JOIN pg_class hc ON hc.oid = h.inhparent \
                       JOIN pg_namespace hn ON hn.oid = hc.relnamespace \
                       WHERE h.inhrelid = c.oid AND NOT c.relispartition ORDER BY h.inhseqno), \
                 ARRAY(SELECT hc.relname::text FROM pg_inherits h \
                       JOIN pg_class hc ON hc.oid = h.inhparent \
                       WHERE h.inhrelid = c.oid AND NOT c.relispartition ORDER BY h.inhseqno) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_inherits pi ON c.relispartition AND pi.inhrelid = c.oid \
                 LEFT JOIN pg_class pc ON pc.oid = pi.inhparent \
                 LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
                 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {IN_SCOPE} \
                 ORDER BY n.nspname, c.relname"
        ),
        &[&schema],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| Relation {
            oid: r.get(0),
            schema: r.get(1),
            name: r.get(2),
            relkind: r.get(3),
            is_partition: r.get(4),
            extension_member: r.get(5),
            partition_of: match (r.get(6), r.get(7), r.get(8)) {
                (Some(schema), Some(table), Some(bound)) => Some((schema, table, bound)),
                _ => None,
            },
            partition_key: r.get(9),
            inherits: r
                .get::<_, Vec<String>>(10)
                .into_iter()
                .zip(r.get::<_, Vec<String>>(11))
                .collect(),
        })
        .collect())
}

/// The tables among `relations`, each with its columns, constraints and its indexes (taken out
/// of `indexes`).
pub(crate) async fn read(
    client: &Client,
    relations: &[Relation],
    indexes: &mut HashMap<u32, Vec<Index>>,
) -> Result<Vec<Table>, CatalogError> {
    let mut oids = Vec::new();
    let mut tables = Vec::new();
    for rel in relations {
        let Some(kind) = rel.table_kind() else {
            continue;
        };
        oids.push(rel.oid);
        tables.push(Table {
            schema: rel.schema.clone(),
            name: rel.name.clone(),
            kind,
            is_partition: rel.is_partition,
            partition_of: rel
                .partition_of
                .clone()
                .map(|(schema, table, bound)| PartitionOf {
                    schema,
                    table,
                    bound,
                }),
            partition_key: rel.partition_key.clone(),
            inherits: rel.inherits.clone(),
            inherited: Vec::new(),
            extension_member: rel.extension_member,
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            other_constraints: Vec::new(),
            indexes: indexes.remove(&rel.oid).unwrap_or_default(),
            create_sql: None,
            auto_increment: None,
        });
    }
    let by_oid: HashMap<u32, usize> = oids.iter().enumerate().map(|(i, o)| (*o, i)).collect();
    columns(client, &oids, &by_oid, &mut tables).await?;
    constraints(client, &oids, &by_oid, &mut tables).await?;
    inherited(client, &oids, &by_oid, &mut tables).await?;
    Ok(tables)
}

/// Names of the constraints and indexes each table has from its parent.
async fn inherited(
    client: &Client,
    oids: &[u32],
    by_oid: &HashMap<u32, usize>,
    tables: &mut [Table],
) -> Result<(), CatalogError> {
    let rows = super::rows(
        client,
        "inherited constraints",
        "SELECT i.indrelid, ic.relname::text FROM pg_index i \
             JOIN pg_class ic ON ic.oid = i.indexrelid \
             WHERE i.indrelid = ANY($1) AND ic.relispartition \
         UNION \
         SELECT con.conrelid, con.conname::text FROM pg_constraint con \
             WHERE con.conrelid = ANY($1) AND (con.conparentid <> 0 OR NOT con.conislocal) \
         ORDER BY 1, 2",
        &[&oids],
    )
    .await?;
    for r in rows {
        if let Some(table) = by_oid
            .get(&r.get::<_, u32>(0))
            .and_then(|&ti| tables.get_mut(ti))
        {
            table.inherited.push(r.get(1));
        }
    }
    Ok(())
}

async fn columns(
    client: &Client,
    oids: &[u32],
    by_oid: &HashMap<u32, usize>,
    tables: &mut [Table],
) -> Result<(), CatalogError> {
    let rows = super::rows(
        client,
        "columns",
        "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), a.atttypid, \
                    a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, \
                    a.attgenerated::text, t.typname::text, t.typtype::text, \
                    CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation \
                         THEN (SELECT collname::text FROM pg_collation WHERE oid = a.attcollation) END \
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attrelid, a.attnum",
        &[&oids],
    )
    .await?;
    for r in rows {
        let Some(table) = by_oid
            .get(&r.get::<_, u32>(0))
            .and_then(|&ti| tables.get_mut(ti))
        else {
            continue;
        };
        // pg_attrdef holds a generated column's expression where others have their default.
        let expression: Option<String> = r.get(5);
        let generated = match r.get::<_, String>(7).as_str() {
            "s" => Some(true),
            "v" => Some(false),
            _ => None,
        };
        let (default, generated) = match generated {
            Some(stored) => (None, Some(Generated { expression, stored })),
            None => (expression, None),
        };
        table.columns.push(Column {
            name: r.get(1),
            sql_type: r.get(2),
            pg_type: Some(PgType {
                oid: r.get(3),
                name: r.get(8),
                kind: type_kind(&r.get::<_, String>(9)),
            }),
            nullable: !r.get::<_, bool>(4),
            default,
            generated,
            identity: match r.get::<_, String>(6).as_str() {
                "a" => Some(Identity::Always),
                "d" => Some(Identity::ByDefault),
                _ => None,
            },
            collation: r.get(10),
            hidden: false,
        });
    }
    Ok(())
}

fn type_kind(typtype: &str) -> PgTypeKind {
    match typtype {
        "c" => PgTypeKind::Composite,
        "d" => PgTypeKind::Domain,
        "e" => PgTypeKind::Enum,
        "p" => PgTypeKind::Pseudo,
        "r" => PgTypeKind::Range,
        "m" => PgTypeKind::Multirange,
        _ => PgTypeKind::Base,
    }
}

/// Column names of a `conkey`-like array of attribute numbers of relation `rel`, in order.
fn names_sql(keys: &str, rel: &str) -> String {
    format!(
        "ARRAY(SELECT a.attname::text FROM unnest({keys}) WITH ORDINALITY k(num, ord) \
         JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.num ORDER BY k.ord)"
    )
}

async fn constraints(
    client: &Client,
    oids: &[u32],
    by_oid: &HashMap<u32, usize>,
    tables: &mut [Table],
) -> Result<(), CatalogError> {
    let rows = super::rows(
        client,
        "constraints",
        &format!(
            "SELECT con.conrelid, con.conname::text, con.contype::text, \
                        pg_get_constraintdef(con.oid), {}, con.condeferrable, \
                        rn.nspname::text, rc.relname::text, {}, \
                        con.confupdtype::text, con.confdeltype::text \
                 FROM pg_constraint con \
                 LEFT JOIN pg_class rc ON rc.oid = con.confrelid \
                 LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
                 WHERE con.conrelid = ANY($1) ORDER BY con.conrelid, con.conname",
            names_sql("con.conkey", "con.conrelid"),
            names_sql("con.confkey", "con.confrelid"),
        ),
        &[&oids],
    )
    .await?;
    for r in rows {
        let Some(table) = by_oid
            .get(&r.get::<_, u32>(0))
            .and_then(|&ti| tables.get_mut(ti))
        else {
            continue;
        };
        let name: String = r.get(1);
        let definition: String = r.get(3);
        let columns: Vec<String> = r.get(4);
        let key = |name: String, definition: String| Key {
            name: Some(name),
            columns: columns.clone(),
            definition: Some(definition),
        };
        match r.get::<_, String>(2).as_str() {
            "p" => table.primary_key = Some(key(name, definition)),
            "u" => table.uniques.push(key(name, definition)),
            "f" => table.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns,
                ref_schema: r.get::<_, Option<String>>(6).unwrap_or_default(),
                ref_table: r.get::<_, Option<String>>(7).unwrap_or_default(),
                ref_columns: r.get(8),
                on_update: ForeignKey::action_words(&r.get::<_, String>(9)).to_string(),
                on_delete: ForeignKey::action_words(&r.get::<_, String>(10)).to_string(),
                deferrable: r.get(5),
                definition: Some(definition),
            }),
            "c" => table.checks.push(Check { name, definition }),
            other => table.other_constraints.push(Constraint {
                name,
                kind: match other {
                    "x" => ConstraintKind::Exclusion,
                    "n" => ConstraintKind::NotNull,
                    "t" => ConstraintKind::Trigger,
                    _ => ConstraintKind::Other,
                },
                definition,
            }),
        }
    }
    Ok(())
}

/// Every index of the tables and materialized views among `relations`, by the relation's oid,
/// each list by index name.
pub(crate) async fn indexes(
    client: &Client,
    relations: &[Relation],
) -> Result<HashMap<u32, Vec<Index>>, CatalogError> {
    let oids: Vec<u32> = relations
        .iter()
        .filter(|r| r.relkind != "v")
        .map(|r| r.oid)
        .collect();
    let rows = super::rows(
        client,
        "indexes",
        "SELECT i.indrelid, ic.relname::text, pg_get_indexdef(i.indexrelid), i.indisunique, \
                    ARRAY(SELECT CASE WHEN k.num = 0 THEN NULL ELSE a.attname::text END \
                          FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord) \
                          LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num \
                          ORDER BY k.ord), \
                    (SELECT con.contype::text FROM pg_constraint con \
                     WHERE con.conrelid = i.indrelid AND con.conindid = i.indexrelid \
                       AND con.contype IN ('p', 'u', 'x') LIMIT 1) \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
             WHERE i.indrelid = ANY($1) ORDER BY ic.relname",
        &[&oids],
    )
    .await?;
    let mut out: HashMap<u32, Vec<Index>> = HashMap::new();
    for r in rows {
        let keys: Vec<Option<String>> = r.get(4);
        let origin = match r.get::<_, Option<String>>(5).as_deref() {
            Some("p") => IndexOrigin::PrimaryKey,
            Some("u") => IndexOrigin::Unique,
            Some("x") => IndexOrigin::Exclusion,
            _ => IndexOrigin::Created,
        };
        out.entry(r.get(0)).or_default().push(Index {
            name: r.get(1),
            columns: keys
                .into_iter()
                .map(|k| k.map_or(IndexKey::Expression, IndexKey::Column))
                .collect(),
            unique: r.get(3),
            origin,
            definition: Some(r.get(2)),
        });
    }
    Ok(out)
}
