//! The admin server: Prometheus metrics, health, the divergence API and the live dashboard.
//! It runs on the mirror runtime, never on production's.
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

use crate::report::ReportSource;

const DASHBOARD: &str = include_str!("dashboard.html");

pub fn router(source: Arc<ReportSource>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(DASHBOARD) }))
        .route("/metrics", get(metrics))
        .route(
            "/healthz",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"status\":\"ok\"}",
                )
            }),
        )
        .route("/api/divergence", get(divergence))
        .route("/api/timeline", get(timeline))
        .with_state(source)
}

async fn metrics(State(s): State<Arc<ReportSource>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.encode(),
    )
}

async fn divergence(State(s): State<Arc<ReportSource>>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(s.report()),
    )
}

/// The dashboard's charts: one point per second, oldest first (see `timeline.rs`).
async fn timeline(State(s): State<Arc<ReportSource>>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({
            "interval_s": 1,
            "capacity": crate::timeline::CAPACITY,
            "points": s.timeline.points(),
        })),
    )
}
