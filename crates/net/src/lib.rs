//! HTTP clients (HTTP/1.1 in `h1`, HTTP/2 in `h2`) and TLS plumbing shared by shadow and load: upstream URL parsing, rustls client
//! and server configurations, an HTTP/HTTPS connector with a connect timeout, and bounded
//! decoding of content codings (`decode`).
#![forbid(unsafe_code)]

mod connector;
pub mod decode;
pub mod h1;
pub mod h2;
mod target;
mod tls;

pub use connector::{HttpsConnector, https_connector};
pub use target::{Target, TargetError};
pub use tls::{ClientTlsOptions, TlsError, client_config, server_config};
