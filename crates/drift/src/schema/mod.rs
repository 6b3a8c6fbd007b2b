//! Live schema drift: a database is read into objects (`server`, `settings`, `extensions`,
//! `table s.t`, `sequence s.q`, `view s.v`, ...) and compared like configuration files, under
//! the same rules (`object = "settings"`, `path = "work_mem"`).
mod postgres;
mod sqlite;

use std::collections::BTreeMap;

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
    let b = snapshot(baseline_url, rules).await?;
    let c = snapshot(candidate_url, rules).await?;
    Ok(crate::compare::compare_sources(
        vec![(Some(b), Some(c))],
        Mode::Schema,
        &redact_url(baseline_url),
        &redact_url(candidate_url),
        rules,
        rules_file,
    ))
}

/// Reads one database (`postgres://…`, `postgresql://…` or `sqlite://path`) into objects.
pub async fn snapshot(url: &str, rules: &RuleSet) -> Result<Source, DriftError> {
    let objects = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        postgres::snapshot(url).await?
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        sqlite::snapshot(url, path)?
    } else {
        return Err(DriftError::UnsupportedUrl {
            url: redact_url(url),
        });
    };
    let objects = objects
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
            for section in ["columns", "indexes", "constraints"] {
                m.entry(section.to_string())
                    .or_insert_with(|| Node::Map(BTreeMap::new()));
            }
            Node::Map(m)
        }
        other => other,
    }
}

/// A URL fit for reports: the password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let user = userinfo.split(':').next().unwrap_or("");
    let redacted = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        user.to_string()
    };
    let tail = redact_query_password(tail);
    format!("{scheme}://{redacted}@{host}{tail}")
}

fn redact_query_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// Builder for nested maps.
pub(crate) fn map(entries: impl IntoIterator<Item = (String, Node)>) -> Node {
    Node::Map(entries.into_iter().collect::<BTreeMap<_, _>>())
}

/// Inserts `value` at `object`/`section`/`name`.
pub(crate) fn put(
    objects: &mut BTreeMap<String, BTreeMap<String, Node>>,
    object: String,
    section: &str,
    name: String,
    value: Node,
) {
    let obj = objects.entry(object).or_default();
    let sec = obj
        .entry(section.to_string())
        .or_insert_with(|| Node::Map(BTreeMap::new()));
    if let Node::Map(m) = sec {
        m.insert(name, value);
    }
}

pub(crate) fn s(v: impl Into<String>) -> Node {
    Node::String(v.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db:5432/shop?sslmode=disable&password=x"),
            "postgres://app:***@db:5432/shop?sslmode=disable&password=***"
        );
        assert_eq!(
            redact_url("postgres://app@db/shop"),
            "postgres://app@db/shop"
        );
        assert_eq!(redact_url("sqlite://data/app.db"), "sqlite://data/app.db");
    }
}
