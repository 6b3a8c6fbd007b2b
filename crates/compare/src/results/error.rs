//! Why prodlike's results could not be compared: every one an input error (exit 2).
use std::path::PathBuf;

use crate::error::CompareError;

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A file that is not a result this build reads (not JSON, unknown schema or version).
    #[error("reading a result")]
    Read(#[source] prodlike_results::ReadError),
    /// Neither two load results nor one shadow result.
    #[error(
        "compare results takes two prodlike.load results (baseline, then candidate) or one \
         prodlike.shadow result; given: {given}"
    )]
    WrongInputs { given: String },
    /// A latency histogram in a result that is not one.
    #[error("{path}: the latency histogram of `{route}` ({side}) cannot be read")]
    Histogram {
        path: PathBuf,
        route: String,
        side: &'static str,
        #[source]
        source: prodlike_stats::HistogramDecodeError,
    },
    /// Counts the judge refuses (more errors than requests).
    #[error("judging the results")]
    Judge(#[source] CompareError),
}
