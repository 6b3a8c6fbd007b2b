//! An HTTP/1.1 server for engine tests that decides when responses go out, so that tests can
//! assert on counts and on lower bounds that hold however slow the machine is:
//! - `/slow` answers after 200 ms, so its latency is at least that;
//! - every other path is held until the `release_at`-th request has arrived, then all are
//!   answered (`Some(1)` answers at once, `None` never does). Every request counts.
#![allow(clippy::unwrap_used, dead_code)]
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The least time `/slow` takes to answer.
pub const SLOW: Duration = Duration::from_millis(200);

pub struct HoldServer {
    pub url: String,
    state: Arc<State>,
}

struct State {
    release_at: Option<u64>,
    seen: AtomicU64,
    answered: AtomicU64,
    released: watch::Sender<bool>,
}

impl HoldServer {
    pub async fn start(release_at: Option<u64>) -> HoldServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            release_at,
            seen: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            released: watch::channel(false).0,
        });
        let s = state.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(serve(tcp, s.clone()));
            }
        });
        HoldServer { url, state }
    }

    /// Requests that arrived.
    pub fn seen(&self) -> u64 {
        self.state.seen.load(Ordering::SeqCst)
    }

    /// Responses written.
    pub fn answered(&self) -> u64 {
        self.state.answered.load(Ordering::SeqCst)
    }

    /// Whether held responses were let go (by the count of arrivals).
    pub fn released(&self) -> bool {
        *self.state.released.borrow()
    }
}

async fn serve(mut tcp: TcpStream, state: Arc<State>) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
            continue;
        };
        let head: Vec<u8> = pending.drain(..end + 4).collect();
        let slow = head.starts_with(b"GET /slow ");
        let n = state.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if slow {
            tokio::time::sleep(SLOW).await;
        } else {
            if state.release_at.is_some_and(|at| n >= at) {
                state.released.send_replace(true);
            }
            let mut released = state.released.subscribe();
            if state.release_at.is_none() || released.wait_for(|r| *r).await.is_err() {
                // Held for good: the test ends with this request in flight.
                std::future::pending::<()>().await;
            }
        }
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        if tcp.write_all(ok).await.is_err() {
            return;
        }
        state.answered.fetch_add(1, Ordering::SeqCst);
    }
}
