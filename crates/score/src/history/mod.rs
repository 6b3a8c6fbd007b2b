//! The history of scores, per project and environment: an embedded SQLite file by default
//! (`.prodlike/history.db`), or a PostgreSQL database given a `postgres://` URL (CI, where a
//! fresh checkout loses local files). Each store records a run in one serialised transaction
//! (reading the previous run, inserting, deleting runs past retention), so concurrent reports
//! never interleave; a database it cannot use is an error and is never written to.
mod postgres;
mod sqlite;

use std::collections::BTreeMap;
use std::time::Duration;

use prodlike_results::report::{Component, HistoryPoint, Loss};
use serde::{Deserialize, Serialize};

use crate::error::HistoryError;

/// One stored run.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    pub run: i64,
    pub at: String,
    pub score: f64,
    pub components: BTreeMap<Component, Option<f64>>,
    pub losses: Vec<Loss>,
}

impl StoredRun {
    pub fn point(&self) -> HistoryPoint {
        HistoryPoint {
            run: self.run,
            at: self.at.clone(),
            score: self.score,
            components: self.components.clone(),
        }
    }
}

/// A run to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    pub at: String,
    pub score: f64,
    pub components: BTreeMap<Component, Option<f64>>,
    pub losses: Vec<Loss>,
}

/// Who the runs belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub project: String,
    pub environment: String,
}

/// An open history store.
pub enum History {
    Sqlite(sqlite::SqliteHistory),
    Postgres(postgres::PgHistory),
}

impl History {
    /// Opens (creating when absent) the store `target`: a `postgres://` or `postgresql://`
    /// URL, or a file path. `wait` bounds how long a locked SQLite file is waited for.
    pub fn open(target: &str, wait: Duration) -> Result<History, HistoryError> {
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            Ok(History::Postgres(postgres::PgHistory::open(target)?))
        } else {
            Ok(History::Sqlite(sqlite::SqliteHistory::open(target, wait)?))
        }
    }

    /// Stores `run` and keeps the newest `keep` runs of `key`; returns the new run's id and
    /// the run before it.
    pub fn record(
        &mut self,
        key: &Key,
        run: &NewRun,
        keep: u32,
    ) -> Result<(i64, Option<StoredRun>), HistoryError> {
        match self {
            History::Sqlite(h) => h.record(key, run, keep),
            History::Postgres(h) => h.record(key, run, keep),
        }
    }

    /// The newest `limit` runs of `key`, oldest first.
    pub fn runs(&mut self, key: &Key, limit: u32) -> Result<Vec<StoredRun>, HistoryError> {
        match self {
            History::Sqlite(h) => h.runs(key, limit),
            History::Postgres(h) => h.runs(key, limit),
        }
    }
}

/// A stored row: id, time, score, components and losses as JSON.
type Raw = (i64, String, f64, String, String);

/// A row read back; `place` names the store in errors.
fn stored(place: &str, (run, at, score, c, l): Raw) -> Result<StoredRun, HistoryError> {
    let (components, losses) = decode(place, run, &c, &l)?;
    Ok(StoredRun {
        run,
        at,
        score,
        components,
        losses,
    })
}

/// Each component's score in one run (`None`: missing or inconclusive).
pub type ComponentScores = BTreeMap<Component, Option<f64>>;

/// The JSON columns read back.
fn decode(
    place: &str,
    run: i64,
    components: &str,
    losses: &str,
) -> Result<(ComponentScores, Vec<Loss>), HistoryError> {
    let damaged = |column, source| HistoryError::Damaged {
        path: place.to_owned(),
        run,
        column,
        source,
    };
    let c = serde_json::from_str(components).map_err(|e| damaged("components", e))?;
    let l = serde_json::from_str(losses).map_err(|e| damaged("losses", e))?;
    Ok((c, l))
}

fn encode(run: &NewRun) -> (String, String) {
    // Maps of plain values and derived types: serialising them cannot fail.
    let c = serde_json::to_string(&run.components).unwrap_or_else(|_| "{}".into());
    let l = serde_json::to_string(&run.losses).unwrap_or_else(|_| "[]".into());
    (c, l)
}
