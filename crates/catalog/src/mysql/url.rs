//! MySQL and MariaDB URLs, parsed once for every command: `mysql://user:password@host:port/db`
//! or `mariadb://…` (the same protocol). The database is required: it is the schema a command
//! reads or replaces. Query parameters go to the driver as they are (`?require_ssl=true` for
//! TLS through rustls with the webpki roots, `&verify_ca=false` for a private CA), so managed
//! servers that insist on TLS are reachable. Passwords never appear in [`MysqlUrl::shown`].
use mysql_async::{Conn, Opts};
use prodlike_common::redact::redact_url;

/// A parsed MySQL URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MysqlUrl {
    opts: Opts,
    /// The database (schema) named by the path.
    pub database: String,
    /// The URL without its password.
    pub shown: String,
}

/// Why a MySQL URL was refused: a description of the bad value (no cause of its own).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct MysqlUrlError {
    pub reason: String,
}

/// A MySQL URL could not be connected to.
#[derive(Debug, thiserror::Error)]
#[error("connecting to {url}")]
pub struct ConnectError {
    /// Without its password.
    pub url: String,
    #[source]
    pub source: Box<mysql_async::Error>,
}

/// True for `mysql://` and `mariadb://` URLs.
pub fn is_mysql_url(url: &str) -> bool {
    let t = url.trim_start();
    t.starts_with("mysql://") || t.starts_with("mariadb://")
}

/// Parses `mysql://user:password@host:port/database` (or `mariadb://`).
pub fn parse(url: &str) -> Result<MysqlUrl, MysqlUrlError> {
    let bad = |reason: &str| MysqlUrlError {
        reason: reason.to_owned(),
    };
    let trimmed = url.trim();
    let rest = trimmed
        .strip_prefix("mysql://")
        .or_else(|| trimmed.strip_prefix("mariadb://"))
        .ok_or_else(|| bad("not a MySQL URL; use mysql://user:password@host:3306/database"))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(bad(
            "no host; use mysql://user:password@host:3306/database (127.0.0.1 for a local server)",
        ));
    }
    let database = path.split('?').next().unwrap_or("");
    let database =
        prodlike_common::percent::decode(database, prodlike_common::percent::Plus::Literal)
            .into_owned();
    if database.is_empty() {
        return Err(bad(
            "no database; name it in the path: mysql://user:password@host:3306/database",
        ));
    }
    if database.contains('/') || database.contains('\0') || database.len() > 64 {
        return Err(bad(
            "the database name must be one name of at most 64 characters, without `/`",
        ));
    }
    let normalised = format!("mysql://{rest}");
    let opts = Opts::from_url(&normalised).map_err(|e| MysqlUrlError {
        reason: format!("not a valid MySQL URL ({e})"),
    })?;
    Ok(MysqlUrl {
        opts,
        database,
        shown: redact_url(trimmed),
    })
}

impl MysqlUrl {
    /// The driver's options.
    pub fn opts(&self) -> &Opts {
        &self.opts
    }

    /// The server's address as written (`127.0.0.1`, `db.internal`).
    pub fn host(&self) -> &str {
        self.opts.ip_or_hostname()
    }

    /// The TCP port (3306 when the URL names none).
    pub fn port(&self) -> u16 {
        self.opts.tcp_port()
    }
}

/// Opens one connection.
pub async fn connect(url: &MysqlUrl) -> Result<Conn, ConnectError> {
    Conn::new(url.opts.clone())
        .await
        .map_err(|source| ConnectError {
            url: url.shown.clone(),
            source: Box::new(source),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn both_schemes_name_a_database() {
        let u = parse("mysql://root@127.0.0.1:3306/shop").unwrap();
        assert_eq!(u.database, "shop");
        assert_eq!(u.port(), 3306);
        let u = parse("mariadb://ann:hunter2@db.internal/shop?require_ssl=true").unwrap();
        assert_eq!(u.database, "shop");
        assert_eq!(u.port(), 3306);
        assert_eq!(u.host(), "db.internal");
        assert!(!u.shown.contains("hunter2"), "{}", u.shown);
    }

    #[test]
    fn refuses_with_the_fix() {
        for (url, words) in [
            ("mysql://root@127.0.0.1:3306", "no database"),
            ("mysql://root@127.0.0.1:3306/", "no database"),
            ("mysql:///shop", "no host"),
            ("postgres://x/y", "not a MySQL URL"),
            ("mysql://root@h/a/b", "one name"),
        ] {
            let e = parse(url).unwrap_err().to_string();
            assert!(e.contains(words), "{url}: {e}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "(mysql|mariadb)://[ -~]{0,60}") {
            if let Err(e) = parse(&s) {
                prop_assert!(!e.to_string().is_empty());
            }
        }

        #[test]
        fn never_shows_the_password(p in "[a-zA-Z0-9]{6,20}") {
            if let Ok(u) = parse(&format!("mysql://ann:{p}@db:3306/shop")) {
                prop_assert!(!u.shown.contains(&p));
            }
        }
    }
}
