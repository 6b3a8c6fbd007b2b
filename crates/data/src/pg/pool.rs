//! Idle connections to one database, handed out again instead of opening new ones.
//!
//! A load opens a connection per table to copy, another to build its keys and more to check
//! its foreign keys. Each new PostgreSQL connection costs a forked backend that fills its
//! catalog caches: about 5 ms of CPU (`pgbench -C`, 500 connections, on the 2-core development
//! machine), some 0.1 s over one sync of the bench database, on cores the copies need.
//!
//! Only a connection its user finished with cleanly comes back ([`Pool::put`]): nothing in
//! flight, and outside any transaction (a target's) or still in the shared snapshot's read-only
//! transaction (a source's, `source.rs`). One dropped on an error path closes, as before.

use std::sync::Mutex;

use tokio_postgres::Client;

use crate::error::Result;

/// Idle connections kept at most; more are closed.
const MAX_IDLE: usize = 8;

pub(crate) struct Pool {
    conn: String,
    shown: String,
    idle: Mutex<Vec<Client>>,
}

impl Pool {
    pub(crate) fn new(conn: &str, shown: &str) -> Self {
        Self {
            conn: conn.to_owned(),
            shown: shown.to_owned(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle connection, or a new one.
    pub(crate) async fn get(&self) -> Result<Client> {
        match self.take() {
            Some(c) => Ok(c),
            None => super::connect(&self.conn, &self.shown).await,
        }
    }

    /// An idle connection, if one is open (a caller that sets a new one up its own way).
    pub(crate) fn take(&self) -> Option<Client> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The server may have closed one meanwhile (a restart, idle timeouts).
        while let Some(c) = idle.pop() {
            if !c.is_closed() {
                return Some(c);
            }
        }
        None
    }

    /// Gives back a connection whose work ended cleanly.
    pub(crate) fn put(&self, client: Client) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE && !client.is_closed() {
            idle.push(client);
        }
    }

    /// Connections waiting to be reused (tests).
    #[cfg(test)]
    pub(crate) fn idle(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    async fn backend_pid(c: &Client) -> i32 {
        c.query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_given_back_is_the_one_handed_out_next() {
        let Some(db) = prodlike_testkit::pg::TempDatabase::create("pool").await else {
            return;
        };
        let pool = Pool::new(&db.url, "the test database");
        let c = pool.get().await.unwrap();
        let pid = backend_pid(&c).await;
        pool.put(c);
        assert_eq!(pool.idle(), 1);
        let again = pool.get().await.unwrap();
        let pid_again = backend_pid(&again).await;
        assert_eq!(pid, pid_again, "a new backend was started");
        assert_eq!(pool.idle(), 0);
        // A connection the server ended is not handed out again.
        let admin = db.connect().await.unwrap();
        admin
            .execute("SELECT pg_terminate_backend($1)", &[&pid_again])
            .await
            .unwrap();
        // The client learns of it on its next request; its connection task then ends.
        let _ = again.simple_query("SELECT 1").await;
        for _ in 0..2000 {
            if again.is_closed() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert!(again.is_closed());
        pool.put(again);
        assert_eq!(pool.idle(), 0);
        let fresh = pool.get().await.unwrap();
        let fresh_pid = backend_pid(&fresh).await;
        assert_ne!(fresh_pid, pid);
        // No more are kept idle than the cap.
        let mut many = Vec::new();
        for _ in 0..MAX_IDLE + 2 {
            many.push(pool.get().await.unwrap());
        }
        for c in many {
            pool.put(c);
        }
        assert_eq!(pool.idle(), MAX_IDLE);
    }
}
