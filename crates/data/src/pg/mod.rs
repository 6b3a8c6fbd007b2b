//! PostgreSQL: connections, binary COPY, DDL and the atomic schema swap (the schema is read by
//! prodlike-catalog, see `crate::catalog`).

pub mod access;
pub mod codec;
pub mod copy;
pub mod ddl;
pub(crate) mod fk_check;
pub mod grants;
pub mod objects;
pub(crate) mod pool;
pub mod rehearse;
pub mod rows;

use tokio_postgres::{Client, NoTls};

use crate::error::{DataError, Result};

/// Connects and drives the connection on the current runtime.
pub async fn connect(conn: &str, shown: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(conn, NoTls)
        .await
        .map_err(DataError::pg(format!("connecting to {shown}")))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("postgres connection closed: {e}");
        }
    });
    Ok(client)
}

/// `"name"` with inner quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with inner quotes doubled.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `"ns"."table"`.
pub fn qualified(ns: &str, table: &str) -> String {
    format!("{}.{}", ident(ns), ident(table))
}
