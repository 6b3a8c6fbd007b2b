//! Multiple comparisons: the Benjamini–Hochberg step-up procedure (Benjamini & Hochberg 1995,
//! JRSS B 57:289) over every route and metric of a run.
//!
//! A run compares dozens of routes × metrics; at α = 0.05 each, 40 comparisons at the margin
//! would flag two by chance. Benjamini–Hochberg keeps the expected share of false divergences
//! among those reported at the chosen level (and, when nothing truly diverges, the chance of any
//! false divergence), while keeping far more power than Bonferroni's family-wise bound. It is
//! applied to each judgement's one-sided p-value of "the effect is at most the margin". A
//! `diverged` verdict whose adjusted p-value exceeds the level becomes `inconclusive`; `pass`
//! verdicts are claims about the other side of the margin and are left as they are; judgements
//! without a p-value (no data) are not counted as comparisons.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::decision::check_alpha;
use crate::error::StatsError;
use crate::reason;
use crate::verdict::{Judgement, Verdict};

/// Which correction was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    BenjaminiHochberg,
}

/// What a correction did, for the run's report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CorrectionSummary {
    pub method: Correction,
    /// The false discovery rate controlled, e.g. 0.05.
    pub level: f64,
    /// Judgements with a p-value.
    pub comparisons: usize,
    pub diverged_before: usize,
    pub diverged_after: usize,
}

/// Benjamini–Hochberg adjusted p-values (`min_{j≥i} m·p₍ⱼ₎/j`, capped at 1), in input order.
pub fn benjamini_hochberg_adjust(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let p = if p_values[i].is_nan() {
            1.0
        } else {
            p_values[i]
        };
        running = running.min(p * m as f64 / (rank + 1) as f64);
        adjusted[i] = running.clamp(0.0, 1.0);
    }
    adjusted
}

/// Apply Benjamini–Hochberg at `level` to every judgement with a p-value, in place.
pub fn benjamini_hochberg(
    judgements: &mut [Judgement],
    level: f64,
) -> Result<CorrectionSummary, StatsError> {
    check_alpha(level)?;
    let indices: Vec<usize> = judgements
        .iter()
        .enumerate()
        .filter_map(|(i, j)| j.p_value.map(|_| i))
        .collect();
    let ps: Vec<f64> = indices
        .iter()
        .map(|&i| judgements[i].p_value.unwrap_or(1.0))
        .collect();
    let adjusted = benjamini_hochberg_adjust(&ps);
    let m = indices.len();
    let diverged_before = judgements
        .iter()
        .filter(|j| j.verdict == Verdict::Diverged)
        .count();
    for (&i, &adj) in indices.iter().zip(&adjusted) {
        let j = &mut judgements[i];
        j.p_adjusted = Some(adj);
        if j.verdict == Verdict::Diverged && adj > level {
            let needed = needed_after_correction(j, level, m);
            j.verdict = Verdict::Inconclusive { needed };
            j.reason.push_str(&format!(
                "; but not after the Benjamini–Hochberg correction over {m} comparisons \
                 (adjusted p = {} > {}), so it is inconclusive",
                reason::number(adj),
                reason::number(level)
            ));
        }
    }
    let diverged_after = judgements
        .iter()
        .filter(|j| j.verdict == Verdict::Diverged)
        .count();
    Ok(CorrectionSummary {
        method: Correction::BenjaminiHochberg,
        level,
        comparisons: m,
        diverged_before,
        diverged_after,
    })
}

/// Approximate sample size at which the observed evidence would survive the correction in the
/// worst case (the Bonferroni threshold `level/m`): the z-score grows like √n.
fn needed_after_correction(j: &Judgement, level: f64, m: usize) -> Option<u64> {
    let normal = Normal::standard();
    let p = j.p_value?.clamp(1e-300, 0.5);
    let z_obs = normal.inverse_cdf(1.0 - p);
    let z_target = normal.inverse_cdf(1.0 - level / m.max(1) as f64);
    if z_obs.is_nan() || z_obs <= 0.0 {
        return None;
    }
    let n = (j.n_production.saturating_add(j.n_staging)) as f64 * (z_target / z_obs).powi(2);
    (n.is_finite() && n < 1e15).then(|| n.ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{Method, Scale};

    #[test]
    fn adjusts_like_the_textbook() {
        // p = 0.01, 0.02, 0.03, 0.04, 0.05 with m = 5: every adjusted value is 0.05.
        let adj = benjamini_hochberg_adjust(&[0.05, 0.01, 0.03, 0.02, 0.04]);
        for a in adj {
            assert!((a - 0.05).abs() < 1e-12);
        }
        let adj = benjamini_hochberg_adjust(&[0.001, 0.5, 0.04]);
        assert!((adj[0] - 0.003).abs() < 1e-12);
        assert!((adj[2] - 0.06).abs() < 1e-12);
        assert_eq!(adj[1], 0.5);
    }

    fn diverged(p: f64) -> Judgement {
        Judgement {
            verdict: Verdict::Diverged,
            estimate: Some(0.02),
            interval: None,
            margin: 0.01,
            scale: Scale::Difference,
            alpha: 0.05,
            p_value: Some(p),
            p_adjusted: None,
            n_production: 1000,
            n_staging: 1000,
            method: Method::SkewCorrectedScore,
            reason: "r".into(),
        }
    }

    #[test]
    fn a_lone_borderline_divergence_among_many_becomes_inconclusive() {
        let mut js: Vec<Judgement> = (0..19)
            .map(|_| Judgement {
                verdict: Verdict::Pass,
                p_value: Some(0.9),
                ..diverged(0.9)
            })
            .collect();
        js.push(diverged(0.03));
        js.push(diverged(1e-9));
        let s = benjamini_hochberg(&mut js, 0.05).unwrap();
        assert_eq!(
            (s.comparisons, s.diverged_before, s.diverged_after),
            (21, 2, 1)
        );
        assert!(matches!(js[19].verdict, Verdict::Inconclusive { needed: Some(n) } if n > 2000));
        assert!(js[19].reason.contains("Benjamini–Hochberg"));
        assert_eq!(js[20].verdict, Verdict::Diverged);
        assert_eq!(js[0].verdict, Verdict::Pass);
    }
}
