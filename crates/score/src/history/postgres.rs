//! The PostgreSQL history: the same table in the URL's database. Every write runs in one
//! transaction that first takes a transaction-level advisory lock, so concurrent reports (and
//! their `CREATE TABLE IF NOT EXISTS`) are serialised by the server.
use tokio_postgres::{Client, NoTls};

use super::{Key, NewRun, Raw, StoredRun, encode, stored};
use crate::error::HistoryError;

/// The advisory lock key every prodlike report writer takes ("prodlike" in ASCII, cut to i64).
const LOCK: i64 = 0x7072_6f64_6c69_6b65;

const CREATE: &str = "
CREATE TABLE IF NOT EXISTS prodlike_report_runs (
    id BIGSERIAL PRIMARY KEY,
    project TEXT NOT NULL,
    environment TEXT NOT NULL,
    at TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    components TEXT NOT NULL,
    losses TEXT NOT NULL,
    previous_run BIGINT
);
CREATE INDEX IF NOT EXISTS prodlike_report_runs_key
    ON prodlike_report_runs (project, environment, id);
";

pub struct PgHistory {
    /// The URL with its password hidden, for messages.
    url: String,
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl PgHistory {
    pub fn open(url: &str) -> Result<PgHistory, HistoryError> {
        let shown = prodlike_common::redact::redact_url(url);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| HistoryError::Runtime {
                url: shown.clone(),
                source,
            })?;
        let err = |action| {
            let url = shown.clone();
            move |source| HistoryError::Postgres {
                url,
                action,
                source,
            }
        };
        let (mut client, conn) = rt
            .block_on(tokio_postgres::connect(url, NoTls))
            .map_err(err("could not connect"))?;
        rt.spawn(conn);
        rt.block_on(async {
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
                .await?;
            tx.batch_execute(CREATE).await?;
            tx.commit().await
        })
        .map_err(err("could not create the history table"))?;
        Ok(PgHistory {
            url: shown,
            rt,
            client,
        })
    }

    pub fn record(
        &mut self,
        key: &Key,
        run: &NewRun,
        keep: u32,
    ) -> Result<(i64, Option<StoredRun>), HistoryError> {
        let (components, losses) = encode(run);
        let keep = i64::from(keep);
        let client = &mut self.client;
        let (id, previous) = self
            .rt
            .block_on(async {
                let tx = client.transaction().await?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
                    .await?;
                let prev = tx
                    .query_opt(
                        "SELECT id, at, score, components, losses FROM prodlike_report_runs
                         WHERE project = $1 AND environment = $2 ORDER BY id DESC LIMIT 1",
                        &[&key.project, &key.environment],
                    )
                    .await?
                    .map(raw)
                    .transpose()?;
                let prev_id = prev.as_ref().map(|p| p.0);
                let row = tx
                    .query_one(
                        "INSERT INTO prodlike_report_runs
                             (project, environment, at, score, components, losses, previous_run)
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                        &[
                            &key.project,
                            &key.environment,
                            &run.at,
                            &run.score,
                            &components,
                            &losses,
                            &prev_id,
                        ],
                    )
                    .await?;
                let id: i64 = row.get(0);
                tx.execute(
                    "DELETE FROM prodlike_report_runs
                     WHERE project = $1 AND environment = $2 AND id NOT IN (
                         SELECT id FROM prodlike_report_runs
                         WHERE project = $1 AND environment = $2
                         ORDER BY id DESC LIMIT $3)",
                    &[&key.project, &key.environment, &keep],
                )
                .await?;
                tx.commit().await?;
                Ok::<_, tokio_postgres::Error>((id, prev))
            })
            .map_err(|source| HistoryError::Postgres {
                url: self.url.clone(),
                action: "could not record the run",
                source,
            })?;
        let previous = previous.map(|r| stored(&self.url, r)).transpose()?;
        Ok((id, previous))
    }

    pub fn runs(&mut self, key: &Key, limit: u32) -> Result<Vec<StoredRun>, HistoryError> {
        let rows = self
            .rt
            .block_on(self.client.query(
                "SELECT id, at, score, components, losses FROM prodlike_report_runs
                 WHERE project = $1 AND environment = $2 ORDER BY id DESC LIMIT $3",
                &[&key.project, &key.environment, &i64::from(limit)],
            ))
            .map_err(|source| HistoryError::Postgres {
                url: self.url.clone(),
                action: "could not read the history",
                source,
            })?;
        let mut out = Vec::new();
        for r in rows {
            let r = raw(r).map_err(|source| HistoryError::Postgres {
                url: self.url.clone(),
                action: "could not read the history",
                source,
            })?;
            out.push(stored(&self.url, r)?);
        }
        out.reverse();
        Ok(out)
    }
}

fn raw(r: tokio_postgres::Row) -> Result<Raw, tokio_postgres::Error> {
    Ok((
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
    ))
}
