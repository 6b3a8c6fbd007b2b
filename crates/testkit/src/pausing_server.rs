//! An HTTP server for load-generator tests: answers `200 ok` at once, except that the
//! `pause_after`-th request starts a stall of `pause` during which *every* response waits (like
//! a stop-the-world GC pause), once. `/fail` answers 503, for retry tests.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::services::{RunningService, serve};

struct Pause {
    after: u64,
    pause: Duration,
    seen: AtomicU64,
    until: Mutex<Option<Instant>>,
}

async fn answer(State(p): State<Arc<Pause>>) -> &'static str {
    let n = p.seen.fetch_add(1, Ordering::SeqCst) + 1;
    let until = {
        let mut u = p.until.lock().unwrap_or_else(PoisonError::into_inner);
        if n == p.after && u.is_none() {
            *u = Some(Instant::now() + p.pause);
        }
        *u
    };
    if let Some(until) = until {
        let now = Instant::now();
        if now < until {
            tokio::time::sleep(until - now).await;
        }
    }
    "ok"
}

async fn fail(State(p): State<Arc<Pause>>) -> (StatusCode, &'static str) {
    p.seen.fetch_add(1, Ordering::SeqCst);
    (StatusCode::SERVICE_UNAVAILABLE, "try again")
}

/// Starts the server on 127.0.0.1 (free port).
pub async fn start(pause_after: u64, pause: Duration) -> std::io::Result<RunningService> {
    let state = Arc::new(Pause {
        after: pause_after,
        pause,
        seen: AtomicU64::new(0),
        until: Mutex::new(None),
    });
    serve(
        Router::new()
            .route("/fail", get(fail))
            .fallback(get(answer))
            .with_state(state),
    )
    .await
}

/// A server that answers every request at once, on a runtime of its own (one worker thread),
/// alive while the returned runtime lives: for tests that run the `prodlike` binary against
/// it from a synchronous test.
pub fn in_background() -> std::io::Result<(tokio::runtime::Runtime, String)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let s = rt.block_on(start(u64::MAX, Duration::ZERO))?;
    let url = s.url();
    rt.spawn(async move {
        let _keep = s;
        std::future::pending::<()>().await;
    });
    Ok((rt, url))
}
