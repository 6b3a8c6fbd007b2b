//! Behaviour and observability: `prodlike compare`'s verdicts, and its parity findings.
use prodlike_results::compare::{CompareReport, Comparison, ParityKind, Source};
use prodlike_results::report::LossKind;

use super::{SourceScore, plural, sh};

/// Penalty of a metric, label set or bucket layout only one environment has.
pub const PARITY_PENALTY: f64 = 20.0;
/// Penalty of a scrape interval that differs.
pub const SCRAPE_INTERVAL_PENALTY: f64 = 10.0;

/// A compare result feeds `compare.verdicts`, and `compare.parity` when it read Prometheus
/// (prodlike's own results have no metrics whose parity could be checked).
pub fn compare(r: &CompareReport, file: &str) -> Vec<SourceScore> {
    let mut out = vec![verdicts(r, file)];
    if matches!(r.source, Source::Prometheus(_)) {
        out.push(parity(r, file));
    }
    out
}

/// Every judged comparison carries 100 / comparisons points: a diverged one loses them as a
/// finding, an inconclusive or no-data one as undecided.
fn verdicts(r: &CompareReport, file: &str) -> SourceScore {
    let mut s = SourceScore::new("compare.verdicts", file);
    let mut all: Vec<(String, &Comparison)> = Vec::new();
    for route in &r.routes {
        for c in &route.comparisons {
            all.push((route.route.clone(), c));
        }
    }
    if let Some(t) = &r.traffic {
        all.push(("all routes".into(), &t.shape));
        if let Some(v) = &t.volume {
            all.push(("all routes".into(), v));
        }
    }
    let n = all.len();
    s.note = format!(
        "{} on {}: {} passed, {} diverged, {} undecided",
        plural(n as u64, "comparison", "comparisons"),
        plural(r.routes.len() as u64, "route", "routes"),
        r.counts.pass,
        r.counts.diverged,
        r.counts.inconclusive + r.counts.no_data
    );
    for (route, c) in all {
        let Some(kind) = s.judged(c.judgement.verdict) else {
            continue;
        };
        let critical = if c.critical { " (critical)" } else { "" };
        s.push(
            100.0 / n as f64,
            kind,
            format!("{route} {}", c.metric),
            format!(
                "{}{critical}: {}",
                c.judgement.verdict.as_str(),
                c.judgement.reason
            ),
            format!(
                "jq '.data.routes[] | select(.route == \"{}\")' {}",
                route.replace('"', "\\\""),
                sh(file)
            ),
        );
    }
    s
}

/// Each parity finding loses [`PARITY_PENALTY`] ([`SCRAPE_INTERVAL_PENALTY`] for intervals).
fn parity(r: &CompareReport, file: &str) -> SourceScore {
    let mut s = SourceScore::new("compare.parity", file);
    s.decided = true;
    s.failed = !r.parity.is_empty();
    s.note = format!(
        "{} between the environments' metrics",
        plural(r.parity.len() as u64, "parity gap", "parity gaps")
    );
    for p in &r.parity {
        let penalty = match p.kind {
            ParityKind::ScrapeInterval => SCRAPE_INTERVAL_PENALTY,
            _ => PARITY_PENALTY,
        };
        s.push(
            penalty,
            LossKind::Finding,
            p.subject.clone(),
            p.message.clone(),
            format!("jq '.data.parity' {}", sh(file)),
        );
    }
    s
}
