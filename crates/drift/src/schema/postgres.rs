//! PostgreSQL snapshot through the catalogs.
//!
//! Settings: every `pg_settings` row whose source is not the built-in default (nor the
//! per-connection sources `client`, `session`, `interactive`, nor `override`), with values
//! written as PostgreSQL prints them (`128MB`, `30s`). On top, the database's own
//! `ALTER DATABASE … SET` values from `pg_db_role_setting`, which win because they are what
//! every new session of that database gets, even where this connection's client parameters
//! shadow them. Role-in-database settings (`ALTER ROLE … IN DATABASE … SET`) form the object
//! `role settings`.
use std::collections::BTreeMap;

use tokio_postgres::NoTls;

use super::{map, put, redact_url, s};
use crate::error::DriftError;
use crate::tree::Node;

pub async fn snapshot(url: &str) -> Result<Vec<(String, Node)>, DriftError> {
    let err = |e: tokio_postgres::Error| DriftError::Schema {
        url: redact_url(url),
        message: pg_message(&e),
    };
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.map_err(err)?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let result = read(&client).await.map_err(err);
    drop(client);
    let _ = driver.await;
    result
}

fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            msg
        }
    }
}

const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

async fn read(
    client: &tokio_postgres::Client,
) -> Result<Vec<(String, Node)>, tokio_postgres::Error> {
    let mut out = Vec::new();

    let row = client
        .query_one(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int4",
            &[],
        )
        .await?;
    let version: String = row.get(0);
    let num: i32 = row.get(1);
    out.push((
        "server".to_string(),
        map([
            ("engine".to_string(), s("postgresql")),
            (
                "version".to_string(),
                s(version.split_whitespace().next().unwrap_or(&version)),
            ),
            ("major".to_string(), Node::Int((num / 10_000).into())),
        ]),
    ));

    let mut settings = BTreeMap::new();
    for row in client
        .query(
            "SELECT name, setting, coalesce(unit, ''), vartype FROM pg_settings \
             WHERE source NOT IN ('default', 'override', 'client', 'session', 'interactive') \
             ORDER BY name",
            &[],
        )
        .await?
    {
        let name: String = row.get(0);
        let setting: Option<String> = row.get(1);
        let unit: String = row.get(2);
        let vartype: String = row.get(3);
        let value = setting
            .map(|v| with_unit(&v, &unit, &vartype))
            .unwrap_or_default();
        settings.insert(name, s(value));
    }
    let mut role_settings: BTreeMap<String, Node> = BTreeMap::new();
    for row in client
        .query(
            "SELECT coalesce(r.rolname, ''), unnest(s.setconfig) FROM pg_db_role_setting s \
             LEFT JOIN pg_roles r ON r.oid = s.setrole \
             WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             ORDER BY 1, 2",
            &[],
        )
        .await?
    {
        let role: String = row.get(0);
        let item: String = row.get(1);
        let Some((name, value)) = item.split_once('=') else {
            continue;
        };
        if role.is_empty() {
            settings.insert(name.to_string(), s(value));
        } else if let Node::Map(m) = role_settings
            .entry(role)
            .or_insert_with(|| Node::Map(BTreeMap::new()))
        {
            m.insert(name.to_string(), s(value));
        }
    }
    out.push(("settings".to_string(), Node::Map(settings)));
    if !role_settings.is_empty() {
        out.push(("role settings".to_string(), Node::Map(role_settings)));
    }

    let mut extensions = BTreeMap::new();
    for row in client
        .query(
            "SELECT extname::text, extversion FROM pg_extension ORDER BY 1",
            &[],
        )
        .await?
    {
        extensions.insert(row.get::<_, String>(0), s(row.get::<_, String>(1)));
    }
    out.push(("extensions".to_string(), Node::Map(extensions)));

    // Tables (and partitioned and foreign tables), extension-owned ones left out.
    let mut objects: BTreeMap<String, BTreeMap<String, Node>> = BTreeMap::new();
    let not_extension = "NOT EXISTS (SELECT 1 FROM pg_depend dep \
         WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'e')";
    for row in client
        .query(
            &format!(
                "SELECT n.nspname::text, c.relname::text, c.relkind::text, a.attname::text, \
                 format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                 pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, \
                 CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation \
                      THEN (SELECT collname::text FROM pg_collation WHERE oid = a.attcollation) END \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
                 JOIN pg_type t ON t.oid = a.atttypid \
                 LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
                 WHERE c.relkind IN ('r', 'p', 'f') AND {USER_SCHEMAS} AND {not_extension} \
                 ORDER BY 1, 2, a.attnum"
            ),
            &[],
        )
        .await?
    {
        let (schema, table, kind): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        let object = format!("table {schema}.{table}");
        let mut col = BTreeMap::new();
        col.insert("type".to_string(), s(row.get::<_, String>(4)));
        col.insert("nullable".to_string(), Node::Bool(!row.get::<_, bool>(5)));
        if let Some(default) = row.get::<_, Option<String>>(6) {
            col.insert("default".to_string(), s(default));
        }
        match row.get::<_, String>(7).as_str() {
            "a" => drop(col.insert("identity".to_string(), s("always"))),
            "d" => drop(col.insert("identity".to_string(), s("by default"))),
            _ => {}
        }
        if row.get::<_, String>(8) == "s" {
            col.insert("generated".to_string(), s("stored"));
        }
        if let Some(coll) = row.get::<_, Option<String>>(9) {
            col.insert("collation".to_string(), s(coll));
        }
        let entry = objects.entry(object.clone()).or_default();
        match kind.as_str() {
            "p" => drop(entry.insert("kind".to_string(), s("partitioned table"))),
            "f" => drop(entry.insert("kind".to_string(), s("foreign table"))),
            _ => {}
        }
        put(&mut objects, object, "columns", row.get(3), Node::Map(col));
    }

    for row in client
        .query(
            &format!(
                "SELECT n.nspname::text, c.relname::text, i.relname::text, pg_get_indexdef(i.oid) \
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
                 JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE {USER_SCHEMAS} AND {not_extension} ORDER BY 1, 2, 3"
            ),
            &[],
        )
        .await?
    {
        let object = format!("table {}.{}", row.get::<_, String>(0), row.get::<_, String>(1));
        put(&mut objects, object, "indexes", row.get(2), s(row.get::<_, String>(3)));
    }

    for row in client
        .query(
            &format!(
                "SELECT n.nspname::text, c.relname::text, con.conname::text, con.contype::text, \
                 pg_get_constraintdef(con.oid) \
                 FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE {USER_SCHEMAS} AND {not_extension} ORDER BY 1, 2, 3"
            ),
            &[],
        )
        .await?
    {
        let object = format!(
            "table {}.{}",
            row.get::<_, String>(0),
            row.get::<_, String>(1)
        );
        let kind = match row.get::<_, String>(3).as_str() {
            "p" => "primary key",
            "f" => "foreign key",
            "u" => "unique",
            "c" => "check",
            "x" => "exclusion",
            "n" => "not null",
            "t" => "trigger",
            _ => "other",
        };
        let value = map([
            ("type".to_string(), s(kind)),
            ("definition".to_string(), s(row.get::<_, String>(4))),
        ]);
        put(&mut objects, object, "constraints", row.get(2), value);
    }

    for row in client
        .query(
            "SELECT schemaname::text, sequencename::text, data_type::text, start_value, min_value, \
             max_value, increment_by, cycle, cache_size FROM pg_sequences \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
            &[],
        )
        .await?
    {
        let object = format!(
            "sequence {}.{}",
            row.get::<_, String>(0),
            row.get::<_, String>(1)
        );
        let int = |i: usize| Node::Int(row.get::<_, i64>(i).into());
        let node = map([
            ("type".to_string(), s(row.get::<_, String>(2))),
            ("start".to_string(), int(3)),
            ("min".to_string(), int(4)),
            ("max".to_string(), int(5)),
            ("increment".to_string(), int(6)),
            ("cycle".to_string(), Node::Bool(row.get(7))),
            ("cache".to_string(), int(8)),
        ]);
        if let Node::Map(m) = node {
            objects.insert(object, m);
        }
    }

    for (kind, query) in [
        (
            "view",
            "SELECT schemaname::text, viewname::text, definition FROM pg_views \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
        ),
        (
            "materialized view",
            "SELECT schemaname::text, matviewname::text, definition FROM pg_matviews ORDER BY 1, 2",
        ),
    ] {
        for row in client.query(query, &[]).await? {
            let object = format!(
                "{kind} {}.{}",
                row.get::<_, String>(0),
                row.get::<_, String>(1)
            );
            let def: Option<String> = row.get(2);
            let mut m = BTreeMap::new();
            m.insert(
                "definition".to_string(),
                s(normalise_sql(&def.unwrap_or_default())),
            );
            objects.insert(object, m);
        }
    }

    out.extend(objects.into_iter().map(|(k, v)| (k, Node::Map(v))));
    Ok(out)
}

/// Whitespace-insensitive view definitions.
fn normalise_sql(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A setting as PostgreSQL prints it: `shared_buffers` stored as 16384 × 8kB is `128MB`.
pub(crate) fn with_unit(setting: &str, unit: &str, vartype: &str) -> String {
    if vartype != "integer" && vartype != "real" || unit.is_empty() {
        return setting.to_string();
    }
    let Ok(v) = setting.parse::<f64>() else {
        return setting.to_string();
    };
    if v < 0.0 {
        return setting.to_string();
    }
    let (mult, unit) = split_unit(unit);
    let (scale, units): (f64, &[(&str, f64)]) = match unit {
        "B" => (
            1.0,
            &[
                ("TB", 1024f64 * 1024.0 * 1024.0 * 1024.0),
                ("GB", 1024.0 * 1024.0 * 1024.0),
                ("MB", 1024.0 * 1024.0),
                ("kB", 1024.0),
                ("B", 1.0),
            ],
        ),
        "kB" => (
            1024.0,
            &[
                ("TB", 1024f64 * 1024.0 * 1024.0 * 1024.0),
                ("GB", 1024.0 * 1024.0 * 1024.0),
                ("MB", 1024.0 * 1024.0),
                ("kB", 1024.0),
            ],
        ),
        "MB" => (
            1024.0 * 1024.0,
            &[
                ("TB", 1024f64 * 1024.0 * 1024.0 * 1024.0),
                ("GB", 1024.0 * 1024.0 * 1024.0),
                ("MB", 1024.0 * 1024.0),
            ],
        ),
        "ms" => (
            0.001,
            &[
                ("d", 86400.0),
                ("h", 3600.0),
                ("min", 60.0),
                ("s", 1.0),
                ("ms", 0.001),
            ],
        ),
        "s" => (
            1.0,
            &[("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0)],
        ),
        "min" => (60.0, &[("d", 86400.0), ("h", 3600.0), ("min", 60.0)]),
        _ => return format!("{setting}{unit}"),
    };
    let base = v * mult * scale;
    if base == 0.0 {
        return format!("0{}", units.last().map(|u| u.0).unwrap_or(""));
    }
    for (name, size) in units {
        let n = base / size;
        if n >= 1.0 && (n - n.round()).abs() < 1e-9 {
            return format!("{}{name}", n.round() as i64);
        }
    }
    format!("{setting}{unit}")
}

/// `8kB` → (8, "kB").
fn split_unit(unit: &str) -> (f64, &str) {
    let digits: String = unit.chars().take_while(|c| c.is_ascii_digit()).collect();
    let mult = digits.parse::<f64>().unwrap_or(1.0);
    (mult, &unit[digits.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_print_like_postgres() {
        assert_eq!(with_unit("16384", "8kB", "integer"), "128MB");
        assert_eq!(with_unit("4096", "kB", "integer"), "4MB");
        assert_eq!(with_unit("65536", "kB", "integer"), "64MB");
        assert_eq!(with_unit("30000", "ms", "integer"), "30s");
        assert_eq!(with_unit("60", "s", "integer"), "1min");
        assert_eq!(with_unit("-1", "ms", "integer"), "-1");
        assert_eq!(with_unit("0", "ms", "integer"), "0ms");
        assert_eq!(with_unit("on", "", "bool"), "on");
        assert_eq!(with_unit("1000", "kB", "integer"), "1000kB");
    }
}
