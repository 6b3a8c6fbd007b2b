//! Where a load generator's connections go: the target resolved once (so that connecting never
//! waits on DNS mid-run), with TLS prepared for https targets.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{InvalidDnsNameError, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::H1Error;
use super::conn::H1Conn;
use super::stream::ClientStream;
use crate::{ClientTlsOptions, Target, TlsError, client_config};

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("cannot resolve {host_port}")]
    Resolve {
        host_port: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{host_port} resolves to no address")]
    NoAddress { host_port: String },
    #[error("TLS setup")]
    Tls(#[source] TlsError),
    #[error("`{host}` is not a valid TLS server name")]
    ServerName {
        host: String,
        #[source]
        source: InvalidDnsNameError,
    },
}

#[derive(Clone)]
pub struct Endpoint {
    addrs: Arc<[SocketAddr]>,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    connect_timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("addrs", &self.addrs)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Endpoint {
    /// Resolves the target's host and prepares TLS (HTTP/1.1 by ALPN) for https targets.
    pub async fn resolve(
        target: &Target,
        tls: &ClientTlsOptions,
        connect_timeout: Duration,
    ) -> Result<Endpoint, EndpointError> {
        Self::resolve_for(target, tls, connect_timeout, b"http/1.1").await
    }

    /// Like [`Endpoint::resolve`], offering `alpn` (`h2` for the HTTP/2 client) in TLS.
    pub async fn resolve_for(
        target: &Target,
        tls: &ClientTlsOptions,
        connect_timeout: Duration,
        alpn: &[u8],
    ) -> Result<Endpoint, EndpointError> {
        let host_port = target.host_port();
        let found = tokio::net::lookup_host(host_port.clone()).await;
        let addrs: Arc<[SocketAddr]> = match found {
            Ok(found) => found.collect(),
            Err(source) => return Err(EndpointError::Resolve { host_port, source }),
        };
        if addrs.is_empty() {
            return Err(EndpointError::NoAddress { host_port });
        }
        let tls = if target.is_https() {
            let mut cfg = client_config(tls).map_err(EndpointError::Tls)?;
            cfg.alpn_protocols = vec![alpn.to_vec()];
            let host = target.authority.host().trim_matches(['[', ']']).to_string();
            let name = ServerName::try_from(host.clone())
                .map_err(|source| EndpointError::ServerName { host, source })?;
            Some((TlsConnector::from(Arc::new(cfg)), name))
        } else {
            None
        };
        Ok(Endpoint {
            addrs,
            tls,
            connect_timeout,
        })
    }

    /// The first resolved address.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Opens a connection (TCP to each resolved address in turn, then TLS for https) within the
    /// connect timeout.
    pub async fn connect(&self) -> Result<H1Conn<ClientStream>, H1Error> {
        self.connect_stream().await.map(H1Conn::new)
    }

    /// Opens a connection as [`Endpoint::connect`] does, as a bare stream (the HTTP/2 client's).
    pub async fn connect_stream(&self) -> Result<ClientStream, H1Error> {
        let attempt = async {
            let mut last = None;
            for addr in self.addrs.iter() {
                match TcpStream::connect(addr).await {
                    Ok(tcp) => return self.open(tcp).await,
                    Err(e) => last = Some(e),
                }
            }
            Err(H1Error::Connect(last.unwrap_or_else(|| {
                std::io::ErrorKind::AddrNotAvailable.into()
            })))
        };
        tokio::time::timeout(self.connect_timeout, attempt)
            .await
            .map_err(|_| H1Error::ConnectTimeout)?
    }

    async fn open(&self, tcp: TcpStream) -> Result<ClientStream, H1Error> {
        let _ = tcp.set_nodelay(true);
        let stream = match &self.tls {
            None => ClientStream::Tcp(tcp),
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(H1Error::Tls)?;
                ClientStream::Tls(Box::new(tls))
            }
        };
        Ok(stream)
    }
}
