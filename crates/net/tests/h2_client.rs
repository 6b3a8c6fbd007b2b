#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (DEVELOPERS.md)
//! The HTTP/2 client against in-process hyper servers on loopback: h2c by prior knowledge with
//! trailers both ways, h2 over TLS by ALPN, and a TLS server that only speaks HTTP/1.1 refused.
use std::convert::Infallible;
use std::path::PathBuf;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, Version};
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prodlike_net::h2::{H2Client, H2Error};
use prodlike_net::{ClientTlsOptions, Target, server_config};
use tokio::net::TcpListener;

type Body = BoxBody<Bytes, Infallible>;

/// Answers with the request's body, the request's trailer `x-in` echoed as trailer `x-out`,
/// and the protocol version it saw.
async fn echo(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let version = format!("{:?}", req.version());
    let collected = req.into_body().collect().await.unwrap();
    let inbound = collected
        .trailers()
        .and_then(|t| t.get("x-in").cloned())
        .unwrap_or_else(|| "none".parse().unwrap());
    let mut trailers = HeaderMap::new();
    trailers.insert("x-out", inbound);
    let frames = vec![
        Ok(Frame::data(collected.to_bytes())),
        Ok(Frame::trailers(trailers)),
    ];
    let mut resp = Response::new(StreamBody::new(futures_util::stream::iter(frames)).boxed());
    resp.headers_mut()
        .insert("x-version", version.parse().unwrap());
    Ok(resp)
}

async fn h2c_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("h2c://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(sock), service_fn(echo)),
            );
        }
    });
    url
}

/// A TLS server offering `alpn`, answering HTTP/2 when it was agreed and HTTP/1.1 otherwise.
async fn tls_server(alpn: &[&[u8]]) -> (String, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let acceptor =
        tokio_rustls::TlsAcceptor::from(server_config(&cert_path, &key_path, alpn).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let io = TokioIo::new(tls);
                if h2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service_fn(echo))
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service_fn(echo))
                        .await;
                }
            });
        }
    });
    (url, cert_path, dir)
}

fn with_trailer(body: &'static [u8], value: &'static str) -> Request<Body> {
    let mut t = HeaderMap::new();
    t.insert("x-in", value.parse().unwrap());
    let frames = vec![
        Ok(Frame::data(Bytes::from_static(body))),
        Ok(Frame::trailers(t)),
    ];
    Request::post("/echo?x=1")
        .body(StreamBody::new(futures_util::stream::iter(frames)).boxed())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_carries_bodies_and_trailers_both_ways_on_one_connection() {
    let url = h2c_server().await;
    let target = Target::parse_upstream(&url).unwrap();
    let client: H2Client<Body> = H2Client::new(
        target,
        ClientTlsOptions::default(),
        std::time::Duration::from_secs(2),
    );
    for i in 0..3 {
        let resp = client.send(with_trailer(b"ping", "abc")).await.unwrap();
        assert_eq!(resp.version(), Version::HTTP_2);
        assert_eq!(resp.headers()["x-version"], "HTTP/2.0");
        let collected = resp.into_body().collect().await.unwrap();
        assert_eq!(collected.trailers().unwrap()["x-out"], "abc", "round {i}");
        assert_eq!(&collected.to_bytes()[..], b"ping");
    }
    assert_eq!(client.connections_opened(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_agrees_h2_by_alpn() {
    let (url, ca, _dir) = tls_server(&[b"h2", b"http/1.1"]).await;
    let client: H2Client<Full<Bytes>> = H2Client::new(
        Target::parse(&url).unwrap(),
        ClientTlsOptions { ca_file: Some(ca) },
        std::time::Duration::from_secs(2),
    );
    let resp = client
        .send(Request::get("/").body(Full::new(Bytes::new())).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-version"], "HTTP/2.0");
    let x = client
        .exchange(&Bytes::from_static(
            b"POST /e HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabc",
        ))
        .await
        .unwrap();
    assert_eq!((x.status, x.bytes_in), (200, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_server_without_h2_is_refused_by_name() {
    let refused = |url: &str, ca: PathBuf| {
        H2Client::<Full<Bytes>>::new(
            Target::parse(url).unwrap(),
            ClientTlsOptions { ca_file: Some(ca) },
            std::time::Duration::from_secs(2),
        )
    };
    // A server without ALPN completes the handshake: the client sees no h2 and says so.
    let (url, ca, _dir) = tls_server(&[]).await;
    let err = refused(&url, ca).warm_up().await.unwrap_err();
    assert!(matches!(err, H2Error::NoH2 { .. }), "{err:?}");
    assert!(err.is_connect());
    assert!(err.to_string().contains("ALPN"), "{err}");
    // A server offering only http/1.1 ends the handshake with no_application_protocol.
    let (url, ca, _dir) = tls_server(&[b"http/1.1"]).await;
    let err = refused(&url, ca).warm_up().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let chain = causes(&err);
    assert!(chain.contains("NoApplicationProtocol"), "{chain}");
}

fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&format!("{c:?}"));
        cur = c.source();
    }
    out
}
