//! Demo stage: data plans. The sample shop at two sizes (3,000 users as production, 10 as
//! staging), SQLite only, and `data plans` on one query SQLite's planner plans by size: the
//! orders of one country's users, an index search on the large file and a full scan on the
//! small one (measured with the bundled SQLite; if a SQLite release planned both alike, the
//! stage shows the comparison with the reason it matches). Writes plans/plans.json.
use anyhow::Context as _;
use prodlike_data::DbUrl;
use prodlike_data::fixture::{ShopSize, write_shop_sqlite};
use prodlike_data::query_plans::{self, PlansOptions, queries};
use prodlike_report::{CommandResult, Outcome, now_rfc3339};
use prodlike_results::data::plans::SCHEMA;

use super::Context;

const QUERY: &str = "-- orders from one country
SELECT * FROM orders WHERE user_id IN (SELECT id FROM users WHERE country = 'FR');
";

pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    println!("\n== data plans: one query on the shop at 3,000 and at 10 users, SQLite ==");
    let dir = ctx.out_dir.join("plans");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let (prod, stag) = (dir.join("production.db"), dir.join("staging.db"));
    for (path, users) in [(&prod, 3000), (&stag, 10)] {
        write_shop_sqlite(path, ShopSize { users, seed: 7 })
            .with_context(|| format!("building {}", path.display()))?;
    }
    let started = now_rfc3339();
    let options = PlansOptions {
        queries: queries::parse(QUERY).context("the demo's query")?,
        from_stat_statements: None,
        volume_ratio: None,
        analyze_staging: false,
        rules: None,
        schema: "main".into(),
        statement_timeout_ms: 30_000,
    };
    let report = query_plans::compare(
        &DbUrl::parse(&format!("sqlite://{}", prod.display()))?,
        &DbUrl::parse(&format!("sqlite://{}", stag.display()))?,
        &options,
    )
    .await
    .context("data plans")?;
    let q = report
        .queries
        .first()
        .context("data plans returned no query")?;
    let outcome = if q.verdict == "different_plan" {
        Outcome::Finding
    } else {
        Outcome::Success
    };
    CommandResult::new(
        SCHEMA,
        "data plans",
        started,
        outcome,
        format!("{}: {}", q.name, q.verdict),
        &report,
    )
    .write_to(&dir.join("plans.json"))?;
    println!("  query: {}", q.sql);
    for (side, plan) in [("production", &q.production), ("staging", &q.staging)] {
        if let Some(p) = plan {
            println!("  {side:<10}  {}", p.nodes.join(" / ").replace("  ", ""));
        }
    }
    if q.verdict == "different_plan" {
        println!("  found: the plans differ — {}", q.why);
        for c in &q.causes {
            println!("    cause ({}): {}", c.kind, c.detail);
            println!("      fix: {}", c.fix);
        }
    } else {
        println!(
            "  SQLite plans it alike at both sizes ({}): {}",
            q.verdict, q.why
        );
    }
    Ok(())
}
