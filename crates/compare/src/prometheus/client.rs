//! Prometheus' HTTP API (`/api/v1/query`, `/api/v1/query_range`, `/api/v1/series`) over
//! prodlike-net: net's H1Pool for `http://`, net's https connector (as shadow uses for an
//! https staging) for `https://`. Answers are parsed into [`response`](super::response)'s
//! types; an unreachable server, an HTTP error or an API error names the URL and the query.
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use prodlike_net::h1::{H1Pool, H1PoolConfig};
use prodlike_net::{ClientTlsOptions, HttpsConnector, Target, client_config, https_connector};

use super::response::{ApiResponse, MatrixSeries, SeriesLabels, VectorSample};
use crate::error::CompareError;

/// How long one API call may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(60);

enum Transport {
    Plain(Arc<H1Pool>),
    Tls(Box<HyperClient<HttpsConnector, Empty<Bytes>>>),
}

/// One Prometheus server.
pub struct Prometheus {
    target: Target,
    /// The URL as shown in messages (password redacted).
    shown: String,
    transport: Transport,
}

impl Prometheus {
    /// A client for `url` (`http://host:9090`, with an optional base path).
    pub fn new(flag: &'static str, url: &str) -> Result<Prometheus, CompareError> {
        let shown = prodlike_common::redact::redact_url(url);
        let target = Target::parse(url).map_err(|e| CompareError::Flag {
            flag,
            problem: e.to_string(),
        })?;
        let transport = if target.is_https() {
            let tls =
                client_config(&ClientTlsOptions::default()).map_err(|e| CompareError::Flag {
                    flag,
                    problem: format!(
                        "TLS setup for {shown}: {}",
                        prodlike_common::error::chain(&e)
                    ),
                })?;
            Transport::Tls(Box::new(
                HyperClient::builder(TokioExecutor::new()).build(https_connector(tls, TIMEOUT)),
            ))
        } else {
            let host = HeaderValue::from_str(target.authority.as_str())
                .unwrap_or_else(|_| HeaderValue::from_static("prometheus"));
            Transport::Plain(H1Pool::new(
                &target.host_port(),
                host,
                H1PoolConfig {
                    connect_timeout: Duration::from_secs(10),
                    idle_timeout: Duration::from_secs(30),
                    max_idle: 4,
                },
            ))
        };
        Ok(Prometheus {
            target,
            shown,
            transport,
        })
    }

    /// The URL as shown in reports.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// An instant query at `time` (Unix seconds).
    pub async fn query(&self, expr: &str, time: f64) -> Result<Vec<VectorSample>, CompareError> {
        let pq = format!("/api/v1/query?query={}&time={time}", enc(expr));
        let data: super::response::VectorData = self.get(&pq, expr).await?;
        Ok(data.result)
    }

    /// A range query from `start` to `end` every `step` seconds.
    pub async fn query_range(
        &self,
        expr: &str,
        start: f64,
        end: f64,
        step: u64,
    ) -> Result<Vec<MatrixSeries>, CompareError> {
        let pq = format!(
            "/api/v1/query_range?query={}&start={start}&end={end}&step={step}",
            enc(expr)
        );
        let data: super::response::MatrixData = self.get(&pq, expr).await?;
        Ok(data.result)
    }

    /// The label sets of every series matching `selector` between `start` and `end`.
    pub async fn series(
        &self,
        selector: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<SeriesLabels>, CompareError> {
        let pq = format!(
            "/api/v1/series?match[]={}&start={start}&end={end}",
            enc(selector)
        );
        self.get(&pq, selector).await
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path_and_query: &str,
        what: &str,
    ) -> Result<T, CompareError> {
        let unreachable =
            |source: Box<dyn std::error::Error + Send + Sync>| CompareError::Unreachable {
                url: self.shown.clone(),
                what: what.to_string(),
                source,
            };
        let uri = self
            .target
            .uri_for(path_and_query)
            .map_err(|e| unreachable(Box::new(e)))?;
        let fetch = async {
            let req = Request::get(uri)
                .header(http::header::ACCEPT, "application/json")
                .body(Empty::<Bytes>::new())
                .map_err(|e| unreachable(Box::new(e)))?;
            let (status, body) = match &self.transport {
                Transport::Plain(pool) => {
                    let resp = pool.send(req).await.map_err(|e| unreachable(Box::new(e)))?;
                    let status = resp.status();
                    let body = resp
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| unreachable(Box::new(e)))?
                        .to_bytes();
                    (status, body)
                }
                Transport::Tls(client) => {
                    let resp = client
                        .request(req)
                        .await
                        .map_err(|e| unreachable(Box::new(e)))?;
                    let status = resp.status();
                    let body = resp
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| unreachable(Box::new(e)))?
                        .to_bytes();
                    (status, body)
                }
            };
            Ok::<_, CompareError>((status, body))
        };
        let (status, body) = tokio::time::timeout(TIMEOUT, fetch)
            .await
            .map_err(|_| unreachable("no answer within 60 seconds".into()))??;
        self.decode(status.as_u16(), &body, what)
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        status: u16,
        body: &[u8],
        what: &str,
    ) -> Result<T, CompareError> {
        // The API answers errors (400 bad_data, 422 execution, 503 timeout) with its JSON too.
        match serde_json::from_slice::<ApiResponse<T>>(body) {
            Ok(ApiResponse {
                status: s,
                data: Some(data),
                ..
            }) if s == "success" => Ok(data),
            Ok(r) => Err(CompareError::Api {
                url: self.shown.clone(),
                what: what.to_string(),
                error_type: r.error_type.unwrap_or_else(|| format!("HTTP {status}")),
                error: r.error.unwrap_or_else(|| "no error message".into()),
            }),
            Err(_) if !(200..300).contains(&status) => Err(CompareError::Status {
                url: self.shown.clone(),
                what: what.to_string(),
                status,
                body: String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
            }),
            Err(source) => Err(CompareError::Body {
                url: self.shown.clone(),
                what: what.to_string(),
                source,
            }),
        }
    }
}

fn enc(s: &str) -> String {
    prodlike_common::percent::encode(s)
}
