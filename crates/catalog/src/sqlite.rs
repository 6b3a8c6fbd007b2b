//! The SQLite reader: the one place that reads `sqlite_master` and the table pragmas.
//!
//! It takes an open [`Connection`] (read-only is enough) and reads the `main` database: tables
//! (SQLite's own `sqlite_*` tables left out) with their columns, keys, foreign keys and
//! indexes, and views. SQLite keeps no sequences, enum types or extensions in the file; CHECK
//! constraints stay inside [`crate::Table::create_sql`].
use std::collections::{BTreeMap, HashMap};

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;

use crate::error::CatalogError;
use crate::model::{
    Catalog, Column, Engine, ForeignKey, Generated, Index, IndexKey, IndexOrigin, Key, Server,
    Table, TableKind, View,
};
use crate::options::Options;

/// The only schema of a SQLite catalog.
pub const SCHEMA: &str = "main";

/// The pragmas that are stored in the file, and so belong to the database rather than to a
/// connection.
const FILE_PRAGMAS: &[&str] = &[
    "application_id",
    "auto_vacuum",
    "encoding",
    "journal_mode",
    "page_size",
    "user_version",
];

/// Reads the catalog of `conn`'s main database. [`Options::scope`] does not apply (there is
/// one schema).
pub fn read(conn: &Connection, options: &Options) -> Result<Catalog, CatalogError> {
    let e = CatalogError::sqlite;
    let mut stmt = conn
        .prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view') \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .map_err(e("tables"))?;
    let rows: Vec<(String, String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(e("tables"))?
        .collect::<Result<_, _>>()
        .map_err(e("tables"))?;
    let index_sql = index_sql(conn)?;
    let mut tables = Vec::new();
    let mut views = Vec::new();
    for (kind, name, sql) in rows {
        if kind == "view" {
            views.push(View {
                schema: SCHEMA.to_string(),
                name,
                materialized: false,
                definition: sql.unwrap_or_default(),
                indexes: Vec::new(),
                extension_member: false,
            });
        } else {
            tables.push(table(conn, name, sql, &index_sql)?);
        }
    }
    let server = match options.server {
        true => Some(server(conn)?),
        false => None,
    };
    Ok(Catalog {
        engine: Engine::Sqlite,
        server,
        tables,
        views,
        sequences: Vec::new(),
        enums: Vec::new(),
        objects: Default::default(),
        domains: Vec::new(),
        composites: Vec::new(),
    })
}

/// Every index's stored `CREATE INDEX` (NULL for the ones SQLite makes for keys).
fn index_sql(conn: &Connection) -> Result<HashMap<String, Option<String>>, CatalogError> {
    let e = CatalogError::sqlite;
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
        .map_err(e("index sql"))?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(e("index sql"))?
        .collect::<Result<_, _>>()
        .map_err(e("index sql"))
}

fn table(
    conn: &Connection,
    name: String,
    sql: Option<String>,
    index_sql: &HashMap<String, Option<String>>,
) -> Result<Table, CatalogError> {
    let (columns, primary_key) = columns(conn, &name)?;
    let (uniques, indexes) = indexes(conn, &name, index_sql)?;
    Ok(Table {
        schema: SCHEMA.to_string(),
        foreign_keys: foreign_keys(conn, &name)?,
        name,
        kind: TableKind::Ordinary,
        is_partition: false,
        partition_of: None,
        partition_key: None,
        inherits: Vec::new(),
        inherited: Vec::new(),
        extension_member: false,
        columns,
        primary_key,
        uniques,
        checks: Vec::new(),
        other_constraints: Vec::new(),
        indexes,
        create_sql: sql,
        auto_increment: None,
    })
}

/// Columns in order (hidden and generated ones included), and the primary key they form.
fn columns(conn: &Connection, table: &str) -> Result<(Vec<Column>, Option<Key>), CatalogError> {
    let e = CatalogError::sqlite;
    let mut stmt = conn
        .prepare(
            "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) \
             ORDER BY cid",
        )
        .map_err(e("columns"))?;
    let rows = stmt
        .query_map([table], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .map_err(e("columns"))?;
    let mut columns = Vec::new();
    let mut pk: Vec<(i64, String)> = Vec::new();
    for row in rows {
        let (name, sql_type, notnull, default, pk_pos, hidden) = row.map_err(e("columns"))?;
        if pk_pos > 0 {
            pk.push((pk_pos, name.clone()));
        }
        columns.push(Column {
            name,
            sql_type,
            pg_type: None,
            // SQLite lets a primary-key column hold NULL in old files, but no one means it.
            nullable: notnull == 0 && pk_pos == 0,
            default,
            // table_xinfo's hidden: 1 a virtual table's hidden column, 2 virtual generated,
            // 3 stored generated.
            generated: matches!(hidden, 2 | 3).then_some(Generated {
                expression: None,
                stored: hidden == 3,
            }),
            identity: None,
            collation: None,
            hidden: hidden == 1,
        });
    }
    pk.sort();
    let primary_key = (!pk.is_empty()).then(|| Key {
        name: None,
        columns: pk.into_iter().map(|(_, c)| c).collect(),
        definition: None,
    });
    Ok((columns, primary_key))
}

/// Foreign keys in `PRAGMA foreign_key_list` id order.
fn foreign_keys(conn: &Connection, table: &str) -> Result<Vec<ForeignKey>, CatalogError> {
    let e = CatalogError::sqlite;
    let mut stmt = conn
        .prepare(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
             FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )
        .map_err(e("foreign keys"))?;
    let rows = stmt
        .query_map([table], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(e("foreign keys"))?;
    let mut keys: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    for row in rows {
        let (id, ref_table, from, to, on_update, on_delete) = row.map_err(e("foreign keys"))?;
        let key = keys.entry(id).or_insert_with(|| ForeignKey {
            name: None,
            columns: Vec::new(),
            ref_schema: SCHEMA.to_string(),
            ref_table,
            ref_columns: Vec::new(),
            on_update,
            on_delete,
            deferrable: false,
            definition: None,
        });
        key.columns.push(from);
        // `REFERENCES parent` names no columns: every `to` is NULL, and ref_columns stays empty.
        key.ref_columns.extend(to);
    }
    Ok(keys.into_values().collect())
}

/// UNIQUE constraints and every index, in `PRAGMA index_list` order.
fn indexes(
    conn: &Connection,
    table: &str,
    index_sql: &HashMap<String, Option<String>>,
) -> Result<(Vec<Key>, Vec<Index>), CatalogError> {
    let e = CatalogError::sqlite;
    let mut stmt = conn
        .prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1) ORDER BY seq")
        .map_err(e("indexes"))?;
    let list: Vec<(String, bool, String)> = stmt
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? != 0, r.get(2)?))
        })
        .map_err(e("indexes"))?
        .collect::<Result<_, _>>()
        .map_err(e("indexes"))?;
    let mut uniques = Vec::new();
    let mut indexes = Vec::new();
    for (name, unique, origin) in list {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
            .map_err(e("index columns"))?;
        let columns: Vec<IndexKey> = stmt
            .query_map([&name], |r| r.get::<_, Option<String>>(0))
            .map_err(e("index columns"))?
            .map(|c| c.map(|c| c.map_or(IndexKey::Expression, IndexKey::Column)))
            .collect::<Result<_, _>>()
            .map_err(e("index columns"))?;
        let origin = match origin.as_str() {
            "pk" => IndexOrigin::PrimaryKey,
            "u" => IndexOrigin::Unique,
            _ => IndexOrigin::Created,
        };
        if origin == IndexOrigin::Unique {
            uniques.push(Key {
                name: Some(name.clone()),
                columns: columns
                    .iter()
                    .filter_map(|k| match k {
                        IndexKey::Column(c) => Some(c.clone()),
                        IndexKey::Expression => None,
                    })
                    .collect(),
                definition: None,
            });
        }
        indexes.push(Index {
            definition: index_sql.get(&name).cloned().flatten(),
            name,
            columns,
            unique,
            origin,
        });
    }
    Ok((uniques, indexes))
}

/// The library's version and the pragmas stored in the file.
fn server(conn: &Connection) -> Result<Server, CatalogError> {
    let e = CatalogError::sqlite;
    let version: String = conn
        .query_row("SELECT sqlite_version()", [], |r| r.get(0))
        .map_err(e("server version"))?;
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<i64>().ok())
        .unwrap_or(0);
    let mut settings = BTreeMap::new();
    for pragma in FILE_PRAGMAS {
        let v: SqlValue = conn
            .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
            .map_err(e("settings"))?;
        let text = match v {
            SqlValue::Integer(i) => i.to_string(),
            SqlValue::Text(t) => t,
            SqlValue::Real(f) => f.to_string(),
            SqlValue::Null | SqlValue::Blob(_) => String::new(),
        };
        settings.insert(pragma.to_string(), text);
    }
    Ok(Server {
        version,
        major,
        settings,
        ..Server::default()
    })
}
