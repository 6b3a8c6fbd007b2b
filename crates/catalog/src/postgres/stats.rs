//! Statistics the catalog keeps without a scan. Today the on-disk size of each table, which
//! orders the copies of a full sync; row estimates and column statistics for `data plans` will
//! join here.
use tokio_postgres::Client;

use super::IN_SCOPE;
use crate::error::CatalogError;
use crate::options::Scope;

/// The on-disk size of one table and of its indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSize {
    pub schema: String,
    pub name: String,
    /// `pg_table_size`: heap, TOAST, free space and visibility maps; indexes not counted.
    pub bytes: u64,
    /// `pg_indexes_size`: every index of the table (a copy builds them all again).
    pub index_bytes: u64,
}

/// The size of every ordinary and partitioned table in scope (a partitioned table's own size,
/// not its partitions'), from the catalog.
pub async fn table_sizes(client: &Client, scope: &Scope) -> Result<Vec<TableSize>, CatalogError> {
    let schema = match scope {
        Scope::UserSchemas => None,
        Scope::Schema(name) => Some(name.as_str()),
    };
    let rows = super::rows(
        client,
        "table sizes",
        &format!(
            "SELECT n.nspname::text, c.relname::text, pg_table_size(c.oid)::bigint, \
                 pg_indexes_size(c.oid)::bigint \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') AND {IN_SCOPE}"
        ),
        &[&schema],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| TableSize {
            schema: r.get(0),
            name: r.get(1),
            bytes: r.get::<_, i64>(2).max(0) as u64,
            index_bytes: r.get::<_, i64>(3).max(0) as u64,
        })
        .collect())
}
