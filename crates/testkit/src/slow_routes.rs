//! An HTTP server whose routes answer after a fixed delay each, with a fixed status, for tests
//! that plant a slower route (`prodlike compare results` over two load runs: a route's latency
//! is at least its delay however fast or slow the machine is) or a failing one (a staging whose
//! route answers 503 behind `prodlike shadow`).
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

use crate::services::{RunningService, serve};

/// One route: its path, how long it waits before answering, and the status it answers.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub path: &'static str,
    pub delay: Duration,
    pub status: u16,
}

impl Route {
    /// `200 ok` after `delay`.
    pub const fn ok(path: &'static str, delay: Duration) -> Route {
        Route {
            path,
            delay,
            status: 200,
        }
    }
}

/// Starts the server on 127.0.0.1 (free port); any other path answers `200 ok` at once.
pub async fn start(routes: &[Route]) -> std::io::Result<RunningService> {
    let mut router = Router::new();
    for r in routes {
        let (delay, status) = (
            r.delay,
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        router = router.route(
            r.path,
            get(move || async move {
                tokio::time::sleep(delay).await;
                (status, "ok")
            }),
        );
    }
    serve(router.fallback(get(|| async { "ok" }))).await
}
