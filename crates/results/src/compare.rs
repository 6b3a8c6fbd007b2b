//! `prodlike.compare/1`: the payload of `prodlike compare` — does staging predict production?
//!
//! Per route and metric, a margin verdict (`pass`, `diverged`, `inconclusive` with the sample
//! size that would decide it, `no_data`) with its effect, interval and both sample sizes; the
//! observability-parity findings found before judging; the multiple-comparison correction and
//! the behaviour score. Judgements are plain copies of prodlike-stats' (see `shared.rs` for why
//! copies), converted with `From`.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema name of this payload.
pub const SCHEMA: &str = "prodlike.compare/1";

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CompareReport {
    /// Where both environments' data came from.
    pub source: Source,
    /// The settings the verdicts were judged with.
    pub settings: Settings,
    /// Ways in which the two environments are not observed alike (metric names, label keys,
    /// histogram buckets, scrape interval). Each one is a finding.
    pub parity: Vec<ParityFinding>,
    /// One entry per route (or method and route) seen in either environment, by name.
    pub routes: Vec<RouteComparison>,
    /// The request-rate curve of all routes together; `None` when the source has no curve.
    pub traffic: Option<TrafficComparison>,
    /// Comparisons that were refused, with the reason (latency over different buckets).
    pub refused: Vec<Refusal>,
    /// The multiple-comparison correction applied across every route and metric.
    pub correction: Correction,
    /// The 0–100 behaviour score of this comparison.
    pub score: BehaviourScore,
    /// Verdicts counted.
    pub counts: Counts,
    /// Routes production served and staging never did, where staging's share of the traffic
    /// makes the absence unlikely by chance (see [`Counts::missing_in_staging`]). Each is a
    /// finding: staging does not exercise what production does.
    #[serde(default)]
    pub missing_in_staging: Vec<String>,
}

/// Where the data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
// One source per report, read once: the size of the larger variant costs nothing, and boxing
// would change how every reader matches it.
#[allow(clippy::large_enum_variant)]
pub enum Source {
    /// Prometheus' HTTP API.
    Prometheus(PrometheusSource),
    /// prodlike's own results (`prodlike compare results`).
    Results(ResultsSource),
}

/// A comparison of prodlike's own results: two load runs, or one shadow result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResultsSource {
    /// Which results: `load` (two runs: the baseline in production's place, the candidate in
    /// staging's) or `shadow` (production against staging on the same mirrored exchanges).
    pub results: String,
    /// What stands for production: the baseline file, or the shadow file's production side.
    pub production: String,
    /// What stands for staging: the candidate file, or the shadow file's staging side.
    pub staging: String,
    /// The schema of each file read, in order (`prodlike.load/2`).
    pub schemas: Vec<String>,
}

/// A comparison read from Prometheus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PrometheusSource {
    /// Production's Prometheus (passwords redacted).
    pub url: String,
    /// Staging's Prometheus when it has its own (passwords redacted).
    pub staging_url: Option<String>,
    /// Label matchers selecting production, as given.
    pub production_selector: String,
    /// Label matchers selecting staging, as given.
    pub staging_selector: String,
    /// The info metric the matchers were applied to (`target_info`), when selecting by join.
    pub join: Option<String>,
    /// Start of the window: RFC 3339, UTC.
    pub start: String,
    /// End of the window: RFC 3339, UTC.
    pub end: String,
    /// Window length in seconds.
    pub window_seconds: u64,
    /// Interval of the request-rate curve, seconds.
    pub step_seconds: u64,
    /// `otel`, `classic` or `custom`: which metrics were read.
    pub family: String,
    /// The request counter read (a histogram's `_count` or a counter).
    pub requests_metric: String,
    /// The latency histogram read (base name), when there is one.
    pub histogram_metric: Option<String>,
    /// The labels the comparison is grouped by (the route label, and the method label when
    /// methods are compared separately).
    pub group_by: Vec<String>,
    /// The label carrying the status code.
    pub status_label: String,
    /// The regular expression on the status label that counts as an error.
    pub errors: String,
}

/// The settings behind the verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Settings {
    /// Error rate of each one-sided verdict, and the false discovery rate of the correction.
    pub alpha: f64,
    /// Error-ratio margin: absolute (0.01 is one point) unless `error_ratio_relative`.
    pub error_ratio_margin: f64,
    /// Whether `error_ratio_margin` is relative (1.0: twice production's ratio).
    pub error_ratio_relative: bool,
    /// Relative margin of p50 latency (0.10: +10%).
    pub p50_margin: f64,
    /// Relative margin of p90 latency.
    pub p90_margin: f64,
    /// Relative margin of p99 latency.
    pub p99_margin: f64,
    /// Margin of the traffic shape's total variation distance.
    pub traffic_shape_margin: f64,
    /// Declared staging/production volume ratio, when declared.
    pub expected_ratio: Option<f64>,
    /// Relative margin of the volume ratio around the declared one.
    pub volume_margin: f64,
    /// Routes marked critical, as written in the spec.
    pub critical_routes: Vec<String>,
    /// Metrics marked critical.
    pub critical_metrics: Vec<String>,
}

/// What kind of observability gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParityKind {
    /// A metric one environment exposes and the other does not.
    MetricName,
    /// Label keys one environment's series carry and the other's do not.
    LabelKeys,
    /// Histogram bucket boundaries differ.
    Buckets,
    /// The scrape interval, read from sample spacing, differs.
    ScrapeInterval,
}

/// One way the environments are not observed alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParityFinding {
    /// The kind of gap.
    pub kind: ParityKind,
    /// The metric (and route, for buckets) it concerns.
    pub subject: String,
    /// What production shows.
    pub production: String,
    /// What staging shows.
    pub staging: String,
    /// One sentence saying what differs and what it prevents.
    pub message: String,
}

/// A comparison that was not made, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Refusal {
    /// The route.
    pub route: String,
    /// The metric (`latency`).
    pub metric: String,
    /// Why it was refused.
    pub reason: String,
}

/// Every comparison of one route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RouteComparison {
    /// The route as labelled (`/users/{id}`), prefixed by the method when methods are compared
    /// separately (`GET /users/{id}`).
    pub route: String,
    /// Marked critical by the spec.
    pub critical: bool,
    /// Requests production served on this route in the window.
    pub production_requests: u64,
    /// Requests staging served on this route in the window.
    pub staging_requests: u64,
    /// The homogeneity test of the two latency histograms (an equality test, informative).
    pub latency_homogeneity: Option<Homogeneity>,
    /// One entry per metric judged: error ratio, then latency quantiles.
    pub comparisons: Vec<Comparison>,
}

/// The traffic shape of all routes together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrafficComparison {
    /// Staging's share curve against production's (total variation distance).
    pub shape: Comparison,
    /// The observed volume ratio against the declared one, when declared.
    pub volume: Option<Comparison>,
    /// Pearson correlation of the two curves' shares; `None` when a side is flat or empty.
    pub correlation: Option<f64>,
    /// Observed staging/production volume ratio.
    pub observed_ratio: Option<f64>,
    /// Chi-square homogeneity p-value of the two curves (equality, informative).
    pub homogeneity_p: Option<f64>,
    /// Intervals in each curve.
    pub intervals: usize,
}

/// One metric of one route, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// `error_ratio`, `latency_p50`, `latency_p90`, `latency_p99`, `traffic_shape` or `volume`.
    pub metric: String,
    /// Marked critical (its route or its metric).
    pub critical: bool,
    /// Production's value (the ratio, the quantile in the histogram's unit); `None` without
    /// data.
    pub production: Option<f64>,
    /// Staging's value.
    pub staging: Option<f64>,
    /// The verdict with its evidence.
    pub judgement: Judgement,
}

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The difference is proven below the margin.
    Pass,
    /// The difference is proven above the margin.
    Diverged,
    /// The interval straddles the margin; `needed` says how many requests would decide it.
    Inconclusive,
    /// One side (or both) has nothing to compare.
    NoData,
}

impl Verdict {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Diverged => "diverged",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NoData => "no_data",
        }
    }
}

/// How an effect and its margin are expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// staging − production, in the metric's unit (0.01 is one point of a ratio).
    Difference,
    /// staging / production − 1 (0.10 is 10% higher).
    Relative,
    /// A distance from 0 to 1 between two distributions.
    Distance,
}

/// The statistical method behind a judgement (docs/statistics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Skewness-corrected Miettinen–Nurminen score interval for a difference of proportions.
    SkewCorrectedScore,
    /// Exact test conditional on the total errors.
    ConditionalBinomial,
    /// Hodges–Lehmann shift of log values with its order-statistic interval.
    HodgesLehmann,
    /// Ratio of two quantiles with order-statistic intervals (MOVER).
    QuantileOrderStatistics,
    /// Ratio of two quantiles read from histogram buckets, ranks mapped to bucket edges.
    BucketQuantile,
    /// Two-sample t on log per-interval values, AR(1)-corrected.
    AutocorrelatedT,
    /// Total variation distance of per-interval shares with a Poisson bootstrap interval.
    ShapeBootstrap,
    /// Ratio of total volumes with an exact conditional interval.
    VolumeRatio,
    /// Anytime-valid confidence sequence.
    ConfidenceSequence,
}

/// An interval for the effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Interval {
    /// Lower end; `None` when unbounded.
    pub lower: Option<f64>,
    /// Upper end; `None` when unbounded.
    pub upper: Option<f64>,
    /// Two-sided coverage (0.90: each end a one-sided 95% bound).
    pub confidence: f64,
}

/// One judgement: the verdict and its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Judgement {
    /// `pass`, `diverged`, `inconclusive` or `no_data`.
    pub verdict: Verdict,
    /// For `inconclusive`: the total sample size (both sides, at the observed volume ratio)
    /// that would decide it if the observed effect held; `None` when no sample size would.
    pub needed: Option<u64>,
    /// Point estimate of the effect on `scale`; `None` without data.
    pub estimate: Option<f64>,
    /// Interval for the effect; `None` without data.
    pub interval: Option<Interval>,
    /// The margin δ on `scale`.
    pub margin: f64,
    /// How effect and margin are expressed.
    pub scale: Scale,
    /// Error rate of each one-sided verdict.
    pub alpha: f64,
    /// One-sided p-value of "the effect is at most the margin"; `None` when the method has none.
    pub p_value: Option<f64>,
    /// The p-value after the Benjamini–Hochberg correction.
    pub p_adjusted: Option<f64>,
    /// Observations on production's side (requests, intervals).
    pub n_production: u64,
    /// Observations on staging's side.
    pub n_staging: u64,
    /// The method.
    pub method: Method,
    /// One plain sentence saying why.
    pub reason: String,
}

/// The latency histograms' homogeneity test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Homogeneity {
    /// Chi-square statistic over merged buckets.
    pub statistic: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value of "both histograms come from one distribution".
    pub p_value: f64,
    /// Bucket groups after merging sparse ones.
    pub groups: usize,
    /// Total variation distance of the two bucket distributions.
    pub total_variation: f64,
}

/// The multiple-comparison correction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Correction {
    /// `benjamini_hochberg`.
    pub method: String,
    /// The false discovery rate controlled.
    pub level: f64,
    /// Judgements with a p-value that took part.
    pub comparisons: usize,
    /// `diverged` verdicts before the correction.
    pub diverged_before: usize,
    /// `diverged` verdicts after it.
    pub diverged_after: usize,
}

/// The behaviour score (docs/statistics.md, "Behaviour score").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BehaviourScore {
    /// 0–100; `None` when nothing was compared.
    pub score: Option<f64>,
    /// The score if every undecided comparison passed.
    pub ceiling: Option<f64>,
    /// Comparisons that passed.
    pub passed: usize,
    /// Comparisons that diverged.
    pub diverged: usize,
    /// Comparisons left inconclusive.
    pub inconclusive: usize,
    /// Comparisons without data.
    pub no_data: usize,
    /// Critical comparisons that diverged.
    pub critical_diverged: usize,
    /// How the score came about.
    pub reason: String,
}

/// Verdicts and findings counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    /// Comparisons that passed.
    pub pass: usize,
    /// Comparisons that diverged.
    pub diverged: usize,
    /// Comparisons left inconclusive.
    pub inconclusive: usize,
    /// Comparisons without data.
    pub no_data: usize,
    /// Parity findings.
    pub parity: usize,
    /// Refused comparisons.
    pub refused: usize,
    /// Routes missing in staging: production served n requests, staging none, and the expected
    /// staging count n × (staging total / production total) is at least ln(1/α), so that zero
    /// arrivals of a Poisson count with that mean has probability at most α. A rarer route
    /// stays `no_data` (inconclusive) instead.
    #[serde(default)]
    pub missing_in_staging: usize,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl From<prodlike_stats::Scale> for Scale {
    fn from(s: prodlike_stats::Scale) -> Self {
        use prodlike_stats::Scale as S;
        match s {
            S::Difference => Scale::Difference,
            S::Relative => Scale::Relative,
            S::Distance => Scale::Distance,
        }
    }
}

impl From<prodlike_stats::Method> for Method {
    fn from(m: prodlike_stats::Method) -> Self {
        use prodlike_stats::Method as M;
        match m {
            M::SkewCorrectedScore => Method::SkewCorrectedScore,
            M::ConditionalBinomial => Method::ConditionalBinomial,
            M::HodgesLehmann => Method::HodgesLehmann,
            M::QuantileOrderStatistics => Method::QuantileOrderStatistics,
            M::BucketQuantile => Method::BucketQuantile,
            M::AutocorrelatedT => Method::AutocorrelatedT,
            M::ShapeBootstrap => Method::ShapeBootstrap,
            M::VolumeRatio => Method::VolumeRatio,
            M::ConfidenceSequence => Method::ConfidenceSequence,
        }
    }
}

impl From<prodlike_stats::Judgement> for Judgement {
    fn from(j: prodlike_stats::Judgement) -> Self {
        let prodlike_stats::Judgement {
            verdict,
            estimate,
            interval,
            margin,
            scale,
            alpha,
            p_value,
            p_adjusted,
            n_production,
            n_staging,
            method,
            reason,
        } = j;
        use prodlike_stats::Verdict as V;
        let (verdict, needed) = match verdict {
            V::Pass => (Verdict::Pass, None),
            V::Diverged => (Verdict::Diverged, None),
            V::Inconclusive { needed } => (Verdict::Inconclusive, needed),
            V::NoData => (Verdict::NoData, None),
        };
        Judgement {
            verdict,
            needed,
            estimate,
            interval: interval.map(|i| Interval {
                lower: finite(i.lower),
                upper: finite(i.upper),
                confidence: i.confidence,
            }),
            margin,
            scale: scale.into(),
            alpha,
            p_value,
            p_adjusted,
            n_production,
            n_staging,
            method: method.into(),
            reason,
        }
    }
}

impl From<prodlike_stats::Homogeneity> for Homogeneity {
    fn from(h: prodlike_stats::Homogeneity) -> Self {
        let prodlike_stats::Homogeneity {
            statistic,
            df,
            p_value,
            groups,
            total_variation,
        } = h;
        Homogeneity {
            statistic,
            df,
            p_value,
            groups,
            total_variation,
        }
    }
}

impl From<prodlike_stats::CorrectionSummary> for Correction {
    fn from(c: prodlike_stats::CorrectionSummary) -> Self {
        let prodlike_stats::CorrectionSummary {
            method,
            level,
            comparisons,
            diverged_before,
            diverged_after,
        } = c;
        Correction {
            method: match method {
                prodlike_stats::Correction::BenjaminiHochberg => "benjamini_hochberg".into(),
            },
            level,
            comparisons,
            diverged_before,
            diverged_after,
        }
    }
}

impl From<prodlike_stats::BehaviourScore> for BehaviourScore {
    fn from(s: prodlike_stats::BehaviourScore) -> Self {
        let prodlike_stats::BehaviourScore {
            score,
            ceiling,
            passed,
            diverged,
            inconclusive,
            no_data,
            critical_diverged,
            reason,
        } = s;
        BehaviourScore {
            score,
            ceiling,
            passed,
            diverged,
            inconclusive,
            no_data,
            critical_diverged,
            reason,
        }
    }
}

impl CompareReport {
    /// Every judged comparison: each route's, then the traffic curve's.
    pub fn comparisons(&self) -> impl Iterator<Item = &Comparison> {
        self.routes.iter().flat_map(|r| r.comparisons.iter()).chain(
            self.traffic
                .iter()
                .flat_map(|t| std::iter::once(&t.shape).chain(t.volume.iter())),
        )
    }

    /// How the command ends: a divergence or a parity gap is a finding; otherwise anything
    /// undecided (inconclusive, no data, refused) is inconclusive, never a pass.
    pub fn outcome(&self) -> prodlike_report::Outcome {
        use prodlike_report::Outcome;
        let c = &self.counts;
        if c.diverged > 0 || c.parity > 0 || c.missing_in_staging > 0 {
            Outcome::Finding
        } else if c.inconclusive > 0 || c.no_data > 0 || c.refused > 0 || c.pass == 0 {
            Outcome::Inconclusive
        } else {
            Outcome::Success
        }
    }

    /// One sentence for the envelope's summary.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        let score = match self.score.score {
            Some(s) => format!("behaviour score {s:.0}"),
            None => "no behaviour score".into(),
        };
        format!(
            "{} comparisons over {} routes: {} diverged, {} passed, {} inconclusive, {} without \
             data; {} route(s) missing in staging; {} parity finding(s); {score}",
            c.pass + c.diverged + c.inconclusive + c.no_data,
            self.routes.len(),
            c.diverged,
            c.pass,
            c.inconclusive,
            c.no_data,
            c.missing_in_staging,
            c.parity,
        )
    }
}
