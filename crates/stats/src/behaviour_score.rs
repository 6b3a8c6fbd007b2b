//! The behaviour score: one number from 0 to 100 for a comparison's verdicts, the behaviour
//! component of `prodlike report`.
//!
//! Rules:
//! 1. Each comparison has a weight (1 by default) and may be critical.
//! 2. **score** = 100 × (weight of `pass`) / (weight of all comparisons). `inconclusive` and
//!    `no_data` stay in the denominator with no credit: what was not shown to match does not
//!    count as matching.
//! 3. **ceiling** = the score if every `inconclusive` and `no_data` comparison turned out to
//!    pass: the distance between score and ceiling is what more data could still win.
//! 4. A critical comparison that `diverged` forces both to 0.
//! 5. Nothing compared (no comparisons, or zero total weight) gives no score, never 100.
//!
//! Against Kayenta's `100 × Pass / (Pass + High + Low + NodataFail)`: there, missing data drops
//! out of the denominator unless configured to fail, so a route that stopped reporting raises the
//! score, and "Pass" means "no significant difference found", which a sparse or noisy metric
//! earns by default (#426). Here a pass is a difference proven within its margin, undecided
//! comparisons cost score until decided, and the ceiling shows how much is undecided.

use serde::{Deserialize, Serialize};

use crate::error::StatsError;
use crate::verdict::Verdict;

/// One verdict to score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreItem {
    pub verdict: Verdict,
    /// Relative importance, at least 0 (1 by default).
    pub weight: f64,
    /// A critical divergence fails the whole comparison.
    pub critical: bool,
}

impl ScoreItem {
    pub fn new(verdict: Verdict) -> Self {
        ScoreItem {
            verdict,
            weight: 1.0,
            critical: false,
        }
    }

    pub fn critical(mut self) -> Self {
        self.critical = true;
        self
    }
}

/// The score with the counts behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BehaviourScore {
    /// 0–100; `None` when nothing was compared.
    pub score: Option<f64>,
    /// The score if every undecided comparison passed.
    pub ceiling: Option<f64>,
    pub passed: usize,
    pub diverged: usize,
    pub inconclusive: usize,
    pub no_data: usize,
    pub critical_diverged: usize,
    /// One sentence: how the score came about.
    pub reason: String,
}

pub fn behaviour_score(items: &[ScoreItem]) -> Result<BehaviourScore, StatsError> {
    for item in items {
        if !(item.weight.is_finite() && item.weight >= 0.0) {
            return Err(StatsError::InvalidParameter {
                field: "weight",
                value: item.weight,
                expected: "a finite weight of at least 0 (1 by default)",
            });
        }
    }
    let count = |f: fn(&Verdict) -> bool| items.iter().filter(|i| f(&i.verdict)).count();
    let weight = |f: fn(&Verdict) -> bool| -> f64 {
        items
            .iter()
            .filter(|i| f(&i.verdict))
            .map(|i| i.weight)
            .sum()
    };
    let is_pass = |v: &Verdict| *v == Verdict::Pass;
    let is_undecided = |v: &Verdict| matches!(v, Verdict::Inconclusive { .. } | Verdict::NoData);
    let total: f64 = items.iter().map(|i| i.weight).sum();
    let critical_diverged = items
        .iter()
        .filter(|i| i.critical && i.verdict == Verdict::Diverged)
        .count();
    let mut out = BehaviourScore {
        score: None,
        ceiling: None,
        passed: count(is_pass),
        diverged: count(|v| *v == Verdict::Diverged),
        inconclusive: count(|v| matches!(v, Verdict::Inconclusive { .. })),
        no_data: count(|v| *v == Verdict::NoData),
        critical_diverged,
        reason: String::new(),
    };
    if total.is_nan() || total <= 0.0 {
        out.reason = "nothing was compared, so there is no behaviour score".into();
        return Ok(out);
    }
    if critical_diverged > 0 {
        out.score = Some(0.0);
        out.ceiling = Some(0.0);
        out.reason = format!(
            "{critical_diverged} critical comparison(s) diverged, which forces the score to 0"
        );
        return Ok(out);
    }
    // Sums in different orders can round past 100.
    let score = (100.0 * weight(is_pass) / total).clamp(0.0, 100.0);
    let ceiling = (100.0 * (weight(is_pass) + weight(is_undecided)) / total).clamp(score, 100.0);
    out.score = Some(score);
    out.ceiling = Some(ceiling);
    out.reason = format!(
        "{} of {} comparisons proven within their margins, {} diverged, {} undecided ({} \
         inconclusive, {} without data); score {:.0}, up to {:.0} if every undecided one passed",
        out.passed,
        items.len(),
        out.diverged,
        out.inconclusive + out.no_data,
        out.inconclusive,
        out.no_data,
        score,
        ceiling
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecided_comparisons_cost_score_but_show_in_the_ceiling() {
        let s = behaviour_score(&[
            ScoreItem::new(Verdict::Pass),
            ScoreItem::new(Verdict::Pass),
            ScoreItem::new(Verdict::Inconclusive { needed: Some(10) }),
            ScoreItem::new(Verdict::NoData),
        ])
        .unwrap();
        assert_eq!(s.score, Some(50.0));
        assert_eq!(s.ceiling, Some(100.0));
    }

    #[test]
    fn a_critical_divergence_forces_zero_and_nothing_gives_none() {
        let s = behaviour_score(&[
            ScoreItem::new(Verdict::Pass),
            ScoreItem::new(Verdict::Diverged).critical(),
        ])
        .unwrap();
        assert_eq!(s.score, Some(0.0));
        let s = behaviour_score(&[
            ScoreItem::new(Verdict::Pass),
            ScoreItem::new(Verdict::Diverged),
        ])
        .unwrap();
        assert_eq!(s.score, Some(50.0));
        assert_eq!(s.ceiling, Some(50.0));
        assert_eq!(behaviour_score(&[]).unwrap().score, None);
        let bad = ScoreItem {
            weight: f64::NAN,
            ..ScoreItem::new(Verdict::Pass)
        };
        assert!(behaviour_score(&[bad]).is_err());
    }
}
