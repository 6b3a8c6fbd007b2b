#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
//! The protocols production speaks, through the proxy while it mirrors: WebSocket (HTTP/1.1
//! Upgrade), gRPC over HTTP/2 with trailers (unary and server-streaming, h2c upstreams),
//! HTTP/1.1 trailers both ways, and server-sent events streamed event by event while their
//! copies are cut off. Every server is in-process on 127.0.0.1, started by the test.
mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::*;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prodlike_shadow::config::RouteRule;
use prodlike_testkit::services::{recording_upstream, serve};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

type Body = BoxBody<Bytes, Infallible>;

fn frames(list: Vec<Frame<Bytes>>) -> Body {
    StreamBody::new(futures_util::stream::iter(
        list.into_iter().map(Ok::<_, Infallible>),
    ))
    .boxed()
}

/// Waits for a condition the proxy reaches asynchronously (the mirror's counters); fails the
/// test after ten seconds instead of hanging.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

/// Awaits `f`, failing the test after ten seconds instead of hanging.
async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

async fn metrics_text(admin: std::net::SocketAddr) -> String {
    let c = client();
    String::from_utf8(
        get(&c, &format!("http://{admin}/metrics"))
            .await
            .body
            .to_vec(),
    )
    .unwrap()
}

// ---------------------------------------------------------------- WebSocket

/// One WebSocket frame (RFC 6455 §5.2), FIN set; masked when a key is given (client to server).
fn ws_frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n <= 0xffff => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            f.extend_from_slice(&key);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

/// Reads one frame: opcode, payload (unmasked), and whether it came masked.
async fn ws_read(r: &mut (impl AsyncRead + Unpin)) -> WsFrame {
    let mut head = [0u8; 2];
    r.read_exact(&mut head).await.unwrap();
    let masked = head[1] & 0x80 != 0;
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).await.unwrap();
            u16::from_be_bytes(b) as usize
        }
        127 => {
            let mut b = [0u8; 8];
            r.read_exact(&mut b).await.unwrap();
            u64::from_be_bytes(b) as usize
        }
        n => n as usize,
    };
    let mut key = [0u8; 4];
    if masked {
        r.read_exact(&mut key).await.unwrap();
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await.unwrap();
    if masked {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    (head[0] & 0x0f, payload, masked)
}

/// Reads an HTTP/1.1 head byte by byte (nothing after it is consumed).
async fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        if s.read(&mut b).await.unwrap() == 0 {
            break;
        }
        head.push(b[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A frame as read: opcode, payload, whether it came masked.
type WsFrame = (u8, Vec<u8>, bool);

/// What the WebSocket upstream saw: the upgrade request's head and every data frame's payload.
#[derive(Default, Clone)]
struct WsSeen {
    head: Arc<Mutex<String>>,
    frames: Arc<Mutex<Vec<WsFrame>>>,
}

/// A WebSocket echo server (raw TCP): answers plain requests `200 ok`; to an upgrade it
/// switches protocols, greets in the same write as its 101 (those bytes reach the proxy with
/// the head), echoes every data frame, answers a close. It does not compute
/// Sec-WebSocket-Accept (no SHA-1 here); the proxy passes it on as given.
async fn ws_echo() -> (String, WsSeen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = WsSeen::default();
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let s = s.clone();
            tokio::spawn(async move {
                let head = loop {
                    let head = read_head(&mut sock).await;
                    if head.is_empty() {
                        return;
                    }
                    if head.to_ascii_lowercase().contains("upgrade: websocket") {
                        break head;
                    }
                    sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await
                        .unwrap();
                };
                *s.head.lock().unwrap_or_else(PoisonError::into_inner) = head;
                let mut out = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: not-computed-in-this-test\r\n\r\n".to_vec();
                out.extend(ws_frame(1, b"hello from upstream", None));
                sock.write_all(&out).await.unwrap();
                loop {
                    let (op, payload, masked) = ws_read(&mut sock).await;
                    if op == 8 {
                        sock.write_all(&ws_frame(8, &payload, None)).await.unwrap();
                        break;
                    }
                    s.frames
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((op, payload.clone(), masked));
                    sock.write_all(&ws_frame(op, &payload, None)).await.unwrap();
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_echo_through_the_proxy_while_mirroring() {
    let (ws_url, seen) = ws_echo().await;
    let (router, staged) = recording_upstream("staging");
    let staging = serve(router).await.unwrap();
    let mut cfg = config(&ws_url, Some(&staging.url()));
    cfg.production.upgrade_idle_timeout = Duration::from_secs(60);
    let shadow = start(cfg).await;

    let mut ws = TcpStream::connect(shadow.addr).await.unwrap();
    ws.write_all(
        b"GET /chat?room=1 HTTP/1.1\r\nhost: chat.example\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let head = within("101 from the proxy", read_head(&mut ws)).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("upgrade: websocket"), "{head}");
    assert!(
        lower.contains("sec-websocket-accept: not-computed-in-this-test"),
        "{head}"
    );
    // The upstream's greeting came with its 101 and still arrives, intact.
    let greeting = within("greeting", ws_read(&mut ws)).await;
    assert_eq!(greeting, (1, b"hello from upstream".to_vec(), false));

    // The upstream got the handshake's headers.
    let up_head = seen
        .head
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .to_ascii_lowercase();
    assert!(
        up_head.starts_with("get /chat?room=1 http/1.1"),
        "{up_head}"
    );
    for h in [
        "upgrade: websocket",
        "connection: upgrade",
        "sec-websocket-key: dghlihnhbxbszsbub25jzq==",
        "sec-websocket-version: 13",
    ] {
        assert!(up_head.contains(h), "{h} missing upstream: {up_head}");
    }

    // Frames of every length class, text and binary, both ways, while ordinary requests are
    // mirrored alongside.
    let c = client();
    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let sent: Vec<(u8, Vec<u8>)> = vec![
        (1, b"hi".to_vec()),
        (2, vec![0u8, 255, 1, 254]),
        (1, "x".repeat(300).into_bytes()),
        (2, big),
    ];
    for (i, (op, payload)) in sent.iter().enumerate() {
        let key = [i as u8 + 1, 0x5a, 0xa5, 0x3c];
        ws.write_all(&ws_frame(*op, payload, Some(key)))
            .await
            .unwrap();
        let echoed = within("echo", ws_read(&mut ws)).await;
        assert_eq!(
            (echoed.0, &echoed.1, echoed.2),
            (*op, payload, false),
            "frame {i}"
        );
        let r = get(&c, &format!("http://{}/plain/{i}", shadow.addr)).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    ws.write_all(&ws_frame(8, &[0x03, 0xe8], Some([9, 9, 9, 9])))
        .await
        .unwrap();
    let close = within("close", ws_read(&mut ws)).await;
    assert_eq!(close.0, 8);
    drop(ws);

    // The upstream received every frame as the client masked it, payloads intact.
    let got = seen
        .frames
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let expected: Vec<WsFrame> = sent.iter().map(|(o, p)| (*o, p.clone(), true)).collect();
    assert_eq!(got, expected);

    // The ordinary requests were mirrored; the upgrade was not, and is counted.
    eventually("four copies at staging", || staged.len() == 4).await;
    assert!(
        staged
            .requests()
            .iter()
            .all(|r| r.uri.starts_with("/plain/")),
        "the upgrade must never be copied"
    );
    let t = shadow.report().totals;
    assert_eq!(t.dropped.get("upgrade"), Some(&1), "{t:?}");
    let admin = shadow.admin_addr.unwrap();
    let mut text = String::new();
    for _ in 0..1000 {
        text = metrics_text(admin).await;
        if text.contains("prodlike_shadow_upgrades_total{reason=\"closed\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        text.contains("prodlike_shadow_upgrades_total{reason=\"closed\"} 1"),
        "{text}"
    );
    assert!(text.contains("prodlike_shadow_upgrades_active 0"), "{text}");
    shadow.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_upgraded_connection_is_closed_and_counted() {
    let (ws_url, _seen) = ws_echo().await;
    let mut cfg = config(&ws_url, None);
    cfg.production.upgrade_idle_timeout = Duration::from_millis(200);
    let shadow = start(cfg).await;
    let mut ws = TcpStream::connect(shadow.addr).await.unwrap();
    ws.write_all(
        b"GET /chat HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n",
    )
    .await
    .unwrap();
    let head = within("101", read_head(&mut ws)).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let _greeting = ws_read(&mut ws).await;
    // Nothing sent: the proxy closes the connection after the idle timeout.
    let mut rest = Vec::new();
    let n = within("idle close", ws.read_to_end(&mut rest))
        .await
        .unwrap();
    assert_eq!(n, 0);
    let admin = shadow.admin_addr.unwrap();
    eventually_async(|| async {
        metrics_text(admin)
            .await
            .contains("prodlike_shadow_upgrades_total{reason=\"idle_timeout\"} 1")
    })
    .await;
    shadow.shutdown().await;
}

async fn eventually_async<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1000 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition never held");
}

// ---------------------------------------------------------------- gRPC over HTTP/2

/// A gRPC message: compressed flag, length, bytes (gRPC over HTTP/2, "Length-Prefixed-Message").
fn grpc_message(payload: &[u8]) -> Bytes {
    let mut m = BytesMut::with_capacity(5 + payload.len());
    m.extend_from_slice(&[0]);
    m.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    m.extend_from_slice(payload);
    m.freeze()
}

fn grpc_messages(mut b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while b.len() >= 5 {
        let n = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
        out.push(b[5..5 + n].to_vec());
        b = &b[5 + n..];
    }
    out
}

fn trailers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut t = HeaderMap::new();
    for (k, v) in pairs {
        t.insert(*k, v.parse().unwrap());
    }
    t
}

/// An h2c gRPC server. `Unary` answers the request's message reversed; `Stream` answers three
/// messages; `Status` answers with `grpc-status` `status` (production 0, staging 5: a
/// difference only the trailers show). Every answer ends with trailers.
async fn grpc_server(status: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("h2c://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| async move {
                    let path = req.uri().path().to_string();
                    let te = req.headers().get("te").cloned();
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    let msgs = grpc_messages(&body);
                    let frames_out = match path.as_str() {
                        "/echo.Echo/Unary" => {
                            let mut rev = msgs.first().cloned().unwrap_or_default();
                            rev.reverse();
                            vec![
                                Frame::data(grpc_message(&rev)),
                                Frame::trailers(trailers(&[
                                    ("grpc-status", "0"),
                                    ("grpc-message", "ok"),
                                    ("x-trailer-check", "unary"),
                                ])),
                            ]
                        }
                        "/echo.Echo/Stream" => vec![
                            Frame::data(grpc_message(b"one")),
                            Frame::data(grpc_message(b"two")),
                            Frame::data(grpc_message(b"three")),
                            Frame::trailers(trailers(&[
                                ("grpc-status", "0"),
                                ("x-trailer-check", "stream"),
                            ])),
                        ],
                        _ => vec![
                            Frame::data(grpc_message(b"same bytes")),
                            Frame::trailers(trailers(&[("grpc-status", status)])),
                        ],
                    };
                    let mut resp = Response::new(frames(frames_out));
                    resp.headers_mut()
                        .insert("content-type", "application/grpc".parse().unwrap());
                    if let Some(te) = te {
                        resp.headers_mut().insert("x-request-te", te);
                    }
                    Ok::<_, Infallible>(resp)
                });
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(sock), service)
                    .await;
            });
        }
    });
    url
}

/// A gRPC client call over h2c: the response head, messages and trailers.
async fn grpc_call(
    addr: std::net::SocketAddr,
    method: &str,
    payload: &[u8],
) -> (http::response::Parts, Vec<Vec<u8>>, HeaderMap) {
    let sock = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake::<_, Full<Bytes>>(TokioIo::new(sock))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::post(format!("http://{addr}{method}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(grpc_message(payload)))
        .unwrap();
    let resp = within("gRPC response", sender.send_request(req))
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    let collected = within("gRPC body", body.collect()).await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    (parts, grpc_messages(&collected.to_bytes()), trailers)
}

fn grpc_routes() -> Vec<RouteRule> {
    vec![RouteRule {
        pattern: "/echo.Echo/*".into(),
        mirror: true,
        methods: Some(vec!["POST".into()]),
        sample: None,
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_unary_and_streaming_calls_pass_with_their_trailers() {
    let prod = grpc_server("0").await;
    let staging = grpc_server("5").await;
    let mut cfg = config(&prod, Some(&staging));
    cfg.routes = grpc_routes();
    let shadow = start(cfg).await;

    let (head, msgs, t) = grpc_call(shadow.addr, "/echo.Echo/Unary", b"abc").await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.headers["content-type"], "application/grpc");
    assert_eq!(
        head.headers["x-request-te"], "trailers",
        "TE: trailers reached the upstream"
    );
    assert_eq!(msgs, vec![b"cba".to_vec()]);
    assert_eq!(t["grpc-status"], "0");
    assert_eq!(t["grpc-message"], "ok");
    assert_eq!(t["x-trailer-check"], "unary");

    let (head, msgs, t) = grpc_call(shadow.addr, "/echo.Echo/Stream", b"").await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(
        msgs,
        vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
    assert_eq!(t["grpc-status"], "0");
    assert_eq!(t["x-trailer-check"], "stream");

    // Mirrored unary calls: same message bytes and grpc-status match; a staging that answers
    // the same bytes with grpc-status 5 is caught by its trailers alone.
    let (_, _, t) = grpc_call(shadow.addr, "/echo.Echo/Status", b"q").await;
    assert_eq!(t["grpc-status"], "0", "the client gets production's status");
    eventually("three comparisons", || {
        shadow
            .report()
            .routes
            .iter()
            .map(|r| r.compared)
            .sum::<u64>()
            == 3
    })
    .await;
    let report = shadow.shutdown().await;
    let route = |name: &str| {
        report
            .routes
            .iter()
            .find(|r| r.route == name)
            .unwrap_or_else(|| panic!("route {name}: {:?}", report.routes))
    };
    for name in ["/echo.Echo/Unary", "/echo.Echo/Stream"] {
        let r = route(name);
        assert_eq!((r.compared, r.mismatched), (1, 0), "{r:?}");
    }
    let status = route("/echo.Echo/Status");
    assert_eq!(status.mismatched, 1, "{status:?}");
    let example = status.examples.first().expect("an example of the diff");
    assert!(
        example
            .headers
            .iter()
            .any(|(name, p, s)| name == "grpc-status"
                && p.as_deref() == Some("0")
                && s.as_deref() == Some("5")),
        "{example:?}"
    );
    assert!(example.body.is_empty(), "same message bytes: {example:?}");
}

// ---------------------------------------------------------------- HTTP/1.1 trailers

/// A raw HTTP/1.1 upstream that reads a chunked request (keeping its trailer lines) and answers
/// chunked with a trailer.
async fn h1_trailer_upstream() -> (String, oneshot::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        // The proxy checks at start that it can connect: skip connections that send nothing.
        let (mut sock, mut got) = loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let head = read_head(&mut sock).await;
            if !head.is_empty() {
                break (sock, head);
            }
        };
        // The chunked body ends with the last chunk, trailers, and an empty line.
        let mut rest = Vec::new();
        while !(rest.ends_with(b"\r\n\r\n") && rest.windows(3).any(|w| w == b"0\r\n")) {
            let mut b = [0u8; 1];
            if sock.read(&mut b).await.unwrap() == 0 {
                break;
            }
            rest.push(b[0]);
        }
        got.push_str(&String::from_utf8_lossy(&rest));
        let _ = tx.send(got);
        sock.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-checksum\r\ncontent-type: text/plain\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc123\r\n\r\n")
            .await
            .unwrap();
    });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_trailers_pass_both_ways() {
    let (url, seen) = h1_trailer_upstream().await;
    let shadow = start(config(&url, None)).await;
    let mut s = TcpStream::connect(shadow.addr).await.unwrap();
    s.write_all(b"POST /upload HTTP/1.1\r\nhost: x\r\nte: trailers\r\ntrailer: x-request-sum\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-request-sum: 42\r\n\r\n")
        .await
        .unwrap();
    let upstream_saw = within("upstream", seen).await.unwrap().to_ascii_lowercase();
    assert!(
        upstream_saw.contains("trailer: x-request-sum"),
        "{upstream_saw}"
    );
    assert!(upstream_saw.contains("\r\nabc\r\n"), "{upstream_saw}");
    assert!(upstream_saw.contains("x-request-sum: 42"), "{upstream_saw}");
    let mut resp = Vec::new();
    while !resp.ends_with(b"\r\n\r\n") || !resp.windows(10).any(|w| w == b"x-checksum") {
        let mut b = [0u8; 256];
        let n = within("response", s.read(&mut b)).await.unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&resp));
        resp.extend_from_slice(&b[..n]);
    }
    let text = String::from_utf8_lossy(&resp).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(text.contains("hello"), "{text}");
    assert!(
        text.contains("\r\n0\r\nx-checksum: abc123\r\n\r\n"),
        "{text}"
    );
    shadow.shutdown().await;
}

// ---------------------------------------------------------------- server-sent events

/// Dropped with the response body: tells the test the server's stream was let go.
struct Released(Option<oneshot::Sender<()>>);

impl Drop for Released {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// An SSE upstream (HTTP/1.1) whose events come from `events`, one by one; the stream stays
/// open until the channel closes. `released` fires when the response body is dropped (the
/// reader went away).
async fn sse_server(
    events: mpsc::UnboundedReceiver<Bytes>,
    released: oneshot::Sender<()>,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let slot = Arc::new(Mutex::new(Some((events, released))));
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let slot = slot.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req: Request<Incoming>| {
                    let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                    async move {
                        let (rx, released) = taken.expect("one stream per server");
                        let guard = Released(Some(released));
                        let stream = futures_util::stream::unfold(
                            (rx, guard),
                            |(mut rx, guard)| async move {
                                rx.recv()
                                    .await
                                    .map(|b| (Ok::<_, Infallible>(Frame::data(b)), (rx, guard)))
                            },
                        );
                        let mut resp = Response::new(StreamBody::new(stream).boxed());
                        resp.headers_mut()
                            .insert("content-type", "text/event-stream".parse().unwrap());
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(sock), service)
                    .await;
            });
        }
    });
    url
}

fn event(i: usize) -> Bytes {
    Bytes::from(format!("id: {i}\ndata: {{\"n\":{i}}}\n\n"))
}

/// Reads from `r` until `want` has been received in full; returns exactly what came.
async fn read_until(r: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>, want: &[u8]) {
    while !buf.windows(want.len()).any(|w| w == want) {
        let mut b = [0u8; 1024];
        let n = r.read(&mut b).await.unwrap();
        assert!(
            n > 0,
            "stream ended early: {}",
            String::from_utf8_lossy(buf)
        );
        buf.extend_from_slice(&b[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_streams_event_by_event_and_its_copy_is_cut_off() {
    let (prod_events, prod_rx) = mpsc::unbounded_channel();
    let (prod_released_tx, _prod_released) = oneshot::channel();
    let prod = sse_server(prod_rx, prod_released_tx).await;
    let (staging_events, staging_rx) = mpsc::unbounded_channel();
    let (staging_released_tx, staging_released) = oneshot::channel();
    let staging = sse_server(staging_rx, staging_released_tx).await;
    let mut cfg = config(&prod, Some(&staging));
    cfg.mirror.stream_cut = 200;
    // Long enough that only the cut, never the timeout, can end staging's copy.
    cfg.mirror.timeout = Duration::from_secs(30);
    let shadow = start(cfg).await;

    let mut s = TcpStream::connect(shadow.addr).await.unwrap();
    s.write_all(b"GET /events HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    // Each event is released only after the previous one reached the client: a proxy that
    // buffered would deadlock here (and the test would time out).
    for i in 0..5 {
        prod_events.send(event(i)).unwrap();
        within(
            "event through the proxy",
            read_until(&mut s, &mut got, &event(i)),
        )
        .await;
        let text = String::from_utf8_lossy(&got).to_string();
        assert!(
            !text.contains(&format!("id: {}\n", i + 1)),
            "event {} arrived before it was sent",
            i + 1
        );
    }
    assert!(String::from_utf8_lossy(&got).contains("text/event-stream"));

    // Staging's stream goes on without end; the mirror reads it to the cut (about ten events)
    // and lets go, after which these sends find no reader.
    for i in 0..50 {
        let _ = staging_events.send(event(i));
    }
    // Production passes the cut too, and keeps streaming to the client after it.
    for i in 5..20 {
        prod_events.send(event(i)).unwrap();
    }
    within(
        "events after the cut",
        read_until(&mut s, &mut got, &event(19)),
    )
    .await;
    within("staging's stream released by the mirror", staging_released)
        .await
        .unwrap();
    eventually("the copy counted as cut", || {
        shadow.report().totals.not_compared.get("stream_cut") == Some(&1)
    })
    .await;
    let t = shadow.report().totals;
    assert_eq!(t.mirrored, 1, "{t:?}");
    // The client's stream is still open and still flows.
    prod_events.send(event(20)).unwrap();
    within("event 20", read_until(&mut s, &mut got, &event(20))).await;
    drop(s);
    drop(staging_events);
    shadow.shutdown().await;
}
