use std::fmt::Write as _;

use crate::report::{DriftReport, RuleState, Status};

use super::{diff_lines, shown_path, values_line};

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// The human report, grouped by file and object. `color` adds ANSI colours (the binary
/// decides: a terminal, and `NO_COLOR` unset).
// Long: the text report's sections in the order they print.
#[allow(clippy::too_many_lines)]
pub fn text(report: &DriftReport, color: bool) -> String {
    let st = Style { color };
    let mut out = String::new();
    let rules = report
        .rules_file
        .as_deref()
        .map(|r| format!("  (rules: {r})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} {} → {}{rules}",
        st.bold("prodlike drift"),
        report.baseline,
        report.candidate
    );
    let mut last_file: Option<&str> = None;
    let mut last_object: Option<Option<&str>> = None;
    for f in &report.findings {
        if last_file != Some(f.file.as_str()) {
            let _ = writeln!(out, "\n{}", st.bold(&f.file));
            last_file = Some(&f.file);
            last_object = None;
        }
        let indent = if f.object.is_some() { "    " } else { "  " };
        if last_object != Some(f.object.as_deref()) {
            if let Some(o) = &f.object {
                let _ = writeln!(out, "  {}", st.bold(o));
            }
            last_object = Some(f.object.as_deref());
        }
        let line = st.dim(&lines_of(f));
        match f.status {
            Status::Drift => {
                let _ = writeln!(
                    out,
                    "{indent}{} {} {} {}{line}",
                    st.red("✗"),
                    shown_path(f),
                    st.yellow(f.change.label()),
                    values_line(f, 60)
                );
            }
            Status::Accepted => {
                let rule = f
                    .rule
                    .map(|r| format!("rule {r}: {}", f.reason.as_deref().unwrap_or("")))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{indent}{} {}",
                    st.green("✓"),
                    st.dim(&format!(
                        "{} {} {}  accepted by {rule}",
                        shown_path(f),
                        f.change.label(),
                        values_line(f, 40)
                    ))
                );
            }
        }
        if f.status == Status::Drift {
            for l in diff_lines(f).unwrap_or_default() {
                let painted = match l.chars().next() {
                    Some('-') => st.red(&l),
                    Some('+') => st.green(&l),
                    _ => st.dim(&l),
                };
                let _ = writeln!(out, "{indent}    {painted}");
            }
        }
        if let Some(note) = &f.note {
            if f.status == Status::Drift {
                let _ = writeln!(out, "{indent}    {}", st.dim(note));
            }
        }
    }
    let flagged: Vec<_> = report
        .rules
        .iter()
        .filter(|r| {
            matches!(
                r.state,
                RuleState::Expired | RuleState::Unused | RuleState::Rejected | RuleState::Shadowed
            ) || r.rejected_count > 0
                || r.shadowed > 0
        })
        .collect();
    if !flagged.is_empty() {
        let _ = writeln!(out, "\n{}", st.bold("Rules to review"));
        for r in flagged {
            let owner = r
                .owner
                .as_deref()
                .map(|o| format!(", owner {o}"))
                .unwrap_or_default();
            let what = st.yellow(&super::rule_diagnosis(r));
            let _ = writeln!(
                out,
                "  rule {} ({}) {what}{owner}: {}",
                r.index, r.description, r.reason
            );
            for why in &r.rejected {
                let _ = writeln!(out, "      {}", st.dim(why));
            }
            if r.rejected_count > r.rejected.len() {
                let _ = writeln!(
                    out,
                    "      {}",
                    st.dim(&format!("… {} more", r.rejected_count - r.rejected.len()))
                );
            }
        }
    }
    let verdict = if report.summary.drift > 0 {
        st.red(&report.sentence())
    } else {
        st.green(&report.sentence())
    };
    let _ = writeln!(out, "\n{verdict}");
    out
}

/// `  (line 12)`; `  (baseline line 9, candidate line 12)` when the lines differ; a file is
/// named when it is not the finding's own (a layer, the baseline's file of a removed value).
fn lines_of(f: &crate::report::Finding) -> String {
    let at = |l: &crate::report::Location, other: Option<&crate::report::Location>| {
        if l.file == f.file || other.is_some_and(|o| o.file == l.file && o.file == f.file) {
            format!("line {}", l.line)
        } else {
            format!("{}:{}", l.file, l.line)
        }
    };
    match (&f.baseline_at, &f.candidate_at) {
        (Some(b), Some(c)) if b.line == c.line && c.file == f.file => {
            format!("  (line {})", c.line)
        }
        (Some(b), Some(c)) => format!(
            "  (baseline {}, candidate {})",
            at(b, Some(c)),
            at(c, Some(b))
        ),
        (Some(b), None) => format!("  (baseline {})", at(b, None)),
        (None, Some(c)) => format!("  ({})", at(c, None)),
        (None, None) => f.line.map(|l| format!("  (line {l})")).unwrap_or_default(),
    }
}
