use std::net::SocketAddr;
use std::path::PathBuf;

/// A configuration problem, naming the file, line or field and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Parse {
        origin: String,
        line: Option<usize>,
        message: String,
    },
    #[error("config field `{field}`: {problem}")]
    Invalid { field: String, problem: String },
    #[error("config field `{field}`")]
    BadUrl {
        field: String,
        #[source]
        source: prodlike_net::TargetError,
    },
    #[error("config field `{field}`")]
    BadPattern {
        field: String,
        #[source]
        source: prodlike_common::glob::GlobError,
    },
}

/// Why the proxy could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ShadowError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `hint` names the usual fix for the OS error, when there is one.
    #[error("cannot listen on {addr}{hint}")]
    Bind {
        addr: SocketAddr,
        hint: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "production upstream {upstream} cannot be reached: {reason} (start it first, or pass --skip-upstream-check)"
    )]
    UpstreamUnreachable { upstream: String, reason: String },
    #[error("TLS")]
    Tls(#[from] prodlike_net::TlsError),
    #[error(transparent)]
    MaskKey(prodlike_mask::KeyError),
    #[error("mask rules")]
    MaskRules(#[source] prodlike_mask::TransformError),
    #[error("capture")]
    Capture(#[from] prodlike_capture::WriteError),
    #[error("capture to NATS")]
    CaptureNats(#[from] prodlike_capture::nats::NatsError),
    #[error("could not start the runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Result(#[from] prodlike_report::ResultWriteError),
}

/// The usual fix for a bind failure, to go before the OS's own words.
pub(crate) fn bind_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            " (the port is already in use; stop the other process or pick another port)"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            " (this machine has no such address; use 0.0.0.0 or one of its own addresses)"
        }
        std::io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges)",
        _ => "",
    }
}
