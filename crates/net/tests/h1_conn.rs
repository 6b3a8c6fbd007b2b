//! The load generator's way of using a connection: request bytes out, the response counted and
//! its body dropped, over an in-memory stream (every framing, pieces of any size, a paused
//! clock for slow reads) and over TLS on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::time::Duration;

use prodlike_net::h1::{
    ClientStream, Endpoint, EndpointError, H1Conn, H1Error, IdleConns, ReadOptions,
};
use prodlike_net::{ClientTlsOptions, Target, server_config};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: t\r\n\r\n";
const HEAD: ReadOptions = ReadOptions {
    head_request: true,
    bytes_per_second: None,
};

/// A connection to a scripted upstream: for each entry it reads one request head, then writes
/// the entry in pieces of `piece` bytes. After the last it closes when `close_at_end`, else it
/// holds the connection open until the client drops it.
fn scripted(responses: Vec<Vec<u8>>, piece: usize, close_at_end: bool) -> H1Conn<DuplexStream> {
    let (client, mut server) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        for response in responses {
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match server.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            seen.clear();
            for part in response.chunks(piece.max(1)) {
                if server.write_all(part).await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
        }
        if !close_at_end {
            while let Ok(n) = server.read(&mut buf).await {
                if n == 0 {
                    return;
                }
            }
        }
    });
    H1Conn::new(client)
}

#[tokio::test]
async fn responses_are_counted_and_bodies_dropped_whatever_their_framing() {
    let responses: Vec<(&[u8], bool, u16, bool)> = vec![
        // (response, HEAD request, status, connection reusable)
        (
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            false,
            200,
            true,
        ),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n5;x=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n",
            false,
            201,
            true,
        ),
        (b"HTTP/1.1 204 No Content\r\n\r\n", false, 204, true),
        (
            b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n",
            true,
            200,
            true,
        ),
        (
            b"HTTP/1.1 503 Busy\r\nconnection: close\r\ncontent-length: 2\r\n\r\nno",
            false,
            503,
            false,
        ),
    ];
    for piece in [1, 3, 7, 4096] {
        let mut conn = scripted(
            responses.iter().map(|r| r.0.to_vec()).collect(),
            piece,
            false,
        );
        for (i, (raw, head, status, keep)) in responses.iter().enumerate() {
            let opts = if *head { HEAD } else { ReadOptions::default() };
            let got = conn.exchange(GET, opts).await.unwrap();
            assert_eq!(got.status, *status, "response {i}, pieces of {piece}");
            assert_eq!(got.bytes_in, raw.len() as u64, "response {i}");
            assert_eq!(got.keep_alive, *keep, "response {i}");
            assert!(conn.is_reused());
        }
    }
}

#[tokio::test]
async fn a_body_without_length_ends_with_the_connection() {
    let raw = b"HTTP/1.0 200 OK\r\n\r\nuntil the end".to_vec();
    let mut conn = scripted(vec![raw.clone()], 4, true);
    let got = conn.exchange(GET, ReadOptions::default()).await.unwrap();
    assert_eq!((got.status, got.bytes_in), (200, raw.len() as u64));
    assert!(!got.keep_alive);
}

#[tokio::test]
async fn bytes_nobody_asked_for_make_the_connection_unusable() {
    let mut conn = scripted(
        vec![b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n".to_vec()],
        4096,
        false,
    );
    let got = conn.exchange(GET, ReadOptions::default()).await.unwrap();
    assert_eq!(got.bytes_in, 40);
    assert!(!got.keep_alive);
}

#[tokio::test]
async fn broken_responses_are_typed_errors() {
    type Expect = fn(&H1Error) -> bool;
    let cases: Vec<(&[u8], Expect)> = vec![
        (b"", |e| matches!(e, H1Error::Closed)),
        (b"HTTP/1.1 200 OK\r\ncontent-le", |e| {
            matches!(e, H1Error::Closed)
        }),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", |e| {
            matches!(e, H1Error::BodyCut)
        }),
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab",
            |e| matches!(e, H1Error::BodyCut),
        ),
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            |e| matches!(e, H1Error::Chunked(_)),
        ),
        (b"\x00\xffNOT HTTP\r\n\r\n", |e| {
            matches!(e, H1Error::Head(_))
        }),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", |e| {
            matches!(e, H1Error::Protocol(_))
        }),
        (
            b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab",
            |e| matches!(e, H1Error::Protocol(_)),
        ),
    ];
    for (raw, expected) in cases {
        let mut conn = scripted(vec![raw.to_vec()], 4096, true);
        let err = conn
            .exchange(GET, ReadOptions::default())
            .await
            .unwrap_err();
        assert!(
            expected(&err),
            "{:?} gave {err:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[tokio::test]
async fn a_reused_connection_the_upstream_closed_is_stale() {
    let mut conn = scripted(
        vec![b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec()],
        4096,
        true,
    );
    let first = conn.exchange(GET, ReadOptions::default()).await.unwrap();
    assert!(first.keep_alive);
    // The upstream closed it after the first response, as at its idle timeout: the request
    // never reached it, so the caller may send it again on a new connection.
    let err = conn
        .exchange(GET, ReadOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, H1Error::Stale), "{err:?}");
}

/// The runtime's clock is paused: it moves only to wake sleepers, so the time a read took is
/// exactly the pacing's sleeps.
#[tokio::test(start_paused = true)]
async fn slow_reads_are_paced_on_the_runtime_clock() {
    let body = vec![b'x'; 4000];
    let mut raw = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
    raw.extend_from_slice(&body);

    let mut conn = scripted(vec![raw.clone()], raw.len(), false);
    let start = tokio::time::Instant::now();
    conn.exchange(GET, ReadOptions::default()).await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "an unpaced read sleeps never"
    );

    let mut conn = scripted(vec![raw.clone()], raw.len(), false);
    let start = tokio::time::Instant::now();
    let slow = ReadOptions {
        head_request: false,
        bytes_per_second: Some(1000),
    };
    let got = conn.exchange(GET, slow).await.unwrap();
    assert_eq!(got.bytes_in, raw.len() as u64);
    // Reads of 50 bytes (a twentieth of the rate), each once the bytes before it are due: the
    // last starts when all but the last 50 bytes are due.
    let due = Duration::from_secs_f64((raw.len() - 50) as f64 / 1000.0);
    assert!(
        start.elapsed() >= due,
        "{:?} < {due:?}: not paced",
        start.elapsed()
    );
}

#[test]
fn idle_connections_come_back_newest_first_and_marked_reused() {
    let idle: IdleConns<u8> = IdleConns::new(2);
    assert!(idle.take().is_none());
    for _ in 0..3 {
        idle.put(H1Conn::new(0u8));
    }
    assert_eq!(idle.len(), 2, "one beyond the limit is closed");
    let conn = idle.take().unwrap();
    assert!(conn.is_reused());
    assert_eq!(idle.len(), 1);
}

#[tokio::test]
async fn an_https_endpoint_speaks_http1_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(
        server_config(&cert_path, &key_path, &[b"h2", b"http/1.1"]).unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (alpn_tx, mut alpn_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, alpn_tx) = (acceptor.clone(), alpn_tx.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate fails the handshake here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = alpn_tx.send(tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec));
                let mut buf = vec![0u8; 4096];
                loop {
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecret";
                    if tls.write_all(ok).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let target = Target::parse(&format!("https://127.0.0.1:{port}")).unwrap();
    let tls = ClientTlsOptions {
        ca_file: Some(cert_path),
    };
    let endpoint = Endpoint::resolve(&target, &tls, Duration::from_secs(5))
        .await
        .unwrap();
    let mut conn: H1Conn<ClientStream> = endpoint.connect().await.unwrap();
    for _ in 0..2 {
        let got = conn.exchange(GET, ReadOptions::default()).await.unwrap();
        assert_eq!((got.status, got.keep_alive), (200, true));
    }
    assert_eq!(alpn_rx.recv().await.unwrap(), Some(b"http/1.1".to_vec()));

    // Without the CA the server is not trusted: no roots at all on a machine without a
    // system store, else a failed handshake.
    match Endpoint::resolve(
        &target,
        &ClientTlsOptions::default(),
        Duration::from_secs(5),
    )
    .await
    {
        Err(e) => assert!(matches!(e, EndpointError::Tls(_)), "{e:?}"),
        Ok(untrusting) => {
            let err = untrusting.connect().await.unwrap_err();
            assert!(matches!(err, H1Error::Tls(_)), "{err:?}");
        }
    }
}

#[tokio::test]
async fn refused_connections_are_connect_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = Target::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let endpoint = Endpoint::resolve(
        &target,
        &ClientTlsOptions::default(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(endpoint.addr().port(), port);
    let err = endpoint.connect().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..600),
                                   piece in 1usize..64, head in any::<bool>()) {
        block_on(async {
            let mut conn = scripted(vec![raw], piece, true);
            let opts = ReadOptions { head_request: head, bytes_per_second: None };
            let _ = conn.exchange(GET, opts).await;
        });
    }

    #[test]
    fn chunked_bodies_are_read_to_their_end_in_any_pieces(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..200), 0..8),
        piece in 1usize..64,
    ) {
        let mut raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for c in &chunks {
            raw.extend_from_slice(format!("{:X}\r\n", c.len()).as_bytes());
            raw.extend_from_slice(c);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        let len = raw.len() as u64;
        let got = block_on(async {
            let mut conn = scripted(vec![raw], piece, false);
            conn.exchange(GET, ReadOptions::default()).await
        })
        .unwrap();
        prop_assert_eq!(got.bytes_in, len);
        prop_assert!(got.keep_alive);
    }
}
