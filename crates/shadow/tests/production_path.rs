#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::{Method, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prodlike_testkit::services::{
    Fault, Flavour, faulty_upstream, recording_upstream, sample_api, serve,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_reverse_proxy_forwards_bodies_and_headers_exactly() {
    let (router, recorder) = recording_upstream("prod");
    let prod = serve(router).await.unwrap();
    let shadow = start(config(&prod.url(), None)).await;
    let c = client();
    let url = format!("http://{}/echo/path?x=1&y=%20z", shadow.addr);
    let body = Bytes::from_static(br#"{"hello":"world"}"#);
    let reply = send(
        &c,
        Method::POST,
        &url,
        &[
            ("content-type", "application/json"),
            ("connection", "x-hop"),
            ("x-hop", "secret"),
            ("x-keep", "yes"),
        ],
        body.clone(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let echoed = json(&reply.body);
    assert_eq!(echoed["env"], "prod");
    assert_eq!(echoed["path"], "/echo/path");
    assert_eq!(echoed["query"], "x=1&y=%20z");
    assert_eq!(echoed["body"]["hello"], "world");

    let seen = recorder.requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.body, body);
    assert_eq!(r.headers["x-keep"], "yes");
    assert!(
        r.headers.get("x-hop").is_none(),
        "headers named by Connection are hop-by-hop"
    );
    assert_eq!(r.headers["x-forwarded-for"], "127.0.0.1");
    assert_eq!(r.headers["x-forwarded-proto"], "http");
    assert_eq!(
        r.headers["x-forwarded-host"],
        shadow.addr.to_string().as_str()
    );
    assert_eq!(
        r.headers["host"],
        shadow.addr.to_string().as_str(),
        "the client's Host is preserved"
    );
    assert!(r.headers.get("x-prodlike-shadow").is_none());

    let report = shadow.shutdown().await;
    assert_eq!(report.totals.requests, 1);
    assert_eq!(report.totals.mirrored, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_production_gets_a_clear_502_and_a_hung_one_a_504() {
    // Nothing listens on a port we bound and released.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut cfg = config(&format!("http://{dead}"), None);
    cfg.production.connect_timeout = Duration::from_millis(300);
    let shadow = prodlike_shadow::start(
        cfg,
        prodlike_shadow::StartOptions {
            skip_upstream_check: true,
            mask_key: None,
        },
        &tokio::runtime::Handle::current(),
    )
    .await
    .unwrap();
    let reply = get(&client(), &format!("http://{}/x", shadow.addr)).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply.headers["x-prodlike-error"], "production_connect");
    assert!(
        String::from_utf8_lossy(&reply.body)
            .contains("no production upstream accepted the connection")
    );
    shadow.shutdown().await;

    let hung = faulty_upstream(Fault::Hang).await.unwrap();
    let mut cfg = config(&hung.url(), None);
    cfg.production.response_timeout = Duration::from_millis(300);
    let shadow = start(cfg).await;
    let reply = get(&client(), &format!("http://{}/x", shadow.addr)).await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(String::from_utf8_lossy(&reply.body).contains("did not answer within"));
    let metrics = get(
        &client(),
        &format!("http://{}/metrics", shadow.admin_addr.unwrap()),
    )
    .await;
    let text = String::from_utf8_lossy(&metrics.body).into_owned();
    assert!(
        text.lines()
            .any(|l| l.starts_with("prodlike_shadow_upstream_errors_total")
                && l.contains("kind=\"timeout\"")
                && l.ends_with(" 1")),
        "{text}"
    );
    shadow.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_upstream_is_retried_elsewhere_then_ejected() {
    let (router, recorder) = recording_upstream("prod");
    let alive = serve(router).await.unwrap();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut cfg = config(&alive.url(), None);
    cfg.production.upstreams = vec![format!("http://{dead}"), alive.url()];
    cfg.production.health.consecutive_failures = 2;
    cfg.production.health.ejection_time = Duration::from_secs(600);
    let shadow = start(cfg).await;
    let c = client();
    for i in 0..20 {
        let reply = get(&c, &format!("http://{}/item/{i}", shadow.addr)).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "request {i} must not see the dead upstream"
        );
    }
    assert_eq!(recorder.len(), 20);
    let report = shadow.shutdown().await;
    let dead_status = report
        .production
        .iter()
        .find(|u| u.url.contains(&dead.port().to_string()))
        .unwrap();
    assert!(dead_status.ejected, "{report:?}");
    assert!(
        !report
            .production
            .iter()
            .find(|u| u.url == alive.url())
            .unwrap()
            .ejected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_clients_are_served_over_h2c() {
    let prod = serve(sample_api(Flavour::Production)).await.unwrap();
    let shadow = start(config(&prod.url(), None)).await;
    let h2: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let resp = h2
        .request(
            http::Request::get(format!("http://{}/api/items/3", shadow.addr))
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(json(&body)["id"], 3);
    shadow.shutdown().await;
}

fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let c = dir.join("cert.pem");
    let k = dir.join("key.pem");
    std::fs::write(&c, cert.cert.pem()).unwrap();
    std::fs::write(&k, cert.signing_key.serialize_pem()).unwrap();
    (c, k)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_clients_negotiate_h2_by_alpn_and_https_upstreams_work() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());

    // An https production upstream, trusted through production.ca_file.
    let upstream_tls = prodlike_net::server_config(&cert, &key, &[b"http/1.1"]).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(upstream_tls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc =
                    hyper_util::service::TowerToHyperService::new(sample_api(Flavour::Production));
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });

    let mut cfg = config(&format!("https://127.0.0.1:{}", upstream_addr.port()), None);
    cfg.production.ca_file = Some(cert.clone());
    cfg.tls = Some(prodlike_shadow::config::ListenerTls {
        cert: cert.clone(),
        key,
    });
    let shadow = start(cfg).await;

    let tls = prodlike_net::client_config(&prodlike_net::ClientTlsOptions {
        ca_file: Some(cert),
    })
    .unwrap();
    let connector = prodlike_net::https_connector(tls, Duration::from_secs(2));
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let resp = client
        .request(
            http::Request::get(format!(
                "https://127.0.0.1:{}/api/users/5",
                shadow.addr.port()
            ))
            .body(Full::new(Bytes::new()))
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_2, "ALPN offers h2 first");
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(json(&body)["email"], "user5@example.com");
    shadow.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_requests_finish() {
    let slow = faulty_upstream(Fault::Slow(Duration::from_millis(600)))
        .await
        .unwrap();
    let shadow = start(config(&slow.url(), None)).await;
    let addr = shadow.addr;
    let c = client();
    let in_flight = tokio::spawn(async move { get(&c, &format!("http://{addr}/slow")).await });
    // Shut down only once the request is in the proxy.
    loop {
        if shadow.report().totals.requests == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let report = shadow.shutdown().await;
    let reply = in_flight.await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(json(&reply.body)["slow"], true);
    assert_eq!(report.totals.requests, 1);
    // And the port is closed afterwards.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
