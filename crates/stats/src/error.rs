//! The one error type of the statistics crate: every judge refuses bad input with a variant that
//! names what was wrong, never a panic.

/// Which environment an input belongs to, for error messages and reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Production,
    Staging,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Production => "production",
            Side::Staging => "staging",
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StatsError {
    #[error("a sample is empty: {0} needs at least one value in each sample")]
    EmptySample(&'static str),
    #[error("a sample holds a non-finite value (NaN or infinity)")]
    NonFinite,
    #[error("{side} holds a negative value ({value}); latencies are never negative")]
    Negative { side: Side, value: f64 },
    #[error(
        "{side} holds a value that is not positive ({value}) at index {index}; \
         per-interval aggregates are compared as ratios, so every value must be above 0 \
         (judge error counts with the error-ratio judge instead)"
    )]
    NonPositive {
        side: Side,
        index: usize,
        value: f64,
    },
    #[error(
        "{side} reports {errors} errors out of {requests} requests; errors cannot exceed requests"
    )]
    ErrorsExceedRequests {
        side: Side,
        errors: u64,
        requests: u64,
    },
    #[error("`{field}` is {value}, expected {expected}")]
    InvalidParameter {
        field: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error(
        "histogram buckets differ: production has {production} bucket bounds, staging {staging}; \
         histograms are only comparable with identical buckets"
    )]
    BucketCountDiffers { production: usize, staging: usize },
    #[error(
        "histogram bucket {index} differs: production's bound is {production}, staging's \
         {staging}; histograms are only comparable with identical buckets"
    )]
    BucketBoundDiffers {
        index: usize,
        production: f64,
        staging: f64,
    },
    #[error("{side}'s histogram has {bounds} bucket bounds but {counts} cumulative counts")]
    BucketShape {
        side: Side,
        bounds: usize,
        counts: usize,
    },
    #[error("{side}'s histogram has no buckets")]
    NoBuckets { side: Side },
    #[error(
        "{side}'s histogram bucket bounds must strictly increase and not be NaN, \
         but bound {index} is {bound}"
    )]
    BucketBoundsNotIncreasing {
        side: Side,
        index: usize,
        bound: f64,
    },
    #[error(
        "{side}'s histogram's last bucket bound is {bound}, expected +Inf \
         (Prometheus histograms always end with le=\"+Inf\")"
    )]
    MissingInfBucket { side: Side, bound: f64 },
    #[error(
        "{side}'s cumulative bucket count falls at bucket {index} ({previous} then {count}); \
         a counter reset inside the window? Query increase() over a window without resets"
    )]
    CumulativeDecreasing {
        side: Side,
        index: usize,
        previous: u64,
        count: u64,
    },
    #[error(
        "the two series have different lengths (production {production}, staging {staging}); \
         they must cover the same intervals"
    )]
    SeriesLengthDiffers { production: usize, staging: usize },
    #[error(
        "{side}'s count at interval {index} is {value}; counts must be finite and not negative"
    )]
    InvalidCount {
        side: Side,
        index: usize,
        value: f64,
    },
    #[error(
        "{side}'s cumulative count went down between looks ({what}: {previous} then {now}); \
         a sequential test needs cumulative counts (a counter reset starts a new watch)"
    )]
    CountWentDown {
        side: Side,
        what: &'static str,
        previous: u64,
        now: u64,
    },
}
