//! Real-world databases for tests: Northwind and Chinook (PostgreSQL), loaded from the vendored
//! scripts in `testdata/realworld/` into a [`TempDatabase`] of their own, which drops them when
//! it goes out of scope. prodlike's code was not written against them, so they catch what the
//! hand-made fixtures miss (odd types, `varchar(n)` limits, keys without sequences).
//!
//! ```no_run
//! # async fn f() {
//! let Some(db) = prodlike_testkit::realworld::northwind_pg().await else { return };
//! // db.url names a database holding Northwind; it is dropped with `db`.
//! # }
//! ```
use std::path::PathBuf;

use crate::pg::{PgError, TempDatabase};

/// `testdata/realworld/` of the repository this crate was built from.
pub fn dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/realworld"
    ))
}

/// Northwind's script (`northwind/northwind.sql`), loadable as is.
pub fn northwind_sql() -> Result<String, PgError> {
    read("northwind/northwind.sql")
}

/// Chinook's PostgreSQL script without its `DROP DATABASE`, `CREATE DATABASE` and `\c` lines
/// (it creates and switches to a database `chinook`; tests load it into their own).
pub fn chinook_sql() -> Result<String, PgError> {
    let sql = read("chinook/Chinook_PostgreSql.sql")?;
    Ok(sql
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            let upper = t.to_ascii_uppercase();
            !(t.starts_with('\\')
                || upper.starts_with("DROP DATABASE")
                || upper.starts_with("CREATE DATABASE"))
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// A new database holding Northwind (14 tables, no sequences). `None` after the guard's SKIP
/// (or a CI failure) when PostgreSQL is missing; a script that does not load fails the test.
pub async fn northwind_pg() -> Option<TempDatabase> {
    load("northwind", northwind_sql).await
}

/// A new database holding Chinook (11 tables, no sequences). `None` as for [`northwind_pg`].
pub async fn chinook_pg() -> Option<TempDatabase> {
    load("chinook", chinook_sql).await
}

/// Runs `sql` in `db` (one batch).
pub async fn load_into(db: &TempDatabase, sql: &str) -> Result<(), PgError> {
    db.connect().await?.batch_execute(sql).await?;
    Ok(())
}

// A script that the vendored copy cannot load is a broken repository: the test must fail, not
// skip.
#[allow(clippy::panic)]
async fn load(label: &str, sql: fn() -> Result<String, PgError>) -> Option<TempDatabase> {
    let db = TempDatabase::create(label).await?;
    if let Err(e) = async { load_into(&db, &sql()?).await }.await {
        panic!("loading {label} into {}: {e:?}", db.name);
    }
    Some(db)
}

fn read(rel: &str) -> Result<String, PgError> {
    let path = dir().join(rel);
    std::fs::read_to_string(&path).map_err(|source| PgError::Io {
        path: path.display().to_string(),
        source,
    })
}
