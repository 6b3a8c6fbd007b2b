#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::http::StatusCode;
use axum::routing::{any, get};
use bytes::Bytes;
use http::{HeaderValue, Method, Request};
use http_body::Frame;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use prodlike_net::h1::{H1Error, H1Pool, H1PoolConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn config() -> H1PoolConfig {
    H1PoolConfig {
        connect_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(30),
        max_idle: 8,
    }
}

/// An axum app on loopback that counts the connections it accepts.
async fn app() -> (Arc<H1Pool>, Arc<AtomicUsize>) {
    let router = Router::new()
        .route("/fixed", get(|| async { "hello fixed" }))
        .route(
            "/stream",
            get(|| async {
                let parts: Vec<Result<Bytes, Infallible>> = (0..50)
                    .map(|i| Ok(Bytes::from(format!("part{i};"))))
                    .collect();
                AxumBody::from_stream(futures_util::stream::iter(parts))
            }),
        )
        .route("/empty", get(|| async { StatusCode::NO_CONTENT }))
        .route("/not-modified", get(|| async { StatusCode::NOT_MODIFIED }))
        .route(
            "/echo",
            any(|req: axum::extract::Request| async move {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let te = parts
                    .headers
                    .get("transfer-encoding")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                format!(
                    "{} {} len={} te={te} host={}",
                    parts.method,
                    parts.uri,
                    bytes.len(),
                    parts.headers["host"].to_str().unwrap()
                )
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::Relaxed);
            let svc = hyper_util::service::TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                .await;
            });
        }
    });
    let pool = H1Pool::new(
        &addr.to_string(),
        HeaderValue::from_str(&addr.to_string()).unwrap(),
        config(),
    );
    (pool, accepted)
}

fn get_req(path: &str) -> Request<Empty<Bytes>> {
    Request::get(path).body(Empty::new()).unwrap()
}

async fn text(
    pool: &Arc<H1Pool>,
    req: Request<
        impl http_body::Body<Data = Bytes, Error = impl std::error::Error + Send + Sync + 'static>
        + Unpin,
    >,
) -> (u16, String) {
    let resp = pool.send(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn fixed_streamed_and_empty_bodies_on_one_kept_alive_connection() {
    let (pool, accepted) = app().await;
    for _ in 0..3 {
        assert_eq!(
            text(&pool, get_req("/fixed")).await,
            (200, "hello fixed".into())
        );
        let (status, body) = text(&pool, get_req("/stream")).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            (0..50).map(|i| format!("part{i};")).collect::<String>()
        );
        assert_eq!(text(&pool, get_req("/empty")).await, (204, String::new()));
        assert_eq!(
            text(&pool, get_req("/not-modified")).await,
            (304, String::new())
        );
        let head = pool
            .send(Request::head("/fixed").body(Empty::<Bytes>::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(head.headers()["content-length"], "11");
        assert!(
            head.into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .is_empty()
        );
    }
    assert_eq!(
        accepted.load(Ordering::Relaxed),
        1,
        "every exchange reused the one connection"
    );
    assert_eq!(pool.idle_count(), 1);
}

#[tokio::test]
async fn request_bodies_are_framed_by_length_or_chunks() {
    let (pool, _) = app().await;
    let (_, r) = text(
        &pool,
        Request::post("/echo?x=1")
            .body(Full::new(Bytes::from_static(b"0123456789")))
            .unwrap(),
    )
    .await;
    assert!(
        r.starts_with("POST /echo?x=1 len=10 te= host=127.0.0.1:"),
        "{r}"
    );
    let big = Bytes::from(vec![b'z'; 200_000]);
    let (_, r) = text(&pool, Request::put("/echo").body(Full::new(big)).unwrap()).await;
    assert!(r.starts_with("PUT /echo len=200000 te="), "{r}");
    let frames: Vec<Result<Frame<Bytes>, Infallible>> = (0..20)
        .map(|i| Ok(Frame::data(Bytes::from(vec![b'a' + i as u8; 1000]))))
        .collect();
    let streamed = StreamBody::new(futures_util::stream::iter(frames));
    let (_, r) = text(
        &pool,
        Request::post("/echo")
            .header("host", "custom.test")
            .body(streamed)
            .unwrap(),
    )
    .await;
    assert!(
        r.starts_with("POST /echo len=20000 te=chunked host=custom.test"),
        "{r}"
    );
    let (_, r) = text(
        &pool,
        Request::post("/echo").body(Empty::<Bytes>::new()).unwrap(),
    )
    .await;
    assert!(r.starts_with("POST /echo len=0 te="), "{r}");
}

/// A raw upstream that answers each request on a connection with the next canned response, then
/// (optionally) closes.
async fn raw(
    responses: Vec<&'static [u8]>,
    close_after_each: bool,
) -> (Arc<H1Pool>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let responses = Arc::new(responses);
    let served = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let (mut tcp, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::Relaxed);
            let (responses, served) = (responses.clone(), served.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut pending = Vec::new();
                loop {
                    let n = match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        let i = served.fetch_add(1, Ordering::Relaxed);
                        let r = responses[i.min(responses.len() - 1)];
                        if tcp.write_all(r).await.is_err() {
                            return;
                        }
                        if close_after_each {
                            return;
                        }
                    }
                }
            });
        }
    });
    (
        H1Pool::new(
            &addr.to_string(),
            HeaderValue::from_static("raw.test"),
            config(),
        ),
        accepted,
    )
}

#[tokio::test]
async fn a_connection_the_upstream_closed_while_idle_is_replaced_transparently() {
    // Keep-alive responses, but the server closes after each one (as after its idle timeout).
    let (pool, accepted) = raw(
        vec![b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"],
        true,
    )
    .await;
    for _ in 0..5 {
        assert_eq!(text(&pool, get_req("/")).await, (200, "ok".into()));
        // Let the close reach us, so the pool sees it (or the exchange finds it stale).
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(accepted.load(Ordering::Relaxed), 5);
}

#[tokio::test]
async fn framing_edge_cases() {
    // Interim 100 Continue is skipped; chunked with trailers; read-until-close never reused.
    let (pool, accepted) = raw(
        vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nx-t: 1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\nuntil close",
        ],
        false,
    )
    .await;
    assert_eq!(text(&pool, get_req("/a")).await, (200, "abcde".into()));
    assert_eq!(pool.idle_count(), 1);
    let resp = pool.send(get_req("/b")).await.unwrap();
    // The server keeps the socket open, so read just what arrived.
    let mut body = resp.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(&first[..], b"until close");
    drop(body);
    assert_eq!(
        pool.idle_count(),
        0,
        "an until-close body never returns its connection"
    );
    assert_eq!(accepted.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn invalid_responses_are_errors_not_panics() {
    for bad in [
        &b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc"[..],
        b"HTTP/1.1 200 OK\r\ncontent-length: nope\r\n\r\n",
        b"\x00\xffNOT HTTP\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ] {
        let leaked: &'static [u8] = Box::leak(bad.to_vec().into_boxed_slice());
        let (pool, _) = raw(vec![leaked], true).await;
        match pool.send(get_req("/")).await {
            Err(H1Error::Protocol(_) | H1Error::Head(_)) => {}
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(bad)),
        }
    }
    // A body cut short is an error of the body, and the connection is not reused.
    let (pool, _) = raw(
        vec![b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"],
        true,
    )
    .await;
    let resp = pool.send(get_req("/")).await.unwrap();
    assert!(resp.into_body().collect().await.is_err());
    assert_eq!(pool.idle_count(), 0);
}

#[tokio::test]
async fn connect_failures_are_reported_as_such() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pool = H1Pool::new(
        &format!("127.0.0.1:{port}"),
        HeaderValue::from_static("x"),
        config(),
    );
    let err = pool
        .send(
            Request::builder()
                .method(Method::GET)
                .uri("/")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}

#[tokio::test]
async fn a_request_racing_the_upstreams_close_is_sent_again_on_a_new_connection() {
    // First connection: answers one request, then closes on the next without answering, as a
    // server does when its keep-alive timer fires just as a request arrives.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let nth = counter.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut answered = 0;
                loop {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if nth == 0 && answered == 1 {
                        return; // close without answering
                    }
                    answered += 1;
                    if tcp
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    let pool = H1Pool::new(
        &addr.to_string(),
        HeaderValue::from_static("race.test"),
        config(),
    );
    assert_eq!(text(&pool, get_req("/1")).await, (200, "ok".into()));
    assert_eq!(
        text(&pool, get_req("/2")).await,
        (200, "ok".into()),
        "retried on a fresh connection"
    );
    assert_eq!(accepted.load(Ordering::Relaxed), 2);
}
