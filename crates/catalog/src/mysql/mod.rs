//! The MySQL and MariaDB reader: the one place that queries `information_schema` (and the
//! `SHOW CREATE` statements) of a MySQL-protocol server, into the same [`Catalog`] as the
//! PostgreSQL and SQLite readers.
//!
//! A MySQL schema is a database. [`read`] takes a connected [`Conn`] (the caller's session) and
//! reads, for [`Scope::Schema`] (one database) or [`Scope::UserSchemas`] (every database but
//! `mysql`, `sys`, `information_schema` and `performance_schema`): base tables with their
//! columns (`COLUMN_TYPE` as the type: `int(10) unsigned`, `enum('a','b')`, `set(…)`),
//! AUTO_INCREMENT columns ([`crate::Identity::AutoIncrement`]) and positions
//! ([`crate::Table::auto_increment`]), primary and unique keys, indexes, foreign keys, checks,
//! `SHOW CREATE TABLE` ([`crate::Table::create_sql`]); views; triggers and routines
//! ([`crate::SchemaObjects`]); each table's engine, collation and row format as its relation
//! settings; and on request the server's version and the variables not at their compiled-in
//! defaults (but those naming the host's own files and identity, [`HOST_IDENTITY`]), with the database's own character set and collation as `character_set_database`
//! and `collation_database`.
//!
//! Definitions (views, triggers, routines) are written without their `DEFINER` and without
//! their own database's name, so they replay in another database under another user.
//! MariaDB's sequences and system-versioned tables are listed as undescribed.
mod objects;
mod tables;
pub mod url;

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value as MyValue};

use crate::error::CatalogError;
use crate::model::{Catalog, Engine, Server};
use crate::options::{Options, Scope};

/// Databases that belong to the server, never to an application.
pub const SYSTEM_SCHEMAS: &[&str] = &["information_schema", "mysql", "performance_schema", "sys"];

/// One result row as text (`None` for NULL).
pub(crate) type Cells = Vec<Option<String>>;

/// Reads the catalog through `conn`.
pub async fn read(conn: &mut Conn, options: &Options) -> Result<Catalog, CatalogError> {
    // MySQL 8 serves information_schema.TABLES' AUTO_INCREMENT and row counts from a cache kept
    // for a day by default: positions read from it would be stale. MariaDB has no such cache
    // (nor the variable: the error is expected there).
    let _ = conn
        .query_drop("SET SESSION information_schema_stats_expiry = 0")
        .await;
    let schemas = schemas(conn, &options.scope).await?;
    let mut catalog = Catalog {
        engine: Engine::Mysql,
        server: None,
        tables: Vec::new(),
        views: Vec::new(),
        sequences: Vec::new(),
        enums: Vec::new(),
        objects: Default::default(),
        domains: Vec::new(),
        composites: Vec::new(),
    };
    for schema in &schemas {
        tables::read(conn, schema, &mut catalog).await?;
        objects::read(conn, schema, &mut catalog).await?;
    }
    if options.server {
        let mut server = server(conn).await?;
        if let Scope::Schema(name) = &options.scope {
            database_settings(conn, name, &mut server.settings).await?;
        }
        catalog.server = Some(server);
    }
    Ok(catalog)
}

/// The databases in scope; a named one that does not exist is refused.
async fn schemas(conn: &mut Conn, scope: &Scope) -> Result<Vec<String>, CatalogError> {
    let all: Vec<String> = rows(
        conn,
        "schemas",
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME",
        Vec::new(),
    )
    .await?
    .into_iter()
    .filter_map(|mut r| r.pop().flatten())
    .collect();
    match scope {
        Scope::Schema(name) => match all.iter().any(|s| s == name) {
            true => Ok(vec![name.clone()]),
            false => Err(CatalogError::NoSuchSchema {
                schema: name.clone(),
            }),
        },
        Scope::UserSchemas => Ok(all
            .into_iter()
            .filter(|s| !SYSTEM_SCHEMAS.contains(&s.to_ascii_lowercase().as_str()))
            .collect()),
    }
}

/// Variables that name this host's own files, address and identity: they differ between any
/// two servers by construction (like PostgreSQL's `data_directory`, which `pg_settings` reports
/// as `override`), so they are not configuration to compare.
pub const HOST_IDENTITY: &[&str] = &[
    "basedir",
    "character_sets_dir",
    "datadir",
    "general_log_file",
    "hostname",
    "innodb_data_home_dir",
    "innodb_log_group_home_dir",
    "innodb_undo_directory",
    "lc_messages_dir",
    "log_bin_basename",
    "log_bin_index",
    "log_error",
    "pid_file",
    "plugin_dir",
    "port",
    "relay_log",
    "relay_log_basename",
    "relay_log_index",
    "report_host",
    "report_port",
    "server_id",
    "server_uuid",
    "slave_load_tmpdir",
    "slow_query_log_file",
    "socket",
    "tmpdir",
];

/// Version and the global variables not at their compiled-in defaults (MariaDB:
/// `SYSTEM_VARIABLES.GLOBAL_VALUE_ORIGIN`; MySQL 8: `performance_schema.variables_info`), but
/// those of [`HOST_IDENTITY`].
async fn server(conn: &mut Conn) -> Result<Server, CatalogError> {
    let version = rows(conn, "server version", "SELECT VERSION()", Vec::new())
        .await?
        .into_iter()
        .next()
        .and_then(|mut r| r.pop().flatten())
        .unwrap_or_default();
    // `10.11.19-MariaDB-0+deb12u1` → `10.11.19-MariaDB`; `8.0.36` stays.
    let short = match version.find("-MariaDB") {
        Some(i) => version[..i + "-MariaDB".len()].to_string(),
        None => version.split('-').next().unwrap_or(&version).to_string(),
    };
    let major = short
        .split(['.', '-'])
        .next()
        .and_then(|m| m.parse::<i64>().ok())
        .unwrap_or(0);
    let mariadb = "SELECT LOWER(VARIABLE_NAME), GLOBAL_VALUE FROM information_schema.SYSTEM_VARIABLES \
                   WHERE GLOBAL_VALUE_ORIGIN <> 'COMPILE-TIME' ORDER BY 1";
    let mysql = "SELECT LOWER(vi.VARIABLE_NAME), gv.VARIABLE_VALUE \
                 FROM performance_schema.variables_info vi \
                 JOIN performance_schema.global_variables gv ON gv.VARIABLE_NAME = vi.VARIABLE_NAME \
                 WHERE vi.VARIABLE_SOURCE <> 'COMPILED' ORDER BY 1";
    // Chosen by the server's kind, not by trying one and then the other: a failure of the
    // right query is then reported as itself, not as the other kind's missing table.
    let query = if version.contains("MariaDB") {
        mariadb
    } else {
        mysql
    };
    let found = rows(conn, "settings", query, Vec::new()).await?;
    let settings = found
        .into_iter()
        .filter_map(|r| {
            let mut it = r.into_iter();
            let name = it.next().flatten()?;
            if HOST_IDENTITY.contains(&name.as_str()) {
                return None;
            }
            Some((name, it.next().flatten().unwrap_or_default()))
        })
        .collect();
    Ok(Server {
        version: short,
        major,
        settings,
        ..Server::default()
    })
}

/// The database's own defaults, which every table created in it gets.
async fn database_settings(
    conn: &mut Conn,
    schema: &str,
    settings: &mut BTreeMap<String, String>,
) -> Result<(), CatalogError> {
    let found = rows(
        conn,
        "settings",
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME \
         FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        vec![schema.into()],
    )
    .await?;
    if let Some(r) = found.into_iter().next() {
        let mut it = r.into_iter();
        settings.insert(
            "character_set_database".into(),
            it.next().flatten().unwrap_or_default(),
        );
        settings.insert(
            "collation_database".into(),
            it.next().flatten().unwrap_or_default(),
        );
    }
    Ok(())
}

/// Runs one catalog query (prepared, so names are parameters) and returns its rows as text.
pub(crate) async fn rows(
    conn: &mut Conn,
    what: &'static str,
    sql: &str,
    params: Vec<MyValue>,
) -> Result<Vec<Cells>, CatalogError> {
    let found: Vec<mysql_async::Row> = match params.is_empty() {
        true => conn.query(sql).await,
        false => conn.exec(sql, params).await,
    }
    .map_err(CatalogError::mysql(what))?;
    Ok(found
        .into_iter()
        .map(|r| r.unwrap().into_iter().map(text).collect())
        .collect())
}

/// A value of a catalog query as text.
fn text(v: MyValue) -> Option<String> {
    match v {
        MyValue::NULL => None,
        MyValue::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        MyValue::Int(i) => Some(i.to_string()),
        MyValue::UInt(u) => Some(u.to_string()),
        MyValue::Float(f) => Some(f.to_string()),
        MyValue::Double(f) => Some(f.to_string()),
        other => Some(other.as_sql(true)),
    }
}

/// `` `name` `` with backticks doubled.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `definition` without `DEFINER=user@host` and without `` `schema`. `` qualifiers of the
/// database it was read from, so it can be replayed in another database by another user.
pub fn portable(definition: &str, schema: &str) -> String {
    let qualifier = format!("{}.", ident(schema));
    let mut out = definition.replace(&qualifier, "");
    while let Some(start) = out.find("DEFINER=") {
        let rest = &out[start + "DEFINER=".len()..];
        let len = definer_len(rest);
        let mut end = start + "DEFINER=".len() + len;
        if out[end..].starts_with(' ') {
            end += 1;
        }
        out.replace_range(start..end, "");
    }
    out
}

/// Length of `` `user`@`host` `` (or unquoted `user@host`) at the start of `s`.
fn definer_len(s: &str) -> usize {
    let mut i = 0;
    let bytes = s.as_bytes();
    for part in 0..2 {
        if part == 1 {
            match bytes.get(i) {
                Some(b'@') => i += 1,
                _ => return i,
            }
        }
        match bytes.get(i) {
            Some(b'`') => {
                i += 1;
                while let Some(&b) = bytes.get(i) {
                    i += 1;
                    if b == b'`' {
                        if bytes.get(i) == Some(&b'`') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            _ => {
                while let Some(&b) = bytes.get(i) {
                    if b == b'@' || b == b' ' {
                        break;
                    }
                    i += 1;
                }
            }
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn portable_drops_definer_and_own_schema() {
        let def = "CREATE DEFINER=`root`@`localhost` PROCEDURE `p`() SELECT * FROM `shop`.`orders`";
        assert_eq!(
            portable(def, "shop"),
            "CREATE PROCEDURE `p`() SELECT * FROM `orders`"
        );
        assert_eq!(
            portable(
                "CREATE DEFINER=ann@`%` FUNCTION f() RETURNS int RETURN 1",
                "x"
            ),
            "CREATE FUNCTION f() RETURNS int RETURN 1"
        );
        assert_eq!(
            portable("select `other`.`t`.`a`", "shop"),
            "select `other`.`t`.`a`"
        );
    }

    proptest! {
        #[test]
        fn portable_never_panics(s in ".{0,80}") {
            let _ = portable(&s, "shop");
            let _ = portable(&format!("DEFINER={s}"), "shop");
        }
    }
}
