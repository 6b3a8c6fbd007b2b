//! The report: judged comparisons, the source and the parity findings put together into
//! prodlike-results' `prodlike.compare/1` payload, counted, and wrapped in the envelope.
use prodlike_report::CommandResult;
use prodlike_results::compare::{
    CompareReport, Counts, ParityFinding, RouteComparison, SCHEMA, Settings, Source, Verdict,
};

use crate::judge::Judged;
use crate::spec::CompareSpec;

/// The payload of one comparison.
pub fn build(
    source: Source,
    spec: &CompareSpec,
    parity: Vec<ParityFinding>,
    judged: Judged,
) -> CompareReport {
    let m = &spec.margins;
    let settings = Settings {
        alpha: spec.alpha,
        error_ratio_margin: m.error_ratio_relative.unwrap_or(m.error_ratio),
        error_ratio_relative: m.error_ratio_relative.is_some(),
        p50_margin: m.p50,
        p90_margin: m.p90,
        p99_margin: m.p99,
        traffic_shape_margin: m.traffic_shape,
        expected_ratio: spec.traffic.expected_ratio,
        volume_margin: m.volume,
        critical_routes: spec.critical_routes.clone(),
        critical_metrics: spec.critical_metrics.clone(),
    };
    let mut report = CompareReport {
        source,
        settings,
        parity,
        routes: judged.routes,
        traffic: judged.traffic,
        refused: judged.refused,
        correction: judged.correction,
        score: judged.score,
        counts: Counts::default(),
        missing_in_staging: Vec::new(),
    };
    report.missing_in_staging = missing_in_staging(&report.routes, spec.alpha);
    report.counts = count(&report);
    report
}

/// Routes production served and staging did not, where staging's overall share of the traffic
/// says it should have seen at least ln(1/α) of them: the chance of zero by bad luck (a Poisson
/// count with that mean) is then at most α. Rarer routes stay `no_data`: absence proves nothing.
fn missing_in_staging(routes: &[RouteComparison], alpha: f64) -> Vec<String> {
    let production: u64 = routes.iter().map(|r| r.production_requests).sum();
    let staging: u64 = routes.iter().map(|r| r.staging_requests).sum();
    if production == 0 || staging == 0 || !(alpha > 0.0 && alpha < 1.0) {
        // No staging traffic at all is every verdict's `no_data`, said there.
        return Vec::new();
    }
    #[allow(clippy::cast_precision_loss)] // request counts far below 2^52
    let share = staging as f64 / production as f64;
    let needed = (1.0 / alpha).ln();
    routes
        .iter()
        .filter(|r| r.staging_requests == 0)
        .filter(|r| {
            #[allow(clippy::cast_precision_loss)]
            let expected = r.production_requests as f64 * share;
            expected >= needed
        })
        .map(|r| r.route.clone())
        .collect()
}

fn count(r: &CompareReport) -> Counts {
    let mut c = Counts {
        parity: r.parity.len(),
        refused: r.refused.len(),
        missing_in_staging: r.missing_in_staging.len(),
        ..Counts::default()
    };
    for comparison in r.comparisons() {
        match comparison.judgement.verdict {
            Verdict::Pass => c.pass += 1,
            Verdict::Diverged => c.diverged += 1,
            Verdict::Inconclusive => c.inconclusive += 1,
            Verdict::NoData => c.no_data += 1,
        }
    }
    c
}

/// The `--out` envelope of a report.
pub fn envelope(
    report: CompareReport,
    command: &str,
    started_at: String,
) -> CommandResult<CompareReport> {
    let outcome = report.outcome();
    let summary = report.summary();
    CommandResult::new(SCHEMA, command, started_at, outcome, summary, report)
}
