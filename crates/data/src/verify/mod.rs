//! `prodlike data verify`: is the target faithful to the source, intact, and free of PII?
//!
//! - **Integrity** of the target against the source's constraints: foreign-key orphans, unique
//!   and not-null violations (checked with SQL, whatever constraints the target itself has).
//! - **Row counts**: target/source ratios against what the sync intended.
//! - **Fidelity** per column: KS for numbers and dates, total variation distance for categories
//!   (shapes for free text), null-rate delta; a score of 1 − worst metric per column, averaged,
//!   naming the worst columns. Keys are left out (their values are identities, not data).
//! - **Fan-out** per foreign key (`fanout.rs`): children per parent and the share of parents
//!   without children against the source's, held to a tolerance along the keys the sync keeps
//!   whole per parent.
//! - **Leaks**: no identifying value stays on its row, and no personal piece of any text column
//!   (an email, a phone, a real name inside free text) stays on its row; matches with another
//!   row's value of the same class are chance and only reported; quasi-identifiers (first
//!   names, cities, birth dates) must not keep their own value more often than chance.

mod fanout;
mod integrity;
mod kept_rows;
mod leak;
mod schema;
pub mod snapshot;
pub mod stored;

use std::collections::HashMap;

use crate::error::Result;
use crate::maskplan::{self, MaskPlan};
use crate::profile::column::{ColumnStats, ColumnSummary};
use crate::rules::Rules;
use crate::schema::{Kind, Table};
use crate::source::{Scan, Source};
use crate::target::copy_columns;
use crate::url::DbUrl;
use crate::value::{Value, key_hash};

pub use fanout::{ALPHA, CHILDLESS_MARGIN, FanOutCheck, KS_MARGIN};
pub use integrity::{Integrity, NotNullCheck, OrphanCheck, UniqueCheck};
pub use leak::{CrossColumnHit, LeakCheck, LeakColumn};
pub use schema::{Declared, SchemaDifference};

/// What the target was meant to hold.
#[derive(Debug, Clone, Default)]
pub enum Expected {
    /// Nothing known: ratios are reported only.
    #[default]
    Unknown,
    /// Sampled at this share of root rows.
    Fraction(f64),
    /// Exact rows per table, from a sync result.
    Rows(HashMap<String, u64>),
}

/// Verification settings.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub source: DbUrl,
    pub target: DbUrl,
    pub namespace: String,
    pub rules: Rules,
    pub rules_file: String,
    pub expected: Expected,
    /// Exit 1 below this score.
    pub min_score: f64,
    pub max_ks: f64,
    pub max_tvd: f64,
    /// Read at most about this many rows per table for distributions.
    pub max_rows: Option<u64>,
    /// Synthetic target: no row of it is derived from a source row, so the same-row check of
    /// quasi-identifiers does not apply.
    pub synthetic: bool,
    /// What the sync declared not copied (its result's `not_copied`, as kind and name): the
    /// schema check leaves these out. `None`: recomputed from the source, as the sync would.
    pub not_copied: Option<schema::Declared>,
}

// The report is the published result (prodlike.data.verify/1), shared with its readers.
pub use prodlike_results::data::verify::{ColumnFidelity, RowCount, VerifyReport};

fn tvd(a: &HashMap<String, u64>, b: &HashMap<String, u64>) -> f64 {
    prodlike_stats::total_variation_distance(a, b)
}

/// Runs every check.
// Long: every check in the order the report lists them.
#[allow(clippy::too_many_lines)]
pub async fn verify(opts: &VerifyOptions) -> Result<VerifyReport> {
    let source = Source::open(&opts.source, &opts.namespace).await?;
    let target = Source::open(&opts.target, &opts.namespace).await?;
    let schema = source.schema().await?;
    let tschema = target.schema().await?;
    opts.rules
        .validate(&schema, &opts.rules_file, &source.shown())?;
    let tables: Vec<&Table> = schema.tables.iter().collect();
    for t in &tables {
        tschema.require_table(&t.name, &target.shown())?;
    }
    let detections = maskplan::detect(&source, &tables).await?;
    let mplan = maskplan::plan(
        &schema,
        &tables,
        &opts.rules,
        &detections,
        false,
        &opts.rules_file,
    )?;

    let integrity = integrity::check(&target, &schema, &tschema).await?;
    let (schema_differences, schema_checked) = schema::check(
        &source,
        &target,
        &schema,
        &opts.rules.grants.map,
        opts.not_copied.as_ref(),
    )
    .await?;

    let mut row_counts = Vec::new();
    let mut source_counts = HashMap::new();
    for t in &tables {
        let s = source.count(&t.name).await?;
        let g = target.count(&t.name).await?;
        source_counts.insert(t.name.clone(), s);
        row_counts.push(row_count(&t.name, s, g, &opts.expected));
    }

    let target_counts: HashMap<String, u64> = row_counts
        .iter()
        .map(|r| (r.table.clone(), r.target_rows))
        .collect();
    let fan_out = fanout::check(
        &source,
        &target,
        &schema,
        &opts.rules,
        &opts.expected,
        &fanout::Counts {
            source: &source_counts,
            target: &target_counts,
        },
        opts.synthetic,
    )
    .await?;

    let mut leak = leak::LeakScan::new(&schema, &mplan, &detections);
    let mut columns = Vec::new();
    let mut skipped_keys = Vec::new();
    // Every source table first: the leak check must know all source values before it reads
    // any target row.
    let mut source_stats = Vec::new();
    for t in &tables {
        let cols = copy_columns(t);
        let rows_s = source_counts.get(&t.name).copied().unwrap_or(0);
        source_stats.push(
            scan_stats(
                &source,
                t,
                &cols,
                opts.max_rows,
                rows_s,
                Some(&mut leak),
                Side::Source,
            )
            .await?,
        );
    }
    for (t, s_stats) in tables.iter().zip(&source_stats) {
        let cols = copy_columns(t);
        let rows_t = row_counts
            .iter()
            .find(|r| r.table == t.name)
            .map_or(0, |r| r.target_rows);
        let t_stats = scan_stats(
            &target,
            t,
            &cols,
            opts.max_rows,
            rows_t,
            Some(&mut leak),
            Side::Target,
        )
        .await?;
        for (i, c) in cols.iter().enumerate() {
            if t.is_key_column(c) || t.is_unique_member(c) {
                skipped_keys.push(format!("{}.{c}", t.name));
                continue;
            }
            let masked = is_masked(&mplan, &t.name, c);
            columns.push(fidelity(
                Tolerances {
                    max_ks: opts.max_ks,
                    max_tvd: opts.max_tvd,
                },
                &t.name,
                c,
                masked,
                &s_stats[i].summary(true),
                &t_stats[i].summary(true),
            ));
        }
    }
    let leaks = leak.finish(opts.synthetic);
    Ok(conclude(
        Measured {
            source: source.shown(),
            target: target.shown(),
            integrity,
            row_counts,
            columns,
            fan_out,
            skipped_keys,
            leaks,
            schema_differences,
            schema_checked: schema_checked.to_owned(),
            snapshot: None,
        },
        opts.min_score,
        Tolerances {
            max_ks: opts.max_ks,
            max_tvd: opts.max_tvd,
        },
    ))
}

/// One table's rows on both sides, against what the sync meant to copy.
pub(crate) fn row_count(table: &str, s: u64, g: u64, expected: &Expected) -> RowCount {
    let ratio = if s == 0 { 0.0 } else { g as f64 / s as f64 };
    let (expected_ratio, expected_rows, ok) = match expected {
        Expected::Unknown => (None, None, true),
        Expected::Fraction(f) => (Some(*f), None, true),
        Expected::Rows(m) => {
            let e = m.get(table).copied();
            (
                e.map(|e| if s == 0 { 0.0 } else { e as f64 / s as f64 }),
                e,
                e.is_none_or(|e| e == g),
            )
        }
    };
    RowCount {
        table: table.to_owned(),
        source_rows: s,
        target_rows: g,
        ratio,
        expected_ratio,
        expected_rows,
        ok,
    }
}

/// What a verify measured, before its verdict.
pub(crate) struct Measured {
    pub source: String,
    pub target: String,
    pub integrity: Integrity,
    pub row_counts: Vec<RowCount>,
    pub columns: Vec<ColumnFidelity>,
    pub fan_out: Vec<FanOutCheck>,
    pub skipped_keys: Vec<String>,
    pub leaks: LeakCheck,
    pub schema_differences: Vec<SchemaDifference>,
    pub schema_checked: String,
    pub snapshot: Option<prodlike_results::data::verify::VerifiedSnapshot>,
}

/// The five worst columns, worst first (`users.plan: tvd 0.031`, with the NULL rate's change
/// when it is the larger).
fn worst_columns(columns: &[ColumnFidelity]) -> Vec<String> {
    let mut worst: Vec<&ColumnFidelity> = columns.iter().collect();
    worst.sort_by(|a, b| a.score.total_cmp(&b.score));
    worst
        .iter()
        .take(5)
        .map(|c| {
            let mut s = format!("{}.{}: {} {:.3}", c.table, c.column, c.metric, c.statistic);
            if c.null_delta.abs() > c.statistic {
                s.push_str(&format!(", null rate {:+.3}", c.null_delta));
            }
            s
        })
        .collect()
}

/// The score, the worst columns and every failure of what was measured.
pub(crate) fn conclude(m: Measured, min_score: f64, tol: Tolerances) -> VerifyReport {
    let Measured {
        source,
        target,
        integrity,
        row_counts,
        columns,
        fan_out,
        skipped_keys,
        leaks,
        schema_differences,
        schema_checked,
        snapshot,
    } = m;

    let scored: Vec<&ColumnFidelity> = columns.iter().collect();
    let score = if scored.is_empty() {
        1.0
    } else {
        scored.iter().map(|c| c.score).sum::<f64>() / scored.len() as f64
    };
    let worst = worst_columns(&columns);
    let mut failures = Vec::new();
    if integrity.total_violations > 0 {
        failures.push(format!(
            "{} integrity violations (orphans, duplicates, NULLs in NOT NULL columns)",
            integrity.total_violations
        ));
    }
    if !schema_differences.is_empty() {
        let named: Vec<String> = schema_differences
            .iter()
            .map(|d| format!("{} {}: {}", d.kind, d.name, d.difference))
            .collect();
        failures.push(format!(
            "the target's schema differs from the source's: {}",
            named.join("; ")
        ));
    }
    if leaks.leaked_values > 0 {
        failures.push(format!(
            "{} PII values leaked into the target",
            leaks.leaked_values
        ));
    }
    if score < min_score {
        failures.push(format!(
            "fidelity score {score:.3} is below {:.3}; worst: {}",
            min_score,
            worst.join("; ")
        ));
    }
    failures.extend(fanout::failure(&fan_out));
    let bad_counts: Vec<String> = row_counts
        .iter()
        .filter(|r| !r.ok)
        .map(|r| {
            format!(
                "{} has {} rows, expected {}",
                r.table,
                r.target_rows,
                r.expected_rows.unwrap_or(0)
            )
        })
        .collect();
    if !bad_counts.is_empty() {
        failures.push(format!(
            "row counts differ from the sync result: {}",
            bad_counts.join(", ")
        ));
    }
    VerifyReport {
        source,
        target,
        integrity,
        row_counts,
        columns,
        fan_out,
        skipped_keys,
        score,
        min_score,
        max_ks: tol.max_ks,
        max_tvd: tol.max_tvd,
        worst,
        leaks,
        passed: failures.is_empty(),
        failures,
        schema_differences,
        schema_checked,
        snapshot,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Source,
    Target,
}

pub(crate) async fn scan_stats(
    db: &Source,
    t: &Table,
    cols: &[String],
    max_rows: Option<u64>,
    rows: u64,
    mut leak: Option<&mut leak::LeakScan>,
    side: Side,
) -> Result<Vec<ColumnStats>> {
    let fraction = match max_rows {
        Some(m) if rows > m && rows > 0 => Some(m as f64 / rows as f64),
        _ => None,
    };
    // Leak checks need every row; distributions can use a sample, so only tablesample when
    // nothing in this table is checked for leaks.
    let checks_leaks = leak.as_ref().is_some_and(|l| l.watches(&t.name));
    let scan = Scan {
        columns: cols.to_vec(),
        other_as_text: true,
        tablesample: if checks_leaks { None } else { fraction },
        ..Default::default()
    };
    let (types, mut rx) = db.scan(t, &scan).await?;
    let mut stats: Vec<ColumnStats> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            ColumnStats::for_summary(t.column(c).map_or(Kind::Text, |c| c.kind), 17 + i as u64)
        })
        .collect();
    let id_idx: Option<Vec<usize>> = t.identity().map(|id| {
        id.iter()
            .filter_map(|c| cols.iter().position(|x| x == c))
            .collect()
    });
    let keep_every = fraction.map(|f| (1.0 / f).round().max(1.0) as u64);
    let mut n = 0u64;
    while let Some(batch) = rx.recv().await {
        for row in batch? {
            n += 1;
            let vals: Vec<Value> = row
                .iter()
                .enumerate()
                .map(|(i, f)| types[i].value(f))
                .collect();
            if let Some(l) = leak.as_deref_mut() {
                let id = id_idx.as_ref().map(|ix| {
                    let r: Vec<&Value> = ix.iter().map(|&i| &vals[i]).collect();
                    key_hash(&r)
                });
                match side {
                    Side::Source => l.source_row(&t.name, cols, &vals, id),
                    Side::Target => l.target_row(&t.name, cols, &vals, id),
                }
            }
            if checks_leaks && keep_every.is_some_and(|k| n % k != 0) {
                continue;
            }
            for (i, v) in vals.iter().enumerate() {
                stats[i].add(v);
            }
        }
    }
    Ok(stats)
}

/// Whether the sync masks column `c` of `t` (its values are not the source's, so only its
/// NULL rate is compared, numbers aside).
pub(crate) fn is_masked(mplan: &MaskPlan, t: &str, c: &str) -> bool {
    mplan
        .tables
        .get(t)
        .and_then(|v| v.iter().find(|p| p.column == c))
        .is_some_and(|p| p.transform.is_some() || !p.json_rules.is_empty() || p.content.is_some())
}

/// The thresholds one column is held to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tolerances {
    pub max_ks: f64,
    pub max_tvd: f64,
}

/// One column, source `s` against target `g`.
pub(crate) fn fidelity(
    tol: Tolerances,
    table: &str,
    c: &str,
    masked: bool,
    s: &ColumnSummary,
    g: &ColumnSummary,
) -> ColumnFidelity {
    let null_delta = g.null_fraction() - s.null_fraction();
    let kind = s.kind;
    let count = |x: &ColumnSummary| x.counts.as_ref().map_or(0, HashMap::len);
    let (metric, stat) = if s.non_null() == 0
        || g.non_null() == 0
        || kind == Kind::Json
        || (masked && !kind.is_numeric())
    {
        ("null_rate", 0.0)
    } else if let (true, true, Some(sc), Some(gc)) =
        (s.categorical(), g.categorical(), &s.counts, &g.counts)
        && !(kind.is_numeric() && count(s) > 50)
    {
        ("tvd", tvd(sc, gc))
    } else if kind.is_numeric() && !s.numbers.is_empty() && !g.numbers.is_empty() {
        let ks = prodlike_stats::ks_two_sample(&s.numbers, &g.numbers)
            .map(|k| k.statistic)
            .unwrap_or(1.0);
        ("ks", ks)
    } else if kind.is_textual() && !s.shapes.is_empty() {
        ("shape_tvd", tvd(&s.shapes, &g.shapes))
    } else {
        ("null_rate", 0.0)
    };
    let over = match metric {
        "ks" => stat > tol.max_ks,
        "tvd" => stat > tol.max_tvd,
        _ => false,
    };
    ColumnFidelity {
        table: table.to_owned(),
        column: c.to_owned(),
        metric: metric.to_owned(),
        statistic: stat,
        null_rate_source: s.null_fraction(),
        null_rate_target: g.null_fraction(),
        null_delta,
        score: 1.0 - stat.max(null_delta.abs()),
        masked,
        over_tolerance: over,
        n_source: s.non_null(),
        n_target: g.non_null(),
    }
}
