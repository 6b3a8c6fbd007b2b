//! The neutral input of the judge: what every source (Prometheus, prodlike's own results)
//! reduces its data to before judging — per route, error counts and latency (histogram buckets
//! or raw samples) on both sides, plus the request-rate curve of all routes together.
use prodlike_stats::{Buckets, ErrorCounts, Sample};

/// A value on each side.
#[derive(Debug, Clone, PartialEq)]
pub struct Sides<T> {
    pub production: T,
    pub staging: T,
}

/// One route's data.
#[derive(Debug, Clone)]
pub struct RouteInput {
    /// The route as the source names it (`/users/{id}`, or `GET /users/{id}`).
    pub route: String,
    /// Errors out of requests in the window; `None` when the source has no status counts.
    pub errors: Option<Sides<ErrorCounts>>,
    /// Latency, when the source has it.
    pub latency: LatencyInput,
}

/// Latency of one route.
#[derive(Debug, Clone)]
pub enum LatencyInput {
    /// The source has no latency for this route.
    None,
    /// Prometheus-style cumulative buckets (identical bounds on both sides).
    Buckets(Sides<Buckets>),
    /// Raw values (or HDR histograms expanded to values with counts).
    Samples(Sides<Sample>),
    /// Not comparable, with the reason (different bucket boundaries).
    Refused(String),
}

/// Everything to judge.
#[derive(Debug, Clone, Default)]
pub struct ComparisonInput {
    pub routes: Vec<RouteInput>,
    /// Requests per interval of all routes together, the same intervals on both sides.
    pub rate: Option<Sides<Vec<f64>>>,
}
