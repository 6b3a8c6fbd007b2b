use std::fmt::Write as _;

use crate::report::{DriftReport, Finding, Status};

use super::{shown_path, value};

/// Markdown for a pull-request comment: drift first, accepted differences folded away, then
/// the rules with their owners and expiry.
// Long: the Markdown report's sections in the order they print.
#[allow(clippy::too_many_lines)]
pub fn markdown(report: &DriftReport) -> String {
    let mut out = String::new();
    let icon = if report.summary.drift > 0 {
        "❌"
    } else {
        "✅"
    };
    let _ = writeln!(out, "## {icon} prodlike drift\n");
    let _ = writeln!(out, "{}.\n", esc(&report.sentence()));
    let _ = writeln!(
        out,
        "Baseline `{}` · candidate `{}`{}\n",
        code(&report.baseline),
        code(&report.candidate),
        report
            .rules_file
            .as_deref()
            .map(|r| format!(" · rules `{}`", code(r)))
            .unwrap_or_default()
    );
    let drift: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Drift)
        .collect();
    if !drift.is_empty() {
        let _ = writeln!(out, "### Drift\n");
        let _ = writeln!(
            out,
            "| File | Object | Path | Change | Baseline | Candidate | Note |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for f in drift {
            let file = match f.line {
                Some(l) => format!("{}:{l}", f.file),
                None => f.file.clone(),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | `{}` | {} | {} | {} | {} |",
                code(&file),
                esc(f.object.as_deref().unwrap_or("")),
                code(&shown_path(f)),
                f.change.label(),
                cell(value(f.baseline.as_ref(), 60)),
                cell(value(f.candidate.as_ref(), 60)),
                esc(f.note.as_deref().unwrap_or(""))
            );
        }
        out.push('\n');
    }
    let accepted: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Accepted)
        .collect();
    if !accepted.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} accepted difference{}</summary>\n",
            accepted.len(),
            crate::report::plural(accepted.len())
        );
        let _ = writeln!(
            out,
            "| File | Object | Path | Change | Baseline | Candidate | Rule | Reason |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
        for f in accepted {
            let _ = writeln!(
                out,
                "| `{}` | {} | `{}` | {} | {} | {} | {} | {} |",
                code(&f.file),
                esc(f.object.as_deref().unwrap_or("")),
                code(&shown_path(f)),
                f.change.label(),
                cell(value(f.baseline.as_ref(), 40)),
                cell(value(f.candidate.as_ref(), 40)),
                f.rule.map(|r| r.to_string()).unwrap_or_default(),
                esc(f.reason.as_deref().unwrap_or(""))
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    if !report.rules.is_empty() {
        let _ = writeln!(out, "### Rules\n");
        let _ = writeln!(
            out,
            "| # | Rule | State | Matched | Owner | Expires | Reason |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for r in &report.rules {
            let state = match r.state {
                crate::report::RuleState::Used => "used",
                crate::report::RuleState::Held => "held",
                crate::report::RuleState::Unused => "⚠️ unused",
                crate::report::RuleState::Expired => "⚠️ expired",
            };
            let _ = writeln!(
                out,
                "| {} | `{}` | {state} | {} | {} | {} | {} |",
                r.index,
                code(&r.description),
                r.matched,
                esc(r.owner.as_deref().unwrap_or("")),
                r.expires.as_deref().unwrap_or(""),
                esc(&r.reason)
            );
        }
    }
    out
}

/// Text inside a table cell.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// Text inside backticks in a table cell (no backticks, no pipes, one line).
fn code(s: &str) -> String {
    s.replace('`', "'")
        .replace('|', "¦")
        .replace(['\n', '\r'], " ")
}

/// A value in a cell, as code.
fn cell(s: String) -> String {
    if s == "—" {
        s
    } else {
        format!("`{}`", code(&s))
    }
}
