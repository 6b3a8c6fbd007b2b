//! `--dry-run` against a PostgreSQL target: the whole DDL of a sync — types, sequences,
//! extensions, functions, tables, keys, foreign keys, sequence positions, views, materialized
//! views, triggers, comments, policies and relation settings — run in one transaction in a throwaway load schema, then rolled
//! back. Nothing durable is written (the schema, and every object in it, go with the rollback;
//! no advisory lock, no leftover clean-up). A statement the real sync would fail on fails here,
//! with PostgreSQL's message and the object named. No rows are copied, so what only rows can
//! break (a foreign key's orphans, a check on masked values) is not tried.
use prodlike_catalog::Catalog;

use super::objects::{self, NotCopied};
use super::{connect, ddl, ident};
use crate::error::{DataError, Result};
use crate::schema::{Schema, Table};

/// Rehearses the DDL of copying `tables` of `schema` (with the objects of `cat`, PostgreSQL
/// sources) into the target `conn`; returns what the sync would not copy.
pub async fn rehearse(
    conn: &str,
    shown: &str,
    schema: &Schema,
    tables: &[&Table],
    cat: Option<&Catalog>,
    roles: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<NotCopied>> {
    let client = connect(conn, shown).await?;
    let load_ns = format!("prodlike_dryrun_{:08x}", fastrand::u32(..));
    let ddl = ddl::build(schema, tables, &load_ns);
    let run = |sql: String, what: String| {
        let client = &client;
        async move {
            client
                .batch_execute(&sql)
                .await
                .map_err(DataError::pg(format!("dry run on {shown}: {what}")))
        }
    };
    run("BEGIN".into(), "starting a transaction".into()).await?;
    let outcome = async {
        for s in &ddl.create {
            run(s.clone(), format!("creating {}", first_words(s))).await?;
        }
        let planned = match cat {
            Some(cat) => {
                let target_ext = objects::target_extensions(&client).await?;
                Some(objects::plan(
                    cat,
                    schema,
                    tables,
                    &load_ns,
                    &target_ext,
                    roles,
                ))
            }
            None => None,
        };
        let mut lost = Vec::new();
        let mut waiting = Vec::new();
        if let Some(p) = &planned {
            let (w, l) = objects::before_tables(&client, p).await?;
            waiting = w;
            lost.extend(l);
            lost.extend(p.not_copied.iter().cloned());
        }
        for (t, sql) in &ddl.tables {
            run(sql.clone(), format!("creating table {t}")).await?;
        }
        for (t, stmts) in &ddl.keys {
            for s in stmts {
                run(s.clone(), format!("adding keys and indexes to {t}")).await?;
            }
        }
        for f in &ddl.foreign_keys {
            run(
                f.add.clone(),
                format!("adding a foreign key of {}", f.child),
            )
            .await?;
        }
        for s in &ddl.sequences {
            run(s.clone(), "setting sequences".into()).await?;
        }
        if let Some(p) = &planned {
            run(
                format!("SET LOCAL search_path = {}", ident(&load_ns)),
                "search_path".into(),
            )
            .await?;
            lost.extend(objects::after_load(&client, p, &waiting).await?);
        }
        Ok::<_, DataError>(lost)
    }
    .await;
    // Whatever happened, nothing stays.
    let _ = client.batch_execute("ROLLBACK").await;
    outcome.map_err(|e| match e {
        DataError::Postgres { what, source } if !what.starts_with("dry run") => {
            DataError::Postgres {
                what: format!("dry run on {shown}: {what}"),
                source,
            }
        }
        DataError::PostgresSaid { what, said } if !what.starts_with("dry run") => {
            DataError::PostgresSaid {
                what: format!("dry run on {shown}: {what}"),
                said,
            }
        }
        other => other,
    })
}

/// `CREATE TYPE "ns"."mood"` → `TYPE "ns"."mood"`, to name a statement of `ddl.create`.
fn first_words(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().skip(1).take(2).collect();
    words.join(" ").to_lowercase()
}
