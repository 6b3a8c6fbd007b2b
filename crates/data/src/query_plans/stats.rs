//! The column statistics that drive plans, read from each side's `pg_stats` and compared: the
//! null share, the number of distinct values, the physical order's correlation, and how common
//! the most common value is. Only statistics leave production: of the most common values, their
//! frequencies (`most_common_freqs`) are read, never the values (`most_common_vals`), and no
//! histogram bound is read.
//!
//! What differs "materially" (each threshold is far outside `ANALYZE`'s sampling noise on its
//! 30,000-row sample):
//! - `correlation`: |Δ| > 0.5. The planner prices an index scan's heap fetches between random
//!   (correlation 0) and sequential (±1) by its square; 0.5 apart moves that cost by a quarter
//!   of the whole range or more.
//! - `null_frac`: |Δ| > 0.1 (every `IS NULL` / `IS NOT NULL` and join estimate scales by it).
//! - `n_distinct`: staging's count of distinct values outside what its volume explains. With
//!   staging at `v` times production's rows, a column's distinct values may stay (a status)
//!   or scale with the rows (a key): anywhere from ×min(1, v) to ×max(1, v) is expected, and
//!   a factor of 2 beyond either end is a difference.
//! - the most common value's frequency (`most_common_freqs[1]`): |Δ| > 0.1 (equality
//!   selectivity on skewed data); a side without a most-common list counts as 0.
use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::Client;

use crate::error::{DataError, Result};

/// Correlations further apart than this differ.
pub const CORRELATION_DELTA: f64 = 0.5;
/// Null shares further apart than this differ.
pub const NULL_FRAC_DELTA: f64 = 0.1;
/// Most-common-value frequencies further apart than this differ.
pub const TOP_FREQ_DELTA: f64 = 0.1;
/// How far beyond the volume-explained range a distinct count may be.
pub const DISTINCT_FACTOR: f64 = 2.0;

/// One column's statistics as `pg_stats` has them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnStats {
    pub null_frac: f64,
    /// Positive: a count; negative: minus a share of the rows; 0: unknown.
    pub n_distinct: f64,
    pub correlation: Option<f64>,
    /// The most common value's frequency, when there is a most-common list.
    pub top_freq: Option<f64>,
}

/// (schema, table, column) → its statistics.
pub type StatsMap = BTreeMap<(String, String, String), ColumnStats>;

/// The statistics of every analyzed column of `tables`.
pub async fn read(c: &Client, tables: &BTreeSet<(String, String)>) -> Result<StatsMap> {
    let mut out = StatsMap::new();
    for (schema, table) in tables {
        // A table's own statistics override its inheritance tree's (read first).
        let rows = c
            .query(
                "SELECT attname::text, null_frac::float8, n_distinct::float8, \
                 correlation::float8, most_common_freqs::float8[] \
                 FROM pg_stats WHERE schemaname = $1 AND tablename = $2 ORDER BY inherited DESC",
                &[schema, table],
            )
            .await
            .map_err(DataError::pg(format!(
                "reading the column statistics of {schema}.{table} (pg_stats)"
            )))?;
        for r in rows {
            let freqs: Option<Vec<f64>> = r.get(4);
            out.insert(
                (schema.clone(), table.clone(), r.get(0)),
                ColumnStats {
                    null_frac: r.get(1),
                    n_distinct: r.get(2),
                    correlation: r.get(3),
                    top_freq: freqs.and_then(|f| f.first().copied()),
                },
            );
        }
    }
    Ok(out)
}

/// The identifiers a query names (unquoted ones folded to lower case, as PostgreSQL folds
/// them): the columns whose statistics are compared are those among them.
pub fn named_columns(sql: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            let mut name = String::new();
            while let Some(d) = chars.next() {
                if d == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        name.push('"');
                        continue;
                    }
                    break;
                }
                name.push(d);
            }
            out.insert(name);
        } else if c == '\'' {
            // A string literal names no column.
            while let Some(d) = chars.next() {
                if d == '\'' && chars.peek() != Some(&'\'') {
                    break;
                }
                if d == '\'' {
                    chars.next();
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let mut name = c.to_lowercase().to_string();
            while let Some(&d) = chars.peek() {
                if d.is_alphanumeric() || d == '_' || d == '$' {
                    name.extend(d.to_lowercase());
                    chars.next();
                } else {
                    break;
                }
            }
            out.insert(name);
        }
    }
    out
}

/// Which statistic differs, for the fix it suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Differing {
    Correlation,
    NullFrac,
    Distinct,
    TopFreq,
}

/// The statistics of one column that differ materially, each with a sentence; `rows` are
/// the table's rows on each side (production, staging), for the distinct count.
pub fn differences(
    production: &ColumnStats,
    staging: &ColumnStats,
    rows: (f64, f64),
) -> Vec<(Differing, String)> {
    let mut out = Vec::new();
    if let (Some(p), Some(s)) = (production.correlation, staging.correlation)
        && (p - s).abs() > CORRELATION_DELTA
    {
        out.push((
            Differing::Correlation,
            format!(
                "correlation {s:.2} in staging against {p:.2} in production (how closely the \
                 rows' physical order follows the column: the planner prices index scans by it)"
            ),
        ));
    }
    if (production.null_frac - staging.null_frac).abs() > NULL_FRAC_DELTA {
        out.push((
            Differing::NullFrac,
            format!(
                "{:.0}% nulls in staging against {:.0}% in production",
                staging.null_frac * 100.0,
                production.null_frac * 100.0
            ),
        ));
    }
    if let (Some(p), Some(s)) = (
        distinct(production.n_distinct, rows.0),
        distinct(staging.n_distinct, rows.1),
    ) && rows.0 > 0.0
        && p > 0.0
    {
        let v = rows.1 / rows.0;
        let (lo, hi) = (
            p * v.min(1.0) / DISTINCT_FACTOR,
            p * v.max(1.0) * DISTINCT_FACTOR,
        );
        if s < lo || s > hi {
            out.push((
                Differing::Distinct,
                format!(
                    "about {s:.0} distinct values in staging against {p:.0} in production, \
                     where staging's {v:.2}× volume explains {:.0} to {:.0}",
                    p * v.min(1.0),
                    p * v.max(1.0)
                ),
            ));
        }
    }
    let (p, s) = (
        production.top_freq.unwrap_or(0.0),
        staging.top_freq.unwrap_or(0.0),
    );
    if (p - s).abs() > TOP_FREQ_DELTA {
        out.push((
            Differing::TopFreq,
            format!(
                "its most common value covers {:.0}% of staging's rows against {:.0}% of \
                 production's (the value itself is not read)",
                s * 100.0,
                p * 100.0
            ),
        ));
    }
    out
}

/// The distinct count of an `n_distinct` (a share of `rows` when negative); `None` unknown.
fn distinct(n_distinct: f64, rows: f64) -> Option<f64> {
    if n_distinct > 0.0 {
        Some(n_distinct)
    } else if n_distinct < 0.0 {
        Some(-n_distinct * rows.max(0.0))
    } else {
        None
    }
}

/// The fix for `what` differing on `table` (staging's rows over production's: `volume`).
pub fn fix(what: &[Differing], table: &str, volume: f64) -> String {
    let mut fixes = Vec::new();
    if what.contains(&Differing::Correlation) {
        fixes.push(format!(
            "lay {table}'s rows out as production's: synthesise staging from a profile of \
             production itself (prodlike data synth follows the profiled correlation) or sync \
             it; ANALYZE staging if its statistics are stale"
        ));
    }
    if what.iter().any(|d| *d != Differing::Correlation) {
        let grow = (1.0 / volume.max(1e-9)).round().max(2.0);
        fixes.push(if volume < 0.5 {
            format!(
                "sync a larger share of {table}, or synthesise ×{grow:.0} (prodlike data synth \
                 --scale {grow:.0}); ANALYZE staging if its statistics are stale"
            )
        } else {
            format!(
                "ANALYZE {table} in staging (or run with --analyze-staging); if it still \
                 differs, profile production again and synthesise or sync from it"
            )
        });
    }
    fixes.join("; ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn stats(null_frac: f64, n_distinct: f64, corr: f64, top: Option<f64>) -> ColumnStats {
        ColumnStats {
            null_frac,
            n_distinct,
            correlation: Some(corr),
            top_freq: top,
        }
    }

    fn kinds(d: &[(Differing, String)]) -> Vec<Differing> {
        d.iter().map(|x| x.0).collect()
    }

    #[test]
    fn alike_statistics_at_a_tenth_do_not_differ() {
        // A foreign key (distinct values scale with the rows) and a status (they stay).
        let key_p = stats(0.0, -0.18, 0.01, Some(0.0003));
        let key_s = stats(0.0, -0.2, -0.03, Some(0.002));
        assert!(differences(&key_p, &key_s, (60_000.0, 6_000.0)).is_empty());
        let status_p = stats(0.0, 6.0, 0.6, Some(0.8));
        let status_s = stats(0.0, 5.0, 0.4, Some(0.78));
        assert!(differences(&status_p, &status_s, (60_000.0, 6_000.0)).is_empty());
        // ×10 the other way round.
        assert!(differences(&key_s, &key_p, (6_000.0, 60_000.0)).is_empty());
    }

    #[test]
    fn each_statistic_differs_past_its_threshold() {
        let p = stats(0.05, -0.2, 0.0, Some(0.05));
        let sorted = stats(0.05, -0.2, 1.0, Some(0.05));
        assert_eq!(
            kinds(&differences(&p, &sorted, (1000.0, 1000.0))),
            [Differing::Correlation]
        );
        let nulls = stats(0.4, -0.2, 0.0, Some(0.05));
        assert_eq!(
            kinds(&differences(&p, &nulls, (1000.0, 1000.0))),
            [Differing::NullFrac]
        );
        // 200 distinct in production; staging the same size with 20.
        let few = stats(0.05, 20.0, 0.0, Some(0.05));
        assert_eq!(
            kinds(&differences(&p, &few, (1000.0, 1000.0))),
            [Differing::Distinct]
        );
        let skewed = stats(0.05, -0.2, 0.0, Some(0.5));
        assert_eq!(
            kinds(&differences(&p, &skewed, (1000.0, 1000.0))),
            [Differing::TopFreq]
        );
        // Just inside every threshold.
        let near = stats(0.14, -0.11, 0.49, Some(0.14));
        assert!(differences(&p, &near, (1000.0, 1000.0)).is_empty());
        // No most-common list on one side counts as 0.
        let none = stats(0.05, -0.2, 0.0, None);
        assert!(differences(&p, &none, (1000.0, 1000.0)).is_empty());
        assert_eq!(
            kinds(&differences(&skewed, &none, (1000.0, 1000.0))),
            [Differing::TopFreq]
        );
    }

    #[test]
    fn the_fix_follows_what_differs() {
        let f = fix(&[Differing::Correlation], "public.orders", 1.0);
        assert!(f.contains("a profile of production itself"), "{f}");
        assert!(!f.contains("larger share"), "{f}");
        let f = fix(&[Differing::Distinct], "public.orders", 0.1);
        assert!(f.contains("--scale 10"), "{f}");
        let f = fix(&[Differing::NullFrac], "public.orders", 1.0);
        assert!(f.contains("ANALYZE public.orders"), "{f}");
    }

    #[test]
    fn a_query_names_its_columns() {
        let n = named_columns(
            "SELECT o.\"Total\", sum(x) FROM orders o WHERE o.User_Id = 42 AND note = 'status'",
        );
        for c in ["Total", "user_id", "orders", "o", "x", "note"] {
            assert!(n.contains(c), "{c} in {n:?}");
        }
        assert!(!n.contains("status"), "a literal is no column: {n:?}");
        assert!(!n.contains("total"), "{n:?}");
    }
}
