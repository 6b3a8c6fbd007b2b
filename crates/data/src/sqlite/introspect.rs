//! Reads a SQLite schema through `sqlite_master` and the table pragmas.

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::ident;
use crate::error::{DataError, Result};
use crate::schema::{Column, ForeignKey, Index, Kind, Schema, Table, UniqueKey};

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

pub fn read_schema(conn: &Connection) -> Result<Schema> {
    let e = |what: &'static str| DataError::sqlite(format!("reading the schema ({what})"));
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .map_err(e("tables"))?;
    let rows: Vec<(String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(e("tables"))?
        .collect::<Result<_, _>>()
        .map_err(e("tables"))?;
    let mut tables = Vec::new();
    for (name, sql) in rows {
        let q = ident(&name);
        let mut columns = Vec::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        let mut s = conn
            .prepare(&format!("PRAGMA table_xinfo({q})"))
            .map_err(e("columns"))?;
        let cols = s
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })
            .map_err(e("columns"))?;
        for c in cols {
            let (cname, decl, notnull, default, pkpos, hidden) = c.map_err(e("columns"))?;
            if pkpos > 0 {
                pk.push((pkpos, cname.clone()));
            }
            columns.push(Column {
                kind: kind_of_declared(&decl),
                sql_type: decl,
                nullable: notnull == 0 && pkpos == 0,
                default,
                identity: None,
                pg_oid: 0,
                generated: (hidden == 2 || hidden == 3).then(|| "generated".to_owned()),
                name: cname,
            });
        }
        pk.sort();
        let primary_key = (!pk.is_empty()).then(|| UniqueKey {
            name: format!("{name}_pkey"),
            columns: pk.into_iter().map(|(_, c)| c).collect(),
            definition: None,
        });

        let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        let mut s = conn
            .prepare(&format!("PRAGMA foreign_key_list({q})"))
            .map_err(e("foreign keys"))?;
        let list = s
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(e("foreign keys"))?;
        for f in list {
            let (id, ref_table, from, to) = f.map_err(e("foreign keys"))?;
            let fk = fks.entry(id).or_insert_with(|| ForeignKey {
                name: format!("{name}_fk{id}"),
                columns: vec![],
                ref_table,
                ref_columns: vec![],
                deferrable: false,
                definition: None,
            });
            fk.columns.push(from);
            fk.ref_columns.push(to.unwrap_or_default());
        }

        let mut uniques = Vec::new();
        let mut indexes = Vec::new();
        let mut s = conn
            .prepare(&format!("PRAGMA index_list({q})"))
            .map_err(e("indexes"))?;
        let idx: Vec<(String, bool, String)> = s
            .query_map([], |r| Ok((r.get(1)?, r.get::<_, i64>(2)? != 0, r.get(3)?)))
            .map_err(e("indexes"))?
            .collect::<Result<_, _>>()
            .map_err(e("indexes"))?;
        for (iname, unique, origin) in idx {
            let mut s = conn
                .prepare(&format!("PRAGMA index_info({})", ident(&iname)))
                .map_err(e("index columns"))?;
            let cols: Vec<Option<String>> = s
                .query_map([], |r| r.get(2))
                .map_err(e("index columns"))?
                .collect::<Result<_, _>>()
                .map_err(e("index columns"))?;
            let all_named = cols.iter().all(Option::is_some);
            let cols: Vec<String> = cols.into_iter().flatten().collect();
            match origin.as_str() {
                "pk" => {}
                "u" => uniques.push(UniqueKey {
                    name: iname,
                    columns: cols,
                    definition: None,
                }),
                _ => {
                    let sql: Option<String> = conn
                        .query_row(
                            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                            [&iname],
                            |r| r.get(0),
                        )
                        .map_err(e("index sql"))?;
                    indexes.push(Index {
                        name: iname,
                        columns: if all_named { cols } else { vec![] },
                        unique,
                        definition: sql,
                    });
                }
            }
        }
        tables.push(Table {
            name,
            columns,
            primary_key,
            uniques,
            foreign_keys: fks.into_values().collect(),
            indexes,
            checks: vec![],
            sqlite_sql: sql,
        });
    }
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
            if fk.ref_columns.iter().any(String::is_empty)
                && let Some(pk) = pks.get(&fk.ref_table)
            {
                fk.ref_columns = pk.clone();
            }
        }
    }
    Ok(Schema {
        engine: "sqlite".into(),
        namespace: "main".into(),
        tables,
        enums: vec![],
        sequences: vec![],
    })
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
        let s = read_schema(&c).unwrap();
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
}
