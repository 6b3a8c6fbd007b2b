//! `prodlike.shadow/2`: the divergence report of `prodlike shadow`, also served live at
//! `/api/divergence`. Built by `crates/shadow` (report.rs, divergence.rs, noise.rs).
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::shared::LatencySummary;

/// Version 2: `compared` counts only exchanges compared in full; what was not compared is
/// counted by reason, and each route has a verdict and a mismatch-rate interval.
pub const SCHEMA: &str = "prodlike.shadow/2";

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ShadowReport {
    /// Seconds the proxy ran.
    pub uptime_s: f64,
    /// Production upstreams, and whether passive health checking had ejected each at the end.
    pub production: Vec<UpstreamStatus>,
    /// Staging URL; null for a plain proxy.
    pub staging: Option<String>,
    /// Configured share of requests mirrored.
    pub sample: f64,
    pub totals: Totals,
    /// Mismatching routes first (worst rate first), then routes with nothing compared, then
    /// matching ones; ties by traffic.
    pub routes: Vec<RouteReport>,
}

/// One production upstream.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UpstreamStatus {
    pub url: String,
    /// Ejected by passive health checking at the time of the report.
    pub ejected: bool,
}

/// Counts over every route, and the mirror's state.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Default)]
pub struct Totals {
    /// Production requests served.
    pub requests: u64,
    /// Copies sent to staging.
    pub mirrored: u64,
    /// Exchanges compared in full (status, headers, body).
    pub compared: u64,
    /// Exchanges that differed in status, a chosen header or the body (noise left out).
    pub mismatched: u64,
    /// mismatched / compared over all routes (0 when nothing was compared: read `compared`).
    pub mismatch_rate: f64,
    /// Exchanges not compared, by reason (never counted as matching).
    pub not_compared: BTreeMap<String, u64>,
    /// Routes that had copies but nothing compared: no verdict for them.
    pub routes_not_compared: u64,
    /// Sampled copies not sent or not answered, by reason (every reason listed, zeros too).
    pub dropped: BTreeMap<String, u64>,
    /// Mirror queue length at the time of the report.
    pub queue_depth: i64,
    pub queue_capacity: i64,
    /// Copies being sent or awaiting staging's answer.
    pub inflight: i64,
    /// Exchanges handed to the capture writer.
    pub capture_records: u64,
    /// Exchanges not captured, whatever the reason (the sum of `capture_dropped_reasons`).
    pub capture_dropped: u64,
    /// Exchanges the capture stored: written to the file, or acknowledged by JetStream.
    /// Absent (0) in documents written before it was added.
    #[serde(default)]
    pub capture_stored: u64,
    /// Exchanges not captured, by reason: `queue_full`, `encode`, `write_failed`, and for
    /// NATS `pending_full`, `disconnected`, `too_large`, `refused`, `ack_timeout` (every
    /// reason listed, zeros too, once anything was captured). Absent when nothing was.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture_dropped_reasons: BTreeMap<String, u64>,
}

/// What a route's comparisons say, in one word. Nothing compared is never "matching".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RouteVerdict {
    /// Compared, and nothing differed.
    Matching,
    /// Something differed.
    Mismatching,
    /// Nothing was compared: no verdict (see `not_compared` for why).
    NotCompared,
}

impl RouteVerdict {
    pub fn of(compared: u64, mismatched: u64) -> Self {
        match (compared, mismatched) {
            (0, _) => RouteVerdict::NotCompared,
            (_, 0) => RouteVerdict::Matching,
            _ => RouteVerdict::Mismatching,
        }
    }
}

/// One route in `/api/divergence` and in the JSON result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RouteReport {
    /// Normalised route, e.g. `/users/{id}`; `{other}` collects routes past
    /// `normalise.max_routes`.
    pub route: String,
    /// Production requests on the route.
    pub requests: u64,
    /// Copies sent to staging.
    pub mirrored: u64,
    /// Exchanges compared in full: status, headers and body (matched + mismatched).
    pub compared: u64,
    pub mismatched: u64,
    /// mismatched / compared (0 when nothing was compared: read `verdict`).
    pub mismatch_rate: f64,
    /// Wilson 95% interval of the mismatch rate ([0, 1] when nothing was compared).
    pub mismatch_rate_ci95: [f64; 2],
    pub verdict: RouteVerdict,
    /// Exchanges not compared, by reason (`too_large`, `cut_short`, `encoding`,
    /// `decoded_too_large`, `not_json`, `staging_failed`, `staging_timeout`,
    /// `production_failed`); never counted as matching.
    pub not_compared: BTreeMap<String, u64>,
    /// Mismatches whose status differed (one exchange may count in several of these).
    pub status_diffs: u64,
    /// Mismatches where a chosen header differed.
    pub header_diffs: u64,
    /// Mismatches whose body differed.
    pub body_diffs: u64,
    /// Copies staging did not answer.
    pub staging_failures: u64,
    /// Latency of the compared exchanges, from arrival to the end of each response.
    pub production_latency_ms: LatencySummary,
    pub staging_latency_ms: LatencySummary,
    /// Body paths that differed, with counts (noise left out of the verdict is not counted).
    pub differing_paths: BTreeMap<String, u64>,
    /// Noisy paths: learned from production against itself, or suspected, each with the
    /// ignore rule that silences it.
    pub noise: Vec<NoisePath>,
    /// Production-against-production probes compared on this route.
    pub noise_probes: u64,
    /// Newest first.
    pub examples: Vec<DiffExample>,
    /// What production answered on the exchanges both environments answered: status counts
    /// and latency histogram, the raw material `prodlike compare results` judges. Absent in
    /// documents written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_answers: Option<Answers>,
    /// What staging answered on the same exchanges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging_answers: Option<Answers>,
}

/// What one environment answered on a route's mirrored exchanges.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Answers {
    /// Answers counted.
    pub answered: u64,
    /// Answers by status class (`1xx` to `5xx`); classes never seen are left out.
    pub status_classes: BTreeMap<String, u64>,
    /// Answers with a 5xx status: the errors of the error-ratio judgement.
    pub errors_5xx: u64,
    /// Latency from arrival to the end of each response, as an HDR histogram (microseconds,
    /// 3 significant digits) in HdrHistogram's V2 compressed encoding, base64; null when it
    /// could not be encoded.
    pub latency_histogram: Option<String>,
}

/// Where a noise verdict came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoiseSource {
    /// Production differed from itself there (the probe).
    Probe,
    /// Staging differed there in nearly every comparison, with volatile values.
    Suspected,
}

/// One noisy path of a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NoisePath {
    /// JSON pointer, array indices as `*`.
    pub path: String,
    pub source: NoiseSource,
    /// Probes (or comparisons) in which it differed…
    pub differed: u64,
    /// …out of this many.
    pub samples: u64,
    /// The volatile shape its values have (`uuid`, `timestamp`, `token`, `nonce`), if seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
    /// Whether it is left out of staging's verdict.
    pub ignored: bool,
    /// Diffs left out of staging's verdict there so far.
    pub excluded_diffs: u64,
    /// The rule that silences it for good, ready to paste into shadow.toml.
    pub rule: String,
}

/// One mismatching exchange, kept as an example. Values are masked.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DiffExample {
    /// RFC 3339 time the request arrived.
    pub at: String,
    pub method: String,
    /// Path and query as mirrored (masked).
    pub target: String,
    pub production_status: u16,
    pub staging_status: u16,
    /// Headers that differ: name, production value, staging value (absent: null).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, Option<String>, Option<String>)>,
    /// Body differences (the first few).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<Diff>,
    /// All body differences, kept or not.
    pub body_diff_count: usize,
}

/// How a value differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// Same path, different value.
    Changed,
    /// Only staging has it.
    Added,
    /// Only production has it.
    Removed,
    /// Same path, different JSON type.
    TypeChanged,
}

/// One difference, values rendered as (masked) JSON text, cut at 120 characters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diff {
    /// JSON pointer.
    pub path: String,
    pub kind: DiffKind,
    /// Production's value; absent when only staging has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<String>,
    /// Staging's value; absent when only production has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging: Option<String>,
}
