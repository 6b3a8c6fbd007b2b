//! What every judge returns: a three-way margin verdict (plus "no data"), with the effect, its
//! interval, the sample sizes, the margin and one sentence saying why.
//!
//! Divergence is a margin question (../shared/DECISIONS.md, "Statistics"): "is staging worse than
//! production by more than δ?". The two one-sided questions are read off one interval:
//! - its lower end above δ: staging is worse by more than δ — [`Verdict::Diverged`];
//! - its upper end below δ: any difference is proven smaller than δ — [`Verdict::Pass`];
//! - otherwise the interval straddles δ — [`Verdict::Inconclusive`], with the sample size that
//!   would decide it if the observed effect held.
//!
//! Each end is a one-sided bound at level `1 − α`, so the interval is the two-sided `1 − 2α`
//! interval (90% at the default α = 0.05), as in the two one-sided tests procedure of
//! equivalence testing (Schuirmann 1987). Each verdict's error rate is then at most α: a false
//! `Diverged` when the true effect is at or below δ, a false `Pass` when it is at or above δ.

use serde::{Deserialize, Serialize};

/// The verdict of one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The difference is proven below the margin.
    Pass,
    /// The difference is proven above the margin.
    Diverged,
    /// The interval straddles the margin. `needed` is the approximate total sample size (both
    /// sides together, at the observed volume ratio) that would decide it if the observed effect
    /// held; `None` when no sample size would (the effect sits on the margin, or the data's
    /// resolution, such as histogram buckets, cannot resolve the margin).
    Inconclusive { needed: Option<u64> },
    /// One side (or both) has nothing to compare.
    NoData,
}

impl Verdict {
    /// The word used in reports and JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Diverged => "diverged",
            Verdict::Inconclusive { .. } => "inconclusive",
            Verdict::NoData => "no_data",
        }
    }

    /// Severity order for "the worst of several": diverged > no data > inconclusive > pass.
    /// No data ranks above inconclusive because it is the louder problem: nothing was measured.
    pub fn severity(&self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Inconclusive { .. } => 1,
            Verdict::NoData => 2,
            Verdict::Diverged => 3,
        }
    }
}

/// How the effect and the margin are expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// staging − production, in the metric's own units (for ratios, 0.01 is one point).
    Difference,
    /// staging / production − 1 (0.10 is "10% higher").
    Relative,
    /// A distance in 0..=1 between two distributions (total variation distance).
    Distance,
}

/// The statistical method behind a judgement, named in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Skewness-corrected score interval for a difference of two proportions (Miettinen–Nurminen
    /// with the Gart–Nam correction; SCAS, Laud 2017), with the same score test at the margin.
    SkewCorrectedScore,
    /// Exact test conditional on the total errors: staging's errors ~ Binomial(total, share).
    ConditionalBinomial,
    /// Mann–Whitney U on log values with the Hodges–Lehmann shift and its order-statistic interval.
    HodgesLehmann,
    /// Ratio of two quantiles, each with a distribution-free order-statistic interval, combined
    /// on the log scale (MOVER).
    QuantileOrderStatistics,
    /// Ratio of two quantiles read from histogram buckets: binomial ranks mapped to bucket edges.
    BucketQuantile,
    /// Two-sample t on log per-interval values with a variance corrected for AR(1) autocorrelation.
    AutocorrelatedT,
    /// Total variation distance between per-interval shares, with a Poisson bootstrap interval.
    ShapeBootstrap,
    /// Ratio of total volumes with an exact conditional (Clopper–Pearson) interval.
    VolumeRatio,
    /// Anytime-valid one-sided mixture confidence sequences for a difference of proportions.
    ConfidenceSequence,
}

/// A two-sided interval; infinite ends mean "unbounded" (serialised as `null`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    #[serde(with = "crate::serde_bound::lower")]
    pub lower: f64,
    #[serde(with = "crate::serde_bound::upper")]
    pub upper: f64,
    /// Two-sided coverage, e.g. 0.90 (each end a one-sided 95% bound).
    pub confidence: f64,
}

impl Interval {
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }
}

/// One comparison's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Point estimate of the effect (on `scale`); `None` without data.
    pub estimate: Option<f64>,
    /// Interval for the effect; `None` without data.
    pub interval: Option<Interval>,
    /// The margin δ on `scale`.
    pub margin: f64,
    pub scale: Scale,
    /// Error rate of each one-sided verdict (false `Diverged`, false `Pass`).
    pub alpha: f64,
    /// One-sided p-value of "the effect is at most the margin" (small: diverged). `None`
    /// without data.
    pub p_value: Option<f64>,
    /// The p-value after a multiple-comparison correction, once one was applied.
    pub p_adjusted: Option<f64>,
    /// Observations on each side (requests, samples, intervals: see `method`).
    pub n_production: u64,
    pub n_staging: u64,
    pub method: Method,
    /// One plain sentence saying why.
    pub reason: String,
}

impl Judgement {
    /// A judgement with nothing to compare.
    pub(crate) fn no_data(
        margin: f64,
        scale: Scale,
        alpha: f64,
        method: Method,
        n_production: u64,
        n_staging: u64,
        reason: String,
    ) -> Self {
        Judgement {
            verdict: Verdict::NoData,
            estimate: None,
            interval: None,
            margin,
            scale,
            alpha,
            p_value: None,
            p_adjusted: None,
            n_production,
            n_staging,
            method,
            reason,
        }
    }
}
