//! Histograms, quantiles and statistical tests shared by every prodlike command, and the judge
//! of `prodlike compare`.
//!
//! Verdicts in prodlike come with sample sizes and confidence, not bare thresholds: latency is
//! summarised from HDR histograms, distributions are compared with the Kolmogorov–Smirnov and
//! Mann–Whitney U tests, categories with total variation distance and chi-square, error rates
//! with a two-proportion test.
//!
//! The judge (docs/statistics.md) answers margin questions — "is staging worse than production by
//! more than δ?" — with a [`Judgement`]: `pass`, `diverged`, `inconclusive` (with the sample size
//! that would decide it) or `no_data`, the effect, its interval, both sample sizes and a sentence.
#![forbid(unsafe_code)]

mod behaviour_score;
mod binomial;
mod bisect;
mod buckets;
mod conditional;
mod decision;
mod error;
mod error_ratio;
mod fdr;
mod histogram;
mod histogram_codec;
mod hll;
mod hodges_lehmann;
mod homogeneity;
mod ks;
mod latency_buckets;
mod latency_samples;
mod mann_whitney;
mod order_statistics;
mod poisson;
mod proportion_difference;
mod proportions;
mod quantile;
mod reason;
mod relative;
mod reservoir;
mod sample;
mod sequential;
mod serde_bound;
mod series;
mod traffic_shape;
mod tvd;
mod verdict;

pub use behaviour_score::{BehaviourScore, ScoreItem, behaviour_score};
pub use buckets::Buckets;
pub use conditional::{ConditionalTest, clopper_pearson};
pub use error::{Side, StatsError};
pub use error_ratio::{
    ErrorCounts, ErrorMargin, ErrorRatioJudgement, ErrorRatioSpec, judge_error_ratio,
};
pub use fdr::{Correction, CorrectionSummary, benjamini_hochberg, benjamini_hochberg_adjust};
pub use histogram::{LatencyHistogram, LatencySummary};
pub use histogram_codec::HistogramDecodeError;
pub use hll::HyperLogLog;
pub use homogeneity::{Homogeneity, bucket_homogeneity};
pub use ks::{KsResult, kolmogorov_p_value, ks_one_sample, ks_two_sample};
pub use latency_buckets::{BucketLatencyJudgement, judge_latency_buckets};
pub use latency_samples::{
    LatencyJudgement, LatencySpec, QuantileJudgement, QuantileMargin, judge_latency_samples,
};
pub use mann_whitney::{MannWhitney, mann_whitney_u};
pub use proportions::{
    ProportionTest, chi_square_homogeneity, two_proportion_test, wilson_interval,
};
pub use quantile::{quantile_sorted, quantiles};
pub use reservoir::Reservoir;
pub use sample::Sample;
pub use sequential::{ErrorRatioWatch, WatchSpec, WatchState};
pub use series::{SeriesJudgement, SeriesSpec, judge_series};
pub use traffic_shape::{TrafficShapeJudgement, TrafficShapeSpec, judge_traffic_shape};
pub use tvd::total_variation_distance;
pub use verdict::{Interval, Judgement, Method, Scale, Verdict};
