//! `prodlike.load/2`: the result of a `prodlike load` run, per stage, per request name and per
//! second, with thresholds evaluated, the generator's self-check and compare-mode verdicts.
//! Computed by `crates/load` (result.rs).
//!
//! Version 2 carries the raw material of its latencies (each `Counts` has its HDR histogram,
//! so `prodlike compare results` can judge two runs) and judges compare mode with the
//! statistical judge of prodlike-stats (margins; pass, diverged, inconclusive or no data, as
//! `prodlike compare` does) instead of version 1's equality tests. Version 1 is still read
//! (crate::load_v1).
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compare::{Comparison, Correction, Verdict};
use crate::shared::LatencySummary;

pub const SCHEMA: &str = "prodlike.load/2";

/// The whole run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LoadResult {
    /// `open`, `closed` or `replay`.
    pub mode: String,
    /// Target URL (the first one in compare mode).
    pub target: String,
    /// The plan in words.
    pub plan: String,
    /// `uniform`, `poisson` or `recorded` (open model and replay); null otherwise.
    pub arrivals: Option<String>,
    /// Planned (or, when stopped early, actual) length of the run.
    pub duration_s: f64,
    /// Stopped before the plan ended (Ctrl-C).
    pub stopped_early: bool,
    /// Mean planned rate; null in the closed model and replay at recorded gaps.
    pub target_rps: Option<f64>,
    /// First attempts sent per second.
    pub achieved_rps: f64,
    /// The whole run (first target).
    pub totals: Counts,
    /// Requests still in flight when the graceful stop ended.
    pub interrupted: u64,
    /// Connections made.
    pub connections_opened: u64,
    /// Reused connections found closed and retried at once.
    pub stale_reconnects: u64,
    pub self_check: SelfCheck,
    pub stages: Vec<StageResult>,
    /// Per request name or replayed route.
    pub requests: Vec<NameResult>,
    /// Error kind → count: `connect`, `tls`, `timeout`, `io`, `protocol`, `http_4xx`,
    /// `http_5xx`.
    pub errors: BTreeMap<String, u64>,
    /// Error kind → one message.
    pub error_examples: BTreeMap<String, String>,
    /// Status code → count.
    pub statuses: BTreeMap<String, u64>,
    pub held: HeldStats,
    pub replay: Option<ReplayStats>,
    pub compare: Option<CompareResult>,
    pub thresholds: Vec<ThresholdResult>,
    /// Thresholds declared but not judged in this run, as written: a segment's partial view
    /// (`--segment`) or `--no-thresholds`. `prodlike load merge` judges a segment's on the
    /// merged result. Absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unjudged_thresholds: Vec<String>,
    /// This run was one segment of a split plan (`--segment`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentRun>,
    /// This result was merged from segments' results (`prodlike load merge`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergedFrom>,
    /// One entry per second of the run.
    pub timeline: Vec<SecondResult>,
}

/// One segment of a split plan: what `prodlike load merge` needs to check that segments
/// belong together and tile the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SegmentRun {
    /// `from:to` as fractions of the plan's arrivals, e.g. `1/4:2/4`.
    pub segment: String,
    /// Start and end of the segment as numerator/denominator pairs (exact, for tiling checks).
    pub from: [u64; 2],
    pub to: [u64; 2],
    /// Share of the plan's arrivals this segment fired: planned rates in this result
    /// (`target_rps`, stages' and seconds' targets) are this share of the plan's.
    pub share: f64,
    /// The arrival sequence's seed: segments of one run share it.
    pub seed: u64,
    /// `--start-at` as given (RFC 3339 or Unix seconds); null when the segment started at once.
    pub start_at: Option<String>,
}

/// The segments' results a merged result was made from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MergedFrom {
    /// Each input: its file and segment.
    pub inputs: Vec<MergedInput>,
    /// Share of the plan's arrivals the inputs cover together (1.0: the whole plan).
    pub coverage: f64,
    /// The parts of the plan no input covers, as `from:to` fractions; empty when whole.
    pub missing: Vec<String>,
}

/// One merged input.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MergedInput {
    pub file: String,
    pub segment: String,
}

impl LoadResult {
    /// Thresholds that did not hold.
    pub fn breached(&self) -> usize {
        self.thresholds.iter().filter(|t| !t.passed).count()
    }
}

/// What a scope (run, stage, request) completed, failed and measured.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    /// Logical requests completed (each with all its retries).
    pub requests: u64,
    pub failed: u64,
    /// failed / requests.
    pub error_rate: f64,
    /// Arrivals dropped over the in-flight cap.
    pub dropped: u64,
    /// dropped / (requests + dropped).
    pub drop_rate: f64,
    pub retries: u64,
    /// Attempts per logical request (1.0 = no retries).
    pub amplification: f64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// From each request's intended send time.
    pub latency: LatencySummary,
    /// The same latencies as an HDR histogram (microseconds, 3 significant digits), in
    /// HdrHistogram's V2 compressed encoding, base64: what `prodlike compare results` judges.
    /// Null when read from a version 1 document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_histogram: Option<String>,
}

/// One stage of the plan (or `main` without a plan).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StageResult {
    pub name: String,
    pub start_s: f64,
    pub end_s: f64,
    /// Mean rate the plan asked for over the stage.
    pub target_rps: f64,
    /// First attempts actually sent per second over the stage.
    pub achieved_rps: f64,
    #[serde(flatten)]
    pub counts: Counts,
}

/// One request name (or replayed route).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NameResult {
    pub name: String,
    /// First attempts of this request sent per second over the run.
    pub achieved_rps: f64,
    #[serde(flatten)]
    pub counts: Counts,
}

/// One second of the run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SecondResult {
    pub second: u64,
    /// Requests the plan asked for in this second (null in the closed model).
    pub target: Option<f64>,
    /// First attempts sent in this second.
    pub sent: u64,
    /// Requests completed in this second.
    pub completed: u64,
    pub failed: u64,
    pub dropped: u64,
    pub retries: u64,
    /// Percentiles of the requests completed in this second; null when none did.
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// The latencies of the requests completed in this second as an HDR histogram (as in
    /// `Counts`), so that segments' seconds merge exactly. Written by segment runs (and
    /// merged results); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_histogram: Option<String>,
}

/// How closely the generator kept its schedule.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SelfCheck {
    /// False when the generator fell behind: the achieved rate then reflects the generator.
    pub valid: bool,
    /// Why it is not valid.
    pub reason: Option<String>,
    /// Intended send time to the moment the generator started the request.
    pub send_lag: LatencySummary,
    pub max_send_lag_ms: f64,
    /// Whole seconds compared with the plan, and how many were within ±2% of it.
    pub seconds_checked: u64,
    pub seconds_within_2pct: u64,
    /// Largest relative miss of a whole second, percent.
    pub worst_second_pct: f64,
}

/// Compare mode: target B (the candidate) judged against target A (the baseline), route by
/// route, with the judge of prodlike-stats; A plays production's part and B staging's in each
/// judgement.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CompareResult {
    pub target_a: String,
    pub target_b: String,
    /// Error rate of each one-sided verdict, and the false discovery rate of the correction.
    pub alpha: f64,
    /// Tolerated rise of B's error ratio over A's, absolute: 0.01 is one percentage point.
    pub error_margin: f64,
    /// Tolerated relative rise of B's typical latency and p50 (0.10 is +10%); p90 is judged
    /// at twice it and p99 at 2.5 times it (+20% and +25% by default).
    pub latency_margin: f64,
    /// Target B's counts over the run.
    pub b: Counts,
    /// Diverged routes first, then no data, inconclusive and pass; ties by traffic.
    pub routes: Vec<ComparedRoute>,
    /// The Benjamini–Hochberg correction applied across every route and metric.
    pub correction: Correction,
    /// Routes with a diverged judgement.
    pub divergent_routes: u64,
    /// Routes with nothing diverged but something undecided (inconclusive or no data).
    pub inconclusive_routes: u64,
}

/// One request name in compare mode.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ComparedRoute {
    pub route: String,
    /// Requests completed on A and on B.
    pub n_a: u64,
    pub n_b: u64,
    pub p50_a_ms: f64,
    pub p50_b_ms: f64,
    pub p99_a_ms: f64,
    pub p99_b_ms: f64,
    /// The worst of the route's judgements (diverged > no data > inconclusive > pass).
    pub verdict: Verdict,
    /// `error_ratio` (failed over completed), then the latency of successful requests:
    /// `latency_shift` (Hodges–Lehmann), `latency_p50`, `latency_p90`, `latency_p99`. A is
    /// `production`, B is `staging`.
    pub comparisons: Vec<Comparison>,
    /// The verdict is diverged.
    pub divergent: bool,
    /// The reason of each judgement that did not pass.
    pub why: Vec<String>,
}

/// One `--threshold` and whether it held.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ThresholdResult {
    /// As written.
    pub threshold: String,
    /// What was measured; null when nothing was.
    pub observed: Option<f64>,
    pub passed: bool,
    pub detail: String,
}

/// Idle keep-alive connections held open (`--hold-connections`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct HeldStats {
    /// Held connections asked for, per target.
    pub requested: usize,
    /// Connections opened for holding (including replacements).
    pub opened: u64,
    /// Connections that could not be opened.
    pub failed: u64,
    /// Held connections the server closed while they were idle.
    pub closed_by_server: u64,
    /// Seconds from the start at which the server first closed a held connection.
    pub first_close_s: Option<f64>,
    /// Held connections still open at the end.
    pub open_at_end: u64,
}

/// What a replay source read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ReplayStats {
    pub files: Vec<String>,
    /// Lines by format: `capture`, `combined`, `json`.
    pub formats: BTreeMap<String, u64>,
    pub lines: u64,
    pub requests: u64,
    pub skipped: u64,
    /// The first skipped lines: `file:line: reason`.
    pub skipped_examples: Vec<String>,
    /// Times the recording was replayed from the start (`--loop`).
    pub loops: u64,
    /// Requests read from capture records that were not masked as a whole (written with
    /// detection off, or by a capture format older than version 2): they may carry
    /// production's personal data.
    pub unmasked: u64,
}
