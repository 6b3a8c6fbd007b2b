//! Base tables of one MySQL database: columns, keys, indexes, foreign keys, checks, positions
//! and `SHOW CREATE TABLE`, from `information_schema` (one query per part for the whole
//! database, grouped by table here).
use std::collections::BTreeMap;

use mysql_async::Conn;

use super::{Cells, ident, rows};
use crate::error::CatalogError;
use crate::model::{
    Catalog, Check, Column, ForeignKey, Generated, Identity, Index, IndexKey, IndexOrigin, Key,
    Table, TableKind,
};
use crate::routines::{RelationSettings, Undescribed};

/// Adds the base tables of `schema` (and their relation settings) to `catalog`.
pub(super) async fn read(
    conn: &mut Conn,
    schema: &str,
    catalog: &mut Catalog,
) -> Result<(), CatalogError> {
    let listed = rows(
        conn,
        "tables",
        "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, ROW_FORMAT, AUTO_INCREMENT, \
                CREATE_OPTIONS \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY BINARY TABLE_NAME",
        vec![schema.into()],
    )
    .await?;
    let mut columns = columns(conn, schema).await?;
    let mut indexes = indexes(conn, schema).await?;
    let mut fks = foreign_keys(conn, schema).await?;
    let mut checks = checks(conn, schema).await?;
    for row in listed {
        let [name, kind, engine, collation, row_format, auto_inc, options] = cells::<7>(row);
        let Some(name) = name else { continue };
        match kind.as_deref() {
            Some("BASE TABLE") => {}
            Some("VIEW") => continue,
            Some(other) => {
                catalog.objects.undescribed.push(Undescribed {
                    kind: other.to_ascii_lowercase(),
                    name: name.clone(),
                    detail: String::new(),
                });
                if other != "SYSTEM VERSIONED" {
                    continue;
                }
            }
            None => continue,
        }
        let create_sql = show_create(conn, schema, &name).await?;
        let mut table_columns = columns.remove(&name).unwrap_or_default();
        for c in &mut table_columns {
            // A column's collation is listed only where it is not the table's own.
            if c.collation.is_some() && c.collation == collation {
                c.collation = None;
            }
        }
        let (primary_key, uniques, table_indexes) = split_keys(indexes.remove(&name));
        let mut opts = Vec::new();
        for (k, v) in [
            ("engine", engine),
            ("collation", collation),
            ("row_format", row_format),
        ] {
            if let Some(v) = v {
                opts.push(format!("{k}={v}"));
            }
        }
        if let Some(o) = options.filter(|o| !o.is_empty()) {
            opts.push(format!("options={o}"));
        }
        catalog.objects.settings.push(RelationSettings {
            schema: schema.to_string(),
            name: name.clone(),
            relkind: "r".into(),
            options: opts,
            replica_identity: None,
            row_security: false,
            force_row_security: false,
        });
        let has_auto = table_columns
            .iter()
            .any(|c| c.identity == Some(Identity::AutoIncrement));
        catalog.tables.push(Table {
            schema: schema.to_string(),
            foreign_keys: fks.remove(&name).unwrap_or_default(),
            checks: checks.remove(&name).unwrap_or_default(),
            name,
            kind: TableKind::Ordinary,
            is_partition: false,
            partition_of: None,
            partition_key: None,
            inherits: Vec::new(),
            inherited: Vec::new(),
            extension_member: false,
            columns: table_columns,
            primary_key,
            uniques,
            other_constraints: Vec::new(),
            indexes: table_indexes,
            create_sql: Some(create_sql),
            auto_increment: auto_inc.and_then(|v| v.parse().ok()).filter(|_| has_auto),
        });
    }
    Ok(())
}

/// The first `N` cells of a row (missing ones `None`).
pub(super) fn cells<const N: usize>(row: Cells) -> [Option<String>; N] {
    let mut it = row.into_iter();
    std::array::from_fn(|_| it.next().flatten())
}

async fn show_create(conn: &mut Conn, schema: &str, table: &str) -> Result<String, CatalogError> {
    let sql = format!("SHOW CREATE TABLE {}.{}", ident(schema), ident(table));
    let found = rows(conn, "table definitions", &sql, Vec::new()).await?;
    Ok(found
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().nth(1).flatten())
        .unwrap_or_default())
}

async fn columns(
    conn: &mut Conn,
    schema: &str,
) -> Result<BTreeMap<String, Vec<Column>>, CatalogError> {
    let found = rows(
        conn,
        "columns",
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, \
                GENERATION_EXPRESSION, COLLATION_NAME \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? \
         ORDER BY BINARY TABLE_NAME, ORDINAL_POSITION",
        vec![schema.into()],
    )
    .await?;
    let mut out: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    for row in found {
        let [
            table,
            name,
            sql_type,
            nullable,
            default,
            extra,
            generation,
            collation,
        ] = cells::<8>(row);
        let (Some(table), Some(name)) = (table, name) else {
            continue;
        };
        let extra = extra.unwrap_or_default().to_ascii_lowercase();
        let generated =
            (extra.contains("generated") || extra.contains("persistent")).then(|| Generated {
                expression: generation.filter(|g| !g.is_empty()),
                stored: extra.contains("stored") || extra.contains("persistent"),
            });
        // MariaDB writes a NULL default as the word NULL, MySQL as a NULL.
        let default = default.filter(|d| d != "NULL" && generated.is_none());
        out.entry(table).or_default().push(Column {
            name,
            sql_type: sql_type.unwrap_or_default(),
            pg_type: None,
            nullable: nullable.as_deref() == Some("YES"),
            default,
            generated,
            identity: extra
                .contains("auto_increment")
                .then_some(Identity::AutoIncrement),
            collation,
            hidden: extra.contains("invisible"),
        });
    }
    Ok(out)
}

/// One index as read: name, unique, type, key parts.
struct RawIndex {
    name: String,
    unique: bool,
    kind: String,
    parts: Vec<(IndexKey, Option<String>)>,
}

async fn indexes(
    conn: &mut Conn,
    schema: &str,
) -> Result<BTreeMap<String, Vec<RawIndex>>, CatalogError> {
    let found = rows(
        conn,
        "indexes",
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? \
         ORDER BY BINARY TABLE_NAME, BINARY INDEX_NAME, SEQ_IN_INDEX",
        vec![schema.into()],
    )
    .await?;
    let mut out: BTreeMap<String, Vec<RawIndex>> = BTreeMap::new();
    for row in found {
        let [table, name, non_unique, column, sub_part, kind] = cells::<6>(row);
        let (Some(table), Some(name)) = (table, name) else {
            continue;
        };
        let list = out.entry(table).or_default();
        if list.last().is_none_or(|i| i.name != name) {
            list.push(RawIndex {
                name,
                unique: non_unique.as_deref() == Some("0"),
                kind: kind.unwrap_or_default(),
                parts: Vec::new(),
            });
        }
        if let Some(i) = list.last_mut() {
            let key = column.map_or(IndexKey::Expression, IndexKey::Column);
            i.parts.push((key, sub_part));
        }
    }
    Ok(out)
}

/// The primary key, unique keys and every index (with its statement) of one table.
fn split_keys(found: Option<Vec<RawIndex>>) -> (Option<Key>, Vec<Key>, Vec<Index>) {
    let mut primary = None;
    let mut uniques = Vec::new();
    let mut indexes = Vec::new();
    for raw in found.unwrap_or_default() {
        let parts: Vec<String> = raw
            .parts
            .iter()
            .map(|(k, sub)| {
                let col = match k {
                    IndexKey::Column(c) => ident(c),
                    IndexKey::Expression => "(expression)".into(),
                };
                match sub {
                    Some(n) => format!("{col}({n})"),
                    None => col,
                }
            })
            .collect();
        let names: Vec<String> = raw
            .parts
            .iter()
            .filter_map(|(k, _)| match k {
                IndexKey::Column(c) => Some(c.clone()),
                IndexKey::Expression => None,
            })
            .collect();
        let (origin, definition) = if raw.name == "PRIMARY" {
            (
                IndexOrigin::PrimaryKey,
                format!("PRIMARY KEY ({})", parts.join(", ")),
            )
        } else {
            let word = match (raw.unique, raw.kind.as_str()) {
                (_, "FULLTEXT") => "FULLTEXT KEY",
                (_, "SPATIAL") => "SPATIAL KEY",
                (true, _) => "UNIQUE KEY",
                (false, _) => "KEY",
            };
            let using = match raw.kind.as_str() {
                "BTREE" | "FULLTEXT" | "SPATIAL" | "" => String::new(),
                other => format!(" USING {other}"),
            };
            let origin = match raw.unique {
                true => IndexOrigin::Unique,
                false => IndexOrigin::Created,
            };
            (
                origin,
                format!("{word} {} ({}){using}", ident(&raw.name), parts.join(", ")),
            )
        };
        match origin {
            IndexOrigin::PrimaryKey => {
                primary = Some(Key {
                    name: Some(raw.name.clone()),
                    columns: names,
                    definition: Some(definition.clone()),
                })
            }
            IndexOrigin::Unique => uniques.push(Key {
                name: Some(raw.name.clone()),
                columns: names,
                definition: Some(definition.clone()),
            }),
            IndexOrigin::Created | IndexOrigin::Exclusion => {}
        }
        indexes.push(Index {
            name: raw.name,
            columns: raw.parts.into_iter().map(|(k, _)| k).collect(),
            unique: raw.unique,
            origin,
            definition: Some(definition),
        });
    }
    (primary, uniques, indexes)
}

async fn foreign_keys(
    conn: &mut Conn,
    schema: &str,
) -> Result<BTreeMap<String, Vec<ForeignKey>>, CatalogError> {
    let found = rows(
        conn,
        "foreign keys",
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, \
                k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
          AND r.TABLE_NAME = k.TABLE_NAME \
         WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY BINARY k.TABLE_NAME, BINARY k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        vec![schema.into()],
    )
    .await?;
    let mut out: BTreeMap<String, Vec<ForeignKey>> = BTreeMap::new();
    for row in found {
        let [
            table,
            name,
            column,
            ref_schema,
            ref_table,
            ref_column,
            on_update,
            on_delete,
        ] = cells::<8>(row);
        let (Some(table), Some(name)) = (table, name) else {
            continue;
        };
        let list = out.entry(table).or_default();
        if list.last().is_none_or(|f| f.name.as_deref() != Some(&name)) {
            list.push(ForeignKey {
                name: Some(name),
                columns: Vec::new(),
                ref_schema: ref_schema.unwrap_or_else(|| schema.to_string()),
                ref_table: ref_table.unwrap_or_default(),
                ref_columns: Vec::new(),
                on_update: on_update.unwrap_or_else(|| "RESTRICT".into()),
                on_delete: on_delete.unwrap_or_else(|| "RESTRICT".into()),
                deferrable: false,
                definition: None,
            });
        }
        if let Some(f) = list.last_mut() {
            f.columns.extend(column);
            f.ref_columns.extend(ref_column);
        }
    }
    for list in out.values_mut() {
        for f in list {
            let to = match f.ref_schema == schema {
                true => ident(&f.ref_table),
                false => format!("{}.{}", ident(&f.ref_schema), ident(&f.ref_table)),
            };
            let cols = |c: &[String]| c.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
            f.definition = Some(format!(
                "FOREIGN KEY ({}) REFERENCES {to} ({}) ON DELETE {} ON UPDATE {}",
                cols(&f.columns),
                cols(&f.ref_columns),
                f.on_delete,
                f.on_update
            ));
        }
    }
    Ok(out)
}

/// CHECK constraints (MariaDB names them per table, MySQL per schema).
async fn checks(
    conn: &mut Conn,
    schema: &str,
) -> Result<BTreeMap<String, Vec<Check>>, CatalogError> {
    let mariadb = "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE \
                   FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? \
                   ORDER BY BINARY TABLE_NAME, BINARY CONSTRAINT_NAME";
    let mysql = "SELECT t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE \
                 FROM information_schema.CHECK_CONSTRAINTS c \
                 JOIN information_schema.TABLE_CONSTRAINTS t \
                   ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA \
                  AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND t.CONSTRAINT_TYPE = 'CHECK' \
                 WHERE c.CONSTRAINT_SCHEMA = ? ORDER BY BINARY t.TABLE_NAME, BINARY c.CONSTRAINT_NAME";
    let found = match rows(conn, "checks", mariadb, vec![schema.into()]).await {
        Ok(r) => r,
        Err(_) => rows(conn, "checks", mysql, vec![schema.into()]).await?,
    };
    let mut out: BTreeMap<String, Vec<Check>> = BTreeMap::new();
    for row in found {
        let [table, name, clause] = cells::<3>(row);
        let (Some(table), Some(name)) = (table, name) else {
            continue;
        };
        out.entry(table).or_default().push(Check {
            name,
            definition: format!("CHECK ({})", clause.unwrap_or_default()),
        });
    }
    Ok(out)
}
