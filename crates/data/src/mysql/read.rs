//! Reading a MySQL source: the schema through prodlike-catalog, rows through the text protocol,
//! streamed in batches as the server sends them.
//!
//! MySQL has no exported snapshot for other connections to join (PostgreSQL's
//! `pg_export_snapshot`): each scan reads its table in a consistent-snapshot transaction of its
//! own, so a table is read at one instant, but two tables may be read at different ones.
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use prodlike_catalog::mysql::url::MysqlUrl;
use tokio::sync::mpsc;

use super::{connect, value_of};
use crate::error::{DataError, Result};
use crate::row::{BATCH_ROWS, Batch, Field};
use crate::schema::Kind;

/// A connection in a read-only consistent-snapshot transaction.
pub async fn snapshot_conn(url: &MysqlUrl) -> Result<Conn> {
    let mut conn = connect(url).await?;
    conn.query_drop(
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
         START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
    )
    .await
    .map_err(DataError::mysql(format!(
        "starting a snapshot on {}",
        url.shown
    )))?;
    Ok(conn)
}

/// Runs `sql` and streams its rows, each field decoded as `kinds` says, in batches.
pub async fn scan(
    url: &MysqlUrl,
    sql: String,
    kinds: Vec<Kind>,
    what: String,
) -> Result<mpsc::Receiver<Result<Batch>>> {
    let mut conn = snapshot_conn(url).await?;
    let (tx, rx) = mpsc::channel::<Result<Batch>>(8);
    tokio::spawn(async move {
        let run = async {
            let mut result = conn
                .query_iter(sql)
                .await
                .map_err(DataError::mysql(format!("reading {what}")))?;
            let mut batch = Vec::with_capacity(BATCH_ROWS);
            while let Some(row) = result
                .next()
                .await
                .map_err(DataError::mysql(format!("reading {what}")))?
            {
                let fields = row
                    .unwrap()
                    .into_iter()
                    .zip(&kinds)
                    .map(|(v, k)| match v {
                        mysql_async::Value::NULL => Field::Null,
                        mysql_async::Value::Bytes(b) => Field::Val(value_of(b, *k)),
                        other => Field::Val(value_of(other.as_sql(true).into_bytes(), *k)),
                    })
                    .collect();
                batch.push(fields);
                if batch.len() >= BATCH_ROWS {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                    if tx.send(Ok(full)).await.is_err() {
                        return Ok(());
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(Ok(batch)).await;
            }
            Ok::<(), DataError>(())
        };
        if let Err(e) = run.await {
            let _ = tx.send(Err(e)).await;
        }
        let _ = conn.disconnect().await;
    });
    Ok(rx)
}

/// The integers of the first column of `sql`'s rows (counts, group sizes).
pub async fn integers(url: &MysqlUrl, sql: &str, what: &str) -> Result<Vec<u64>> {
    let mut conn = snapshot_conn(url).await?;
    let rows: Vec<mysql_async::Row> = conn
        .query(sql)
        .await
        .map_err(DataError::mysql(what.to_owned()))?;
    let _ = conn.disconnect().await;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            r.unwrap().into_iter().next().and_then(|v| match v {
                mysql_async::Value::Bytes(b) => std::str::from_utf8(&b).ok()?.parse().ok(),
                mysql_async::Value::Int(i) => u64::try_from(i).ok(),
                mysql_async::Value::UInt(u) => Some(u),
                _ => None,
            })
        })
        .collect())
}

/// The first column of the first row of `sql` as an integer (0 when there is none).
pub async fn integer(url: &MysqlUrl, sql: &str, what: &str) -> Result<u64> {
    Ok(integers(url, sql, what)
        .await?
        .into_iter()
        .next()
        .unwrap_or(0))
}

/// Runs `sql` only to see that the server accepts it (a `where` rule).
pub async fn check(url: &MysqlUrl, sql: &str, what: String) -> Result<()> {
    let mut conn = connect(url).await?;
    let r = conn.query_drop(sql).await.map_err(DataError::mysql(what));
    let _ = conn.disconnect().await;
    r
}

/// The schema of `url`'s database as data models it, with its whole catalog.
pub async fn catalog(url: &MysqlUrl) -> Result<prodlike_catalog::Catalog> {
    let mut conn = snapshot_conn(url).await?;
    let options = prodlike_catalog::Options::schema(&url.database);
    let cat = prodlike_catalog::mysql::read(&mut conn, &options)
        .await
        .map_err(|e| match e {
            prodlike_catalog::CatalogError::Mysql { what, source } => DataError::Mysql {
                what: format!("reading the schema ({what})"),
                source,
            },
            prodlike_catalog::CatalogError::NoSuchSchema { schema } => DataError::Invalid(format!(
                "database `{schema}` does not exist on {}; name an existing one in the URL",
                url.shown
            )),
            other => DataError::Invalid(prodlike_common::error::chain(&other).to_string()),
        })?;
    let _ = conn.disconnect().await;
    Ok(cat)
}
