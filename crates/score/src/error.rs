//! The one error type of prodlike-score: each variant names the file, database or field, and
//! keeps its cause as a source.
use std::path::PathBuf;

/// What went wrong while scoring or keeping the history.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("could not read the report configuration {path}")]
    ConfigIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("report configuration {path}: {problem}")]
    Config { path: PathBuf, problem: String },
    #[error("could not read the result")]
    Read(#[source] prodlike_results::ReadError),
    #[error(
        "no result files given: pass the --out files of shadow, load, data verify, drift or compare"
    )]
    NoInputs,
    #[error("--min-score {0}: give a score from 0 to 100")]
    MinScore(f64),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("could not draw the HTML report")]
    Chart(#[source] prodlike_report::chart::ChartError),
    #[error("could not render the HTML report")]
    Html(#[source] prodlike_report::html::HtmlError),
}

/// The history database could not be used. Nothing was written to it.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("history {path}: {action}")]
    Sqlite {
        path: String,
        action: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "history {path}: the database is locked by another writer (waited {waited}); try again, or give --history-wait a longer time"
    )]
    Locked {
        path: String,
        waited: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "history {path}: not a prodlike history database (layout {found}; this prodlike reads layout {expected}); give another --history-db"
    )]
    Layout {
        path: String,
        found: i64,
        expected: i64,
    },
    #[error("history {path}: could not create its folder")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("history {url}: {action}")]
    Postgres {
        url: String,
        action: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("history {url}: could not start the database client's runtime")]
    Runtime {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("history {path}: run {run} holds a damaged {column} value")]
    Damaged {
        path: String,
        run: i64,
        column: &'static str,
        #[source]
        source: serde_json::Error,
    },
}
