//! The Markdown report, fit for a pull-request comment: a headline, parity findings, one table
//! of every verdict and the reasons of those that did not pass.
use std::fmt::Write;

use prodlike_results::compare::{CompareReport, Comparison, Source, Verdict};

use super::{effect, interval, value, verdict};

/// The report as Markdown.
pub fn markdown(r: &CompareReport, unit: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## prodlike compare: staging against production\n");
    match &r.source {
        Source::Prometheus(p) => {
            let _ = writeln!(
                out,
                "Prometheus `{}` (`{}` against `{}`), {} to {}.\n",
                p.url, p.staging_selector, p.production_selector, p.start, p.end
            );
        }
        Source::Results(s) => {
            let _ = writeln!(
                out,
                "prodlike {} results: `{}` against `{}`.\n",
                s.results, s.staging, s.production
            );
        }
    }
    let _ = writeln!(out, "**{}**\n", r.summary());
    if !r.parity.is_empty() {
        let _ = writeln!(out, "### Observability parity\n");
        for f in &r.parity {
            let _ = writeln!(out, "- {}", f.message);
        }
        out.push('\n');
    }
    if !r.missing_in_staging.is_empty() {
        let _ = writeln!(
            out,
            "### Missing in staging
"
        );
        for route in &r.missing_in_staging {
            let _ = writeln!(out, "- `{route}`: production served it, staging never did");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "| route | metric | verdict | production | staging | effect | interval | n prod / staging |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    let mut notes = Vec::new();
    for route in &r.routes {
        for c in &route.comparisons {
            row(&mut out, &route.route, c, unit, &mut notes);
        }
    }
    if let Some(t) = &r.traffic {
        row(&mut out, "(all routes)", &t.shape, unit, &mut notes);
        if let Some(v) = &t.volume {
            row(&mut out, "(all routes)", v, unit, &mut notes);
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\n### Why\n");
        for n in notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    for f in &r.refused {
        let _ = writeln!(out, "\n- refused: `{}` {}: {}", f.route, f.metric, f.reason);
    }
    let c = &r.correction;
    let _ = writeln!(
        out,
        "\nCorrection: Benjamini–Hochberg at {} over {} comparisons. Behaviour score: {}",
        c.level, c.comparisons, r.score.reason
    );
    out
}

fn row(out: &mut String, route: &str, c: &Comparison, unit: &str, notes: &mut Vec<String>) {
    let j = &c.judgement;
    let _ = writeln!(
        out,
        "| `{}` | {} | {} | {} | {} | {} | {} | {} / {} |",
        route.replace('|', "\\|"),
        c.metric,
        verdict(c),
        value(&c.metric, c.production, unit),
        value(&c.metric, c.staging, unit),
        effect(j, j.estimate),
        interval(j),
        j.n_production,
        j.n_staging
    );
    if j.verdict != Verdict::Pass {
        notes.push(format!("`{route}` {}: {}", c.metric, j.reason));
    }
}
