//! What makes two plans of one query differ, read from each side's catalog (never its rows):
//! table sizes (`pg_class.reltuples`, `relpages`), whether a table was ever analyzed, the
//! statistics of the columns the query names (`pg_stats`, compared in stats.rs), the indexes
//! the production plan uses, and the planner settings. Each cause comes with the fix it
//! suggests.
use std::collections::{BTreeMap, BTreeSet};

use prodlike_results::data::plans::{Cause, SettingDifference, TableSizes};
use tokio_postgres::Client;

use super::stats::{self, StatsMap};
use super::tree::Node;
use crate::error::{DataError, Result};

/// Planner settings that change plans: costs, memory, parallelism, join search and the
/// `enable_*` switches.
const PLANNER_SETTINGS: &[&str] = &[
    "work_mem",
    "hash_mem_multiplier",
    "random_page_cost",
    "seq_page_cost",
    "effective_cache_size",
    "effective_io_concurrency",
    "cpu_tuple_cost",
    "cpu_index_tuple_cost",
    "cpu_operator_cost",
    "parallel_setup_cost",
    "parallel_tuple_cost",
    "min_parallel_table_scan_size",
    "min_parallel_index_scan_size",
    "max_parallel_workers_per_gather",
    "default_statistics_target",
    "from_collapse_limit",
    "join_collapse_limit",
    "geqo",
    "geqo_threshold",
    "jit",
    "plan_cache_mode",
    "constraint_exclusion",
];

/// A table's size as the planner sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    /// `None`: never analyzed nor vacuumed (`reltuples` = -1).
    pub rows: Option<f64>,
    pub pages: i64,
}

/// The sizes of `tables` (`schema.name`, or a bare name looked up in `default_schema`).
pub async fn sizes(
    c: &Client,
    tables: &BTreeSet<(String, String)>,
) -> Result<BTreeMap<(String, String), Size>> {
    let mut out = BTreeMap::new();
    for (schema, name) in tables {
        let row = c
            .query_opt(
                "SELECT c.reltuples::float8, c.relpages::int8 FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = $2",
                &[schema, name],
            )
            .await
            .map_err(DataError::pg(format!(
                "reading the size of {schema}.{name}"
            )))?;
        if let Some(r) = row {
            let rows: f64 = r.get(0);
            out.insert(
                (schema.clone(), name.clone()),
                Size {
                    rows: (rows >= 0.0).then_some(rows),
                    pages: r.get(1),
                },
            );
        }
    }
    Ok(out)
}

/// Index name → its definition, for the indexes of `schemas`.
pub async fn indexes(c: &Client, schemas: &BTreeSet<String>) -> Result<BTreeMap<String, String>> {
    let schemas: Vec<String> = schemas.iter().cloned().collect();
    let rows = c
        .query(
            "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = ANY($1)",
            &[&schemas],
        )
        .await
        .map_err(DataError::pg("reading the indexes"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The planner settings as a new session gets them.
pub async fn settings(c: &Client) -> Result<BTreeMap<String, String>> {
    let names: Vec<String> = PLANNER_SETTINGS.iter().map(|s| s.to_string()).collect();
    let rows = c
        .query(
            "SELECT name, setting || coalesce(unit, '') FROM pg_settings \
             WHERE name = ANY($1) OR name LIKE 'enable\\_%'",
            &[&names],
        )
        .await
        .map_err(DataError::pg("reading the planner settings"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Settings whose values differ.
pub fn setting_differences(
    production: &BTreeMap<String, String>,
    staging: &BTreeMap<String, String>,
) -> Vec<SettingDifference> {
    production
        .iter()
        .filter_map(|(name, p)| {
            let s = staging.get(name)?;
            (s != p).then(|| SettingDifference {
                name: name.clone(),
                production: p.clone(),
                staging: s.clone(),
            })
        })
        .collect()
}

/// The sizes table of the report.
pub fn size_rows(
    production: &BTreeMap<(String, String), Size>,
    staging: &BTreeMap<(String, String), Size>,
) -> Vec<TableSizes> {
    let keys: BTreeSet<&(String, String)> = production.keys().chain(staging.keys()).collect();
    keys.into_iter()
        .map(|k| {
            let (p, s) = (production.get(k), staging.get(k));
            let (pr, sr) = (p.and_then(|x| x.rows), s.and_then(|x| x.rows));
            TableSizes {
                table: format!("{}.{}", k.0, k.1),
                production_rows: pr,
                staging_rows: sr,
                production_pages: p.map_or(0, |x| x.pages),
                staging_pages: s.map_or(0, |x| x.pages),
                ratio: match (pr, sr) {
                    (Some(p), Some(s)) if p > 0.0 => Some(s / p),
                    _ => None,
                },
            }
        })
        .collect()
}

/// What both sides' catalogs hold, for [`causes`].
pub struct Catalogs<'a> {
    pub production_sizes: &'a BTreeMap<(String, String), Size>,
    pub staging_sizes: &'a BTreeMap<(String, String), Size>,
    pub production_indexes: &'a BTreeMap<String, String>,
    pub staging_indexes: &'a BTreeMap<String, String>,
    pub production_stats: &'a StatsMap,
    pub staging_stats: &'a StatsMap,
    pub settings: &'a [SettingDifference],
}

/// The likely causes of a different plan: tables whose size differs from the data's scale or
/// from production's by more than the planner's noise, tables staging never analyzed, column
/// statistics that differ materially (of the columns `named` by the query), indexes
/// production's plan uses that staging lacks, and differing planner settings.
pub fn causes(
    production: &[Node],
    staging: &[Node],
    cat: &Catalogs<'_>,
    named: &BTreeSet<String>,
) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut tables: BTreeSet<(String, String)> = BTreeSet::new();
    for n in production.iter().chain(staging) {
        if let Some(r) = &n.relation {
            tables.insert((
                n.schema.clone().unwrap_or_else(|| "public".into()),
                r.clone(),
            ));
        }
    }
    for key in &tables {
        let name = format!("{}.{}", key.0, key.1);
        let (p, s) = (cat.production_sizes.get(key), cat.staging_sizes.get(key));
        if s.is_some_and(|s| s.rows.is_none()) {
            out.push(Cause {
                kind: "statistics".into(),
                detail: format!(
                    "{name} was never analyzed in staging: the planner guesses its size"
                ),
                fix: format!("ANALYZE {name} in staging (or run with --analyze-staging)"),
            });
            continue;
        }
        let (Some(pr), Some(sr)) = (p.and_then(|x| x.rows), s.and_then(|x| x.rows)) else {
            continue;
        };
        out.extend(size_cause(&name, (pr, sr), (p, s)));
        out.extend(column_causes(key, named, (pr, sr), cat));
    }
    for n in production {
        let Some(index) = &n.index else { continue };
        if cat.staging_indexes.contains_key(index) {
            continue;
        }
        // The same definition under another name is the same index.
        let def = cat.production_indexes.get(index);
        let same_elsewhere = def.is_some_and(|d| {
            let body = definition_body(d, index);
            cat.staging_indexes
                .iter()
                .any(|(name, sd)| definition_body(sd, name) == body)
        });
        if !same_elsewhere {
            out.push(Cause {
                kind: "missing_index".into(),
                detail: format!(
                    "production's plan uses index {index}{}, which staging does not have",
                    def.map(|d| format!(" ({d})")).unwrap_or_default()
                ),
                fix: format!(
                    "create {index} in staging (prodlike drift schema lists every index that differs)"
                ),
            });
        }
    }
    let found_in_data = !out.is_empty();
    for d in cat.settings {
        out.push(Cause {
            kind: "setting".into(),
            detail: format!(
                "{} is {} in production and {} in staging",
                d.name, d.production, d.staging
            ),
            fix: format!(
                "align {} (or declare it intended with a prodlike drift schema rule)",
                d.name
            ),
        });
    }
    // Never a different plan without a word on why: what was checked and found alike, and
    // where to look next.
    if !found_in_data && cat.settings.is_empty() {
        out.push(Cause {
            kind: "unexplained".into(),
            detail: "table sizes, indexes, analyze state, planner settings and the statistics \
                     of the columns the query names (pg_stats: null share, distinct values, \
                     correlation, most common value's frequency) are alike within their \
                     thresholds: the two plans' costs are likely close, and a smaller \
                     difference tips them"
                .into(),
            fix: "ANALYZE staging (--analyze-staging) and compare again; compare the two \
                  plans' total costs in the JSON output (--format json)"
                .into(),
        });
    }
    out
}

/// A table whose rows differ from production's beyond the planner's noise (×2 either way), or
/// whose rows are as many but packed more or less densely.
fn size_cause(
    name: &str,
    (pr, sr): (f64, f64),
    sizes: (Option<&Size>, Option<&Size>),
) -> Option<Cause> {
    let ratio = (sr + 1.0) / (pr + 1.0);
    if !(0.5..=2.0).contains(&ratio) {
        let grow = (pr / sr.max(1.0)).round().max(2.0);
        Some(Cause {
            kind: "table_size".into(),
            detail: format!(
                "{name} has {} rows in staging against {} in production ({ratio:.2}×): \
                 the planner chooses by size",
                rows_text(sr),
                rows_text(pr)
            ),
            fix: if ratio < 1.0 {
                format!(
                    "sync a larger share of {name}, or synthesise ×{grow:.0} \
                     (prodlike data synth --scale {grow:.0})"
                )
            } else {
                format!("staging's {name} is larger than production's: sync it again")
            },
        })
    } else {
        density_cause(name, (pr, sr), sizes)
    }
}

/// Pages per row further apart than this (either way) differ: the planner prices a sequential
/// scan by pages, and an index scan's heap fetches by pages too.
pub const PAGES_PER_ROW_FACTOR: f64 = 1.5;

/// A table with about as many rows on each side, but packed more or less densely: production's
/// pages hold dead space left by updates and deletes (or wider rows), a fresh copy's do not.
fn density_cause(
    name: &str,
    rows: (f64, f64),
    sizes: (Option<&Size>, Option<&Size>),
) -> Option<Cause> {
    let (Some(p), Some(s)) = sizes else {
        return None;
    };
    if rows.0 < 1.0 || rows.1 < 1.0 || p.pages < 1 || s.pages < 1 {
        return None;
    }
    let (pp, sp) = (p.pages as f64 / rows.0, s.pages as f64 / rows.1);
    let ratio = sp / pp;
    if (1.0 / PAGES_PER_ROW_FACTOR..=PAGES_PER_ROW_FACTOR).contains(&ratio) {
        return None;
    }
    let detail = format!(
        "{name} holds {} rows on {} pages in staging against {} on {} in production: \
         {ratio:.2}× production's pages per row (the planner prices scans by pages)",
        rows_text(rows.1),
        rows_text(s.pages as f64),
        rows_text(rows.0),
        rows_text(p.pages as f64)
    );
    let fix = if ratio < 1.0 {
        let fillfactor = (100.0 * ratio).round().clamp(10.0, 100.0);
        format!(
            "production's {name} has free space in its pages (left by updates and deletes) that \
             a fresh copy does not (data sync and data synth pack rows densely): loosen staging's \
             to match with ALTER TABLE {name} SET (fillfactor = {fillfactor:.0}); VACUUM FULL \
             {name}; ALTER TABLE {name} RESET (fillfactor), or accept the difference with a rule"
        )
    } else {
        format!(
            "staging's {name} has free space in its pages that production's does not: \
             VACUUM FULL {name} in staging"
        )
    };
    Some(Cause {
        kind: "table_size".into(),
        detail,
        fix,
    })
}

/// One cause per column of `table` that the query names and whose statistics differ
/// materially (stats.rs), or that production has statistics for and staging none.
fn column_causes(
    table: &(String, String),
    named: &BTreeSet<String>,
    rows: (f64, f64),
    cat: &Catalogs<'_>,
) -> Vec<Cause> {
    let name = format!("{}.{}", table.0, table.1);
    let mut out = Vec::new();
    for ((schema, t, column), p) in cat
        .production_stats
        .range((table.0.clone(), table.1.clone(), String::new())..)
        .take_while(|((s, t, _), _)| (s, t) == (&table.0, &table.1))
    {
        if !named.contains(column) {
            continue;
        }
        let key = (schema.clone(), t.clone(), column.clone());
        let Some(s) = cat.staging_stats.get(&key) else {
            out.push(Cause {
                kind: "column_statistics".into(),
                detail: format!(
                    "{name}.{column} has statistics in production and none in staging: the \
                     planner guesses its selectivity"
                ),
                fix: format!("ANALYZE {name} in staging (or run with --analyze-staging)"),
            });
            continue;
        };
        let diffs = stats::differences(p, s, rows);
        if diffs.is_empty() {
            continue;
        }
        let what: Vec<stats::Differing> = diffs.iter().map(|d| d.0).collect();
        let texts: Vec<&str> = diffs.iter().map(|d| d.1.as_str()).collect();
        out.push(Cause {
            kind: "column_statistics".into(),
            detail: format!("{name}.{column}: {}", texts.join("; ")),
            fix: stats::fix(&what, &name, rows.1 / rows.0.max(1.0)),
        });
    }
    out
}

/// `CREATE INDEX name ON …` without its name, so that two names of one definition compare
/// equal.
fn definition_body(def: &str, name: &str) -> String {
    def.replacen(&format!(" {name} "), " ", 1)
}

/// 61234.0 → "61,234".
fn rows_text(n: f64) -> String {
    let s = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn numbers_read_with_separators() {
        assert_eq!(rows_text(61234.0), "61,234");
        assert_eq!(rows_text(600.0), "600");
        assert_eq!(rows_text(1_000_000.0), "1,000,000");
    }

    fn scan(table: &str) -> Node {
        Node {
            node_type: "Seq Scan".into(),
            join_type: None,
            relation: Some(table.into()),
            schema: Some("public".into()),
            index: None,
            strategy: None,
            parallel: false,
            depth: 0,
            rows: 1.0,
            total_cost: 1.0,
        }
    }

    fn catalogs_causes(
        sizes: [(f64, i64); 2],
        stats: [stats::ColumnStats; 2],
        named: &[&str],
    ) -> Vec<Cause> {
        let key = ("public".to_string(), "orders".to_string());
        let size = |(rows, pages): (f64, i64)| {
            BTreeMap::from([(
                key.clone(),
                Size {
                    rows: Some(rows),
                    pages,
                },
            )])
        };
        let col = ("public".into(), "orders".into(), "user_id".into());
        let (ps, ss) = (
            StatsMap::from([(col.clone(), stats[0])]),
            StatsMap::from([(col, stats[1])]),
        );
        let (psz, ssz) = (size(sizes[0]), size(sizes[1]));
        let none = BTreeMap::new();
        let cat = Catalogs {
            production_sizes: &psz,
            staging_sizes: &ssz,
            production_indexes: &none,
            staging_indexes: &none,
            production_stats: &ps,
            staging_stats: &ss,
            settings: &[],
        };
        let named: BTreeSet<String> = named.iter().map(|s| s.to_string()).collect();
        causes(&[scan("orders")], &[scan("orders")], &cat, &named)
    }

    fn col(corr: f64) -> stats::ColumnStats {
        stats::ColumnStats {
            null_frac: 0.0,
            n_distinct: -0.2,
            correlation: Some(corr),
            top_freq: None,
        }
    }

    #[test]
    fn a_named_column_whose_order_differs_is_the_cause() {
        let same = [(1e5, 2000), (1e5, 2000)];
        let c = catalogs_causes(same, [col(0.0), col(1.0)], &["user_id"]);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].kind, "column_statistics");
        assert!(
            c[0].detail
                .starts_with("public.orders.user_id: correlation 1.00"),
            "{c:?}"
        );
        // A column the query does not name is not compared: nothing explains the plan.
        let c = catalogs_causes(same, [col(0.0), col(1.0)], &["total"]);
        assert_eq!(c[0].kind, "unexplained", "{c:?}");
        // Alike: unexplained too.
        let c = catalogs_causes(same, [col(0.0), col(0.1)], &["user_id"]);
        assert_eq!(c[0].kind, "unexplained", "{c:?}");
    }

    #[test]
    fn as_many_rows_on_half_the_pages_is_a_size_cause() {
        // Production's orders after an update of every row (3,625 pages), a dense copy's 1,724.
        let c = catalogs_causes(
            [(168_957.0, 3625), (175_700.0, 1724)],
            [col(0.0), col(0.0)],
            &["user_id"],
        );
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].kind, "table_size");
        assert!(
            c[0].detail.contains("0.46× production's pages per row"),
            "{c:?}"
        );
        assert!(c[0].fix.contains("fillfactor = 46"), "{c:?}");
        // Within ×1.5: alike.
        let c = catalogs_causes(
            [(168_957.0, 3625), (175_700.0, 3000)],
            [col(0.0), col(0.0)],
            &["user_id"],
        );
        assert_eq!(c[0].kind, "unexplained", "{c:?}");
    }

    #[test]
    fn an_index_under_another_name_is_the_same_index() {
        assert_eq!(
            definition_body("CREATE INDEX a_idx ON public.t USING btree (x)", "a_idx"),
            definition_body("CREATE INDEX b_idx ON public.t USING btree (x)", "b_idx")
        );
    }
}
