//! In-process HTTP services on 127.0.0.1 for tests and the demo: a sample production API, a
//! staging copy with planted differences, an upstream that records what it receives, and a
//! staging that misbehaves on purpose (hangs, resets, answers garbage, answers slowly).
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A running service; stops when dropped.
pub struct RunningService {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl RunningService {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `router` on 127.0.0.1 on a free port.
pub async fn serve(router: Router) -> std::io::Result<RunningService> {
    serve_on(router, "127.0.0.1:0").await
}

/// Serves `router` on `addr` (loopback).
pub async fn serve_on(router: Router, addr: &str) -> std::io::Result<RunningService> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(RunningService {
        addr,
        stop: Some(stop),
    })
}

/// How a sample environment differs from production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Production,
    /// Staging with the demo's planted differences: `/api/items/{id}` is 40 ms slower,
    /// `/api/users/{id}` returns an extra field, `/api/checkout` fails with 500.
    StagingWithDifferences,
}

#[derive(Clone)]
struct Sample {
    flavour: Flavour,
}

/// The sample shop API both environments serve.
pub fn sample_api(flavour: Flavour) -> Router {
    Router::new()
        .route("/api/items", get(items))
        .route("/api/items/{id}", get(item))
        .route("/api/users/{id}", get(user))
        .route("/api/search", get(search))
        .route("/api/checkout", get(checkout).post(checkout))
        .route("/api/orders", post(orders))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(Sample { flavour })
}

async fn items() -> impl IntoResponse {
    axum::Json(json!({"items": [
        {"id": 1, "name": "kettle", "price": 24.5},
        {"id": 2, "name": "teapot", "price": 31.0},
        {"id": 3, "name": "mug", "price": 7.25}
    ]}))
}

async fn item(State(s): State<Sample>, Path(id): Path<u64>) -> impl IntoResponse {
    if s.flavour == Flavour::StagingWithDifferences {
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    axum::Json(json!({"id": id, "name": format!("item-{id}"), "price": (id % 50) as f64 + 0.99}))
}

async fn user(State(s): State<Sample>, Path(id): Path<u64>) -> impl IntoResponse {
    let mut body = json!({
        "id": id,
        "name": format!("User {id}"),
        "email": format!("user{id}@example.com"),
        "plan": if id % 10 == 0 { "premium" } else { "free" }
    });
    if s.flavour == Flavour::StagingWithDifferences
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert("beta_features".into(), json!(["new-checkout"]));
    }
    axum::Json(body)
}

async fn search(axum::extract::RawQuery(q): axum::extract::RawQuery) -> impl IntoResponse {
    axum::Json(json!({"query": q.unwrap_or_default(), "hits": 3}))
}

async fn checkout(State(s): State<Sample>) -> Response {
    match s.flavour {
        Flavour::Production => axum::Json(json!({"status": "ok"})).into_response(),
        Flavour::StagingWithDifferences => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"error": "payment gateway unreachable"})),
        )
            .into_response(),
    }
}

async fn orders(body: Bytes) -> impl IntoResponse {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (
        StatusCode::CREATED,
        axum::Json(json!({"accepted": true, "bytes": body.len(), "order": parsed})),
    )
}

/// Adds a fresh `request_id` (a UUID) and `served_at` (the time, to the microsecond) to every
/// JSON object the router answers, as real APIs do: fields that differ between any two
/// responses, production's own included. The demo's noise.
pub fn with_volatile_fields(router: Router) -> Router {
    router.layer(axum::middleware::map_response(add_volatile_fields))
}

async fn add_volatile_fields(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let is_json = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().windows(4).any(|w| w == b"json"));
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let out = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut m)) if is_json => {
            m.insert("request_id".into(), Value::String(uuid_v4()));
            m.insert(
                "served_at".into(),
                Value::String(
                    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
                ),
            );
            parts.headers.remove(http::header::CONTENT_LENGTH);
            Bytes::from(Value::Object(m).to_string())
        }
        _ => bytes,
    };
    Response::from_parts(parts, axum::body::Body::from(out))
}

/// A random (version 4) UUID.
fn uuid_v4() -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        fastrand::u8(8..12),
        fastrand::u16(..0x1000),
        fastrand::u64(..1 << 48)
    )
}

/// A request as an upstream saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Everything a recording upstream received, shared with the test.
#[derive(Clone, Default)]
pub struct Recorder {
    seen: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
    pub fn requests(&self) -> Vec<Recorded> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn len(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An upstream that records every request and answers `{"echo": <body length>, "path": …}` with
/// the request body echoed under `body` when it is JSON.
pub fn recording_upstream(label: &'static str) -> (Router, Recorder) {
    let recorder = Recorder::default();
    let rec = recorder.clone();
    let router = Router::new().fallback(any(move |req: Request| {
        let rec = rec.clone();
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let json_body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            rec.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Recorded {
                    method: parts.method.to_string(),
                    uri: parts.uri.to_string(),
                    headers: parts.headers.clone(),
                    body: bytes.clone(),
                });
            axum::Json(json!({
                "env": label,
                "path": parts.uri.path(),
                "query": parts.uri.query(),
                "len": bytes.len(),
                "body": json_body,
            }))
        }
    }));
    (router, recorder)
}

/// Ways a staging environment can misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Accepts connections and reads requests, never answers.
    Hang,
    /// Reads the request head, then closes the connection with a TCP reset.
    Reset,
    /// Answers bytes that are not HTTP.
    Garbage,
    /// Answers 200 after the given delay.
    Slow(Duration),
}

/// A raw TCP server that misbehaves as `fault` says, for every connection.
pub async fn faulty_upstream(fault: Fault) -> std::io::Result<RunningService> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => {
                    let Ok((mut sock, _)) = accepted else { continue };
                    let task = tokio::spawn(async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match sock.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if !buf.get(..n).unwrap_or(&[]).windows(4).any(|w| w == b"\r\n\r\n") {
                                continue;
                            }
                            match fault {
                                Fault::Hang => continue,
                                Fault::Reset => {
                                    // A zero linger makes close send RST at once; it cannot block.
                                    #[allow(deprecated)]
                                    let _ = sock.set_linger(Some(Duration::ZERO));
                                    return;
                                }
                                Fault::Garbage => {
                                    let _ = sock.write_all(b"\x00\xffNOT HTTP AT ALL\r\n\r\n\x13\x37").await;
                                    return;
                                }
                                Fault::Slow(d) => {
                                    tokio::time::sleep(d).await;
                                    let body = b"{\"slow\":true}";
                                    let head = format!(
                                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                                        body.len()
                                    );
                                    if sock.write_all(head.as_bytes()).await.is_err()
                                        || sock.write_all(body).await.is_err()
                                    {
                                        return;
                                    }
                                }
                            }
                        }
                    });
                    held.push(task);
                }
            }
        }
        for t in held {
            t.abort();
        }
    });
    Ok(RunningService {
        addr,
        stop: Some(stop),
    })
}
