//! The report as text (terminal), as Markdown (a pull-request comment or a CI job summary),
//! and the history as a trend per component (`--show-history`).
use std::fmt::Write as _;

use prodlike_results::report::{Component, ComponentState, ScoreReport};

use crate::history::StoredRun;

/// Losses shown in text and Markdown; JSON and HTML hold them all.
pub const TOP_LOSSES: usize = 10;

fn state_word(s: ComponentState) -> &'static str {
    match s {
        ComponentState::Scored => "scored",
        ComponentState::Missing => "missing",
        ComponentState::Inconclusive => "inconclusive",
    }
}

fn score_cell(c: &prodlike_results::report::ComponentScore) -> String {
    match c.score {
        Some(s) => format!("{s:.1}"),
        None => state_word(c.state).to_owned(),
    }
}

fn headline(r: &ScoreReport) -> String {
    let mut s = format!(
        "Fidelity score {:.1}/100 for {}/{}",
        r.score, r.project, r.environment
    );
    if let Some(cap) = &r.cap
        && r.uncapped > r.score
    {
        let names: Vec<&str> = cap.components.iter().map(|c| c.as_str()).collect();
        let _ = write!(
            s,
            " (capped at {} from {:.1}: critical {} failed)",
            cap.limit,
            r.uncapped,
            names.join(", ")
        );
    }
    s
}

fn delta_line(r: &ScoreReport) -> Option<String> {
    let p = r.previous.as_ref()?;
    let arrow = if p.delta < 0.0 {
        "▼"
    } else if p.delta > 0.0 {
        "▲"
    } else {
        "="
    };
    let mut s = format!(
        "{arrow} {:+.1} since run {} ({}, {:.1})",
        p.delta, p.run, p.at, p.score
    );
    if let Some(c) = &p.cause {
        let _ = write!(s, ": {c}");
    }
    Some(s)
}

/// The terminal report.
pub fn text(r: &ScoreReport) -> String {
    let mut out = headline(r);
    out.push('\n');
    if let Some(d) = delta_line(r) {
        let _ = writeln!(out, "{d}");
    }
    if let Some(run) = r.run {
        let _ = writeln!(
            out,
            "history: run {run}, {} runs kept in view",
            r.trend.len()
        );
    }
    let _ = writeln!(
        out,
        "\n{:<14} {:>6} {:>12} {:>7}  note",
        "component", "weight", "score", "points"
    );
    for c in &r.components {
        let crit = if c.critical { " (critical)" } else { "" };
        let failed = if c.failed { " FAILED" } else { "" };
        let _ = writeln!(
            out,
            "{:<14} {:>6} {:>12} {:>7}  {}{crit}{failed}",
            c.component.as_str(),
            format!("{:.0}", c.weight),
            score_cell(c),
            format!("{:.1}", c.points),
            c.note
        );
    }
    if r.losses.is_empty() {
        out.push_str("\nNo points lost.\n");
    } else {
        let _ = writeln!(out, "\nPoints lost, worst first:");
        for l in r.losses.iter().take(TOP_LOSSES) {
            let _ = writeln!(
                out,
                "  -{:>5.1}  {:<13} {}: {}\n          → {}",
                l.points,
                l.component.as_str(),
                l.subject,
                l.finding,
                l.command
            );
        }
        if r.losses.len() > TOP_LOSSES {
            let _ = writeln!(
                out,
                "  … {} more (--format json or --html)",
                r.losses.len() - TOP_LOSSES
            );
        }
    }
    for i in r.inputs.iter().filter(|i| i.ignored.is_some()) {
        let _ = writeln!(
            out,
            "not scored: {} ({}): {}",
            i.file,
            i.schema,
            i.ignored.as_deref().unwrap_or_default()
        );
    }
    gate_lines(r, &mut out);
    out
}

fn gate_lines(r: &ScoreReport, out: &mut String) {
    if r.gate.min_score.is_none() && !r.gate.fail_on_critical {
        return;
    }
    if r.gate.passed {
        out.push_str("gate: passed\n");
    } else {
        for reason in &r.gate.reasons {
            let _ = writeln!(out, "gate: FAILED: {reason}");
        }
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A pull-request comment: the score, the delta, the components and the top losses.
pub fn markdown(r: &ScoreReport) -> String {
    let mut out = format!("## prodlike: {}\n\n", md_escape(&headline(r)));
    if let Some(d) = delta_line(r) {
        let _ = writeln!(out, "**{}**\n", md_escape(&d));
    }
    if r.gate.min_score.is_some() || r.gate.fail_on_critical {
        if r.gate.passed {
            out.push_str("Gate: ✅ passed\n\n");
        } else {
            let _ = writeln!(out, "Gate: ❌ {}\n", md_escape(&r.gate.reasons.join("; ")));
        }
    }
    out.push_str("| component | weight | score | points |\n|---|---:|---:|---:|\n");
    for c in &r.components {
        let crit = if c.critical { " (critical)" } else { "" };
        let _ = writeln!(
            out,
            "| {}{crit} | {:.0} | {} | {:.1} / {:.1} |",
            c.component.as_str(),
            c.weight,
            score_cell(c),
            c.points,
            c.max_points
        );
    }
    if !r.losses.is_empty() {
        out.push_str("\n**Top losses**\n\n| points | component | where | finding | command |\n|---:|---|---|---|---|\n");
        for l in r.losses.iter().take(TOP_LOSSES) {
            let _ = writeln!(
                out,
                "| −{:.1} | {} | {} | {} | `{}` |",
                l.points,
                l.component.as_str(),
                md_escape(&l.subject),
                md_escape(&l.finding),
                // GitHub's tables split on `|` even inside code; `\|` renders as `|` there.
                l.command.replace('`', "'").replace('|', "\\|")
            );
        }
    }
    out
}

/// `--show-history`: each run with its total and component scores, oldest first, with the
/// change of each component since the first run shown.
pub fn history(project: &str, environment: &str, runs: &[StoredRun]) -> String {
    let mut out = format!("History of {project}/{environment}: {} runs\n", runs.len());
    if runs.is_empty() {
        return out;
    }
    let _ = write!(out, "{:>5}  {:<20} {:>6}", "run", "at", "score");
    for c in Component::ALL {
        let _ = write!(out, " {:>13}", c.as_str());
    }
    out.push('\n');
    for r in runs {
        let _ = write!(out, "{:>5}  {:<20} {:>6.1}", r.run, r.at, r.score);
        for c in Component::ALL {
            let cell = match r.components.get(&c).copied().flatten() {
                Some(v) => format!("{v:.1}"),
                None => "-".into(),
            };
            let _ = write!(out, " {cell:>13}");
        }
        out.push('\n');
    }
    if let (Some(first), Some(last)) = (runs.first(), runs.last())
        && runs.len() > 1
    {
        let _ = write!(out, "trend  {:<20} {:>+6.1}", "", last.score - first.score);
        for c in Component::ALL {
            let a = first.components.get(&c).copied().flatten();
            let b = last.components.get(&c).copied().flatten();
            let cell = match (a, b) {
                (Some(a), Some(b)) => format!("{:+.1}", b - a),
                _ => "-".into(),
            };
            let _ = write!(out, " {cell:>13}");
        }
        out.push('\n');
    }
    out
}
