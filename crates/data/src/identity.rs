//! Which database a URL names, found by asking the database (read-only queries) or the file
//! system, so that commands writing a target refuse one that is their source however its URL is
//! spelt: `localhost` or `127.0.0.1`, with or without `:5432`, `postgres://` or
//! `postgresql://`, extra query parameters, `./x.db` or `/abs/x.db`, a symlink or a hard link.
//!
//! PostgreSQL: the cluster's `system_identifier` (`pg_control_system()`) and the database's OID.
//! A physical replica shares both with its primary, so a replica of the source (or a clone made
//! from a base backup of it) is refused as a target too. Where `pg_control_system()` is not
//! permitted, the server's start time with the OID, and its address, port and database name,
//! stand in, and the message says so.
//!
//! SQLite: the canonical path and, when the file exists, its (device, inode).
//!
//! MySQL and MariaDB: MariaDB has no `@@server_uuid`, and a host name or port proves little
//! behind proxies. So a source and a target are compared by asking the servers: the source's
//! connection takes `GET_LOCK` on a random name, and the target's connection asks
//! `IS_USED_LOCK` of it; a lock is visible only on the server that holds it, so an answer means
//! one server. With the same schema name (compared without case where
//! `lower_case_table_names` says so) it is the same database. MySQL's `@@server_uuid`, and
//! `@@hostname` with `@@port`, identify a database recorded earlier (a profile's source).

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::pg;
use crate::url::DbUrl;

/// What identifies one database, independent of how its URL is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "engine", rename_all = "snake_case")]
pub enum DbIdentity {
    Postgres(PgIdentity),
    Sqlite(SqliteIdentity),
    Mysql(MysqlIdentity),
}

/// A MySQL or MariaDB database as the server describes itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MysqlIdentity {
    /// `@@server_uuid` (MySQL); `None` on MariaDB, which has none.
    pub server_uuid: Option<String>,
    /// `@@hostname`.
    pub hostname: String,
    /// `@@port`.
    pub port: u16,
    /// `DATABASE()`.
    pub database: String,
    /// `@@lower_case_table_names` is not 0: database names compare without case.
    pub names_ignore_case: bool,
}

/// A PostgreSQL database as the server describes itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgIdentity {
    /// `pg_control_system().system_identifier`: fixed when the cluster was made by `initdb`, kept
    /// by its physical replicas and base-backup clones. `None` when the function was refused.
    pub system_identifier: Option<u64>,
    /// `pg_database.oid` of `current_database()`.
    pub database_oid: u32,
    /// `current_database()`.
    pub database: String,
    /// `pg_postmaster_start_time()` in microseconds since 1970: tells server instances apart
    /// when the system identifier cannot be read.
    pub started_micros: i64,
    /// `inet_server_addr()`; `None` over a Unix socket.
    pub server_addr: Option<IpAddr>,
    /// `inet_server_port()`; `None` over a Unix socket.
    pub server_port: Option<i32>,
}

/// A SQLite file as the file system names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqliteIdentity {
    /// The path with every symlink, `.` and `..` resolved; for a file not made yet, its folder's
    /// canonical path joined with its name.
    pub path: PathBuf,
    /// Device and inode of the file, when it exists (catches hard links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileId>,
}

/// Device and inode of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    pub device: u64,
    pub inode: u64,
}

/// Why two URLs name one database: what was compared and found equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SameDatabase {
    /// The URLs are the same text.
    SameUrl,
    /// Same cluster (or a physical replica of it) and the same database.
    SystemIdentifier {
        system_identifier: u64,
        database_oid: u32,
    },
    /// `pg_control_system()` was refused: same server instance and database OID.
    ServerInstance {
        started_micros: i64,
        database_oid: u32,
    },
    /// `pg_control_system()` was refused: same server address, port and database name.
    ServerAddress {
        addr: Option<IpAddr>,
        port: Option<i32>,
        database: String,
    },
    /// The same file (a symlink, hard link or another spelling of its path).
    SameFile { path: PathBuf, file: FileId },
    /// The same canonical path.
    SamePath { path: PathBuf },
    /// A lock taken on the source's connection is seen from the target's: one server, and
    /// the same database name.
    SameMysqlServer {
        hostname: String,
        port: u16,
        database: String,
    },
    /// Both MySQL servers report this `@@server_uuid`, and the same database name.
    MysqlServerUuid {
        server_uuid: String,
        database: String,
    },
    /// Recorded identities (no live lock to compare): the same `@@hostname`, `@@port` and
    /// database name.
    MysqlHostPort {
        hostname: String,
        port: u16,
        database: String,
    },
}

impl fmt::Display for SameDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SameDatabase::SameUrl => write!(f, "the URLs are identical"),
            SameDatabase::SystemIdentifier {
                system_identifier,
                database_oid,
            } => write!(
                f,
                "both report system identifier {system_identifier} and database OID {database_oid}: \
                 the same database, or a physical replica or base-backup clone of it"
            ),
            SameDatabase::ServerInstance {
                started_micros,
                database_oid,
            } => write!(
                f,
                "pg_control_system() was not permitted, so the server instance was compared: both \
                 report server start time {started_micros} µs since 1970 and database OID {database_oid}"
            ),
            SameDatabase::ServerAddress {
                addr,
                port,
                database,
            } => {
                let addr = addr.map_or("a Unix socket".to_owned(), |a| a.to_string());
                let port = port.map_or("-".to_owned(), |p| p.to_string());
                write!(
                    f,
                    "pg_control_system() was not permitted, so the server address was compared: \
                     both are database `{database}` at {addr} port {port}"
                )
            }
            SameDatabase::SameFile { path, file } => write!(
                f,
                "both are the file {} (device {}, inode {})",
                path.display(),
                file.device,
                file.inode
            ),
            SameDatabase::SamePath { path } => {
                write!(f, "both resolve to the path {}", path.display())
            }
            SameDatabase::SameMysqlServer {
                hostname,
                port,
                database,
            } => write!(
                f,
                "a lock taken on the source (GET_LOCK) is held as seen from the target (IS_USED_LOCK), so both are the server {hostname} port {port}, and both name database `{database}`"
            ),
            SameDatabase::MysqlServerUuid {
                server_uuid,
                database,
            } => write!(
                f,
                "both report server UUID {server_uuid} and database `{database}`"
            ),
            SameDatabase::MysqlHostPort {
                hostname,
                port,
                database,
            } => write!(
                f,
                "both report host {hostname} port {port} and database `{database}`"
            ),
        }
    }
}

/// Finds out which database `url` names. PostgreSQL: one connection, read-only queries.
/// SQLite: the file system only (the file need not exist).
pub async fn resolve(url: &DbUrl) -> Result<DbIdentity> {
    match url {
        DbUrl::Postgres { conn, shown } => pg_identity(conn, shown).await.map(DbIdentity::Postgres),
        DbUrl::Sqlite { path } => sqlite_identity(path).map(DbIdentity::Sqlite),
        DbUrl::Mysql(m) => {
            let mut conn = crate::mysql::connect(m).await?;
            let id = mysql_identity(&mut conn, &m.shown).await;
            let _ = conn.disconnect().await;
            id.map(DbIdentity::Mysql)
        }
    }
}

/// Why `a` and `b` are one database, or `None` when they are different ones.
pub fn same_database(a: &DbIdentity, b: &DbIdentity) -> Option<SameDatabase> {
    match (a, b) {
        (DbIdentity::Postgres(a), DbIdentity::Postgres(b)) => same_pg(a, b),
        (DbIdentity::Sqlite(a), DbIdentity::Sqlite(b)) => same_sqlite(a, b),
        (DbIdentity::Mysql(a), DbIdentity::Mysql(b)) => same_mysql_recorded(a, b),
        _ => None,
    }
}

/// Refuses (with [`DataError::TargetIsSource`]) a target that is the source database. Call it
/// before anything is written; it only reads.
pub async fn ensure_target_is_not_source(source: &DbUrl, target: &DbUrl) -> Result<()> {
    if source == target {
        return Err(refusal(source.shown(), target, SameDatabase::SameUrl));
    }
    if let (DbUrl::Mysql(s), DbUrl::Mysql(t)) = (source, target) {
        return match same_mysql_live(s, t).await? {
            Some(how) => Err(refusal(source.shown(), target, how)),
            None => Ok(()),
        };
    }
    let (s, t) = tokio::join!(resolve(source), resolve(target));
    check(&s?, source.shown(), &t?, target)
}

/// Two MySQL URLs compared live: a lock taken on the source, looked for from the target.
async fn same_mysql_live(
    source: &prodlike_catalog::mysql::url::MysqlUrl,
    target: &prodlike_catalog::mysql::url::MysqlUrl,
) -> Result<Option<SameDatabase>> {
    use mysql_async::prelude::Queryable;
    let mut s = crate::mysql::connect(source).await?;
    let mut t = crate::mysql::connect(target).await?;
    let sid = mysql_identity(&mut s, &source.shown).await?;
    let tid = mysql_identity(&mut t, &target.shown).await?;
    let name = format!("prodlike-identity-{:016x}", fastrand::u64(..));
    let taken: Option<i64> = s
        .query_first(format!(
            "SELECT GET_LOCK({}, 0)",
            crate::mysql::literal(&name)
        ))
        .await
        .map_err(DataError::mysql(format!(
            "taking a lock on {}",
            source.shown
        )))?;
    let seen: Option<Option<i64>> = t
        .query_first(format!(
            "SELECT IS_USED_LOCK({})",
            crate::mysql::literal(&name)
        ))
        .await
        .map_err(DataError::mysql(format!(
            "looking for the lock from {}",
            target.shown
        )))?;
    let _ = s
        .query_drop(format!("DO RELEASE_LOCK({})", crate::mysql::literal(&name)))
        .await;
    let _ = s.disconnect().await;
    let _ = t.disconnect().await;
    let same_name = same_schema_name(&sid, &tid);
    if taken == Some(1) && matches!(seen, Some(Some(_))) {
        return Ok(same_name.then(|| SameDatabase::SameMysqlServer {
            hostname: sid.hostname.clone(),
            port: sid.port,
            database: sid.database.clone(),
        }));
    }
    // The lock could not be taken (or not seen): MySQL's server UUID still tells.
    Ok(match (&sid.server_uuid, &tid.server_uuid) {
        (Some(a), Some(b)) if a == b && same_name => Some(SameDatabase::MysqlServerUuid {
            server_uuid: a.clone(),
            database: sid.database.clone(),
        }),
        _ => None,
    })
}

fn same_schema_name(a: &MysqlIdentity, b: &MysqlIdentity) -> bool {
    match a.names_ignore_case || b.names_ignore_case {
        true => a.database.eq_ignore_ascii_case(&b.database),
        false => a.database == b.database,
    }
}

/// Recorded identities (a profile's source against a target): server UUID, else host, port
/// and database name.
fn same_mysql_recorded(a: &MysqlIdentity, b: &MysqlIdentity) -> Option<SameDatabase> {
    if !same_schema_name(a, b) {
        return None;
    }
    if let (Some(x), Some(y)) = (&a.server_uuid, &b.server_uuid) {
        return (x == y).then(|| SameDatabase::MysqlServerUuid {
            server_uuid: x.clone(),
            database: a.database.clone(),
        });
    }
    (a.hostname == b.hostname && a.port == b.port).then(|| SameDatabase::MysqlHostPort {
        hostname: a.hostname.clone(),
        port: a.port,
        database: a.database.clone(),
    })
}

async fn mysql_identity(conn: &mut mysql_async::Conn, shown: &str) -> Result<MysqlIdentity> {
    use mysql_async::prelude::Queryable;
    let what = || format!("reading which database {shown} is");
    let row: Option<(String, u16, Option<String>, u32)> = conn
        .query_first("SELECT @@hostname, @@port, DATABASE(), @@lower_case_table_names")
        .await
        .map_err(DataError::mysql(what()))?;
    let Some((hostname, port, database, lower)) = row else {
        return Err(DataError::Invalid(format!(
            "{shown} did not say which server it is"
        )));
    };
    // MariaDB has no server_uuid (the variable is absent), MySQL 8 has it as @@server_uuid.
    let server_uuid: Option<String> = conn
        .query_first("SELECT @@server_uuid")
        .await
        .ok()
        .flatten();
    Ok(MysqlIdentity {
        server_uuid: server_uuid.filter(|u| !u.is_empty()),
        hostname,
        port,
        database: database.unwrap_or_default(),
        names_ignore_case: lower != 0,
    })
}

/// Refuses a target that is the database `recorded` identifies (a profile's source, named
/// `recorded_url`).
pub async fn ensure_target_is_not(
    recorded: &DbIdentity,
    recorded_url: &str,
    target: &DbUrl,
) -> Result<()> {
    let t = resolve(target).await?;
    check(recorded, recorded_url.to_owned(), &t, target)
}

fn check(source: &DbIdentity, source_url: String, target: &DbIdentity, url: &DbUrl) -> Result<()> {
    if let (DbIdentity::Postgres(s), DbIdentity::Postgres(t)) = (source, target)
        && (s.system_identifier.is_none() || t.system_identifier.is_none())
    {
        tracing::info!(
            "pg_control_system() was not permitted on {}; the source and the target were compared by server start time, address, port and database instead",
            if s.system_identifier.is_none() {
                source_url.as_str()
            } else {
                "the target"
            }
        );
    }
    match same_database(source, target) {
        Some(how) => Err(refusal(source_url, url, how)),
        None => Ok(()),
    }
}

fn refusal(source_url: String, target: &DbUrl, how: SameDatabase) -> DataError {
    DataError::TargetIsSource {
        source_url,
        target_url: target.shown(),
        how,
    }
}

fn same_pg(a: &PgIdentity, b: &PgIdentity) -> Option<SameDatabase> {
    if let (Some(sa), Some(sb)) = (a.system_identifier, b.system_identifier) {
        return (sa == sb && a.database_oid == b.database_oid).then_some(
            SameDatabase::SystemIdentifier {
                system_identifier: sa,
                database_oid: a.database_oid,
            },
        );
    }
    if a.started_micros == b.started_micros && a.database_oid == b.database_oid {
        return Some(SameDatabase::ServerInstance {
            started_micros: a.started_micros,
            database_oid: a.database_oid,
        });
    }
    let same_addr = match (a.server_addr, b.server_addr) {
        // One machine may answer on 127.0.0.1 and ::1 alike: loopback counts as one address.
        (Some(x), Some(y)) => x == y || (x.is_loopback() && y.is_loopback()),
        (None, None) => true,
        _ => false,
    };
    (same_addr && a.server_port == b.server_port && a.database == b.database).then(|| {
        SameDatabase::ServerAddress {
            addr: a.server_addr,
            port: a.server_port,
            database: a.database.clone(),
        }
    })
}

fn same_sqlite(a: &SqliteIdentity, b: &SqliteIdentity) -> Option<SameDatabase> {
    if let (Some(fa), Some(fb)) = (a.file, b.file)
        && fa == fb
    {
        return Some(SameDatabase::SameFile {
            path: a.path.clone(),
            file: fa,
        });
    }
    (a.path == b.path).then(|| SameDatabase::SamePath {
        path: a.path.clone(),
    })
}

async fn pg_identity(conn: &str, shown: &str) -> Result<PgIdentity> {
    let client = pg::connect(conn, shown).await?;
    let what = || format!("reading which database {shown} is");
    let row = client
        .query_one(
            "SELECT d.oid, current_database()::text, host(inet_server_addr()), inet_server_port(), \
                    (extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint \
             FROM pg_database d WHERE d.datname = current_database()",
            &[],
        )
        .await
        .map_err(DataError::pg(what()))?;
    let database_oid: u32 = row.try_get(0).map_err(DataError::pg(what()))?;
    let database: String = row.try_get(1).map_err(DataError::pg(what()))?;
    let addr: Option<String> = row.try_get(2).map_err(DataError::pg(what()))?;
    let server_port: Option<i32> = row.try_get(3).map_err(DataError::pg(what()))?;
    let started_micros: i64 = row.try_get(4).map_err(DataError::pg(what()))?;
    // Executable by every role since PostgreSQL 10 unless an administrator revoked it.
    let system_identifier = match client
        .query_one("SELECT system_identifier FROM pg_control_system()", &[])
        .await
        .and_then(|r| r.try_get::<_, i64>(0))
    {
        Ok(id) => Some(u64::from_ne_bytes(id.to_ne_bytes())),
        Err(e) => {
            tracing::warn!(
                "pg_control_system() on {shown} failed ({}); telling databases apart by server start time, address, port and name instead",
                prodlike_common::error::chain(&e)
            );
            None
        }
    };
    Ok(PgIdentity {
        system_identifier,
        database_oid,
        database,
        started_micros,
        // `host()` prints a bare address; one that does not parse is treated like a socket.
        server_addr: addr.and_then(|a| a.parse().ok()),
        server_port,
    })
}

fn sqlite_identity(path: &Path) -> Result<SqliteIdentity> {
    let io_err = |source: std::io::Error| DataError::Io {
        what: "resolving the path",
        path: path.display().to_string(),
        source,
    };
    match std::fs::canonicalize(path) {
        Ok(canonical) => {
            let meta = std::fs::metadata(&canonical).map_err(io_err)?;
            Ok(SqliteIdentity {
                file: file_id(&meta),
                path: canonical,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SqliteIdentity {
            path: not_yet_made(path).map_err(io_err)?,
            file: None,
        }),
        Err(e) => Err(io_err(e)),
    }
}

/// The canonical folder of a file that does not exist yet, joined with its name; the absolute
/// path as written when the folder is missing too (then nothing can be there).
fn not_yet_made(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let (Some(dir), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Ok(absolute);
    };
    match std::fs::canonicalize(dir) {
        Ok(d) => Ok(d.join(name)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(absolute),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some(FileId {
        device: meta.dev(),
        inode: meta.ino(),
    })
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> Option<FileId> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sys: Option<u64>, oid: u32, started: i64, addr: Option<&str>, db: &str) -> PgIdentity {
        PgIdentity {
            system_identifier: sys,
            database_oid: oid,
            database: db.into(),
            started_micros: started,
            server_addr: addr.map(|a| a.parse().unwrap()),
            server_port: Some(5432),
        }
    }

    #[test]
    fn system_identifier_and_oid_decide_when_both_are_known() {
        let a = pg(Some(7), 16384, 1, Some("127.0.0.1"), "shop");
        // Another address and start time: a replica still counts as the source.
        let replica = pg(Some(7), 16384, 2, Some("10.0.0.2"), "shop");
        assert!(matches!(
            same_pg(&a, &replica),
            Some(SameDatabase::SystemIdentifier { .. })
        ));
        // Same server, another database.
        assert_eq!(
            same_pg(&a, &pg(Some(7), 16385, 1, Some("127.0.0.1"), "x")),
            None
        );
        // Another cluster on the same address with a database of the same name and OID.
        assert_eq!(
            same_pg(&a, &pg(Some(8), 16384, 1, Some("127.0.0.1"), "shop")),
            None
        );
    }

    #[test]
    fn without_system_identifier_instance_or_address_decide() {
        let a = pg(None, 16384, 1, Some("127.0.0.1"), "shop");
        assert!(matches!(
            same_pg(&a, &pg(Some(7), 16384, 1, None, "shop")),
            Some(SameDatabase::ServerInstance { .. })
        ));
        assert!(matches!(
            same_pg(&a, &pg(None, 99, 5, Some("::1"), "shop")),
            Some(SameDatabase::ServerAddress { .. })
        ));
        assert_eq!(same_pg(&a, &pg(None, 99, 5, Some("::1"), "other")), None);
        assert_eq!(
            same_pg(&a, &pg(None, 16384, 5, Some("10.0.0.3"), "shop")),
            None
        );
    }

    #[test]
    fn sqlite_spellings_of_one_file_are_one_database() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.sqlite");
        std::fs::write(&file, b"x").unwrap();
        let abs = sqlite_identity(&file).unwrap();
        let dotted = sqlite_identity(&dir.path().join(".").join("x.sqlite")).unwrap();
        assert!(matches!(
            same_sqlite(&abs, &dotted),
            Some(SameDatabase::SameFile { .. })
        ));
        let link = dir.path().join("link.sqlite");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(same_sqlite(&abs, &sqlite_identity(&link).unwrap()).is_some());
        let hard = dir.path().join("hard.sqlite");
        std::fs::hard_link(&file, &hard).unwrap();
        assert!(matches!(
            same_sqlite(&abs, &sqlite_identity(&hard).unwrap()),
            Some(SameDatabase::SameFile { .. })
        ));
        let other = dir.path().join("y.sqlite");
        std::fs::write(&other, b"y").unwrap();
        assert_eq!(same_sqlite(&abs, &sqlite_identity(&other).unwrap()), None);
    }

    #[test]
    fn a_file_not_made_yet_compares_by_canonical_folder() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let linked = dir.path().join("linked");
        std::os::unix::fs::symlink(&real, &linked).unwrap();
        let a = sqlite_identity(&real.join("new.db")).unwrap();
        let b = sqlite_identity(&linked.join("new.db")).unwrap();
        assert_eq!(a.file, None);
        assert!(matches!(
            same_sqlite(&a, &b),
            Some(SameDatabase::SamePath { .. })
        ));
        let c = sqlite_identity(&real.join("other.db")).unwrap();
        assert_eq!(same_sqlite(&a, &c), None);
        let missing = sqlite_identity(&dir.path().join("no/such/dir/x.db")).unwrap();
        assert!(missing.path.is_absolute());
    }

    #[test]
    fn identity_survives_a_json_round_trip() {
        let id = DbIdentity::Postgres(pg(Some(u64::MAX), 5, -3, Some("::1"), "shop"));
        let back: DbIdentity = serde_json::from_str(&serde_json::to_string(&id).unwrap()).unwrap();
        assert_eq!(back, id);
    }
}
