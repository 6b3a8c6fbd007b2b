//! Idle keep-alive connections, most recently used first: the fewest connections stay warm,
//! and the ones left at the back are those an upstream is most likely to have closed.
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use tokio::net::TcpStream;

use super::conn::H1Conn;

pub struct IdleConns<S = TcpStream> {
    idle: Mutex<Vec<(H1Conn<S>, Instant)>>,
    max: usize,
}

impl<S> std::fmt::Debug for IdleConns<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdleConns")
            .field("idle", &self.len())
            .field("max", &self.max)
            .finish()
    }
}

impl<S> IdleConns<S> {
    /// Keeps at most `max` idle connections; one put beyond that is closed.
    pub fn new(max: usize) -> Self {
        IdleConns {
            idle: Mutex::new(Vec::new()),
            max,
        }
    }

    /// Idle connections held now.
    pub fn len(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps `conn` for the next request, marked as reused.
    pub fn put(&self, mut conn: H1Conn<S>) {
        conn.reused = true;
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max {
            idle.push((conn, Instant::now()));
        }
    }

    /// The most recently used idle connection. It may have been closed by the upstream since:
    /// an exchange on it then fails with [`super::H1Error::Stale`].
    pub fn take(&self) -> Option<H1Conn<S>> {
        self.take_if(|_, _| true)
    }

    /// The most recently used idle connection that passes `usable` (given the connection and
    /// when it was put back); the ones that fail are closed.
    pub(crate) fn take_if(
        &self,
        mut usable: impl FnMut(&H1Conn<S>, Instant) -> bool,
    ) -> Option<H1Conn<S>> {
        loop {
            let (conn, since) = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop()?;
            if usable(&conn, since) {
                return Some(conn);
            }
        }
    }
}
