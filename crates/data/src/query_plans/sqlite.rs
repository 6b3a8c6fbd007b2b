//! `data plans` on SQLite: `EXPLAIN QUERY PLAN` of each query on both files. SQLite's planner
//! weighs tables by `sqlite_stat1`, which only `ANALYZE` writes, so each side is first copied
//! (`VACUUM INTO` a temporary folder, the source opened read-only and never written) and the
//! copy analyzed. The plan's rows (`id`, `parent`, `detail`) become tree.rs nodes so that
//! verdict.rs and the rules judge them as they do PostgreSQL's: `SCAN t`, `SEARCH t USING
//! INDEX i (…)`, `USE TEMP B-TREE FOR ORDER BY`, … A scan's rows are the table's, a search's
//! the rows per key `sqlite_stat1` gives its index, so that plans of one shape on data of
//! different sizes read as `same_shape_scaled`.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use prodlike_results::data::plans::PlansReport;
use rusqlite::{Connection, OpenFlags};

use super::causes::{self, Size};
use super::explain::Explained;
use super::queries::Query;
use super::tree::Node;
use super::{PlansOptions, judge_all, measured_volume};
use crate::error::{DataError, Result};

/// SQLite's schema name for the main database.
const MAIN: &str = "main";

/// Compares the plans of `o.queries` on two SQLite files.
pub fn compare(
    source: &Path,
    target: &Path,
    shown: (String, String),
    o: &PlansOptions,
) -> Result<PlansReport> {
    if o.from_stat_statements.is_some() {
        return Err(DataError::Invalid(
            "--from-stat-statements reads PostgreSQL's pg_stat_statements; SQLite has none: \
             give the statements with --queries"
                .into(),
        ));
    }
    let dir = tempfile::Builder::new()
        .prefix("prodlike-plans-")
        .tempdir()
        .map_err(|source| DataError::Io {
            what: "creating a temporary folder for",
            path: "the analyzed copies".into(),
            source,
        })?;
    let prod = analyzed_copy(source, &dir.path().join("production.db"))?;
    let stag = analyzed_copy(target, &dir.path().join("staging.db"))?;
    let explained: Vec<(Explained, Explained)> = o
        .queries
        .iter()
        .map(|q| match &q.bind_error {
            Some(e) => (Err(e.clone()), Err(e.clone())),
            None => (explain(&prod, q), explain(&stag, q)),
        })
        .collect();
    let mut tables: BTreeSet<(String, String)> = BTreeSet::new();
    for (p, s) in &explained {
        for n in p.iter().chain(s.iter()).flatten() {
            if let Some(r) = &n.relation {
                tables.insert((MAIN.into(), r.clone()));
            }
        }
    }
    let production_sizes = sizes(&prod, &tables);
    let staging_sizes = sizes(&stag, &tables);
    let production_indexes = indexes(&prod)?;
    let staging_indexes = indexes(&stag)?;
    let (volume, from) = match o.volume_ratio {
        Some(v) => (v, "declared"),
        None => (
            measured_volume(&production_sizes, &staging_sizes),
            "measured",
        ),
    };
    // SQLite keeps no per-column statistics the planner uses beyond sqlite_stat1's.
    let no_stats = super::stats::StatsMap::new();
    let catalogs = causes::Catalogs {
        production_sizes: &production_sizes,
        staging_sizes: &staging_sizes,
        production_indexes: &production_indexes,
        staging_indexes: &staging_indexes,
        production_stats: &no_stats,
        staging_stats: &no_stats,
        settings: &[],
    };
    let (queries, counts) = judge_all(&o.queries, &explained, volume, &catalogs, o.rules.as_ref());
    Ok(PlansReport {
        source: shown.0,
        target: shown.1,
        volume_ratio: volume,
        volume_ratio_from: from.into(),
        // Both copies are analyzed, always: the originals never are.
        analyzed_staging: true,
        queries,
        settings: Vec::new(),
        tables: causes::size_rows(&production_sizes, &staging_sizes),
        counts,
        problems: Vec::new(),
        engine: "sqlite".into(),
    })
}

/// `source` copied to `copy` by `VACUUM INTO` (the source opened read-only) and the copy
/// analyzed.
fn analyzed_copy(source: &Path, copy: &PathBuf) -> Result<Connection> {
    let shown = source.display().to_string();
    if !source.is_file() {
        return Err(DataError::File {
            path: shown,
            reason: "no such SQLite file".into(),
        });
    }
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(DataError::sqlite(format!("opening {shown} read-only")))?;
    src.execute("VACUUM INTO ?1", [copy.display().to_string()])
        .map_err(DataError::sqlite(format!("copying {shown} (VACUUM INTO)")))?;
    drop(src);
    let c = Connection::open(copy)
        .map_err(DataError::sqlite(format!("opening the copy of {shown}")))?;
    c.execute_batch("ANALYZE")
        .map_err(DataError::sqlite(format!("ANALYZE on the copy of {shown}")))?;
    Ok(c)
}

/// `EXPLAIN QUERY PLAN` of `q`, its `$n` bound to its values; SQLite's refusal is that side's
/// error.
fn explain(c: &Connection, q: &Query) -> Explained {
    let mut stmt = c
        .prepare(&format!("EXPLAIN QUERY PLAN {}", q.sql))
        .map_err(|e| e.to_string())?;
    for (i, literal) in q.params.iter().enumerate() {
        let name = format!("${}", i + 1);
        let Some(index) = stmt.parameter_index(&name).map_err(|e| e.to_string())? else {
            return Err(format!("the statement has no {name} to bind"));
        };
        stmt.raw_bind_parameter(index, value(literal))
            .map_err(|e| format!("its parameters cannot be bound ({name} = {literal}): {e}"))?;
    }
    let mut rows = stmt.raw_query();
    let mut plan: Vec<(i64, i64, String)> = Vec::new();
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        plan.push((
            r.get(0).map_err(|e| e.to_string())?,
            r.get(1).map_err(|e| e.to_string())?,
            r.get(3).map_err(|e| e.to_string())?,
        ));
    }
    let stats = index_stats(c);
    // SQLite names a table by its alias (`SCAN o`): the statement's FROM list says which.
    let aliases: BTreeMap<String, String> = super::param_columns::tables(&q.sql)
        .into_iter()
        .filter_map(|(table, alias)| Some((alias?, table)))
        .collect();
    Ok(nodes(&plan, &aliases, &|t| table_rows(c, t), &stats))
}

/// A queries file's literal as a SQLite value: numbers as numbers, strings without their
/// quotes, a cast (`::date`) dropped.
fn value(literal: &str) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    let text = literal.split("::").next().unwrap_or(literal).trim();
    let text = if text.starts_with('\'') {
        // The cast split above does not look inside quotes: take the quoted part whole.
        let end = literal.rfind('\'').unwrap_or(0);
        literal.get(..=end).unwrap_or(text)
    } else {
        text
    };
    match text.to_ascii_lowercase().as_str() {
        "null" => return Value::Null,
        "true" => return Value::Integer(1),
        "false" => return Value::Integer(0),
        _ => {}
    }
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return Value::Text(inner.replace("''", "'"));
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Integer(i);
    }
    text.parse::<f64>()
        .map_or_else(|_| Value::Text(text.to_string()), Value::Real)
}

/// The plan's rows as nodes in pre-order (SQLite lists them so), each as deep as its parent
/// chain. `rows_of` gives a table's rows; `stats` an index's rows per key.
fn nodes(
    plan: &[(i64, i64, String)],
    aliases: &BTreeMap<String, String>,
    rows_of: &dyn Fn(&str) -> Option<f64>,
    stats: &BTreeMap<String, f64>,
) -> Vec<Node> {
    let mut depth_of: BTreeMap<i64, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (id, parent, detail) in plan {
        let depth = depth_of.get(parent).map_or(0, |d| d + 1);
        depth_of.insert(*id, depth);
        out.push(node(detail, depth, aliases, rows_of, stats));
    }
    out
}

/// `SEARCH orders USING INDEX orders_user (user_id=?)` → a `SEARCH` node on `orders` using
/// `orders_user`; `SCAN t USING COVERING INDEX i` → `SCAN [covering]`; any other row (`USE TEMP
/// B-TREE FOR ORDER BY`, `LIST SUBQUERY 1`, `BLOOM FILTER ON t (x=?)`) is its own node type,
/// its text as SQLite wrote it up to a table's column list.
fn node(
    detail: &str,
    depth: usize,
    aliases: &BTreeMap<String, String>,
    rows_of: &dyn Fn(&str) -> Option<f64>,
    stats: &BTreeMap<String, f64>,
) -> Node {
    let mut n = Node {
        node_type: detail
            .split(" (")
            .next()
            .unwrap_or(detail)
            .trim()
            .to_string(),
        join_type: None,
        relation: None,
        schema: None,
        index: None,
        strategy: None,
        parallel: false,
        depth,
        rows: 0.0,
        total_cost: 0.0,
    };
    let mut words = detail.split_whitespace();
    let kind = words.next().unwrap_or_default();
    if !matches!(kind, "SCAN" | "SEARCH") {
        return n;
    }
    let Some(named) = words.next() else { return n };
    let table = aliases.get(named).map_or(named, String::as_str);
    n.node_type = kind.into();
    n.relation = Some(table.to_string());
    n.schema = Some(MAIN.into());
    let rest: Vec<&str> = words.collect();
    let rest = rest.join(" ");
    // SQLite names an alias after the table: `SCAN orders AS o`.
    let rest = rest
        .strip_prefix("AS ")
        .and_then(|r| r.split_once(' ').map(|(_, after)| after).or(Some("")))
        .unwrap_or(&rest);
    if let Some(using) = rest.strip_prefix("USING ") {
        let using = using.split(" (").next().unwrap_or(using).trim();
        if using.contains("COVERING") {
            n.strategy = Some("covering".into());
        }
        if let Some(index) = using.rsplit_once("INDEX ").map(|(_, i)| i) {
            n.index = Some(index.to_string());
        } else {
            // `INTEGER PRIMARY KEY`, `PRIMARY KEY`, `ROWID SEARCH`.
            n.index = Some(using.to_string());
        }
    }
    n.rows = match (&n.index, kind) {
        (None, _) | (_, "SCAN") => rows_of(table).unwrap_or(0.0),
        (Some(i), _) => stats.get(i).copied().unwrap_or(1.0),
    };
    n
}

/// A table's row count on an analyzed copy.
fn table_rows(c: &Connection, table: &str) -> Option<f64> {
    c.query_row(
        "SELECT CAST(substr(stat, 1, instr(stat || ' ', ' ') - 1) AS REAL) FROM sqlite_stat1 \
         WHERE tbl = ?1 ORDER BY idx IS NOT NULL LIMIT 1",
        [table],
        |r| r.get(0),
    )
    .ok()
    .or_else(|| {
        // An empty table has no sqlite_stat1 row.
        let q = format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\""));
        c.query_row(&q, [], |r| r.get::<_, i64>(0))
            .ok()
            .map(|n| n as f64)
    })
}

/// Index → rows per key of its first column (`sqlite_stat1`'s second number).
fn index_stats(c: &Connection) -> BTreeMap<String, f64> {
    let Ok(mut stmt) = c.prepare("SELECT idx, stat FROM sqlite_stat1 WHERE idx IS NOT NULL") else {
        return BTreeMap::new();
    };
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)));
    let Ok(rows) = rows else {
        return BTreeMap::new();
    };
    rows.flatten()
        .filter_map(|(idx, stat)| {
            let per_key: f64 = stat.split_whitespace().nth(1)?.parse().ok()?;
            Some((idx, per_key))
        })
        .collect()
}

/// Every table's size as the planner sees it (`sqlite_stat1`), pages unknown (0).
fn sizes(c: &Connection, tables: &BTreeSet<(String, String)>) -> BTreeMap<(String, String), Size> {
    tables
        .iter()
        .filter_map(|k| {
            table_rows(c, &k.1).map(|rows| {
                (
                    k.clone(),
                    Size {
                        rows: Some(rows),
                        pages: 0,
                    },
                )
            })
        })
        .collect()
}

/// Index name → its `CREATE INDEX` (a constraint's automatic index: what it is for).
fn indexes(c: &Connection) -> Result<BTreeMap<String, String>> {
    let mut stmt = c
        .prepare("SELECT name, coalesce(sql, 'an automatic index of ' || tbl_name) FROM sqlite_master WHERE type = 'index'")
        .map_err(DataError::sqlite("reading the indexes"))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(DataError::sqlite("reading the indexes"))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let (name, sql) = r.map_err(DataError::sqlite("reading the indexes"))?;
        out.insert(name, sql);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn plan_rows_become_nodes() {
        let plan = vec![
            (
                2,
                0,
                "SEARCH orders USING INDEX orders_user (user_id=?)".to_string(),
            ),
            (5, 0, "LIST SUBQUERY 1".to_string()),
            (7, 5, "SCAN users".to_string()),
            (9, 0, "SCAN o USING COVERING INDEX orders_user".to_string()),
            (11, 0, "USE TEMP B-TREE FOR ORDER BY".to_string()),
        ];
        let stats = BTreeMap::from([("orders_user".to_string(), 3.0)]);
        let aliases = BTreeMap::from([("o".to_string(), "orders".to_string())]);
        let n = nodes(
            &plan,
            &aliases,
            &|t| (t == "users").then_some(3000.0),
            &stats,
        );
        let shapes: Vec<String> = n.iter().map(super::super::verdict::indented).collect();
        assert_eq!(
            shapes,
            [
                "SEARCH using orders_user on orders",
                "LIST SUBQUERY 1",
                "  SCAN on users",
                "SCAN [covering] using orders_user on orders",
                "USE TEMP B-TREE FOR ORDER BY",
            ]
        );
        assert_eq!(n[0].rows, 3.0);
        assert_eq!(n[2].rows, 3000.0);
    }

    #[test]
    fn literals_become_values() {
        use rusqlite::types::Value;
        assert_eq!(value("42"), Value::Integer(42));
        assert_eq!(value("-1.5"), Value::Real(-1.5));
        assert_eq!(value("'it''s'"), Value::Text("it's".into()));
        assert_eq!(value("'a::b'::text"), Value::Text("a::b".into()));
        assert_eq!(value("NULL"), Value::Null);
    }
}
