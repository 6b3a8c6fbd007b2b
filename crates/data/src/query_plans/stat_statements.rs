//! `--from-stat-statements N`: the N heaviest statements (by `total_exec_time`) of production's
//! `pg_stat_statements`, as queries to compare. Their text is normalized (constants are `$1`,
//! `$2`, …), so production's rows never leave it; the values a plan needs are sampled from
//! staging's own data (param_columns.rs finds the column each placeholder is compared with),
//! and the plans are generic ones (explain.rs).
use prodlike_results::data::plans::StatStatement;
use tokio_postgres::Client;

use super::param_columns::{self, Source};
use super::queries::Query;

/// The heaviest `n` statements of this database, or why `pg_stat_statements` cannot be read
/// (an input error of the run). Only statements EXPLAIN takes (SELECT, WITH, INSERT, UPDATE,
/// DELETE) and none on the system catalogs (prodlike's own reads among them).
pub async fn heaviest(prod: &Client, n: usize) -> std::result::Result<Vec<Query>, String> {
    let limit = i64::try_from(n).unwrap_or(i64::MAX);
    let rows = prod
        .query(
            "SELECT query, queryid, calls, total_exec_time FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND query ~* '^\\s*(select|with|insert|update|delete)\\M' \
               AND query !~* '\\mpg_[a-z_]+|information_schema' \
             ORDER BY total_exec_time DESC LIMIT $1",
            &[&limit],
        )
        .await
        .map_err(|e| {
            let msg = e
                .as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string());
            format!(
                "--from-stat-statements: production's pg_stat_statements cannot be read ({msg}); \
                 it needs shared_preload_libraries = 'pg_stat_statements' in postgresql.conf \
                 and CREATE EXTENSION pg_stat_statements in this database"
            )
        })?;
    Ok(rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let text: String = r.get(0);
            let queryid: Option<i64> = r.get(1);
            let queryid = queryid.unwrap_or(0);
            Query {
                generic: true,
                stat: Some(StatStatement {
                    queryid,
                    calls: r.get(2),
                    total_exec_time_ms: r.get(3),
                }),
                ..Query::new(
                    format!("queryid {queryid}"),
                    text.trim().trim_end_matches(';').trim_end(),
                    i + 1,
                )
            }
        })
        .collect())
}

/// Gives `q`'s placeholders values sampled from staging (`search_path` set as the plans
/// are), or sets its `bind_error` to why they cannot be: a placeholder compared with no
/// column, a column staging holds no value of.
pub async fn sample(stag: &Client, q: &mut Query, search_path: &str) {
    let sources = match param_columns::sources(&q.sql) {
        Ok(s) => s,
        Err(e) => {
            q.bind_error = Some(e);
            return;
        }
    };
    let mut values = Vec::new();
    for (expected, (n, source)) in (1..).zip(&sources) {
        if *n != expected {
            q.bind_error = Some(format!("the statement uses ${n} but not ${expected}"));
            return;
        }
        let value = match source {
            Source::Fixed(v) => Ok(v.clone()),
            Source::Unknown(why) => Err(why.clone()),
            Source::Column { column, tables } => sampled(stag, column, tables, search_path)
                .await
                .ok_or_else(|| {
                    format!(
                        "${n} is compared with {column}, and staging has no value of it in {} \
                             to sample",
                        tables.join(" or ")
                    )
                }),
        };
        match value {
            Ok(v) => values.push(v),
            Err(e) => {
                q.bind_error = Some(e);
                return;
            }
        }
    }
    q.params = values;
}

/// One non-null value of `column` from the first of `tables` that has one, as a literal cast
/// to its type (`'42'::integer`), read in a read-only transaction on staging.
async fn sampled(
    stag: &Client,
    column: &str,
    tables: &[String],
    search_path: &str,
) -> Option<String> {
    for table in tables {
        // Names as the statement wrote them (param_columns keeps only names and quoted names).
        let sql = format!(
            "SELECT quote_literal(x::text) || '::' || pg_typeof(x)::text \
             FROM (SELECT {column} AS x FROM {table} WHERE {column} IS NOT NULL LIMIT 1) s"
        );
        let begin = format!("BEGIN TRANSACTION READ ONLY; SET LOCAL search_path = {search_path}");
        if stag.batch_execute(&begin).await.is_err() {
            return None;
        }
        let row = stag.query_opt(&sql, &[]).await;
        let _ = stag.batch_execute("ROLLBACK").await;
        if let Ok(Some(r)) = row
            && let Ok(Some(v)) = r.try_get::<_, Option<String>>(0)
        {
            return Some(v);
        }
    }
    None
}
