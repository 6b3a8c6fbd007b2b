//! `prodlike drift BASELINE CANDIDATE` and `prodlike drift schema --baseline URL --candidate URL`.
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use prodlike_drift::{Date, DriftReport, RuleSet, path::Glob, render};
use prodlike_report::{Outcome, OutputFormat, now_rfc3339};

/// Compare configuration files or directories (`drift BASELINE CANDIDATE`), or live database
/// schemas (`drift schema --baseline URL --candidate URL`). Exit 0: no drift; 1: drift; 2: error.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    schema: Option<Sub>,
    /// Baseline file or directory (usually production's configuration); optional with layers.
    baseline: Option<PathBuf>,
    /// Candidate file or directory (usually staging's), paired with the baseline by relative path.
    candidate: Option<PathBuf>,
    /// The baseline as layered values files merged as Helm merges `-f a -f b` (maps deep,
    /// lists replaced, null deletes), e.g. `values.yaml,values-production.yaml`.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "FILES",
        requires = "candidate_layers"
    )]
    baseline_layers: Vec<PathBuf>,
    /// The candidate's layers, e.g. `values.yaml,values-staging.yaml`.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "FILES",
        requires = "baseline_layers"
    )]
    candidate_layers: Vec<PathBuf>,
    /// Render BASELINE and CANDIDATE (overlay directories) first: `kustomize` runs `kubectl
    /// kustomize` (or `kustomize build`) on each.
    #[arg(long, value_parser = ["kustomize"], value_name = "RENDERER")]
    render: Option<String>,
    #[command(flatten)]
    output: Output,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Compare two live databases: server version, non-default settings, extensions, tables,
    /// columns, indexes, constraints, sequences and views.
    Schema(SchemaArgs),
}

#[derive(clap::Args)]
struct SchemaArgs {
    /// Baseline database: postgres://user@host:port/db or sqlite://path.
    #[arg(long)]
    baseline: String,
    /// Candidate database, same forms.
    #[arg(long)]
    candidate: String,
    #[command(flatten)]
    output: Output,
}

#[derive(clap::Args)]
struct Output {
    /// Rules file declaring intended differences (see docs/drift.md).
    #[arg(long, value_name = "drift.toml")]
    rules: Option<PathBuf>,
    /// Report format on stdout: text, json, markdown or sarif.
    #[arg(long, default_value = "text", value_parser = parse_format)]
    format: OutputFormat,
    /// Also write the JSON result (`prodlike.drift/1` envelope) to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Colour in the text report: auto (a terminal and NO_COLOR unset), always, never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
    /// Leave files out of a directory comparison (glob on the relative path; repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Decide rule expiry as of this day (YYYY-MM-DD) instead of today.
    #[arg(long, value_name = "DATE")]
    today: Option<String>,
}

fn parse_format(s: &str) -> Result<OutputFormat, String> {
    s.parse::<OutputFormat>().map_err(|e| e.to_string())
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let started = now_rfc3339();
    let (report, output) = match args.schema {
        Some(Sub::Schema(s)) => {
            check_output(&s.output)?;
            let rules = load_rules(&s.output)?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let report = rt
                .block_on(prodlike_drift::compare_schemas(
                    &s.baseline,
                    &s.candidate,
                    &rules,
                    rules_label(&s.output),
                ))
                .context("comparing database schemas")?;
            (report, s.output)
        }
        None => {
            check_output(&args.output)?;
            let rules = load_rules(&args.output)?;
            let label = rules_label(&args.output);
            let explicit_layers = !args.baseline_layers.is_empty();
            let report = match (args.baseline, args.candidate) {
                (Some(_), Some(_)) if explicit_layers => bail!(
                    "give either BASELINE and CANDIDATE or --baseline-layers and --candidate-layers, not both"
                ),
                (Some(b), Some(c)) if args.render.is_some() => {
                    prodlike_drift::kustomize::compare_rendered(&b, &c, &rules, label)
                }
                (Some(b), Some(c)) => prodlike_drift::compare_paths(&b, &c, &rules, label),
                (None, None) if args.render.is_some() => {
                    bail!("--render kustomize needs BASELINE and CANDIDATE overlay directories")
                }
                (None, None) => {
                    let layers = if explicit_layers {
                        Some((args.baseline_layers, args.candidate_layers))
                    } else {
                        rules.layers.clone()
                    };
                    let Some((b, c)) = layers else {
                        bail!(
                            "give a BASELINE and a CANDIDATE file or directory, --baseline-layers and --candidate-layers (or [layers] in the rules file), or use `drift schema`"
                        );
                    };
                    prodlike_drift::compare_layers(&b, &c, &rules, label)
                }
                _ => bail!("give both a BASELINE and a CANDIDATE"),
            }
            .context("comparing configuration")?;
            (report, args.output)
        }
    };
    emit(&report, &output, started)?;
    Ok(report.outcome())
}

/// The output flags, checked before any comparison runs.
fn check_output(output: &Output) -> anyhow::Result<()> {
    if let Some(p) = &output.out {
        super::check_output_file("--out", p)?;
    }
    Ok(())
}

fn rules_label(output: &Output) -> Option<String> {
    output.rules.as_ref().map(|p| p.display().to_string())
}

fn load_rules(output: &Output) -> anyhow::Result<RuleSet> {
    let today = match &output.today {
        Some(t) => Date::parse(t)
            .with_context(|| format!("--today: `{t}` is not a date; write YYYY-MM-DD"))?,
        None => Date::today(),
    };
    let mut rules = match &output.rules {
        Some(path) => RuleSet::load(path, today)?,
        None => RuleSet::parse("", today)?,
    };
    for pattern in &output.exclude {
        let glob = Glob::file(pattern).with_context(|| format!("--exclude `{pattern}`"))?;
        rules.exclude.push(glob);
    }
    Ok(rules)
}

fn emit(report: &DriftReport, output: &Output, started: String) -> anyhow::Result<()> {
    let envelope = report.envelope(started);
    if let Some(path) = &output.out {
        envelope
            .write_to(path)
            .with_context(|| format!("writing the result to {}", path.display()))?;
    }
    let text = match output.format {
        OutputFormat::Text => {
            let color = match output.color.as_str() {
                "always" => true,
                "never" => false,
                _ => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            render::text(report, color)
        }
        OutputFormat::Json => serde_json::to_string_pretty(&envelope)? + "\n",
        OutputFormat::Markdown => render::markdown(report),
        OutputFormat::Sarif => serde_json::to_string_pretty(&render::sarif(report))? + "\n",
    };
    print!("{text}");
    Ok(())
}
