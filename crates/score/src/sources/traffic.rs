//! Traffic: shadow's mismatches per route, and load's A/B comparison per request name.
use prodlike_results::load::CompareResult;
use prodlike_results::report::LossKind;
use prodlike_results::shadow::ShadowReport;

use super::{SourceScore, plural, sh};

/// Shadow: a route loses 100 × (its mismatches and staging failures) / (every compared
/// exchange and staging failure), so the source's score is 100 × the share of mirrored
/// exchanges staging answered as production did.
pub fn shadow(r: &ShadowReport, file: &str) -> SourceScore {
    let mut s = SourceScore::new("shadow", file);
    let bad = |c: u64, f: u64| c.saturating_add(f);
    let denom: u64 = r
        .routes
        .iter()
        .map(|x| bad(x.compared, x.staging_failures))
        .sum();
    s.decided = denom > 0;
    let not_compared = r.routes.iter().filter(|x| x.compared == 0).count() as u64;
    s.note = format!(
        "{} compared on {}",
        plural(denom, "exchange", "exchanges"),
        plural(r.routes.len() as u64, "route", "routes")
    );
    if not_compared > 0 {
        s.note.push_str(&format!(
            " ({} with nothing compared)",
            plural(not_compared, "route", "routes")
        ));
    }
    if denom == 0 {
        return s;
    }
    for route in &r.routes {
        let lost = bad(route.mismatched, route.staging_failures);
        if lost == 0 {
            continue;
        }
        s.failed = true;
        let mut parts = Vec::new();
        for (n, what) in [
            (route.status_diffs, "status"),
            (route.header_diffs, "headers"),
            (route.body_diffs, "body"),
            (route.staging_failures, "staging failed"),
        ] {
            if n > 0 {
                parts.push(format!("{what} {n}"));
            }
        }
        let top_path = route
            .differing_paths
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(p, _)| format!(", most often at {p}"))
            .unwrap_or_default();
        let seen = bad(route.compared, route.staging_failures);
        s.push(
            100.0 * lost as f64 / denom as f64,
            LossKind::Finding,
            route.route.clone(),
            format!(
                "{lost} of {seen} mirrored responses differed ({}){top_path}",
                parts.join(", ")
            ),
            format!(
                "jq '.data.routes[] | select(.route == \"{}\") | .examples' {}",
                route.route.replace('"', "\\\""),
                sh(file)
            ),
        );
    }
    s
}

/// Load's comparison: each request name carries 100 / names points; a diverged one loses them
/// as a finding, an inconclusive or no-data one as undecided (never counted as a pass).
pub fn load_compare(c: &CompareResult, file: &str) -> SourceScore {
    let mut s = SourceScore::new("load.compare", file);
    let n = c.routes.len();
    s.note = format!(
        "{} compared, {} against {}",
        plural(n as u64, "request name", "request names"),
        c.target_b,
        c.target_a
    );
    for route in &c.routes {
        let share = 100.0 / n as f64;
        let Some(kind) = s.judged(route.verdict) else {
            continue;
        };
        let word = route.verdict.as_str();
        let why = if route.why.is_empty() {
            word.to_owned()
        } else {
            format!("{word}: {}", route.why.join("; "))
        };
        s.push(
            share,
            kind,
            route.route.clone(),
            why,
            format!(
                "jq '.data.compare.routes[] | select(.route == \"{}\")' {}",
                route.route.replace('"', "\\\""),
                sh(file)
            ),
        );
    }
    s
}
