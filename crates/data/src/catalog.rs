//! The schema a copy works from, read through prodlike-catalog (the one reader of PostgreSQL's
//! and SQLite's catalogs) and cut down to data's model ([`crate::schema`]): the ordinary tables
//! of one schema, their logical column kinds, the keys and indexes to rebuild on the target,
//! the enum types and the sequences to carry over.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use prodlike_catalog::{self as catalog, Catalog, CatalogError, IndexOrigin, Options, Scope};
use rusqlite::Connection;
use tokio_postgres::Client;

use crate::error::{DataError, Result};
use crate::pg::codec::kind_of;
use crate::schema::{
    Check, Column, EnumType, ForeignKey, Index, Kind, Schema, Sequence, Table, UniqueKey,
};

/// Reads every ordinary table of namespace `ns`, inside the session's current transaction. The
/// session's search_path is set to `ns` first so that type names, defaults and constraint
/// definitions come out unqualified and can be replayed in another schema.
pub async fn read_postgres(client: &Client, ns: &str) -> Result<Schema> {
    client
        .batch_execute(&format!("SET search_path = {}", crate::pg::ident(ns)))
        .await
        .map_err(DataError::pg("reading the schema (search_path)"))?;
    let cat = catalog::postgres::read(client, &Options::schema(ns))
        .await
        .map_err(schema_error)?;
    Ok(from_postgres(cat, ns))
}

/// Reads the tables of a SQLite database.
pub fn read_sqlite(conn: &Connection) -> Result<Schema> {
    let cat = catalog::sqlite::read(conn, &Options::schema(catalog::sqlite::SCHEMA))
        .map_err(schema_error)?;
    Ok(from_sqlite(cat))
}

/// On-disk size of each table of namespace `ns` in bytes, from the catalog (no scan).
pub async fn table_sizes(client: &Client, ns: &str) -> Result<HashMap<String, u64>> {
    let sizes = catalog::postgres::table_sizes(client, &Scope::Schema(ns.to_string()))
        .await
        .map_err(|e| match e {
            CatalogError::Postgres { source, .. } => DataError::pg("reading table sizes")(source),
            other => schema_error(other),
        })?;
    Ok(sizes.into_iter().map(|s| (s.name, s.bytes)).collect())
}

fn schema_error(e: CatalogError) -> DataError {
    match e {
        CatalogError::Postgres { what, source } => {
            DataError::pg(format!("reading the schema ({what})"))(source)
        }
        CatalogError::Sqlite { what, source } => DataError::Sqlite {
            what: format!("reading the schema ({what})"),
            source,
        },
        CatalogError::NoSuchSchema { schema } => DataError::Invalid(format!(
            "schema `{schema}` does not exist in the source database; pass --schema with an existing one"
        )),
    }
}

/// Ordinary tables only (partitioned and foreign tables and partitions are not copied), and
/// foreign keys only between them.
fn from_postgres(cat: Catalog, ns: &str) -> Schema {
    let tables: Vec<catalog::Table> = cat
        .tables
        .into_iter()
        .filter(|t| t.kind == catalog::TableKind::Ordinary && !t.is_partition)
        .collect();
    let names: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let tables = tables
        .into_iter()
        .map(|mut t| {
            t.foreign_keys.retain(|fk| {
                let inside = fk.ref_schema == ns && names.contains(&fk.ref_table);
                if !inside {
                    tracing::warn!(
                        "foreign key {} references a table outside schema {ns}; it is not copied",
                        fk.name.as_deref().unwrap_or_default()
                    );
                }
                inside
            });
            convert_table(t, |c| {
                let (oid, text_like) = match &c.pg_type {
                    Some(ty) => (
                        ty.oid,
                        ty.kind == catalog::PgTypeKind::Enum
                            || matches!(ty.name.as_str(), "citext" | "ltree"),
                    ),
                    None => (0, false),
                };
                (kind_of(oid, text_like), oid)
            })
        })
        .collect();
    Schema {
        engine: "postgres".into(),
        namespace: ns.to_owned(),
        tables,
        enums: cat
            .enums
            .into_iter()
            .map(|e| EnumType {
                name: e.name,
                labels: e.labels,
            })
            .collect(),
        // Identity columns' sequences come back with their columns.
        sequences: cat
            .sequences
            .into_iter()
            .filter(|s| !s.identity)
            .map(|s| Sequence {
                name: s.name,
                owned_by: s.owned_by.map(|o| (o.table, o.column)),
            })
            .collect(),
    }
}

fn from_sqlite(cat: Catalog) -> Schema {
    let mut tables: Vec<Table> = cat
        .tables
        .into_iter()
        .filter(|t| !like_sqlite_underscore(&t.name))
        .map(|t| convert_table(t, |c| (kind_of_declared(&c.sql_type), 0)))
        .collect();
    // Foreign keys written `REFERENCES parent` (no column list) reference the parent's key.
    let pks: BTreeMap<String, Vec<String>> = tables
        .iter()
        .filter_map(|t| {
            t.primary_key
                .as_ref()
                .map(|p| (t.name.clone(), p.columns.clone()))
        })
        .collect();
    for t in &mut tables {
        for fk in &mut t.foreign_keys {
            if fk.ref_columns.is_empty() {
                fk.ref_columns = match pks.get(&fk.ref_table) {
                    Some(pk) => pk.clone(),
                    None => vec![String::new(); fk.columns.len()],
                };
            }
        }
    }
    Schema {
        engine: "sqlite".into(),
        namespace: "main".into(),
        tables,
        enums: vec![],
        sequences: vec![],
    }
}

/// Data has always skipped the tables whose names match SQL's `LIKE 'sqlite_%'`, where `_`
/// matches any one character (case-insensitively): `sqliteish` as well as SQLite's own
/// `sqlite_sequence`. The catalog leaves out only the latter; this keeps the copy's table set
/// as it was.
fn like_sqlite_underscore(name: &str) -> bool {
    name.chars().count() > "sqlite".len()
        && name
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("sqlite"))
}

/// A catalog table as data models it; `kind` gives a column's logical kind and PostgreSQL type
/// oid.
fn convert_table(t: catalog::Table, kind: impl Fn(&catalog::Column) -> (Kind, u32)) -> Table {
    let name = t.name;
    let key = |k: catalog::Key, fallback: String| UniqueKey {
        name: k.name.unwrap_or(fallback),
        columns: k.columns,
        definition: k.definition,
    };
    Table {
        columns: t
            .columns
            .into_iter()
            .map(|c| {
                let (kind, pg_oid) = kind(&c);
                Column {
                    kind,
                    pg_oid,
                    nullable: c.nullable,
                    default: c.default,
                    identity: c.identity.map(|i| match i {
                        catalog::Identity::Always => "always".into(),
                        catalog::Identity::ByDefault => "by_default".into(),
                    }),
                    // SQLite does not give the expression; data only needs to know the column
                    // is computed (it is never copied).
                    generated: c
                        .generated
                        .map(|g| g.expression.unwrap_or_else(|| "generated".into())),
                    sql_type: c.sql_type,
                    name: c.name,
                }
            })
            .collect(),
        primary_key: t.primary_key.map(|k| key(k, format!("{name}_pkey"))),
        uniques: t
            .uniques
            .into_iter()
            .map(|k| key(k, format!("{name}_key")))
            .collect(),
        // SQLite's keys are unnamed; they are numbered as `PRAGMA foreign_key_list` does.
        foreign_keys: t
            .foreign_keys
            .into_iter()
            .enumerate()
            .map(|(i, fk)| ForeignKey {
                name: fk.name.unwrap_or_else(|| format!("{name}_fk{i}")),
                columns: fk.columns,
                ref_table: fk.ref_table,
                ref_columns: fk.ref_columns,
                deferrable: fk.deferrable,
                definition: fk.definition,
            })
            .collect(),
        // Indexes that back a key are made with the key.
        indexes: t
            .indexes
            .into_iter()
            .filter(|i| i.origin == IndexOrigin::Created)
            .map(|i| Index {
                columns: i.column_names().unwrap_or_default(),
                name: i.name,
                unique: i.unique,
                definition: i.definition,
            })
            .collect(),
        checks: t
            .checks
            .into_iter()
            .map(|c| Check {
                name: c.name,
                definition: c.definition,
            })
            .collect(),
        sqlite_sql: t.create_sql,
        name,
    }
}

/// Logical kind from a declared type, following SQLite's affinity rules plus the usual names
/// for dates, booleans, UUIDs and JSON.
pub fn kind_of_declared(decl: &str) -> Kind {
    let t = decl.to_ascii_uppercase();
    if t.contains("BOOL") {
        Kind::Bool
    } else if t.contains("DATETIME") || t.contains("TIMESTAMP") {
        Kind::Timestamp
    } else if t.contains("DATE") {
        Kind::Date
    } else if t.contains("UUID") {
        Kind::Uuid
    } else if t.contains("JSON") {
        Kind::Json
    } else if t.contains("INT") {
        Kind::Int
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") || t.is_empty() {
        Kind::Text
    } else if t.contains("BLOB") {
        Kind::Bytes
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        Kind::Float
    } else if t.contains("INET") {
        Kind::Inet
    } else if t == "TIME" {
        Kind::Time
    } else {
        Kind::Decimal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_cycles_and_implicit_references() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, address_id INT REFERENCES addresses, referred_by INTEGER REFERENCES users(id), born DATE);
             CREATE TABLE addresses (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), line TEXT);
             CREATE TABLE items (order_id INT, n INT, qty INT, PRIMARY KEY (order_id, n));
             CREATE INDEX addresses_user ON addresses(user_id);",
        )
        .unwrap();
        let s = read_sqlite(&c).unwrap();
        let users = s.table("users").unwrap();
        assert_eq!(users.primary_key.as_ref().unwrap().columns, vec!["id"]);
        assert_eq!(users.uniques[0].columns, vec!["email"]);
        assert_eq!(users.column("born").unwrap().kind, Kind::Date);
        let to_addr = users
            .foreign_keys
            .iter()
            .find(|f| f.ref_table == "addresses")
            .unwrap();
        assert_eq!(to_addr.ref_columns, vec!["id"]);
        assert!(users.foreign_keys.iter().any(|f| f.ref_table == "users"));
        assert_eq!(
            s.table("items").unwrap().identity().unwrap(),
            vec!["order_id", "n"]
        );
        assert_eq!(
            s.table("addresses").unwrap().indexes[0].columns,
            vec!["user_id"]
        );
        assert!(s.cyclic_tables().contains("addresses"));
    }

    #[test]
    fn sqlite_internal_names_are_skipped_as_before() {
        assert!(like_sqlite_underscore("sqlite_sequence"));
        assert!(like_sqlite_underscore("SQLiteish"));
        assert!(!like_sqlite_underscore("sqlite"));
        assert!(!like_sqlite_underscore("users"));
        assert!(!like_sqlite_underscore("sqlitë"));
    }
}
