//! `prodlike data plans`: flags and files checked (queries parsed, rules validated) before any
//! connection, then prodlike_data::query_plans on both databases, then the report. Exit 0:
//! every plan is production's (or scaled with the data); 1: a plan differs and no rule accepts
//! it; 3: a query staging could not explain; 2: bad input, including a query production itself
//! cannot explain (the others are still compared and reported).
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use prodlike_common::date::Date;
use prodlike_data::DbUrl;
use prodlike_data::query_plans::{self, PlansOptions, queries};
use prodlike_report::{CommandResult, Outcome, OutputFormat, now_rfc3339};
use prodlike_results::data::plans::{PlansReport, SCHEMA};

#[derive(clap::Args)]
pub struct PlansArgs {
    /// Production: postgres://user@host:5432/db (read only: EXPLAIN, never ANALYZE).
    #[arg(long)]
    source: String,
    /// Staging: postgres://user@host:5432/db
    #[arg(long)]
    target: String,
    /// SQL statements, each ending with `;`, separated by blank lines; a statement's first
    /// `--` comment line is its name; sample parameters written in place or bound by
    /// `-- param: $1 = <literal>` lines.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "from_stat_statements"
    )]
    queries: Option<PathBuf>,
    /// Also the N heaviest statements (by total_exec_time) of production's
    /// pg_stat_statements, planned generically with values sampled from staging.
    #[arg(long, value_name = "N")]
    from_stat_statements: Option<usize>,
    /// Staging's size over production's (0.1: a tenth), scaling the estimates; measured from
    /// the tables the queries read when not given.
    #[arg(long, value_name = "RATIO")]
    volume_ratio: Option<f64>,
    /// ANALYZE the tables the queries read in staging first (production is never analyzed).
    #[arg(long)]
    analyze_staging: bool,
    /// Intended differences: `[[rule]]` tables (docs/drift.md's format) with `kind = "ignore"`,
    /// `object` = the query's name (a glob), `path = "plan"`, a reason, an owner, an expiry.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// The schema unqualified names are looked up in.
    #[arg(long, default_value = "public")]
    schema: String,
    /// How long one EXPLAIN may plan.
    #[arg(long, default_value = "30s", value_parser = super::parse_duration)]
    statement_timeout: std::time::Duration,
    /// text, json (the prodlike.data.plans/1 envelope) or markdown.
    #[arg(long, default_value = "text")]
    format: OutputFormat,
    /// Also write the JSON result here.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(a: PlansArgs) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    if !matches!(
        a.format,
        OutputFormat::Text | OutputFormat::Json | OutputFormat::Markdown
    ) {
        anyhow::bail!(
            "--format {} is not available for data plans; use text, json or markdown",
            a.format
        );
    }
    if let Some(p) = &a.out {
        super::check_output_file("--out", p)?;
    }
    let source = DbUrl::parse(&a.source).context("--source")?;
    let target = DbUrl::parse(&a.target).context("--target")?;
    if let Some(v) = a.volume_ratio
        && !(v.is_finite() && v > 0.0)
    {
        anyhow::bail!("--volume-ratio {v}: give a positive number, e.g. 0.1 for a tenth");
    }
    if a.from_stat_statements == Some(0) {
        anyhow::bail!("--from-stat-statements 0: give how many statements to compare, e.g. 10");
    }
    let queries = match &a.queries {
        None => Vec::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--queries {}", path.display()))?;
            queries::parse(&text).with_context(|| format!("--queries {}", path.display()))?
        }
    };
    let rules = match &a.rules {
        None => None,
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("--rules {}", p.display()))?;
            Some(
                query_plans::rules_from_toml(&text, &p.display().to_string(), Date::today())
                    .context("--rules")?,
            )
        }
    };
    let options = PlansOptions {
        queries,
        from_stat_statements: a.from_stat_statements,
        volume_ratio: a.volume_ratio,
        analyze_staging: a.analyze_staging,
        rules,
        schema: a.schema.clone(),
        statement_timeout_ms: a.statement_timeout.as_millis() as u64,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let report = rt
        .block_on(query_plans::compare(&source, &target, &options))
        .context("comparing query plans")?;
    let c = &report.counts;
    let outcome = if c.failed > 0 || !report.problems.is_empty() {
        Outcome::Error
    } else if c.different_plan > c.accepted {
        Outcome::Finding
    } else if c.not_comparable > 0 {
        Outcome::Inconclusive
    } else {
        Outcome::Success
    };
    let summary = format!(
        "{} queries: {} same plan, {} same shape scaled, {} different ({} accepted), {} not comparable",
        report.queries.len(),
        c.same_plan,
        c.same_shape_scaled,
        c.different_plan,
        c.accepted,
        c.not_comparable
    );
    let envelope = CommandResult::new(SCHEMA, "data plans", started, outcome, summary, &report);
    if let Some(p) = &a.out {
        envelope
            .write_to(p)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    match a.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&envelope)?),
        OutputFormat::Markdown => print!("{}", render(&report, true)),
        _ => print!("{}", render(&report, false)),
    }
    name_input_errors(&report);
    Ok(outcome)
}

/// The input errors (exit 2) on stderr: the run's problems, and each query production cannot
/// explain or whose parameters cannot be bound, by name and line.
fn name_input_errors(report: &PlansReport) {
    for p in &report.problems {
        eprintln!("prodlike data plans: {p}");
    }
    for q in report.queries.iter().filter(|q| {
        q.verdict == "not_comparable"
            && q.error.is_some()
            && q.production.is_none()
            && q.stat_statement.is_none()
    }) {
        eprintln!(
            "prodlike data plans: query `{}` (line {}): {}",
            q.name, q.line, q.why
        );
    }
}

/// The report as text, or as Markdown for a pull-request comment.
fn render(r: &PlansReport, markdown: bool) -> String {
    let mut out = String::new();
    let h = if markdown { "### " } else { "" };
    let _ = writeln!(
        out,
        "{h}prodlike data plans: {} against {} (volume ratio {:.3}, {})",
        r.target, r.source, r.volume_ratio, r.volume_ratio_from
    );
    for q in &r.queries {
        let mark = match q.verdict.as_str() {
            "same_plan" | "same_shape_scaled" => "✓",
            "different_plan" if q.accepted_by.is_some() => "~",
            "different_plan" => "✗",
            _ => "?",
        };
        let _ = writeln!(
            out,
            "{}{mark} {} (line {}): {} — {}",
            if markdown { "- " } else { "  " },
            q.name,
            q.line,
            q.verdict,
            q.why
        );
        if !q.params.is_empty() {
            let _ = writeln!(
                out,
                "      with {}",
                prodlike_data::query_plans::queries::shown_params(&q.params)
            );
        }
        if let Some(a) = &q.accepted_by {
            let _ = writeln!(out, "      accepted by rule {}: {}", a.rule, a.reason);
        }
        if q.verdict == "different_plan" {
            for (side, plan) in [("production", &q.production), ("staging", &q.staging)] {
                if let Some(p) = plan {
                    let _ = writeln!(out, "      {side}:");
                    for n in &p.nodes {
                        let _ = writeln!(out, "        {n}");
                    }
                }
            }
            for c in &q.causes {
                let _ = writeln!(out, "      cause ({}): {}", c.kind, c.detail);
                let _ = writeln!(out, "        fix: {}", c.fix);
            }
        }
    }
    let c = &r.counts;
    let _ = writeln!(
        out,
        "{} same plan, {} same shape scaled, {} different ({} accepted), {} not comparable",
        c.same_plan, c.same_shape_scaled, c.different_plan, c.accepted, c.not_comparable
    );
    for p in &r.problems {
        let _ = writeln!(out, "{}! {p}", if markdown { "- " } else { "" });
    }
    out
}
