//! The embedded history: one SQLite file in WAL mode. A run is recorded inside `BEGIN
//! IMMEDIATE`, which takes the write lock before reading the previous run, so two reports
//! written at once are serialised; a writer that cannot get the lock within `wait` fails
//! with [`HistoryError::Locked`] and writes nothing.
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use super::{Key, NewRun, Raw, StoredRun, encode, stored};
use crate::error::HistoryError;

/// `PRAGMA user_version` of the layout below.
const LAYOUT: i64 = 1;

const CREATE: &str = "
CREATE TABLE IF NOT EXISTS prodlike_report_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    environment TEXT NOT NULL,
    at TEXT NOT NULL,
    score REAL NOT NULL,
    components TEXT NOT NULL,
    losses TEXT NOT NULL,
    previous_run INTEGER
);
CREATE INDEX IF NOT EXISTS prodlike_report_runs_key
    ON prodlike_report_runs (project, environment, id);
PRAGMA user_version = 1;
";

pub struct SqliteHistory {
    path: String,
    wait: Duration,
    conn: Connection,
}

impl SqliteHistory {
    pub fn open(path: &str, wait: Duration) -> Result<SqliteHistory, HistoryError> {
        if let Some(dir) = Path::new(path).parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            std::fs::create_dir_all(dir).map_err(|source| HistoryError::Folder {
                path: path.to_owned(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|source| HistoryError::Sqlite {
            path: path.to_owned(),
            action: "could not open the database",
            source,
        })?;
        let mut h = SqliteHistory {
            path: path.to_owned(),
            wait,
            conn,
        };
        h.conn
            .busy_timeout(wait)
            .map_err(|e| h.fail("could not set the lock timeout", e))?;
        // Reading the header first, in one statement (one snapshot): a file that is not a
        // database, or someone else's database, fails here, unwritten.
        let (version, tables): (i64, i64) = h
            .conn
            .query_row(
                "SELECT (SELECT user_version FROM pragma_user_version),
                        (SELECT count(*) FROM sqlite_master)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| h.fail("could not read the database", e))?;
        check_layout(&h.path, version, tables)?;
        h.conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| h.fail("could not switch to WAL mode", e))?;
        let (path, wait) = (h.path.clone(), h.wait);
        let err = |e| fail(&path, wait, "could not prepare the history table", e);
        // Checked and created under the write lock, so two first runs cannot race.
        let tx = h
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        let tables: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(err)?;
        check_layout(&path, version, tables)?;
        tx.execute_batch(CREATE).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(h)
    }

    fn fail(&self, action: &'static str, source: rusqlite::Error) -> HistoryError {
        fail(&self.path, self.wait, action, source)
    }

    pub fn record(
        &mut self,
        key: &Key,
        run: &NewRun,
        keep: u32,
    ) -> Result<(i64, Option<StoredRun>), HistoryError> {
        let (path, wait) = (self.path.clone(), self.wait);
        let err = |action| {
            let path = path.clone();
            move |e| fail(&path, wait, action, e)
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("could not lock the history to record the run"))?;
        let previous = latest(&tx, &self.path, key)?;
        let (components, losses) = encode(run);
        tx.execute(
            "INSERT INTO prodlike_report_runs
                 (project, environment, at, score, components, losses, previous_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                key.project,
                key.environment,
                run.at,
                run.score,
                components,
                losses,
                previous.as_ref().map(|p| p.run)
            ],
        )
        .map_err(err("could not record the run"))?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "DELETE FROM prodlike_report_runs
             WHERE project = ?1 AND environment = ?2 AND id NOT IN (
                 SELECT id FROM prodlike_report_runs WHERE project = ?1 AND environment = ?2
                 ORDER BY id DESC LIMIT ?3)",
            params![key.project, key.environment, keep],
        )
        .map_err(err("could not apply retention"))?;
        tx.commit().map_err(err("could not commit the run"))?;
        Ok((id, previous))
    }

    pub fn runs(&mut self, key: &Key, limit: u32) -> Result<Vec<StoredRun>, HistoryError> {
        let path = self.path.clone();
        let err = |e| fail(&path, self.wait, "could not read the history", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, at, score, components, losses FROM prodlike_report_runs
                 WHERE project = ?1 AND environment = ?2 ORDER BY id DESC LIMIT ?3",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map(params![key.project, key.environment, limit], raw)
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let mut out = rows
            .into_iter()
            .map(|r| stored(&self.path, r))
            .collect::<Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }
}

/// Another layout, or someone else's database: never add our tables to it.
fn check_layout(path: &str, version: i64, tables: i64) -> Result<(), HistoryError> {
    if version != LAYOUT && (version != 0 || tables > 0) {
        return Err(HistoryError::Layout {
            path: path.to_owned(),
            found: version,
            expected: LAYOUT,
        });
    }
    Ok(())
}

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn latest(conn: &Connection, path: &str, key: &Key) -> Result<Option<StoredRun>, HistoryError> {
    let row = conn
        .query_row(
            "SELECT id, at, score, components, losses FROM prodlike_report_runs
             WHERE project = ?1 AND environment = ?2 ORDER BY id DESC LIMIT 1",
            params![key.project, key.environment],
            raw,
        )
        .optional()
        .map_err(|source| HistoryError::Sqlite {
            path: path.to_owned(),
            action: "could not read the previous run",
            source,
        })?;
    row.map(|r| stored(path, r)).transpose()
}

/// A busy or locked database is named as such; anything else with what was being done.
fn fail(path: &str, wait: Duration, action: &'static str, source: rusqlite::Error) -> HistoryError {
    let busy = matches!(
        source.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    if busy {
        HistoryError::Locked {
            path: path.to_owned(),
            waited: prodlike_common::duration::format(wait),
            source,
        }
    } else {
        HistoryError::Sqlite {
            path: path.to_owned(),
            action,
            source,
        }
    }
}
