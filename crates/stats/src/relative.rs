//! The judgement of a relative (ratio) effect, shared by the latency judges: effects are
//! computed as log ratios (staging over production) with an interval, then reported as
//! `ratio − 1` ("+23%") against a relative margin.

use crate::decision::{self, margin_clause, needed_by_sqrt, upper_tail, z_one_sided};
use crate::reason;
use crate::verdict::{Interval, Judgement, Method, Scale, Verdict};

/// A log-ratio estimate with one-sided bounds (each at `1 − α`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LogEffect {
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Everything a relative judgement needs besides the effect.
pub(crate) struct Context<'a> {
    pub margin: f64,
    pub alpha: f64,
    pub method: Method,
    pub n_production: u64,
    pub n_staging: u64,
    /// Start of the sentence: "staging's p99".
    pub subject: &'a str,
    /// The values behind the effect: "312 ms against 101 ms".
    pub detail: String,
    /// An exact p-value when the method has one; otherwise it is derived from the interval.
    pub p_value: Option<f64>,
    /// `Some(None)` when no sample size can decide (the data's resolution is the limit).
    pub needed_override: Option<Option<u64>>,
    /// Appended to an inconclusive reason to say what limits it.
    pub limit_note: Option<String>,
}

/// Judge a log-ratio effect against `ln(1 + margin)`.
pub(crate) fn judge(effect: LogEffect, ctx: Context<'_>) -> Judgement {
    let c = ctx.margin.ln_1p();
    let rel = |v: f64| v.exp() - 1.0;
    let n_total = ctx.n_production.saturating_add(ctx.n_staging);
    if !effect.estimate.is_finite() {
        return Judgement {
            verdict: Verdict::Inconclusive { needed: None },
            estimate: None,
            interval: None,
            margin: ctx.margin,
            scale: Scale::Relative,
            alpha: ctx.alpha,
            p_value: None,
            p_adjusted: None,
            n_production: ctx.n_production,
            n_staging: ctx.n_staging,
            method: ctx.method,
            reason: format!(
                "{} cannot be compared as a ratio ({}): a value of 0 has no ratio",
                ctx.subject, ctx.detail
            ),
        };
    }
    let call = decision::call(effect.lower, effect.upper, c);
    let verdict = decision::verdict(call, || {
        ctx.needed_override.unwrap_or_else(|| {
            needed_by_sqrt(n_total, effect.estimate, effect.lower, effect.upper, c)
        })
    });
    let p_value = ctx.p_value.unwrap_or_else(|| {
        let z = z_one_sided(ctx.alpha);
        let half = if effect.estimate > c {
            effect.estimate - effect.lower
        } else {
            effect.upper - effect.estimate
        };
        let se = half / z;
        if se > 0.0 {
            upper_tail((effect.estimate - c) / se)
        } else if effect.estimate > c {
            0.0
        } else {
            1.0
        }
    });
    let mut reason = format!(
        "{} is {} against production's ({}; {:.0}% CI {} to {}), {}",
        ctx.subject,
        reason::percent(rel(effect.estimate)),
        ctx.detail,
        (1.0 - 2.0 * ctx.alpha) * 100.0,
        reason::percent(rel(effect.lower)),
        reason::percent(rel(effect.upper)),
        margin_clause(
            &verdict,
            &reason::percent(ctx.margin),
            "observations",
            n_total
        ),
    );
    if let (Verdict::Inconclusive { .. }, Some(note)) = (&verdict, &ctx.limit_note) {
        reason.push_str(&format!(" ({note})"));
    }
    Judgement {
        verdict,
        estimate: Some(rel(effect.estimate)),
        interval: Some(Interval {
            lower: rel(effect.lower),
            upper: rel(effect.upper),
            confidence: 1.0 - 2.0 * ctx.alpha,
        }),
        margin: ctx.margin,
        scale: Scale::Relative,
        alpha: ctx.alpha,
        p_value: Some(p_value),
        p_adjusted: None,
        n_production: ctx.n_production,
        n_staging: ctx.n_staging,
        method: ctx.method,
        reason,
    }
}

/// MOVER (Zou & Donner 2008, the idea behind Newcombe's hybrid interval): bounds for a
/// difference of two independent estimates from each one's own bounds,
/// `L = d − √((a − a_lo)² + (b_hi − b)²)`, `U = d + √((a_hi − a)² + (b − b_lo)²)`.
pub(crate) fn mover(a: LogEffect, b: LogEffect) -> LogEffect {
    let d = a.estimate - b.estimate;
    let lower = d - ((a.estimate - a.lower).powi(2) + (b.upper - b.estimate).powi(2)).sqrt();
    let upper = d + ((a.upper - a.estimate).powi(2) + (b.estimate - b.lower).powi(2)).sqrt();
    LogEffect {
        estimate: d,
        lower: if lower.is_nan() {
            f64::NEG_INFINITY
        } else {
            lower
        },
        upper: if upper.is_nan() { f64::INFINITY } else { upper },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mover_with_an_unbounded_side_is_unbounded() {
        let a = LogEffect {
            estimate: 1.0,
            lower: 0.5,
            upper: f64::INFINITY,
        };
        let b = LogEffect {
            estimate: 0.0,
            lower: -0.1,
            upper: 0.1,
        };
        let m = mover(a, b);
        assert_eq!(m.estimate, 1.0);
        assert!((m.lower - (1.0 - (0.25f64 + 0.01).sqrt())).abs() < 1e-12);
        assert!(m.upper.is_infinite());
    }
}
