//! The targets as the engine uses them: each resolved and checked to accept a connection (and a
//! TLS handshake) before the clock starts, so an unreachable target is a clear error rather
//! than a run full of connect errors; and the host and base path the request mix writes.
use bytes::Bytes;
use http_body_util::Full;
use prodlike_net::h1::Endpoint;
use prodlike_net::h2::H2Client;
use prodlike_net::{ClientTlsOptions, Target};

use super::options::ClientOptions;
use crate::LoadError;
use crate::mix::WireTarget;

/// Checks every target accepts a connection (and a TLS handshake) before the clock starts, so
/// an unreachable target is a clear error, not a run full of connect errors.
pub async fn resolve_targets(
    targets: &[Target],
    client: &ClientOptions,
) -> Result<Vec<Endpoint>, LoadError> {
    let tls = ClientTlsOptions {
        ca_file: client.ca_file.clone(),
    };
    let mut endpoints = Vec::new();
    for t in targets {
        let ep = Endpoint::resolve(t, &tls, client.connect_timeout)
            .await
            .map_err(|source| LoadError::Endpoint {
                target: t.original.clone(),
                source,
            })?;
        // An HTTP/2 run checks its own connection (`http2_clients`).
        if !client.http2 {
            ep.connect()
                .await
                .map_err(|source| LoadError::Unreachable {
                    target: t.original.clone(),
                    source,
                })?;
        }
        endpoints.push(ep);
    }
    Ok(endpoints)
}

/// `--http2`: one HTTP/2 client per target, connected (h2c, or TLS agreeing to h2 by ALPN)
/// before the clock starts; none for HTTP/1.1 runs.
pub async fn http2_clients(
    targets: &[Target],
    client: &ClientOptions,
) -> Result<Vec<H2Client<Full<Bytes>>>, LoadError> {
    if !client.http2 {
        return Ok(Vec::new());
    }
    let tls = ClientTlsOptions {
        ca_file: client.ca_file.clone(),
    };
    let mut clients = Vec::new();
    for t in targets {
        let c = H2Client::new(t.clone(), tls.clone(), client.connect_timeout);
        c.warm_up().await.map_err(|source| LoadError::Http2 {
            target: t.original.clone(),
            source: Box::new(source),
        })?;
        clients.push(c);
    }
    Ok(clients)
}

/// The host header and base path requests to `t` are written with.
pub(super) fn wire(t: &Target) -> WireTarget {
    WireTarget {
        host: t.authority.as_str().to_string(),
        base_path: t.base_path.clone(),
    }
}
