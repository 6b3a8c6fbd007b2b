//! Histograms, quantiles and statistical tests shared by every prodlike command.
//!
//! Verdicts in prodlike come with sample sizes and confidence, not bare thresholds: latency is
//! summarised from HDR histograms, distributions are compared with the Kolmogorov–Smirnov and
//! Mann–Whitney U tests, categories with total variation distance and chi-square, error rates
//! with a two-proportion test.
#![forbid(unsafe_code)]

mod histogram;
mod hll;
mod ks;
mod mann_whitney;
mod proportions;
mod quantile;
mod reservoir;
mod tvd;

pub use histogram::{LatencyHistogram, LatencySummary};
pub use hll::HyperLogLog;
pub use ks::{KsResult, kolmogorov_p_value, ks_one_sample, ks_two_sample};
pub use mann_whitney::{MannWhitney, mann_whitney_u};
pub use proportions::{
    ProportionTest, chi_square_homogeneity, two_proportion_test, wilson_interval,
};
pub use quantile::{quantile_sorted, quantiles};
pub use reservoir::Reservoir;
pub use tvd::total_variation_distance;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StatsError {
    #[error("a sample is empty: {0} needs at least one value in each sample")]
    EmptySample(&'static str),
    #[error("a sample holds a non-finite value (NaN or infinity)")]
    NonFinite,
}
