//! Data: `prodlike data verify`'s fidelity, integrity, leaks, fan-out and schema differences.
use prodlike_results::data::plans::PlansReport;
use prodlike_results::data::verify::VerifyReport;
use prodlike_results::report::LossKind;

use super::{SourceScore, sh};

/// Penalty of one integrity check that found violations (orphans, duplicates, NULLs).
pub const INTEGRITY_PENALTY: f64 = 10.0;
/// Penalty of a table whose row count is off what the sync promised.
pub const ROW_COUNT_PENALTY: f64 = 10.0;
/// Penalty of a column whose values leaked: the whole component.
pub const LEAK_PENALTY: f64 = 100.0;
/// Penalty of a foreign key whose fan-out is over tolerance.
pub const FAN_OUT_PENALTY: f64 = 5.0;
/// Penalty of one schema object that differs.
pub const SCHEMA_DIFFERENCE_PENALTY: f64 = 5.0;

/// Penalty of a query whose plan differs from production's (no rule accepting it).
pub const PLAN_PENALTY: f64 = 10.0;

/// plans: each different plan no rule accepts is a finding; a query that could not be compared
/// is undecided (never a pass).
pub fn plans(r: &PlansReport, file: &str) -> SourceScore {
    let mut s = SourceScore::new("data.plans", file);
    let cmd = format!(
        "prodlike data plans --source {} --target {}",
        sh(&r.source),
        sh(&r.target)
    );
    s.note = format!(
        "{} queries: {} same plan, {} same shape scaled, {} different, {} not comparable",
        r.queries.len(),
        r.counts.same_plan,
        r.counts.same_shape_scaled,
        r.counts.different_plan,
        r.counts.not_comparable
    );
    for q in &r.queries {
        match q.verdict.as_str() {
            "same_plan" | "same_shape_scaled" => s.decided = true,
            "different_plan" if q.accepted_by.is_some() => s.decided = true,
            "different_plan" => {
                s.decided = true;
                s.failed = true;
                s.push(
                    PLAN_PENALTY,
                    LossKind::Finding,
                    format!("query {}", q.name),
                    q.why.clone(),
                    cmd.clone(),
                );
            }
            _ => s.push(
                0.0,
                LossKind::Undecided,
                format!("query {}", q.name),
                q.why.clone(),
                cmd.clone(),
            ),
        }
    }
    s
}

/// verify: each column loses 100 × (1 − its score) / columns (so the distributions together
/// lose 100 × (1 − verify's mean score)); every failed check loses its constant above.
pub fn verify(r: &VerifyReport, file: &str) -> SourceScore {
    let mut s = SourceScore::new("data.verify", file);
    let cmd = format!(
        "prodlike data verify --source {} --target {}",
        sh(&r.source),
        sh(&r.target)
    );
    s.decided = !r.columns.is_empty() || r.integrity.checks > 0 || !r.row_counts.is_empty();
    s.failed = !r.passed;
    s.note = format!(
        "{} columns compared (mean score {:.3}), {} integrity checks, {} leaked values",
        r.columns.len(),
        r.score,
        r.integrity.checks,
        r.leaks.leaked_values
    );
    for leak in r.leaks.columns.iter().filter(|l| l.leaked > 0) {
        s.push(
            LEAK_PENALTY,
            LossKind::Finding,
            format!("{}.{}", leak.table, leak.column),
            format!(
                "{} {} values reached staging unmasked",
                leak.leaked, leak.class
            ),
            cmd.clone(),
        );
    }
    integrity(&mut s, r, &cmd);
    let n = r.columns.len() as f64;
    for c in &r.columns {
        let lost = 100.0 * (1.0 - c.score.clamp(0.0, 1.0)) / n;
        if lost <= 0.0 {
            continue;
        }
        let tol = if c.over_tolerance {
            ", over tolerance"
        } else {
            ""
        };
        s.push(
            lost,
            LossKind::Finding,
            format!("{}.{}", c.table, c.column),
            format!(
                "distribution differs: {} {:.3}, NULL rate {:.3} vs {:.3}{tol}",
                c.metric, c.statistic, c.null_rate_target, c.null_rate_source
            ),
            cmd.clone(),
        );
    }
    for f in r.fan_out.iter().filter(|f| f.over_tolerance) {
        s.push(
            FAN_OUT_PENALTY,
            LossKind::Finding,
            format!("{} → {}", f.child, f.parent),
            format!(
                "children per parent differ: mean {:.2} vs {:.2}, KS {:.3}",
                f.target_mean, f.source_mean, f.ks
            ),
            cmd.clone(),
        );
    }
    for d in &r.schema_differences {
        s.push(
            SCHEMA_DIFFERENCE_PENALTY,
            LossKind::Finding,
            format!("{} {}", d.kind, d.name),
            d.difference.clone(),
            cmd.clone(),
        );
    }
    s
}

fn integrity(s: &mut SourceScore, r: &VerifyReport, cmd: &str) {
    for o in r.integrity.orphans.iter().filter(|o| o.orphans > 0) {
        s.push(
            INTEGRITY_PENALTY,
            LossKind::Finding,
            format!("{}({})", o.table, o.columns.join(", ")),
            format!("{} rows point at no row of {}", o.orphans, o.parent),
            cmd,
        );
    }
    for u in r.integrity.unique.iter().filter(|u| u.duplicate_values > 0) {
        s.push(
            INTEGRITY_PENALTY,
            LossKind::Finding,
            format!("{}({})", u.table, u.columns.join(", ")),
            format!("{} duplicated values in a unique key", u.duplicate_values),
            cmd,
        );
    }
    for v in &r.integrity.not_null_violations {
        s.push(
            INTEGRITY_PENALTY,
            LossKind::Finding,
            format!("{}.{}", v.table, v.column),
            format!("{} NULLs in a NOT NULL column", v.nulls),
            cmd,
        );
    }
    for rc in r.row_counts.iter().filter(|rc| !rc.ok) {
        let expected = rc
            .expected_rows
            .map(|e| format!("{e}"))
            .or(rc.expected_ratio.map(|x| format!("ratio {x}")))
            .unwrap_or_else(|| "the source's".into());
        s.push(
            ROW_COUNT_PENALTY,
            LossKind::Finding,
            rc.table.clone(),
            format!("{} rows, expected {expected}", rc.target_rows),
            cmd,
        );
    }
}
