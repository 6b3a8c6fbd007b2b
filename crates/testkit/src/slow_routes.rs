//! An HTTP server whose routes answer `200 ok` after a fixed delay each, for tests that plant a
//! slower route (`prodlike compare results` over two load runs): a route's latency is at least
//! its delay however fast or slow the machine is.
use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::services::{RunningService, serve};

/// Starts the server on 127.0.0.1 (free port): each `(path, delay)` answers after `delay`;
/// any other path answers at once.
pub async fn start(routes: &[(&'static str, Duration)]) -> std::io::Result<RunningService> {
    let mut router = Router::new();
    for &(path, delay) in routes {
        router = router.route(
            path,
            get(move || async move {
                tokio::time::sleep(delay).await;
                "ok"
            }),
        );
    }
    serve(router.fallback(get(|| async { "ok" }))).await
}
