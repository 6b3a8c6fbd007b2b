//! Live schema drift: a database's catalog is read by prodlike-catalog, turned into objects
//! (`server`, `settings`, `extensions`, `table s.t`, `sequence s.q`, `view s.v`, ...;
//! [`objects`]) and compared like configuration files, under the same rules
//! (`object = "settings"`, `path = "work_mem"`). This file connects and opens the databases.
mod more;
mod objects;

use std::collections::BTreeMap;
use std::path::Path;

use prodlike_catalog::{Catalog, Options};
use prodlike_common::redact::redact_url;
use rusqlite::{Connection, OpenFlags};
use tokio_postgres::NoTls;

use crate::error::DriftError;
use crate::formats::Format;
use crate::report::{DriftReport, Mode};
use crate::rules::RuleSet;
use crate::source::{Object, Source};
use crate::tree::Node;

/// Helpers for tests of crates that depend on this one (the CLI's tests create SQLite files
/// without a SQLite dependency of their own).
#[doc(hidden)]
pub mod testing {
    /// Creates (or opens) a SQLite file and runs `sql` in it.
    pub fn execute_sqlite(path: &std::path::Path, sql: &str) -> Result<(), String> {
        let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
        conn.execute_batch(sql).map_err(|e| e.to_string())
    }
}

/// What the findings of a schema comparison name as their file.
pub const SCHEMA_FILE: &str = "schema";

/// Snapshots both databases and compares them.
pub async fn compare_schemas(
    baseline_url: &str,
    candidate_url: &str,
    rules: &RuleSet,
    rules_file: Option<String>,
) -> Result<DriftReport, DriftError> {
    let b = snapshot(baseline_url, rules, true).await?;
    let c = snapshot(candidate_url, rules, false).await?;
    Ok(crate::compare::compare_sources(
        vec![(Some(b), Some(c))],
        Mode::Schema,
        &redact_url(baseline_url),
        &redact_url(candidate_url),
        rules,
        rules_file,
    ))
}

/// Reads one database (`postgres://…`, `postgresql://…`, `mysql://…`, `mariadb://…` or
/// `sqlite://path`) into objects.
/// The baseline's grants are read through `[grants] map` (its roles named as the candidate's).
pub async fn snapshot(url: &str, rules: &RuleSet, baseline: bool) -> Result<Source, DriftError> {
    let mut extras = more::Extras {
        sequence_positions: rules.sequence_positions,
        grant_map: if baseline {
            rules.grant_map.clone()
        } else {
            BTreeMap::new()
        },
        ..more::Extras::default()
    };
    let catalog = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (catalog, privileges) = read_postgres(url).await?;
        extras.privileges = privileges;
        catalog
    } else if prodlike_catalog::mysql::url::is_mysql_url(url) {
        read_mysql(url).await?
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        read_sqlite(url, path)?
    } else {
        return Err(DriftError::UnsupportedUrl {
            url: redact_url(url),
        });
    };
    let objects = objects::objects(&catalog, &extras)
        .into_iter()
        .map(|(name, node)| {
            // Setting values can be secrets (a password in a connection string); schema names
            // are metadata and stay readable.
            let node = if name == "settings" || name == "role settings" {
                rules.secrets.mask(node, false)
            } else {
                with_table_sections(&name, node)
            };
            Object {
                pos: None,
                key: name.clone(),
                display: name,
                node,
            }
        })
        .collect();
    Ok(Source {
        rel: SCHEMA_FILE.to_string(),
        format: Format::Text,
        text: None,
        objects,
    })
}

/// Every table has its three sections, so an index missing on one side is reported by name,
/// not as a missing `indexes` section.
fn with_table_sections(name: &str, node: Node) -> Node {
    match node {
        Node::Map(mut m) if name.starts_with("table ") => {
            for section in ["columns", "indexes", "constraints", "triggers"] {
                m.entry(section.to_string())
                    .or_insert_with(|| Node::Map(BTreeMap::new()));
            }
            Node::Map(m)
        }
        other => other,
    }
}

/// Privileges per schema, as read for the grants objects.
type SchemaPrivileges = Vec<(String, Vec<prodlike_catalog::Privilege>)>;

/// Connects, reads the whole catalog (every user schema, the server's state) and the
/// privileges on every schema that holds something, disconnects.
async fn read_postgres(url: &str) -> Result<(Catalog, SchemaPrivileges), DriftError> {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|source| DriftError::Connect {
            url: redact_url(url),
            source,
        })?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let result = read_with_privileges(&client).await;
    drop(client);
    let _ = driver.await;
    result.map_err(|source| DriftError::Catalog {
        url: redact_url(url),
        source,
    })
}

async fn read_with_privileges(
    client: &tokio_postgres::Client,
) -> Result<(Catalog, SchemaPrivileges), prodlike_catalog::CatalogError> {
    let catalog = prodlike_catalog::postgres::read(client, &Options::everything()).await?;
    let mut schemas: std::collections::BTreeSet<&str> = ["public"].into();
    schemas.extend(catalog.tables.iter().map(|t| t.schema.as_str()));
    schemas.extend(catalog.views.iter().map(|v| v.schema.as_str()));
    schemas.extend(catalog.sequences.iter().map(|q| q.schema.as_str()));
    let mut privileges = Vec::new();
    for ns in schemas {
        let p = prodlike_catalog::postgres::privileges(client, ns).await?;
        privileges.push((ns.to_string(), p));
    }
    Ok((catalog, privileges))
}

/// Connects to the URL's database (a MySQL schema), reads its catalog with the server's
/// variables, disconnects.
async fn read_mysql(url: &str) -> Result<Catalog, DriftError> {
    use prodlike_catalog::mysql;
    let parsed = mysql::url::parse(url).map_err(|e| DriftError::Schema {
        url: redact_url(url),
        message: e.reason,
    })?;
    let mut conn =
        mysql::url::connect(&parsed)
            .await
            .map_err(|source| DriftError::MysqlConnect {
                url: parsed.shown.clone(),
                source,
            })?;
    let options = Options {
        scope: prodlike_catalog::Scope::Schema(parsed.database.clone()),
        server: true,
    };
    let result = mysql::read(&mut conn, &options).await;
    let _ = conn.disconnect().await;
    result.map_err(|source| DriftError::Catalog {
        url: parsed.shown,
        source,
    })
}

/// Opens the file read-only and reads its catalog.
fn read_sqlite(url: &str, path: &str) -> Result<Catalog, DriftError> {
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
    .map_err(|source| DriftError::Open {
        url: url.to_string(),
        source,
    })?;
    prodlike_catalog::sqlite::read(&conn, &Options::everything()).map_err(|source| {
        DriftError::Catalog {
            url: url.to_string(),
            source,
        }
    })
}
