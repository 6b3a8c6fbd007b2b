//! The server's version, the settings a new session of this database gets, and the installed
//! extensions.
//!
//! Settings: every `pg_settings` row whose source is not the built-in default (nor the
//! per-connection sources `client`, `session`, `interactive`, nor `override`), with values
//! written as PostgreSQL prints them (`128MB`, `30s`). On top, the database's own
//! `ALTER DATABASE … SET` values from `pg_db_role_setting`, which win because they are what
//! every new session of that database gets, even where this connection's client parameters
//! shadow them. Role-in-database settings (`ALTER ROLE … IN DATABASE … SET`) are kept apart,
//! by role.
use tokio_postgres::Client;

use crate::error::CatalogError;
use crate::model::Server;

pub(crate) async fn read(client: &Client) -> Result<Server, CatalogError> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int4",
            &[],
        )
        .await
        .map_err(CatalogError::pg("server version"))?;
    let version: String = row.get(0);
    let num: i32 = row.get(1);
    let mut server = Server {
        version: version
            .split_whitespace()
            .next()
            .unwrap_or(&version)
            .to_string(),
        major: i64::from(num / 10_000),
        ..Server::default()
    };

    for row in super::rows(
        client,
        "settings",
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
        server.settings.insert(name, value);
    }
    for row in super::rows(
        client,
        "settings",
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
        let settings = match role.is_empty() {
            true => &mut server.settings,
            false => server.role_settings.entry(role).or_default(),
        };
        settings.insert(name.to_string(), value.to_string());
    }

    for row in super::rows(
        client,
        "extensions",
        "SELECT extname::text, extversion FROM pg_extension ORDER BY 1",
        &[],
    )
    .await?
    {
        server.extensions.insert(row.get(0), row.get(1));
    }
    Ok(server)
}

/// A setting as PostgreSQL prints it: `shared_buffers` stored as 16384 × 8kB is `128MB`.
/// `setting`, `unit` and `vartype` are `pg_settings`' columns.
pub fn with_unit(setting: &str, unit: &str, vartype: &str) -> String {
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
