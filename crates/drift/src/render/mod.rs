//! Report renderings: coloured text grouped by file and object, Markdown for pull-request
//! comments, SARIF 2.1.0 for code scanning. JSON is the `prodlike.drift/1` envelope itself
//! ([`crate::DriftReport::envelope`]).
mod markdown;
mod sarif;
mod text;

pub use markdown::markdown;
pub use sarif::sarif;
pub use text::text;

use crate::report::Finding;

/// A value for one-line display: strings quoted, long values cut.
pub(crate) fn value(v: Option<&serde_json::Value>, max: usize) -> String {
    match v {
        None => "—".to_string(),
        Some(v) => crate::tree::truncate(&v.to_string(), max),
    }
}

/// `spec.replicas`, or `(whole object)` / `(whole file)` for empty paths.
pub(crate) fn shown_path(f: &Finding) -> String {
    if !f.path.is_empty() {
        f.path.clone()
    } else if f.object.is_some() {
        "(whole object)".to_string()
    } else {
        "(whole file)".to_string()
    }
}

/// `6 → 3`, `+ "x"`, `- "x"`.
pub(crate) fn values_line(f: &Finding, max: usize) -> String {
    match (&f.baseline, &f.candidate) {
        (Some(b), Some(c)) => format!("{} → {}", value(Some(b), max), value(Some(c), max)),
        (Some(b), None) => format!("- {}", value(Some(b), max)),
        (None, Some(c)) => format!("+ {}", value(Some(c), max)),
        (None, None) => String::new(),
    }
}
