//! The JSON of Prometheus' HTTP API answers, as far as this crate reads it
//! (<https://prometheus.io/docs/prometheus/latest/querying/api/>): the envelope
//! (`status`, `data`, `errorType`, `error`), instant vectors, range matrices and series.
use std::collections::BTreeMap;

use serde::Deserialize;

/// Every answer's envelope.
#[derive(Debug, Deserialize)]
pub struct ApiResponse<T> {
    pub status: String,
    pub data: Option<T>,
    #[serde(rename = "errorType")]
    pub error_type: Option<String>,
    pub error: Option<String>,
}

/// An instant query's `data`.
#[derive(Debug, Deserialize)]
pub struct VectorData {
    pub result: Vec<VectorSample>,
}

/// A range query's `data`.
#[derive(Debug, Deserialize)]
pub struct MatrixData {
    pub result: Vec<MatrixSeries>,
}

/// One series of an instant vector.
#[derive(Debug, Deserialize)]
pub struct VectorSample {
    pub metric: BTreeMap<String, String>,
    /// `[unix seconds, "value"]`.
    pub value: (f64, String),
}

/// One series of a range matrix.
#[derive(Debug, Deserialize)]
pub struct MatrixSeries {
    pub values: Vec<(f64, String)>,
}

/// One series' labels, from `/api/v1/series`.
pub type SeriesLabels = BTreeMap<String, String>;

/// A sample value as Prometheus writes it (`"12"`, `"NaN"`, `"+Inf"`); `None` when it is not a
/// finite number.
pub fn value(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl VectorSample {
    /// The sample's value when finite.
    pub fn number(&self) -> Option<f64> {
        value(&self.value.1)
    }
}
