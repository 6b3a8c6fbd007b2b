use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use rustls::ClientConfig;

/// Connector for `http://` and `https://` upstreams.
pub type HttpsConnector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A connector with TCP_NODELAY, a connect timeout and TLS from `tls` (ALPN h2 and http/1.1),
/// speaking plain HTTP to `http://` URIs.
pub fn https_connector(tls: ClientConfig, connect_timeout: Duration) -> HttpsConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_keepalive(Some(Duration::from_secs(60)));
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http)
}
