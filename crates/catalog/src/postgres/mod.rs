//! The PostgreSQL reader: the one place that queries `pg_catalog`.
//!
//! It takes a connected [`Client`] and reads through it, so the caller keeps control of the
//! session: a copy reads the schema inside its snapshot transaction, and sets `search_path`
//! first when it wants type names, defaults and definitions printed unqualified (PostgreSQL
//! prints them relative to the session's search path).
//!
//! One query per part of the catalog (relations, columns, constraints, indexes, views,
//! sequences, enum types; server, settings and extensions on request), each over every
//! relation in scope at once.
mod grants;
mod objects;
mod routines;
mod server;
mod stats;
mod tables;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

pub use grants::privileges;
pub use server::with_unit;
pub use stats::{TableSize, table_sizes};

use crate::error::CatalogError;
use crate::model::{Catalog, Engine};
use crate::options::{Options, Scope};

/// Schemas in scope, as a condition on `n.nspname` with the schema name (or NULL for every user
/// schema) as `$1`.
pub(crate) const IN_SCOPE: &str = "(($1::text IS NULL AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%') OR n.nspname = $1::text)";

/// Reads the catalog of the database `client` is connected to.
pub async fn read(client: &Client, options: &Options) -> Result<Catalog, CatalogError> {
    let schema = scope_param(client, &options.scope).await?;
    let relations = tables::relations(client, schema).await?;
    let mut indexes = tables::indexes(client, &relations).await?;
    let tables = tables::read(client, &relations, &mut indexes).await?;
    let views = objects::views(client, &relations, &mut indexes).await?;
    let sequences = objects::sequences(client, schema).await?;
    let enums = objects::enums(client, schema).await?;
    let code = routines::read(client, schema).await?;
    let domains = objects::domains(client, schema).await?;
    let composites = objects::composites(client, schema).await?;
    let server = match options.server {
        true => Some(server::read(client).await?),
        false => None,
    };
    Ok(Catalog {
        engine: Engine::Postgres,
        server,
        tables,
        views,
        sequences,
        enums,
        objects: code,
        domains,
        composites,
    })
}

/// Runs one query of the read; a failure names the part of the catalog (`what`).
pub(crate) async fn rows(
    client: &Client,
    what: &'static str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, CatalogError> {
    client
        .query(sql, params)
        .await
        .map_err(CatalogError::pg(what))
}

/// The `$1` of [`IN_SCOPE`]: the one schema, checked to exist, or NULL for every user schema.
async fn scope_param<'a>(
    client: &Client,
    scope: &'a Scope,
) -> Result<Option<&'a str>, CatalogError> {
    match scope {
        Scope::UserSchemas => Ok(None),
        Scope::Schema(name) => {
            let exists = client
                .query_opt(
                    "SELECT 1 FROM pg_namespace WHERE nspname = $1",
                    &[&name.as_str()],
                )
                .await
                .map_err(CatalogError::pg("namespace"))?;
            match exists {
                Some(_) => Ok(Some(name)),
                None => Err(CatalogError::NoSuchSchema {
                    schema: name.clone(),
                }),
            }
        }
    }
}
