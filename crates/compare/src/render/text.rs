//! The text report: parity findings first (they qualify everything after them), then each
//! route's verdicts, the traffic curve, refusals, the correction and the score.
use std::fmt::Write;

use prodlike_results::compare::{CompareReport, Comparison, Source};

use super::{effect, interval, value, verdict};

/// The report as plain text.
pub fn text(r: &CompareReport, unit: &str) -> String {
    let mut out = String::new();
    match &r.source {
        Source::Prometheus(p) => {
            let _ = writeln!(
                out,
                "prodlike compare prometheus: {} ({}) against {} ({}), {} to {} (step {}s, {} metrics)",
                p.staging_url.as_deref().unwrap_or(&p.url),
                p.staging_selector,
                p.url,
                p.production_selector,
                p.start,
                p.end,
                p.step_seconds,
                p.family
            );
        }
        Source::Results(s) => {
            let _ = writeln!(
                out,
                "prodlike compare results ({}): {} against {}",
                s.results, s.staging, s.production
            );
        }
    }
    if !r.parity.is_empty() {
        let _ = writeln!(out, "\nobservability parity: {} gap(s)", r.parity.len());
        for f in &r.parity {
            let _ = writeln!(out, "  ! {}", f.message);
        }
    }
    if !r.missing_in_staging.is_empty() {
        let _ = writeln!(
            out,
            "\nmissing in staging: {} route(s) production served and staging never did, at a \
             volume where chance would rarely explain it",
            r.missing_in_staging.len()
        );
        for route in &r.missing_in_staging {
            let _ = writeln!(out, "  ! {route}");
        }
    }
    for route in &r.routes {
        let _ = writeln!(
            out,
            "\n{}{}  (requests: production {}, staging {})",
            route.route,
            if route.critical { " [critical]" } else { "" },
            route.production_requests,
            route.staging_requests
        );
        for c in &route.comparisons {
            line(&mut out, c, unit);
        }
    }
    if let Some(t) = &r.traffic {
        let _ = writeln!(out, "\ntraffic (all routes, {} intervals)", t.intervals);
        line(&mut out, &t.shape, unit);
        if let Some(v) = &t.volume {
            line(&mut out, v, unit);
        }
    }
    for f in &r.refused {
        let _ = writeln!(out, "\nrefused: {} {}: {}", f.route, f.metric, f.reason);
    }
    let c = &r.correction;
    let _ = writeln!(
        out,
        "\ncorrection: Benjamini–Hochberg at {} over {} comparisons ({} diverged before, {} after)",
        c.level, c.comparisons, c.diverged_before, c.diverged_after
    );
    let _ = writeln!(out, "behaviour score: {}", r.score.reason);
    let _ = writeln!(out, "{}", r.summary());
    out
}

fn line(out: &mut String, c: &Comparison, unit: &str) {
    let j = &c.judgement;
    let _ = writeln!(
        out,
        "  {:<14} {:<28} production {:>12}  staging {:>12}  effect {:>10} {}  (n {} / {})",
        c.metric,
        verdict(c),
        value(&c.metric, c.production, unit),
        value(&c.metric, c.staging, unit),
        effect(j, j.estimate),
        interval(j),
        j.n_production,
        j.n_staging
    );
    let _ = writeln!(out, "      {}", j.reason);
}
