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
    /// Something a scenario names (a data file) failed: where in the scenario, and why.
    #[error("{path}: line {line} ({field})")]
    InScenario {
        path: String,
        line: usize,
        field: String,
        #[source]
        source: Box<LoadError>,
    },
    #[error("threshold `{threshold}`: the run has no {kind} named `{name}`; its {kind}s: {known}")]
    UnknownScope {
        threshold: String,
        kind: &'static str,
        name: String,
        known: String,
    },
    #[error("could not read {path}")]
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
    #[error("target {target}: no HTTP/2 connection (--http2)")]
    Http2 {
        target: String,
        #[source]
        source: Box<prodlike_net::h2::H2Error>,
    },
    #[error("data file {path}: {reason}")]
    Data { path: PathBuf, reason: String },
    #[error("replay {path}: {reason}")]
    Replay { path: PathBuf, reason: String },
    /// A JetStream stream that could not be read (`--replay nats://…`).
    #[error("replay {url}")]
    Nats {
        url: String,
        #[source]
        source: Box<prodlike_capture::nats::NatsError>,
    },
    /// A capture file that could not be read as one.
    #[error("replay {path}")]
    Capture {
        path: PathBuf,
        #[source]
        source: prodlike_capture::ReadError,
    },
    #[error("drawing the HTML report's charts")]
    Chart(#[source] prodlike_report::chart::ChartError),
    #[error("rendering the HTML report")]
    Html(#[source] prodlike_report::html::HtmlError),
    #[error("could not start the runtime")]
    Runtime(#[source] std::io::Error),
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
