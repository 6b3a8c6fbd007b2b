//! The shop test database of `scripts/gen-testdb.sql` (PII, skew, self-references, a cycle with
//! no nullable column, a composite key) built in a [`crate::pg::TempDatabase`].

use crate::pg::{PgError, TempDatabase};

/// The generator script, as kept in the repository.
pub const GEN_TESTDB_SQL: &str = include_str!("../../../scripts/gen-testdb.sql");

/// Fills `db` with the shop schema and `users` users (about 18 rows per user in all).
pub async fn create_shop(db: &TempDatabase, users: u32) -> Result<(), PgError> {
    let client = db.connect().await?;
    // psql meta-commands (`\set`) are not SQL.
    let sql: String = GEN_TESTDB_SQL
        .lines()
        .filter(|l| !l.trim_start().starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n");
    client
        .batch_execute(&format!("SET prodlike.users = '{users}';\n{sql}"))
        .await?;
    Ok(())
}
