use std::fmt::Write as _;

use crate::report::{DriftReport, Finding, Status};

use super::{diff_lines, finding_pair, shown_path, value};

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
        for f in &drift {
            let file = match (&f.baseline_at, &f.candidate_at, f.line) {
                (Some(b), None, _) => format!("{}:{}", b.file, b.line),
                (_, _, Some(l)) => format!("{}:{l}", f.file),
                _ => f.file.clone(),
            };
            let (b, c) = match (&f.baseline, &f.candidate) {
                (Some(b), Some(c)) => finding_pair(f, b, c, 60),
                (b, c) => (value(b.as_ref(), 60), value(c.as_ref(), 60)),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | `{}` | {} | {} | {} | {} |",
                code(&file),
                esc(f.object.as_deref().unwrap_or("")),
                code(&shown_path(f)),
                f.change.label(),
                cell(b),
                cell(c),
                esc(f.note.as_deref().unwrap_or(""))
            );
        }
        out.push('\n');
        for f in &drift {
            if let Some(lines) = diff_lines(f) {
                let _ = writeln!(
                    out,
                    "`{}` {} `{}`:\n\n```diff\n{}\n```\n",
                    code(&f.file),
                    esc(f.object.as_deref().unwrap_or("")),
                    code(&shown_path(f)),
                    lines.join("\n").replace("```", "ˋˋˋ")
                );
            }
        }
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
                crate::report::RuleState::Used | crate::report::RuleState::Held => "",
                _ => "⚠️ ",
            };
            let mut why = esc(&super::rule_diagnosis(r));
            for reason in &r.rejected {
                why.push_str(&format!("<br>{}", esc(reason)));
            }
            let _ = writeln!(
                out,
                "| {} | `{}` | {state}{why} | {} | {} | {} | {} |",
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
