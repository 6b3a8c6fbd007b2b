//! A small traffic driver for the demo and tests: sends requests to a base URL with a fixed
//! concurrency and counts the answers by status.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// One request of a traffic mix.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: http::Method,
    pub path: String,
    pub body: Option<String>,
}

impl Call {
    pub fn get(path: impl Into<String>) -> Self {
        Call {
            method: http::Method::GET,
            path: path.into(),
            body: None,
        }
    }

    pub fn post_json(path: impl Into<String>, body: impl Into<String>) -> Self {
        Call {
            method: http::Method::POST,
            path: path.into(),
            body: Some(body.into()),
        }
    }
}

/// Sends every call once, `concurrency` at a time. Returns answers by status code; failed
/// requests are counted under 0.
pub async fn drive(base: &str, calls: Vec<Call>, concurrency: usize) -> BTreeMap<u16, usize> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let calls = Arc::new(calls);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, calls, next, base) = (
            client.clone(),
            calls.clone(),
            next.clone(),
            base.to_string(),
        );
        workers.push(tokio::spawn(async move {
            let mut counts = BTreeMap::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(call) = calls.get(i) else { break };
                let mut req = http::Request::builder()
                    .method(call.method.clone())
                    .uri(format!("{base}{}", call.path));
                if call.body.is_some() {
                    req = req.header("content-type", "application/json");
                }
                let body = Full::new(Bytes::from(call.body.clone().unwrap_or_default()));
                let status = match req.body(body) {
                    Ok(r) => match client.request(r).await {
                        Ok(resp) => {
                            let s = resp.status().as_u16();
                            let _ = resp.into_body().collect().await;
                            s
                        }
                        Err(_) => 0,
                    },
                    Err(_) => 0,
                };
                *counts.entry(status).or_insert(0) += 1;
            }
            counts
        }));
    }
    let mut total = BTreeMap::new();
    for w in workers {
        if let Ok(counts) = w.await {
            for (k, v) in counts {
                *total.entry(k).or_insert(0) += v;
            }
        }
    }
    total
}
