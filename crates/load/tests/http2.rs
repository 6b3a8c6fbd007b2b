#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
//! `--http2` against an in-process h2c server on loopback: every request arrives as HTTP/2 on
//! one connection, is counted like HTTP/1.1's, and thresholds judge it the same way. Counts only,
//! no timed assertions.
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prodlike_load::{RunOptions, StopHandle, prepare};
use tokio::net::TcpListener;

#[derive(Default)]
struct Seen {
    http2: AtomicU64,
    other: AtomicU64,
    connections: AtomicU64,
    body_bytes: AtomicU64,
}

/// An h2c server (prior knowledge): `/fail` answers 503, anything else 200 with 11 bytes.
async fn h2c_server() -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            s.connections.fetch_add(1, Ordering::Relaxed);
            let s = s.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let s = s.clone();
                    async move {
                        let counter = if req.version() == Version::HTTP_2 {
                            &s.http2
                        } else {
                            &s.other
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                        let fail = req.uri().path() == "/fail";
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        s.body_bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                        let mut resp = Response::new(Full::new(Bytes::from_static(b"hello h2c\n")));
                        if fail {
                            *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                        }
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(sock), service)
                    .await;
            });
        }
    });
    (url, seen)
}

async fn run(o: &RunOptions) -> prodlike_results::load::LoadResult {
    prepare(o)
        .unwrap()
        .run(StopHandle::new(), false)
        .await
        .unwrap()
}

fn opts(url: &str) -> RunOptions {
    RunOptions {
        target: Some(url.to_string()),
        http2: true,
        seed: Some(1),
        max_send_lag: Some(Duration::from_secs(5)),
        rate: Some(200.0),
        duration: Some(Duration::from_millis(500)),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_requests_go_as_http2_streams_of_one_connection() {
    let (url, seen) = h2c_server().await;
    let mut o = opts(&url);
    o.method = Some("POST".into());
    o.path = Some("/orders".into());
    o.body = Some("{\"qty\":2}".into());
    o.thresholds = vec!["error_rate<0.01".into()];
    let r = run(&o).await;
    let t = &r.totals;
    assert_eq!((t.requests, t.failed, t.dropped), (100, 0, 0), "{t:?}");
    assert_eq!(r.statuses.get("200"), Some(&100), "{:?}", r.statuses);
    assert_eq!(t.bytes_in, 100 * 10, "body bytes counted");
    assert_eq!(seen.http2.load(Ordering::Relaxed), 100);
    assert_eq!(seen.other.load(Ordering::Relaxed), 0);
    assert_eq!(
        seen.body_bytes.load(Ordering::Relaxed),
        100 * 9,
        "bodies sent"
    );
    // The start-up check opens the one connection every request then shares.
    assert_eq!(seen.connections.load(Ordering::Relaxed), 1);
    assert_eq!(r.connections_opened, 1);
    assert_eq!(r.breached(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_and_thresholds_work_as_with_http1() {
    let (url, seen) = h2c_server().await;
    let mut o = opts(&url);
    o.rate = None;
    o.connections = Some(4);
    o.path = Some("/fail".into());
    o.thresholds = vec!["error_rate<0.01".into()];
    let r = run(&o).await;
    let t = &r.totals;
    assert!(t.requests > 0, "{t:?}");
    assert_eq!(t.failed, t.requests, "every 503 is an error: {t:?}");
    // A request may be in flight on each of the 4 workers when the run stops.
    let at_server = seen.http2.load(Ordering::Relaxed);
    assert!(
        (t.requests..=t.requests + 4).contains(&at_server),
        "{at_server} at the server, {t:?}"
    );
    assert_eq!(r.breached(), 1, "error_rate<0.01 is breached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_connection_behaviours_are_refused_with_http2() {
    let mut o = opts("http://127.0.0.1:9");
    o.hold = Some(2);
    let err = prepare(&o).err().expect("--hold with --http2 is refused");
    assert!(err.to_string().contains("--http2"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_http2_fails_every_request_with_its_reason() {
    // An HTTP/1.1-only server: the h2c preface gets no HTTP/2 settings back.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let service = service_fn(|_req: Request<Incoming>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"h1"))))
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(sock), service),
            );
        }
    });
    let mut o = opts(&url);
    o.timeout = Some(Duration::from_secs(2));
    o.thresholds = vec!["error_rate<0.01".into()];
    let r = run(&o).await;
    let t = &r.totals;
    assert!(t.requests > 0 && t.failed == t.requests, "{t:?}");
    assert!(r.statuses.is_empty(), "{:?}", r.statuses);
    assert_eq!(r.errors.values().sum::<u64>(), t.requests, "{:?}", r.errors);
    assert_eq!(r.breached(), 1);
}
