#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]
//! Helpers shared by the shadow integration tests: a proxy started in-process on loopback with
//! test-friendly defaults, and a plain HTTP client.
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use prodlike_shadow::{RunningShadow, ShadowConfig, StartOptions};

pub fn config(production: &str, staging: Option<&str>) -> ShadowConfig {
    let mut c = ShadowConfig {
        listen: "127.0.0.1:0".into(),
        admin: Some("127.0.0.1:0".into()),
        drain_timeout: Duration::from_secs(10),
        ..ShadowConfig::default()
    };
    c.production.upstreams = vec![production.to_string()];
    c.mirror.staging = staging.map(str::to_string);
    c.mirror.sample = 1.0;
    c.mirror.timeout = Duration::from_millis(800);
    c.mirror.connect_timeout = Duration::from_millis(300);
    c
}

pub async fn start(cfg: ShadowConfig) -> RunningShadow {
    prodlike_shadow::start(
        cfg,
        StartOptions::default(),
        &tokio::runtime::Handle::current(),
    )
    .await
    .expect("shadow starts")
}

pub type TestClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> TestClient {
    Client::builder(TokioExecutor::new()).build_http()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub async fn send(
    client: &TestClient,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Reply {
    let mut b = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = client
        .request(b.body(Full::new(body)).unwrap())
        .await
        .expect("request answered");
    let (parts, body) = resp.into_parts();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.expect("body read").to_bytes(),
    }
}

pub async fn get(client: &TestClient, url: &str) -> Reply {
    send(client, Method::GET, url, &[], Bytes::new()).await
}

pub fn json(b: &Bytes) -> serde_json::Value {
    serde_json::from_slice(b).expect("JSON body")
}
