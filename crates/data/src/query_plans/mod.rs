//! `prodlike data plans`: does staging plan production's queries the way production does?
//! Each query is explained (`EXPLAIN (FORMAT JSON)`, never `ANALYZE` on production) on both
//! sides inside a read-only transaction, its plans reduced to nodes (tree.rs), judged
//! (verdict.rs), and a different plan explained by what the catalogs say (causes.rs, with the
//! column statistics of stats.rs). Rules
//! (prodlike-rules, `object` = the query's name, `path = "plan"`) accept intended differences.
//!
//! Only plans and catalog statistics leave production; no row is read.
pub mod causes;
pub mod explain;
pub mod param_columns;
pub mod queries;
pub mod sqlite;
pub mod stat_statements;
pub mod stats;
pub mod tree;
pub mod verdict;

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{DataError, Result};
use crate::url::DbUrl;
use explain::{Explained, Side, explain};
use prodlike_results::data::plans::{
    AcceptedBy, NodeDifference, PlanCounts, PlanSummary, PlansReport, QueryPlan,
};
use prodlike_rules::Rules;
use queries::Query;
use tree::Node;
use verdict::Verdict;

/// What to compare and how.
pub struct PlansOptions {
    pub queries: Vec<Query>,
    /// Also the N heaviest statements of production's `pg_stat_statements`.
    pub from_stat_statements: Option<usize>,
    /// Staging's size over production's; measured from the tables the queries read when
    /// `None`.
    pub volume_ratio: Option<f64>,
    /// `ANALYZE` the tables the queries read on staging first.
    pub analyze_staging: bool,
    /// Intended differences.
    pub rules: Option<Rules>,
    /// The schema unqualified names are looked up in (`search_path`).
    pub schema: String,
    /// How long one EXPLAIN may take, in milliseconds.
    pub statement_timeout_ms: u64,
}

/// The rules file of `data plans`: `[[rule]]` tables only.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<prodlike_rules::RuleSpec>,
}

/// Reads a plans rules file (`file` names it in errors); `today` decides expiry.
pub fn rules_from_toml(text: &str, file: &str, today: prodlike_rules::Date) -> Result<Rules> {
    let parsed: RulesFile = toml::from_str(text).map_err(|e| DataError::RulesSyntax {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    Rules::from_specs(parsed.rule, today).map_err(|e| DataError::Rules {
        file: file.to_string(),
        field: e.field.clone(),
        reason: e.problem.to_string(),
    })
}

/// Compares every query's plans on `source` (production) and `target` (staging).
// Long: the steps in order (connect, analyze, explain, read catalogs, judge, count), each a few lines.
#[allow(clippy::too_many_lines)]
pub async fn compare(source: &DbUrl, target: &DbUrl, o: &PlansOptions) -> Result<PlansReport> {
    let (
        DbUrl::Postgres {
            conn: pc,
            shown: ps,
        },
        DbUrl::Postgres {
            conn: tc,
            shown: ts,
        },
    ) = (source, target)
    else {
        if source.is_mysql() || target.is_mysql() {
            return Err(DataError::MysqlUnsupported {
                what: "`prodlike data plans` (EXPLAIN of MySQL plans)".into(),
            });
        }
        if let (DbUrl::Sqlite { path: sp }, DbUrl::Sqlite { path: tp }) = (source, target) {
            // rusqlite blocks the thread for the few statements a comparison takes, as the
            // other SQLite paths of the crate do.
            return sqlite::compare(sp, tp, (source.shown(), target.shown()), o);
        }
        return Err(DataError::Invalid(
            "data plans compares two PostgreSQL databases or two SQLite files, not one of each"
                .into(),
        ));
    };
    let prod = crate::pg::connect(pc, ps).await?;
    let stag = crate::pg::connect(tc, ts).await?;
    let (prod, stag) = (Side::new(&prod).await?, Side::new(&stag).await?);
    let search_path = crate::pg::ident(&o.schema);

    let mut queries = o.queries.clone();
    let mut problems = Vec::new();
    if let Some(n) = o.from_stat_statements {
        match stat_statements::heaviest(prod.client, n).await {
            Ok(found) => {
                for mut q in found {
                    // PostgreSQL 16 plans a generic plan without values; before, the prepared
                    // statement needs values of the right types.
                    if prod.version < 160_000 || stag.version < 160_000 {
                        stat_statements::sample(stag.client, &mut q, &search_path).await;
                    }
                    queries.push(q);
                }
            }
            Err(e) => problems.push(e),
        }
    }

    let mut explained: Vec<(Explained, Explained)> = Vec::new();
    for q in &queries {
        explained.push(match &q.bind_error {
            Some(e) => (Err(e.clone()), Err(e.clone())),
            None => (
                explain(&prod, q, &search_path, o.statement_timeout_ms).await?,
                explain(&stag, q, &search_path, o.statement_timeout_ms).await?,
            ),
        });
    }
    let mut tables: BTreeSet<(String, String)> = BTreeSet::new();
    for (p, s) in &explained {
        for n in p.iter().chain(s.iter()).flatten() {
            if let Some(r) = &n.relation {
                tables.insert((
                    n.schema.clone().unwrap_or_else(|| o.schema.clone()),
                    r.clone(),
                ));
            }
        }
    }
    let mut analyzed = false;
    if o.analyze_staging && !tables.is_empty() {
        for (schema, name) in &tables {
            let sql = format!("ANALYZE {}", crate::pg::qualified(schema, name));
            stag.client
                .batch_execute(&sql)
                .await
                .map_err(DataError::pg(format!("ANALYZE {schema}.{name} in staging")))?;
        }
        analyzed = true;
        // Staging's plans after its statistics are fresh.
        for (q, pair) in queries.iter().zip(explained.iter_mut()) {
            if q.bind_error.is_none() {
                pair.1 = explain(&stag, q, &search_path, o.statement_timeout_ms).await?;
            }
        }
    }
    let production_sizes = causes::sizes(prod.client, &tables).await?;
    let staging_sizes = causes::sizes(stag.client, &tables).await?;
    let schemas: BTreeSet<String> = tables.iter().map(|(s, _)| s.clone()).collect();
    let production_indexes = causes::indexes(prod.client, &schemas).await?;
    let staging_indexes = causes::indexes(stag.client, &schemas).await?;
    let production_stats = stats::read(prod.client, &tables).await?;
    let staging_stats = stats::read(stag.client, &tables).await?;
    let settings = causes::setting_differences(
        &causes::settings(prod.client).await?,
        &causes::settings(stag.client).await?,
    );
    let (volume, from) = match o.volume_ratio {
        Some(v) => (v, "declared"),
        None => (
            measured_volume(&production_sizes, &staging_sizes),
            "measured",
        ),
    };
    let catalogs = causes::Catalogs {
        production_sizes: &production_sizes,
        staging_sizes: &staging_sizes,
        production_indexes: &production_indexes,
        staging_indexes: &staging_indexes,
        production_stats: &production_stats,
        staging_stats: &staging_stats,
        settings: &settings,
    };
    let (out, counts) = judge_all(&queries, &explained, volume, &catalogs, o.rules.as_ref());
    Ok(PlansReport {
        source: ps.clone(),
        target: ts.clone(),
        volume_ratio: volume,
        volume_ratio_from: from.into(),
        analyzed_staging: analyzed,
        queries: out,
        settings,
        tables: causes::size_rows(&production_sizes, &staging_sizes),
        counts,
        problems,
        engine: "postgresql".into(),
    })
}

/// Every query judged, and the counts by verdict. A query production cannot explain, or whose
/// parameters cannot be bound, is an input error (`failed`), unless it came from
/// `pg_stat_statements` (then it is prodlike's reading, not the user's SQL, at fault).
fn judge_all(
    queries: &[Query],
    explained: &[(Explained, Explained)],
    volume: f64,
    catalogs: &causes::Catalogs<'_>,
    rules: Option<&Rules>,
) -> (Vec<QueryPlan>, PlanCounts) {
    let mut counts = PlanCounts::default();
    let mut out = Vec::new();
    for (q, (p, s)) in queries.iter().zip(explained) {
        let plan = judge_query(q, p, s, volume, catalogs, rules);
        match plan.verdict.as_str() {
            "same_plan" => counts.same_plan += 1,
            "same_shape_scaled" => counts.same_shape_scaled += 1,
            "different_plan" => {
                counts.different_plan += 1;
                counts.accepted += u64::from(plan.accepted_by.is_some());
            }
            _ => counts.not_comparable += 1,
        }
        counts.failed += u64::from(p.is_err() && q.stat.is_none());
        out.push(plan);
    }
    (out, counts)
}

/// Staging's rows over production's, over every table both sides have analyzed; 1 without any.
fn measured_volume(
    production: &BTreeMap<(String, String), causes::Size>,
    staging: &BTreeMap<(String, String), causes::Size>,
) -> f64 {
    let (mut p, mut s) = (0.0, 0.0);
    for (k, ps) in production {
        if let (Some(pr), Some(sr)) = (ps.rows, staging.get(k).and_then(|x| x.rows)) {
            p += pr;
            s += sr;
        }
    }
    if p > 0.0 { s / p } else { 1.0 }
}

/// One query's verdict from its two explanations.
fn judge_query(
    q: &Query,
    p: &Explained,
    s: &Explained,
    volume: f64,
    catalogs: &causes::Catalogs<'_>,
    rules: Option<&Rules>,
) -> QueryPlan {
    let mut plan = QueryPlan {
        name: q.name.clone(),
        line: q.line,
        sql: q.sql.clone(),
        verdict: "not_comparable".into(),
        why: String::new(),
        production: p.as_ref().ok().map(|n| summary(n)),
        staging: s.as_ref().ok().map(|n| summary(n)),
        first_difference: None,
        row_ratios: Vec::new(),
        causes: Vec::new(),
        accepted_by: None,
        error: None,
        params: q.params.clone(),
        generic_plan: q.generic,
        stat_statement: q.stat.clone(),
    };
    if let Some(e) = &q.bind_error {
        plan.why = format!("its parameters cannot be bound: {e}");
        plan.error = Some(e.clone());
        return plan;
    }
    let (pn, sn) = match (p, s) {
        (Err(e), _) => {
            plan.why = format!("production cannot explain it: {e}");
            plan.error = Some(e.clone());
            return plan;
        }
        (Ok(_), Err(e)) => {
            plan.why = format!("staging cannot explain it: {e}");
            plan.error = Some(e.clone());
            return plan;
        }
        (Ok(pn), Ok(sn)) => (pn, sn),
    };
    match verdict::judge(pn, sn, volume) {
        Verdict::SamePlan => {
            plan.verdict = "same_plan".into();
            plan.why = "the same plan, with estimates within ×2 at every node".into();
        }
        Verdict::SameShapeScaled { ratios } => {
            plan.verdict = "same_shape_scaled".into();
            // The scans' estimates are the ones that follow the data (an aggregate's one row
            // does not): their median against the volume ratio.
            let mut scans: Vec<f64> = pn
                .iter()
                .zip(sn)
                .zip(&ratios)
                .filter(|((p, _), _)| p.relation.is_some())
                .map(|(_, r)| r * volume)
                .collect();
            scans.sort_by(f64::total_cmp);
            let median = scans.get(scans.len() / 2).copied().unwrap_or(1.0);
            plan.why = format!(
                "the same plan shape, with estimates scaled: the scans' rows are ×{median:.3} \
                 production's, the data ×{volume:.3}"
            );
            plan.row_ratios = ratios;
        }
        Verdict::Different {
            node,
            production,
            staging,
        } => {
            plan.verdict = "different_plan".into();
            plan.why = format!(
                "the plans part at node {node}: production `{}`, staging `{}`",
                production.as_deref().map_or("(none)", str::trim),
                staging.as_deref().map_or("(none)", str::trim)
            );
            plan.first_difference = Some(NodeDifference {
                node,
                production,
                staging,
            });
            plan.causes = causes::causes(pn, sn, catalogs, &stats::named_columns(&q.sql));
            plan.accepted_by = rules.and_then(|r| accepted(r, &q.name));
        }
    }
    plan
}

/// The rule accepting a different plan for query `name`: `object` matches the name and `path`
/// matches `plan`.
fn accepted(rules: &Rules, name: &str) -> Option<AcceptedBy> {
    let mut notes = Vec::new();
    rules
        .accepting::<PlanValue>(&[], name, "plan", None, None, &mut notes)
        .map(|r| AcceptedBy {
            rule: r.index,
            reason: r.reason.clone(),
            owner: r.owner.clone(),
        })
}

/// A plan as rules see it: nothing a scale, map or pattern rule can judge (only `ignore`
/// accepts a different plan).
struct PlanValue;

impl prodlike_rules::Value for PlanValue {
    fn scalar_text(&self) -> Option<String> {
        None
    }
    fn quantity(&self) -> Option<prodlike_rules::quantity::Quantity> {
        None
    }
    fn leaf_texts(&self) -> Vec<String> {
        Vec::new()
    }
    fn render_short(&self, _max: usize) -> String {
        "a plan".into()
    }
}

fn summary(nodes: &[Node]) -> PlanSummary {
    PlanSummary {
        nodes: nodes.iter().map(verdict::indented).collect(),
        total_cost: nodes.first().map_or(0.0, |n| n.total_cost),
        rows: nodes.first().map_or(0.0, |n| n.rows),
    }
}
