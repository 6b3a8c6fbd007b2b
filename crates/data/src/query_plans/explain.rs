//! One query explained on one PostgreSQL side: `EXPLAIN (FORMAT JSON)` inside a read-only
//! transaction that is rolled back, so the query is planned and never run (never `ANALYZE`).
//! A query with parameters is prepared (`PREPARE`) and explained with its values
//! (`EXPLAIN EXECUTE name(…)`); a generic one (`pg_stat_statements`' placeholders) is
//! `EXPLAIN (GENERIC_PLAN)` on PostgreSQL 16 and later, and before that a prepared statement
//! under `plan_cache_mode = force_generic_plan` explained with sample values.
use tokio_postgres::Client;
use tokio_postgres::types::{FromSql, Type};

use super::queries::Query;
use super::tree::{self, Node};
use crate::error::{DataError, Result};

/// One side's explanation of a query: its nodes, or the database's error.
pub type Explained = std::result::Result<Vec<Node>, String>;

/// PostgreSQL 16: the first with `EXPLAIN (GENERIC_PLAN)`.
const GENERIC_PLAN_SINCE: i32 = 160_000;

/// The prepared statement's name; one query at a time per connection, deallocated after.
const PREPARED: &str = "prodlike_plan";

/// A side: its client and `server_version_num`.
pub struct Side<'a> {
    pub client: &'a Client,
    pub version: i32,
}

impl<'a> Side<'a> {
    /// Reads the server's version.
    pub async fn new(client: &'a Client) -> Result<Side<'a>> {
        let row = client
            .query_one("SHOW server_version_num", &[])
            .await
            .map_err(DataError::pg("reading server_version_num"))?;
        let text: String = row.get(0);
        Ok(Side {
            client,
            version: text.trim().parse().unwrap_or(0),
        })
    }
}

/// Explains `q` on `side`. A statement the database refuses (bad SQL, a missing table, a value
/// its parameter's type does not take) is that side's error, not the run's.
pub async fn explain(
    side: &Side<'_>,
    q: &Query,
    search_path: &str,
    timeout_ms: u64,
) -> Result<Explained> {
    let c = side.client;
    let generic_keyword = q.generic && side.version >= GENERIC_PLAN_SINCE;
    let prepare = !generic_keyword && (q.generic || !q.params.is_empty());
    let mut begin = format!(
        "BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = {timeout_ms}; \
         SET LOCAL search_path = {search_path}"
    );
    if q.generic && prepare {
        // PostgreSQL 15 and before: a prepared statement's generic plan, whatever the values.
        begin.push_str("; SET LOCAL plan_cache_mode = force_generic_plan");
    }
    c.batch_execute(&begin)
        .await
        .map_err(DataError::pg("starting a read-only transaction"))?;
    let mut prepared = false;
    let result = if prepare {
        prepared_plan(c, q, &mut prepared).await
    } else {
        let options = if generic_keyword {
            "GENERIC_PLAN, FORMAT JSON"
        } else {
            "FORMAT JSON"
        };
        // The extended protocol: one statement only, whatever the text holds.
        c.query(&format!("EXPLAIN ({options}) {}", q.sql), &[])
            .await
            .map_err(|e| message(&e))
    };
    c.batch_execute("ROLLBACK")
        .await
        .map_err(DataError::pg("ending the read-only transaction"))?;
    if prepared {
        // A prepared statement outlives the transaction; a failure to drop it only leaves a
        // name the next PREPARE reports.
        let _ = c.batch_execute(&format!("DEALLOCATE {PREPARED}")).await;
    }
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => return Ok(Err(e)),
    };
    let Some(row) = rows.first() else {
        return Ok(Err("EXPLAIN returned nothing".into()));
    };
    let text: JsonText = match row.try_get(0) {
        Ok(t) => t,
        Err(e) => return Ok(Err(format!("EXPLAIN's output could not be read: {e}"))),
    };
    let doc: serde_json::Value = match serde_json::from_str(&text.0) {
        Ok(v) => v,
        Err(e) => return Ok(Err(format!("EXPLAIN's output is not JSON: {e}"))),
    };
    Ok(tree::nodes(&doc).map_err(|e| e.to_string()))
}

/// `PREPARE` then `EXPLAIN (FORMAT JSON) EXECUTE name(values)`; `prepared` says whether the
/// statement exists afterwards. A refused `PREPARE` is the SQL's fault (the database's message
/// as is); a refused `EXECUTE` is the values' (named with them).
async fn prepared_plan(
    c: &Client,
    q: &Query,
    prepared: &mut bool,
) -> std::result::Result<Vec<tokio_postgres::Row>, String> {
    // The queries file's split guarantees one statement (no `;` outside quotes); values are
    // checked literals (queries::literal) or quoted by the database (sampled ones).
    c.batch_execute(&format!("PREPARE {PREPARED} AS {}", q.sql))
        .await
        .map_err(|e| message(&e))?;
    *prepared = true;
    let execute = if q.params.is_empty() {
        format!("EXECUTE {PREPARED}")
    } else {
        format!("EXECUTE {PREPARED}({})", q.params.join(", "))
    };
    c.query(&format!("EXPLAIN (FORMAT JSON) {execute}"), &[])
        .await
        .map_err(|e| {
            format!(
                "its parameters cannot be bound ({}): {}",
                super::queries::shown_params(&q.params),
                message(&e)
            )
        })
}

/// The database's own message when it gave one.
fn message(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_else(|| e.to_string())
}

/// A `json` column's text (EXPLAIN (FORMAT JSON)'s one column).
struct JsonText(String);

impl<'a> FromSql<'a> for JsonText {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(JsonText(String::from_utf8(raw.to_vec())?))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::TEXT
    }
}
