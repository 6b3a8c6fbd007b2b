use std::path::PathBuf;

/// Everything that stops a load run before or while it starts. Each variant names what to fix:
/// the flag, the file and line, the field, or the address.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Usage(String),
    #[error("{what} `{input}`: {reason}")]
    Spec {
        what: &'static str,
        input: String,
        reason: String,
    },
    #[error("{path}: {message}")]
    Scenario { path: String, message: String },
    #[error("threshold `{threshold}`: the run has no {kind} named `{name}`; its {kind}s: {known}")]
    UnknownScope {
        threshold: String,
        kind: &'static str,
        name: String,
        known: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("target {target}")]
    Endpoint {
        target: String,
        #[source]
        source: prodlike_net::h1::EndpointError,
    },
    #[error("target {target}: cannot connect; is it running and reachable?")]
    Unreachable {
        target: String,
        #[source]
        source: prodlike_net::h1::H1Error,
    },
    #[error("data file {path}: {reason}")]
    Data { path: PathBuf, reason: String },
    #[error("replay {path}: {reason}")]
    Replay { path: PathBuf, reason: String },
    #[error("writing the report: {0}")]
    Report(String),
    #[error("could not start the runtime: {0}")]
    Runtime(std::io::Error),
}

impl LoadError {
    pub(crate) fn spec(what: &'static str, input: &str, reason: impl Into<String>) -> Self {
        LoadError::Spec {
            what,
            input: input.to_string(),
            reason: reason.into(),
        }
    }
}
