//! The errors of `prodlike compare`: a bad spec names its field, a Prometheus that cannot be
//! read names its URL, a selector that matches nothing names the selector. Every one of them is
//! an input error (exit 2); causes are typed sources, printed once.
use std::path::PathBuf;

/// A spec file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("could not read the spec {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("spec {path}")]
    InFile {
        path: PathBuf,
        #[source]
        source: Box<SpecError>,
    },
    #[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Toml {
        line: Option<usize>,
        message: String,
    },
    #[error("`{field}`: {problem}")]
    Field { field: String, problem: String },
}

impl SpecError {
    pub(crate) fn field(field: impl Into<String>, problem: impl Into<String>) -> SpecError {
        SpecError::Field {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A flag's value is unusable; the text names the flag.
    #[error("{flag}: {problem}")]
    Flag { flag: &'static str, problem: String },
    #[error("Prometheus at {url} could not be queried ({what})")]
    Unreachable {
        url: String,
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("Prometheus at {url} answered {what} with HTTP {status}: {body}")]
    Status {
        url: String,
        what: String,
        status: u16,
        body: String,
    },
    #[error("Prometheus at {url} refused {what}: {error_type}: {error}")]
    Api {
        url: String,
        what: String,
        error_type: String,
        error: String,
    },
    #[error("Prometheus at {url} answered {what} with a body that is not its API's JSON")]
    Body {
        url: String,
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    NothingSelected(Box<Unselected>),
    #[error("judging the comparison")]
    Stats(#[source] prodlike_stats::StatsError),
}

/// A selector that matches no series of the metrics looked for.
#[derive(Debug)]
pub struct Unselected {
    /// `production` or `staging`.
    pub side: &'static str,
    pub selector: String,
    /// The metric names looked for.
    pub metrics: String,
    pub url: String,
    pub start: String,
    pub end: String,
}

impl std::fmt::Display for Unselected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the {} selector `{}` matches no series of {} at {} between {} and {}; check the \
             matcher (label name and value) and the window",
            self.side, self.selector, self.metrics, self.url, self.start, self.end
        )
    }
}
