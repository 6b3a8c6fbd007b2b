//! SQLite snapshot: version, the pragmas stored in the file, tables with columns, indexes,
//! keys and foreign keys, and views. SQLite has no extensions or sequences in the file.
use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{map, put, s};
use crate::error::DriftError;
use crate::tree::Node;

/// One foreign key: referenced table, local columns, referenced columns, ON UPDATE, ON DELETE.
type ForeignKey = (String, Vec<String>, Vec<String>, String, String);

pub fn snapshot(url: &str, path: &str) -> Result<Vec<(String, Node)>, DriftError> {
    let err = |message: String| DriftError::Schema {
        url: url.to_string(),
        message,
    };
    if path.is_empty() {
        return Err(err("no file: write sqlite://path/to/file.db".into()));
    }
    if !Path::new(path).is_file() {
        return Err(err(format!("{path} is not a file")));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| err(e.to_string()))?;
    read(&conn).map_err(|e| err(e.to_string()))
}

fn read(conn: &Connection) -> rusqlite::Result<Vec<(String, Node)>> {
    let mut out = Vec::new();
    let version: String = conn.query_row("SELECT sqlite_version()", [], |r| r.get(0))?;
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<i64>().ok())
        .unwrap_or(0);
    out.push((
        "server".to_string(),
        map([
            ("engine".to_string(), s("sqlite")),
            ("version".to_string(), s(version)),
            ("major".to_string(), Node::Int(major.into())),
        ]),
    ));

    let mut settings = BTreeMap::new();
    for pragma in [
        "application_id",
        "auto_vacuum",
        "encoding",
        "journal_mode",
        "page_size",
        "user_version",
    ] {
        let v: rusqlite::types::Value =
            conn.query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))?;
        let text = match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            rusqlite::types::Value::Real(f) => f.to_string(),
            _ => String::new(),
        };
        settings.insert(pragma.to_string(), s(text));
    }
    out.push(("settings".to_string(), Node::Map(settings)));

    let mut objects: BTreeMap<String, BTreeMap<String, Node>> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT type, name, coalesce(sql, '') FROM sqlite_master \
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
    )?;
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, name, sql) in rows {
        if kind == "view" {
            let mut m = BTreeMap::new();
            m.insert(
                "definition".to_string(),
                s(sql.split_whitespace().collect::<Vec<_>>().join(" ")),
            );
            objects.insert(format!("view main.{name}"), m);
            continue;
        }
        let object = format!("table main.{name}");
        objects.entry(object.clone()).or_default();
        let mut cols = conn.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid")?;
        let mut pk: Vec<(i64, String)> = Vec::new();
        for col in cols.query_map([&name], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })? {
            let (col, ty, notnull, default, pk_pos) = col?;
            let mut c = BTreeMap::new();
            c.insert("type".to_string(), s(ty));
            c.insert(
                "nullable".to_string(),
                Node::Bool(notnull == 0 && pk_pos == 0),
            );
            if let Some(d) = default {
                c.insert("default".to_string(), s(d));
            }
            if pk_pos > 0 {
                pk.push((pk_pos, col.clone()));
            }
            put(&mut objects, object.clone(), "columns", col, Node::Map(c));
        }
        if !pk.is_empty() {
            pk.sort();
            let cols: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
            let value = map([
                ("type".to_string(), s("primary key")),
                (
                    "definition".to_string(),
                    s(format!("PRIMARY KEY ({})", cols.join(", "))),
                ),
            ]);
            put(
                &mut objects,
                object.clone(),
                "constraints",
                "primary key".to_string(),
                value,
            );
        }
        let mut idx = conn
            .prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1) ORDER BY name")?;
        let indexes: Vec<(String, i64, String)> = idx
            .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (index, unique, origin) in indexes {
            let mut ic = conn.prepare(
                "SELECT coalesce(name, '<expr>') FROM pragma_index_info(?1) ORDER BY seqno",
            )?;
            let cols: Vec<String> = ic
                .query_map([&index], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let sql: Option<String> = conn
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                    [&index],
                    |r| r.get(0),
                )
                .ok()
                .flatten();
            let def = sql
                .map(|q| q.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|| {
                    format!(
                        "{}INDEX ON {name} ({})",
                        if unique != 0 { "UNIQUE " } else { "" },
                        cols.join(", ")
                    )
                });
            // Automatic indexes are named by position (`sqlite_autoindex_t_1`); key them by
            // what they index so their numbering does not show as drift.
            let key = if index.starts_with("sqlite_autoindex_") {
                format!("{origin}({})", cols.join(", "))
            } else {
                index
            };
            put(&mut objects, object.clone(), "indexes", key, s(def));
        }
        let mut fk = conn.prepare("SELECT id, \"table\", \"from\", coalesce(\"to\", ''), on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq")?;
        let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        for row in fk.query_map([&name], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })? {
            let (id, table, from, to, upd, del) = row?;
            let e = fks
                .entry(id)
                .or_insert_with(|| (table, Vec::new(), Vec::new(), upd, del));
            e.1.push(from);
            e.2.push(to);
        }
        for (_, (table, from, to, upd, del)) in fks {
            let def = format!(
                "FOREIGN KEY ({}) REFERENCES {table}({}) ON UPDATE {upd} ON DELETE {del}",
                from.join(", "),
                to.join(", ")
            );
            let key = format!("foreign key ({})", from.join(", "));
            let value = map([
                ("type".to_string(), s("foreign key")),
                ("definition".to_string(), s(def)),
            ]);
            put(&mut objects, object.clone(), "constraints", key, value);
        }
    }
    out.extend(objects.into_iter().map(|(k, v)| (k, Node::Map(v))));
    Ok(out)
}
