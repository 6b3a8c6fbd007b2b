//! Database URLs: `postgres://…` (or `postgresql://…`), `mysql://…` (or `mariadb://…`, parsed
//! by prodlike-catalog's [`prodlike_catalog::mysql::url`]) and `sqlite://path`.

use std::path::PathBuf;

use prodlike_common::redact::redact_url;

use crate::error::{DataError, Result};

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A PostgreSQL connection string as tokio-postgres takes it; `shown` has no password.
    Postgres { conn: String, shown: String },
    /// A SQLite file. `sqlite://relative/path.db`, `sqlite:///absolute/path.db`.
    Sqlite { path: PathBuf },
    /// A MySQL or MariaDB database: `mysql://user:password@host:3306/database`.
    Mysql(prodlike_catalog::mysql::url::MysqlUrl),
}

impl DbUrl {
    /// Parses `postgres://user@host:port/db`, `postgresql://…` or `sqlite://path`.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |reason: &str| DataError::BadUrl {
            url: redact_url(url),
            reason: reason.to_owned(),
        };
        let trimmed = url.trim();
        if trimmed.is_empty() {
            return Err(bad(
                "empty; use postgres://user@host:5432/dbname or sqlite://path/to/file.db",
            ));
        }
        if let Some(rest) = trimmed.strip_prefix("sqlite://") {
            if rest.is_empty() {
                return Err(bad("no file path; use sqlite://path/to/file.db"));
            }
            if rest.contains('\0') {
                return Err(bad("the path holds a NUL byte"));
            }
            let path = rest.split('?').next().unwrap_or(rest);
            return Ok(DbUrl::Sqlite {
                path: PathBuf::from(path),
            });
        }
        if prodlike_catalog::mysql::url::is_mysql_url(trimmed) {
            return prodlike_catalog::mysql::url::parse(trimmed)
                .map(DbUrl::Mysql)
                .map_err(|e| bad(&e.reason));
        }
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            let after = trimmed.split_once("://").map(|(_, r)| r).unwrap_or("");
            let host_part = after.split(['/', '?']).next().unwrap_or("");
            let host = host_part.rsplit('@').next().unwrap_or("");
            if host.is_empty() {
                return Err(bad(
                    "no host; use postgres://user@host:5432/dbname (127.0.0.1 for a local server)",
                ));
            }
            trimmed
                .parse::<tokio_postgres::Config>()
                .map_err(|e| bad(&format!("not a valid PostgreSQL URL ({e})")))?;
            return Ok(DbUrl::Postgres {
                conn: trimmed.to_owned(),
                shown: redact_url(trimmed),
            });
        }
        let scheme = trimmed.split_once("://").map(|(s, _)| s);
        Err(bad(&match scheme {
            Some(s) => format!(
                "unsupported scheme `{s}`; use postgres://user@host:5432/dbname, mysql://user:password@host:3306/dbname or sqlite://path/to/file.db"
            ),
            None => "no scheme; use postgres://user@host:5432/dbname or sqlite://path/to/file.db"
                .to_owned(),
        }))
    }

    /// The URL without its password, for messages and reports.
    pub fn shown(&self) -> String {
        match self {
            DbUrl::Postgres { shown, .. } => shown.clone(),
            DbUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            DbUrl::Mysql(m) => m.shown.clone(),
        }
    }

    /// True for MySQL and MariaDB.
    pub fn is_mysql(&self) -> bool {
        matches!(self, DbUrl::Mysql(_))
    }

    /// True for PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, DbUrl::Postgres { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_both_schemes() {
        assert!(matches!(
            DbUrl::parse("postgres://postgres@127.0.0.1:5432/prod").unwrap(),
            DbUrl::Postgres { .. }
        ));
        assert_eq!(
            DbUrl::parse("sqlite://data/prod.db").unwrap(),
            DbUrl::Sqlite {
                path: "data/prod.db".into()
            }
        );
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DbUrl::Sqlite {
                path: "/tmp/x.db".into()
            }
        );
    }

    #[test]
    fn rejects_with_the_fix() {
        for bad in ["", "oracle://x/y", "prod.db", "sqlite://", "postgres:///db"] {
            let e = DbUrl::parse(bad).unwrap_err().to_string();
            assert!(
                e.contains("postgres://") || e.contains("sqlite://"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn password_is_never_shown() {
        let u = DbUrl::parse("postgres://ann:hunter2@db:5432/prod").unwrap();
        assert!(!u.shown().contains("hunter2"));
        let u = DbUrl::parse("mysql://ann:hunter2@db/prod").unwrap();
        assert!(u.is_mysql());
        assert!(!u.shown().contains("hunter2"));
        let e = DbUrl::parse("mysql://ann:hunter2@db")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2") && e.contains("no database"), "{e}");
        let e = DbUrl::parse("oracle://ann:hunter2@db/prod")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(s in ".{0,80}") {
            let _ = DbUrl::parse(&s);
        }

        #[test]
        fn never_panics_on_url_like_input(s in "(postgres|postgresql|sqlite|mysql|mariadb|http)://[ -~]{0,60}") {
            if let Err(e) = DbUrl::parse(&s) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}
