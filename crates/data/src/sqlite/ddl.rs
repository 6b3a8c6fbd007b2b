//! DDL for a SQLite target: the source's own statements when it is SQLite, mapped types and
//! inline constraints when it is PostgreSQL.

use super::ident;
use crate::schema::{Kind, Schema, Table};

fn cols(list: &[String]) -> String {
    list.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
}

fn sqlite_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Bool => "BOOLEAN",
        Kind::Int => "INTEGER",
        Kind::Float => "REAL",
        Kind::Decimal => "NUMERIC",
        Kind::Text | Kind::Other | Kind::Time => "TEXT",
        Kind::Bytes => "BLOB",
        Kind::Date => "DATE",
        Kind::Timestamp | Kind::TimestampTz => "TIMESTAMP",
        Kind::Uuid => "UUID TEXT",
        Kind::Json => "JSON",
        Kind::Inet => "INET TEXT",
    }
}

/// `CREATE TABLE` for `t`, constraints inline (SQLite cannot add them later).
pub fn create_table(schema: &Schema, t: &Table, tables: &[&Table]) -> String {
    if schema.engine == "sqlite"
        && let Some(sql) = &t.sqlite_sql
    {
        return sql.clone();
    }
    let mut parts: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                ident(&c.name),
                sqlite_type(c.kind),
                if c.nullable { "" } else { " NOT NULL" }
            )
        })
        .collect();
    if let Some(pk) = &t.primary_key {
        parts.push(format!("PRIMARY KEY ({})", cols(&pk.columns)));
    }
    for u in &t.uniques {
        parts.push(format!("UNIQUE ({})", cols(&u.columns)));
    }
    for fk in &t.foreign_keys {
        if !tables.iter().any(|x| x.name == fk.ref_table) {
            continue;
        }
        parts.push(format!(
            "FOREIGN KEY ({}) REFERENCES {} ({}){}",
            cols(&fk.columns),
            ident(&fk.ref_table),
            cols(&fk.ref_columns),
            if fk.deferrable {
                " DEFERRABLE INITIALLY DEFERRED"
            } else {
                ""
            }
        ));
    }
    format!("CREATE TABLE {} ({})", ident(&t.name), parts.join(", "))
}

/// Index statements for `t`, run after its rows are in.
pub fn create_indexes(schema: &Schema, t: &Table) -> Vec<String> {
    t.indexes
        .iter()
        .filter_map(|i| match (&i.definition, schema.engine.as_str()) {
            (Some(sql), "sqlite") => Some(sql.clone()),
            _ if !i.columns.is_empty() => Some(format!(
                "CREATE {}INDEX {} ON {} ({})",
                if i.unique { "UNIQUE " } else { "" },
                ident(&i.name),
                ident(&t.name),
                cols(&i.columns)
            )),
            _ => None,
        })
        .collect()
}
