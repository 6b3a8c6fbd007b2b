//! Plain-text summaries of every command's result.

use std::fmt::Write as _;

use prodlike_results::data::sync::Origin;

use crate::profile::Profile;
use crate::sync::SyncReport;
use crate::synth::SynthReport;
use crate::verify::VerifyReport;

fn n(x: u64) -> String {
    let s = x.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// Long: the sync report's sections in the order they print.
#[allow(clippy::too_many_lines)]
pub fn sync(r: &SyncReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} {} → {}  (sample {}, seed {})",
        if r.dry_run { "Planned" } else { "Synced" },
        r.source,
        r.target,
        r.sample,
        r.seed
    );
    let _ = writeln!(
        o,
        "\n{:<24} {:>12} {:>12} {:>8} {:>10} {:>12}  masked",
        "table", "source rows", "rows", "share", "seconds", "rows/s"
    );
    for s in &r.selection {
        let copy = r.tables.iter().find(|t| t.table == s.table);
        let rows = copy.map_or(s.selected_rows, |c| c.rows);
        let _ = writeln!(
            o,
            "{:<24} {:>12} {:>12} {:>7.1}% {:>10} {:>12}  {}",
            s.table,
            n(s.source_rows),
            n(rows),
            100.0
                * if s.source_rows == 0 {
                    0.0
                } else {
                    rows as f64 / s.source_rows as f64
                },
            copy.map_or("-".into(), |c| format!("{:.2}", c.seconds)),
            copy.map_or("-".into(), |c| n(c.rows_per_sec as u64)),
            copy.map_or(String::new(), |c| c.masked_columns.join(", "))
        );
    }
    if !r.dry_run {
        let _ = writeln!(
            o,
            "\n{} rows in {:.2}s ({} rows/s)",
            n(r.total_rows),
            r.seconds,
            n(r.rows_per_sec as u64)
        );
    }
    let biased: Vec<String> = r
        .selection
        .iter()
        .filter(|s| s.pulled_as_parents > 0)
        .map(|s| {
            let by: Vec<String> = s
                .pulled_by
                .iter()
                .map(|(t, c)| format!("{t} {}", n(*c)))
                .collect();
            format!(
                "  {}: {} rows pulled in as parents (of {}); share {:.1}% vs {:.1}% intended{}",
                s.table,
                n(s.pulled_as_parents),
                by.join(", "),
                100.0 * s.actual_fraction,
                100.0 * s.intended_fraction,
                s.oversampling
                    .map_or(String::new(), |x| format!(", ×{x:.2}"))
            )
        })
        .collect();
    if !biased.is_empty() {
        let _ = writeln!(
            o,
            "\nBias from following foreign keys (parents referenced by many rows are over-represented):"
        );
        for b in biased {
            let _ = writeln!(o, "{b}");
        }
    }
    let rare: Vec<String> = r
        .selection
        .iter()
        .filter(|s| s.rare_values_added > 0)
        .map(|s| format!("{} +{}", s.table, s.rare_values_added))
        .collect();
    if !rare.is_empty() {
        let _ = writeln!(o, "Rows added so rare values survive: {}", rare.join(", "));
    }
    if r.masked.is_empty() {
        let _ = writeln!(o, "\nNo column masked (no PII detected, no rules).");
    } else {
        let _ = writeln!(
            o,
            "\nMasked columns{}:",
            r.key_fingerprint
                .as_ref()
                .map_or(String::new(), |f| format!(" (key {f})"))
        );
        for m in &r.masked {
            let why = match &m.origin {
                Origin::Rule => "rule".to_owned(),
                Origin::Detected { kind } => format!("detected {kind:?}"),
                Origin::ForeignKey { linked_to } => {
                    format!("linked to {linked_to}")
                }
            };
            let json = if m.json_paths.is_empty() {
                String::new()
            } else {
                format!(" json {}", m.json_paths.join(", "))
            };
            let _ = writeln!(
                o,
                "  {}.{:<22} {:<18} {}{}{}",
                m.table,
                m.column,
                m.transform,
                why,
                if m.unique { ", unique" } else { "" },
                json
            );
        }
    }
    if !r.kept_raw.is_empty() {
        let _ = writeln!(
            o,
            "Detected PII kept raw by `keep` rules: {}",
            r.kept_raw.join(", ")
        );
    }
    if !r.not_copied.is_empty() {
        let _ = writeln!(o, "Not copied ({}):", r.not_copied.len());
        for n in &r.not_copied {
            let _ = writeln!(o, "  {} {}: {}", n.kind, n.name, n.reason);
        }
    }
    if !r.recreated_after_swap.is_empty() {
        let _ = writeln!(
            o,
            "Recreated after the swap ({}; RENAME TABLE cannot move them): {}",
            r.recreated_after_swap.len(),
            r.recreated_after_swap.join(", ")
        );
    }
    detection_evidence(r, &mut o);
    o
}

/// Why each column was or was not taken for personal data, in counts of sampled values.
fn detection_evidence(r: &SyncReport, o: &mut String) {
    let shares = |s: &[prodlike_results::data::profile::ClassShare]| {
        s.iter()
            .map(|s| format!("{} {}/{}", s.class.replace('_', " "), s.matched, s.sampled))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let with_values: Vec<String> = r
        .detected
        .iter()
        .filter(|d| !d.shares.is_empty())
        .map(|d| format!("  {}.{}: {}", d.table, d.column, shares(&d.shares)))
        .collect();
    if !with_values.is_empty() {
        let _ = writeln!(o, "\nDetection evidence (sampled values per class):");
        for l in with_values {
            let _ = writeln!(o, "{l}");
        }
    }
    if !r.vetoed.is_empty() {
        let _ = writeln!(o, "\nNamed like people, but the values are not (kept):");
        for v in &r.vetoed {
            let _ = writeln!(
                o,
                "  {}.{}: {} values sampled{}",
                v.table,
                v.column,
                v.sampled,
                if v.shares.is_empty() {
                    String::new()
                } else {
                    format!("; {}", shares(&v.shares))
                }
            );
        }
    }
}

pub fn profile(p: &Profile) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Profile of {}: {} tables, {} foreign keys",
        p.source,
        p.tables.len(),
        p.fan_out.len()
    );
    for t in &p.tables {
        let _ = writeln!(
            o,
            "\n{} ({} rows{})",
            t.name,
            n(t.rows),
            if t.profiled_fraction < 1.0 {
                format!(", {:.1}% read", 100.0 * t.profiled_fraction)
            } else {
                String::new()
            }
        );
        for c in &t.columns {
            let mut detail = String::new();
            if let Some(k) = c.pii {
                let _ = write!(detail, "PII {k:?}");
            } else if c.frequencies_complete && c.frequencies.len() <= 8 {
                let total: u64 = c.frequencies.iter().map(|f| f.count).sum();
                let parts: Vec<String> = c
                    .frequencies
                    .iter()
                    .map(|f| {
                        format!(
                            "{} {:.1}%",
                            f.value,
                            100.0 * f.count as f64 / total.max(1) as f64
                        )
                    })
                    .collect();
                detail = parts.join(", ");
            } else if c.percentiles.len() == 101 {
                let _ = write!(
                    detail,
                    "p1 {:.4} · p50 {:.4} · p99 {:.4}",
                    c.percentiles[1], c.percentiles[50], c.percentiles[99]
                );
            } else if let Some(s) = c.shapes.first() {
                let _ = write!(detail, "shape {}", s.value);
            }
            let _ = writeln!(
                o,
                "  {:<24} {:<12} nulls {:>5.1}%  distinct {:>9}  {}",
                c.name,
                format!("{:?}", c.kind).to_lowercase(),
                100.0 * c.null_fraction,
                n(c.distinct),
                detail
            );
        }
    }
    if !p.fan_out.is_empty() {
        let _ = writeln!(o, "\nForeign-key fan-out (children per parent):");
        for f in &p.fan_out {
            let _ = writeln!(
                o,
                "  {}.{:?} → {}: mean {:.2}, p50 {:.0}, p99 {:.0}, max {}, parents without children {:.1}%",
                f.child,
                f.columns,
                f.parent,
                f.mean,
                f.percentiles.get(50).copied().unwrap_or(0.0),
                f.percentiles.get(99).copied().unwrap_or(0.0),
                f.max,
                100.0 * (1.0 - f.parents_referenced as f64 / f.parent_rows.max(1) as f64)
            );
        }
    }
    let pii: Vec<String> = p
        .pii
        .columns
        .iter()
        .map(|d| format!("{}.{} ({:?})", d.table, d.column, d.kind))
        .chain(
            p.pii
                .json
                .iter()
                .map(|d| format!("{}.{}{} ({:?})", d.table, d.column, d.path, d.kind)),
        )
        .collect();
    let _ = writeln!(
        o,
        "\nPII detected: {}",
        if pii.is_empty() {
            "none".into()
        } else {
            pii.join(", ")
        }
    );
    o
}

pub fn synth(r: &SynthReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Synthesised into {} (scale {}, seed {})\n",
        r.target, r.scale, r.seed
    );
    let _ = writeln!(
        o,
        "{:<24} {:>12} {:>12} {:>10} {:>12}",
        "table", "profiled", "rows", "seconds", "rows/s"
    );
    for t in &r.tables {
        let _ = writeln!(
            o,
            "{:<24} {:>12} {:>12} {:>10.2} {:>12}",
            t.table,
            n(t.profiled_rows),
            n(t.rows),
            t.seconds,
            n(t.rows_per_sec as u64)
        );
    }
    let _ = writeln!(
        o,
        "\n{} rows in {:.2}s ({} rows/s)",
        n(r.total_rows),
        r.seconds,
        n(r.rows_per_sec as u64)
    );
    o
}

/// On what a verify against a snapshot stood, and what it could not compare.
fn verify_snapshot_basis(o: &mut String, r: &VerifyReport) {
    let Some(s) = &r.snapshot else {
        return;
    };
    let _ = writeln!(
        o,
        "\nAgainst snapshot {} (dumped {}), not the source: distributions from at most {} rows per table on each side",
        s.snapshot,
        s.created,
        n(s.profile_rows)
    );
    let _ = writeln!(o, "  schema not compared: {}", s.schema_not_compared);
    if !s.distribution_coarsened.is_empty() {
        let _ = writeln!(
            o,
            "  masked numbers compared through coarsened percentiles (the snapshot holds no masked value): {}",
            s.distribution_coarsened.join(", ")
        );
    }
    for c in &s.distribution_not_compared {
        let _ = writeln!(o, "  distribution not compared, NULLs only: {c}");
    }
    for c in &s.leak_not_checked {
        let _ = writeln!(
            o,
            "  leaks not checked in {}.{}: {}",
            c.table, c.column, c.reason
        );
    }
}

/// The fidelity section of verify's summary: the score, the worst columns, the largest KS and
/// TVD against their tolerances.
fn verify_fidelity(o: &mut String, r: &VerifyReport) {
    let _ = writeln!(
        o,
        "\nFidelity score {:.4} (threshold {:.2}) over {} columns; worst:",
        r.score,
        r.min_score,
        r.columns.len()
    );
    for w in &r.worst {
        let _ = writeln!(o, "  {w}");
    }
    let over: Vec<String> = r
        .columns
        .iter()
        .filter(|c| c.over_tolerance)
        .map(|c| format!("{}.{} {} {:.3}", c.table, c.column, c.metric, c.statistic))
        .collect();
    let max_ks = r
        .columns
        .iter()
        .filter(|c| c.metric == "ks")
        .map(|c| c.statistic)
        .fold(0.0, f64::max);
    let max_tvd = r
        .columns
        .iter()
        .filter(|c| c.metric == "tvd")
        .map(|c| c.statistic)
        .fold(0.0, f64::max);
    let _ = writeln!(
        o,
        "  max KS {max_ks:.4} (tolerance {}), max TVD {max_tvd:.4} (tolerance {}){}",
        r.max_ks,
        r.max_tvd,
        if over.is_empty() {
            String::new()
        } else {
            format!("; over: {}", over.join(", "))
        }
    );
}

/// The fan-out section of verify's summary: the keys compared, with their childless shares and
/// KS distances, and how many were reported only.
fn verify_fan_out(o: &mut String, r: &VerifyReport) {
    let compared: Vec<_> = r.fan_out.iter().filter(|f| f.compared).collect();
    let _ = writeln!(
        o,
        "\nFan-out: {} foreign keys compared, {} reported only (kept whole per parent by design or not)",
        compared.len(),
        r.fan_out.len() - compared.len()
    );
    for f in compared {
        let _ = writeln!(
            o,
            "  {}({}) → {}: without children {:.1}% → {:.1}% (±{:.1}%), mean {:.2} → {:.2}, KS {:.3} (≤ {:.3}){}",
            f.child,
            f.columns.join(", "),
            f.parent,
            f.source_childless * 100.0,
            f.target_childless * 100.0,
            f.childless_tolerance * 100.0,
            f.source_mean,
            f.target_mean,
            f.ks,
            f.ks_tolerance,
            if f.over_tolerance { "  OVER" } else { "" }
        );
    }
}

pub fn verify(r: &VerifyReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Verify {} against {}", r.target, r.source);
    let orphans: u64 = r.integrity.orphans.iter().map(|x| x.orphans).sum();
    let dups: u64 = r.integrity.unique.iter().map(|x| x.duplicate_values).sum();
    let nulls: u64 = r
        .integrity
        .not_null_violations
        .iter()
        .map(|x| x.nulls)
        .sum();
    let _ = writeln!(
        o,
        "\nIntegrity: {} checks, {orphans} orphans, {dups} duplicate keys, {nulls} NULLs in NOT NULL columns",
        r.integrity.checks
    );
    for x in r.integrity.orphans.iter().filter(|x| x.orphans > 0) {
        let _ = writeln!(
            o,
            "  {}.{:?} → {}: {} orphans",
            x.table, x.columns, x.parent, x.orphans
        );
    }
    let _ = writeln!(o, "\nRow counts:");
    for c in &r.row_counts {
        let _ = writeln!(
            o,
            "  {:<24} {:>12} → {:>12}  ratio {:.4}{}{}",
            c.table,
            n(c.source_rows),
            n(c.target_rows),
            c.ratio,
            c.expected_ratio
                .map_or(String::new(), |e| format!(" (intended {e:.4})")),
            if c.ok { "" } else { "  MISMATCH" }
        );
    }
    verify_fidelity(&mut o, r);
    verify_fan_out(&mut o, r);
    let _ = writeln!(
        o,
        "\nLeak check: {} masked columns checked, {} leaked values",
        r.leaks.columns.len(),
        r.leaks.leaked_values
    );
    for c in r.leaks.columns.iter().filter(|c| c.leaked > 0) {
        let _ = writeln!(
            o,
            "  LEAK {}.{} ({}): {} values",
            c.table, c.column, c.class, c.leaked
        );
    }
    for c in r.leaks.cross_column.iter().filter(|c| c.leaked) {
        let _ = writeln!(
            o,
            "  LEAK {}.{}: {} source PII values found{}",
            c.table,
            c.column,
            c.hits,
            c.row_leaks
                .map_or(String::new(), |n| format!(", {n} on their own row"))
        );
    }
    if let (Some(rows), Some(chance)) = (r.leaks.row_leaks, r.leaks.class_matches) {
        let _ = writeln!(
            o,
            "  compared row by row: {rows} values or pieces left on their own row; {chance} chance matches with another row's value of the same class (not counted)"
        );
    }
    if !r.schema_checked.is_empty() {
        let _ = writeln!(o, "schema compared: {}", r.schema_checked);
    }
    for d in &r.schema_differences {
        let _ = writeln!(o, "  SCHEMA {} {}: {}", d.kind, d.name, d.difference);
    }
    verify_snapshot_basis(&mut o, r);
    let _ = writeln!(
        o,
        "\n{}",
        if r.passed {
            "PASSED".to_owned()
        } else {
            format!("FAILED: {}", r.failures.join("; "))
        }
    );
    o
}

/// `prodlike data dump`: the sync's summary, then the snapshot's files.
pub fn dump(r: &crate::snapshot::dump::DumpReport) -> String {
    let mut o = sync(&r.sync);
    let _ = writeln!(
        o,
        "\nSnapshot {} ({}): {} rows, {} bytes on disk ({} bytes of COPY), snapshot key {}, {:.1}s",
        r.snapshot,
        r.format,
        n(r.total_rows),
        n(r.bytes),
        n(r.copy_bytes),
        r.snapshot_key_fingerprint,
        r.seconds
    );
    let _ = writeln!(
        o,
        "  leak check after restore: {} columns hashed by row",
        r.leak_checked.len()
    );
    for c in &r.leak_not_checked {
        let _ = writeln!(o, "  not checked: {}.{}: {}", c.table, c.column, c.reason);
    }
    o
}

/// `prodlike data restore`: tables, row counts against the manifest, leaks, not copied.
pub fn restore(r: &crate::snapshot::restore::RestoreReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Restored {} → {}  (dumped from {} at {}, snapshot key {})",
        r.snapshot, r.target, r.source, r.created, r.snapshot_key_fingerprint
    );
    for t in &r.tables {
        let mark = if t.rows == t.manifest_rows {
            ""
        } else {
            "  ≠ manifest"
        };
        let _ = writeln!(
            o,
            "  {:<32} {:>12} rows  {:>6.1}s{mark}",
            t.table,
            n(t.rows),
            t.seconds
        );
    }
    let _ = writeln!(
        o,
        "Row counts {} the manifest's; {} rows leaked in {} checked columns",
        if r.row_counts_match {
            "equal"
        } else {
            "DIFFER from"
        },
        n(r.leaked_rows),
        r.leaks.len()
    );
    if !r.swapped {
        let _ = writeln!(
            o,
            "NOT SWAPPED: the loaded rows leak source values, so {} keeps what it had",
            r.target
        );
    }
    for l in r.leaks.iter().filter(|l| l.leaked_rows > 0) {
        let _ = writeln!(
            o,
            "  LEAK {}.{}: {} of {} rows keep their source value",
            l.table,
            l.column,
            n(l.leaked_rows),
            n(l.rows_checked)
        );
    }
    for c in &r.leak_not_checked {
        let _ = writeln!(o, "  not checked: {}.{}: {}", c.table, c.column, c.reason);
    }
    for c in &r.not_copied {
        let _ = writeln!(o, "  not copied: {} {}: {}", c.kind, c.name, c.reason);
    }
    let _ = writeln!(
        o,
        "{} rows in {:.1}s ({:.0} rows/s)",
        n(r.total_rows),
        r.seconds,
        r.rows_per_sec
    );
    o
}
