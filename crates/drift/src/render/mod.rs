//! Report renderings: coloured text grouped by file and object, Markdown for pull-request
//! comments, SARIF 2.1.0 for code scanning. JSON is the `prodlike.drift/1` envelope itself
//! ([`crate::DriftReport::envelope`]).
mod markdown;
mod sarif;
pub mod show;
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

/// `6 → 3`, `+ "x"`, `- "x"`. Two long strings are cut to the window where they differ.
pub(crate) fn values_line(f: &Finding, max: usize) -> String {
    match (&f.baseline, &f.candidate) {
        (Some(b), Some(c)) => {
            let (b, c) = finding_pair(f, b, c, max);
            format!("{b} → {c}")
        }
        (Some(b), None) => format!("- {}", value(Some(b), max)),
        (None, Some(c)) => format!("+ {}", value(Some(c), max)),
        (None, None) => String::new(),
    }
}

/// Both values of a change on one line each: windowed to their first difference when long
/// or multi-line strings.
pub(crate) fn inline_pair(
    b: &serde_json::Value,
    c: &serde_json::Value,
    max: usize,
) -> (String, String) {
    use serde_json::Value;
    match (b, c) {
        (Value::String(bs), Value::String(cs)) if bs.contains('\n') || cs.contains('\n') => {
            let (wb, wc) = show::window(bs, cs, max);
            let q = |s: &str| {
                Value::String(s.to_string())
                    .to_string()
                    .replace("\\u2026", "…")
            };
            (q(&wb), q(&wc))
        }
        _ => match show::show(b, c, max) {
            show::Shown::Inline(b, c) => (b, c),
            show::Shown::Lines(_) => (value(Some(b), max), value(Some(c), max)),
        },
    }
}

/// [`inline_pair`], with the expression of a `hard-coded` finding unquoted, as written
/// (`var.connection_timeout → 45`): the JSON value of an expression is its text, and the note
/// classify.rs wrote says which side hard-codes.
pub(crate) fn finding_pair(
    f: &Finding,
    b: &serde_json::Value,
    c: &serde_json::Value,
    max: usize,
) -> (String, String) {
    use crate::report::Change;
    let (mut bs, mut cs) = inline_pair(b, c, max);
    if f.change == Change::HardCoded && !f.secret {
        let note = f.note.as_deref().unwrap_or("");
        let unquoted = |v: &serde_json::Value| v.as_str().map(|s| crate::tree::truncate(s, max));
        if note.contains("the candidate hard-codes") {
            bs = unquoted(b).unwrap_or(bs);
        } else if note.contains("the baseline hard-codes") {
            cs = unquoted(c).unwrap_or(cs);
        }
    }
    (bs, cs)
}

/// The unified line diff of a finding whose two values are multi-line strings.
pub(crate) fn diff_lines(f: &Finding) -> Option<Vec<String>> {
    match show::show(f.baseline.as_ref()?, f.candidate.as_ref()?, 80) {
        show::Shown::Lines(l) if !f.secret => Some(l),
        _ => None,
    }
}

/// What a rule did, in words: `accepted 3; rejected 2; shadowed by an earlier rule 1`, or
/// `matched nothing`, `expired on …`, `held`.
pub(crate) fn rule_diagnosis(r: &crate::report::RuleUse) -> String {
    use crate::report::RuleState;
    if r.state == RuleState::Expired {
        return format!("expired on {}", r.expires.as_deref().unwrap_or("?"));
    }
    if r.state == RuleState::Held {
        return "held".to_string();
    }
    let mut parts = Vec::new();
    if r.matched > 0 {
        parts.push(format!("matched and accepted {}", r.matched));
    }
    if r.rejected_count > 0 {
        parts.push(format!("matched but rejected {}", r.rejected_count));
    }
    if r.shadowed > 0 {
        parts.push(format!("shadowed by an earlier rule {}", r.shadowed));
    }
    if parts.is_empty() {
        "matched nothing".to_string()
    } else {
        parts.join("; ")
    }
}
