//! The report printed: text for a terminal (`text.rs`), Markdown for a pull-request comment
//! (`markdown.rs`); JSON is the envelope itself. Both read only the published payload, so
//! every source (`compare prometheus`, `compare results`) prints the same way.
mod markdown;
mod text;

pub use markdown::markdown;
pub use text::text;

use prodlike_results::compare::{Comparison, Judgement, Scale};

/// An effect on its scale: `+0.021` points, `+23%`, `0.08`.
pub(crate) fn effect(j: &Judgement, v: Option<f64>) -> String {
    match v {
        None => "unbounded".into(),
        Some(v) => match j.scale {
            Scale::Difference => format!("{:+.2} pt", v * 100.0),
            Scale::Relative => format!("{:+.1}%", v * 100.0),
            Scale::Distance => format!("{v:.3}"),
        },
    }
}

/// The interval as text, `[-0.3 pt, +1.2 pt] (90%)`.
pub(crate) fn interval(j: &Judgement) -> String {
    match &j.interval {
        None => "-".into(),
        Some(i) => format!(
            "[{}, {}] ({:.0}%)",
            effect(j, i.lower),
            effect(j, i.upper),
            i.confidence * 100.0
        ),
    }
}

/// The verdict with what an inconclusive one needs.
pub(crate) fn verdict(c: &Comparison) -> String {
    let j = &c.judgement;
    let mut s = j.verdict.as_str().to_string();
    if let Some(n) = j.needed {
        s.push_str(&format!(" (needs ~{n} requests)"));
    }
    if c.critical {
        s.push_str(" [critical]");
    }
    s
}

/// A value of one side: a ratio as a percentage, a latency with the unit.
pub(crate) fn value(metric: &str, v: Option<f64>, unit: &str) -> String {
    match v {
        None => "-".into(),
        Some(v) if metric == "error_ratio" => format!("{:.2}%", v * 100.0),
        Some(v) if metric.starts_with("latency") => format!("{v:.4} {unit}"),
        Some(v) => format!("{v:.4}"),
    }
}
