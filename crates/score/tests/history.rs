#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
//! The history stores: runs recorded and read back per project and environment, retention,
//! concurrent writers (SQLite and PostgreSQL) leaving one consistent chain of runs, and a
//! locked, corrupt or foreign SQLite file refused with a clear error and left as it was.
use std::collections::BTreeMap;
use std::time::Duration;

use prodlike_results::report::Component;
use prodlike_score::{History, HistoryError, Key, NewRun};

fn key(project: &str) -> Key {
    Key {
        project: project.into(),
        environment: "staging".into(),
    }
}

fn run(score: f64) -> NewRun {
    let components: BTreeMap<Component, Option<f64>> = Component::ALL
        .into_iter()
        .map(|c| (c, (c != Component::Schema).then_some(score)))
        .collect();
    NewRun {
        at: "2026-12-04T20:00:00Z".into(),
        score,
        components,
        losses: Vec::new(),
    }
}

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn runs_are_kept_per_project_with_retention() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db").display().to_string();
    let mut h = History::open(&path, WAIT).unwrap();
    for i in 0..5 {
        let (id, prev) = h.record(&key("a"), &run(f64::from(i)), 3).unwrap();
        assert_eq!(prev.map(|p| p.score), (i > 0).then(|| f64::from(i - 1)));
        assert!(id > 0);
    }
    h.record(&key("b"), &run(99.0), 3).unwrap();
    let a = h.runs(&key("a"), 10).unwrap();
    assert_eq!(
        a.iter().map(|r| r.score).collect::<Vec<_>>(),
        [2.0, 3.0, 4.0]
    );
    assert_eq!(a[0].components[&Component::Schema], None);
    assert_eq!(h.runs(&key("b"), 10).unwrap().len(), 1);
    // Reopened: the same runs.
    drop(h);
    let mut again = History::open(&path, WAIT).unwrap();
    assert_eq!(again.runs(&key("a"), 2).unwrap().len(), 2);
}

/// Every run's previous is the run recorded just before it: no two writers saw the same
/// predecessor, so none of them computed its delta against a stale history.
fn assert_one_chain(path: &str, project: &str, expected: usize) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, previous_run FROM prodlike_report_runs WHERE project = ?1 ORDER BY id")
        .unwrap();
    let rows: Vec<(i64, Option<i64>)> = stmt
        .query_map([project], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), expected);
    assert_eq!(rows[0].1, None);
    for w in rows.windows(2) {
        assert_eq!(w[1].1, Some(w[0].0), "{rows:?}");
    }
}

#[test]
fn two_writers_at_once_leave_one_consistent_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db").display().to_string();
    let per_writer = 40;
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Each writer opens its own connection, as two processes would.
                let mut h = History::open(&path, WAIT).unwrap();
                for i in 0..per_writer {
                    h.record(&key("shared"), &run(f64::from(w * 100 + i)), 1000)
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    assert_one_chain(&path, "shared", 2 * per_writer as usize);
    let mut h = History::open(&path, WAIT).unwrap();
    let scores: Vec<f64> = h
        .runs(&key("shared"), 1000)
        .unwrap()
        .iter()
        .map(|r| r.score)
        .collect();
    for w in 0..2 {
        for i in 0..per_writer {
            assert!(scores.contains(&f64::from(w * 100 + i)));
        }
    }
}

#[test]
fn a_locked_history_is_an_error_and_stays_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db").display().to_string();
    History::open(&path, WAIT)
        .unwrap()
        .record(&key("p"), &run(1.0), 10)
        .unwrap();
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = History::open(&path, Duration::from_millis(50))
        .and_then(|mut h| h.record(&key("p"), &run(2.0), 10))
        .unwrap_err();
    assert!(matches!(err, HistoryError::Locked { .. }), "{err:?}");
    assert!(
        err.to_string().contains("locked by another writer"),
        "{err}"
    );
    holder.execute_batch("ROLLBACK").unwrap();
    let mut h = History::open(&path, WAIT).unwrap();
    let runs = h.runs(&key("p"), 10).unwrap();
    assert_eq!(runs.iter().map(|r| r.score).collect::<Vec<_>>(), [1.0]);
}

#[test]
fn a_corrupt_or_foreign_file_is_refused_unwritten() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&corrupt, &garbage).unwrap();
    let err = History::open(corrupt.to_str().unwrap(), WAIT)
        .err()
        .unwrap();
    let text = prodlike_common::error::chain(&err).to_string();
    assert!(text.contains("not a database"), "{text}");
    assert_eq!(std::fs::read(&corrupt).unwrap(), garbage);

    let foreign = dir.path().join("app.db");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE users (id INTEGER)")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&foreign).unwrap();
    let err = History::open(foreign.to_str().unwrap(), WAIT)
        .err()
        .unwrap();
    assert!(matches!(err, HistoryError::Layout { .. }), "{err:?}");
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
}

#[test]
fn postgres_history_is_consistent_under_two_writers() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(db) = rt.block_on(prodlike_testkit::pg::TempDatabase::create("score_history")) else {
        return;
    };
    let url = db.url.clone();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut h = History::open(&url, WAIT).unwrap();
                for i in 0..15 {
                    h.record(&key("pg"), &run(f64::from(w * 100 + i)), 1000)
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let chain: Vec<(i64, Option<i64>)> = rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .query(
                "SELECT id, previous_run FROM prodlike_report_runs ORDER BY id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    });
    assert_eq!(chain.len(), 30);
    for w in chain.windows(2) {
        assert_eq!(w[1].1, Some(w[0].0), "{chain:?}");
    }
    let mut h = History::open(&url, WAIT).unwrap();
    let runs = h.runs(&key("pg"), 1000).unwrap();
    assert_eq!(runs.len(), 30);
    // Retention, then the chain of previous runs read back through the API.
    let (_, prev) = h.record(&key("pg"), &run(7.0), 5).unwrap();
    assert_eq!(prev.unwrap().run, runs[29].run);
    assert_eq!(h.runs(&key("pg"), 1000).unwrap().len(), 5);
    drop(h);
    drop(db);
}
