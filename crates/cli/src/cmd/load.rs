//! `prodlike load`: flags into `prodlike_load::RunOptions`, then print, write and map the
//! outcome (0 ok, 1 breached threshold or divergence, 2 bad input or an invalid run).
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use prodlike_load::{RunOptions, StopHandle};
use prodlike_report::{CommandResult, Outcome, OutputFormat, now_rfc3339};

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Target base URL, e.g. http://127.0.0.1:8080 [scenario: target].
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Second target: the same schedule runs against both, interleaved, and their latency and
    /// errors are compared per route [scenario: compare].
    #[arg(long, value_name = "URL")]
    compare: Option<String>,
    /// Constant arrival rate, requests per second (needs --duration).
    #[arg(long, value_name = "PER_SECOND")]
    rate: Option<f64>,
    /// Run length, e.g. 30s, 5m (open model with --rate; closed model; replay cap).
    #[arg(long, value_parser = super::parse_duration)]
    duration: Option<Duration>,
    /// Ramping arrival rate, k6 style: DURATION:RATE per stage, each ramping linearly from the
    /// previous target, e.g. 5m:50,2m:200,5m:50; name a stage with NAME=2m:200.
    #[arg(long, value_name = "PLAN")]
    stages: Option<String>,
    /// Rate the first stage ramps from (k6 startRate; default 0).
    #[arg(long, value_name = "PER_SECOND")]
    start_rate: Option<f64>,
    /// Poisson arrivals (exponential gaps) instead of evenly spaced ones.
    #[arg(long)]
    poisson: bool,
    /// Closed model: N connections sending back to back, flat out (like wrk).
    #[arg(long, value_name = "N")]
    connections: Option<usize>,
    /// Scenario file (TOML): request mix, data files, retries, churn, held connections,
    /// thresholds (docs/load.md). Flags override it.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Replay recorded traffic: a prodlike shadow capture, an nginx/Apache combined log, a
    /// JSON-lines access log, or a capture in NATS JetStream (nats://HOST:PORT/STREAM).
    #[arg(long, value_name = "FILE|nats://HOST:PORT/STREAM")]
    replay: Option<PathBuf>,
    /// Replay keeping the recorded gaps divided by F (2 = twice as fast).
    #[arg(long, value_name = "F")]
    speed: Option<f64>,
    /// Replay the recorded per-second rate curve multiplied by F.
    #[arg(long, value_name = "F")]
    scale: Option<f64>,
    /// Replay from the start again when the recording ends (needs --duration).
    #[arg(long = "loop")]
    looped: bool,
    /// Requests in flight at most; arrivals beyond it are dropped and counted [default 1000].
    #[arg(long, value_name = "N")]
    max_in_flight: Option<usize>,
    /// Pass/fail criterion, repeatable: p99<300ms, error_rate<0.01, spike:p99<1s, …
    #[arg(long = "threshold", value_name = "EXPR")]
    thresholds: Vec<String>,
    /// Path of the single request when there is no scenario mix [default /].
    #[arg(long)]
    path: Option<String>,
    /// Method of the single request [default GET].
    #[arg(long)]
    method: Option<String>,
    /// Body of the single request.
    #[arg(long)]
    body: Option<String>,
    /// Extra request header, repeatable: "name: value".
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Idle keep-alive connections held open for the whole run.
    #[arg(long, value_name = "N")]
    hold: Option<usize>,
    /// Whole-request timeout [default 30s].
    #[arg(long, value_parser = super::parse_duration)]
    timeout: Option<Duration>,
    /// Worker threads; 0 = one per core.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Seed for Poisson arrivals, weighted picks and jitter (reproducible runs; segments of
    /// one run share it, 0 when not given).
    #[arg(long)]
    seed: Option<u64>,
    /// Fire only this share of the plan's arrivals: `2/4` (the 2nd of 4 equal parts) or
    /// `1/4:2/4` (k6's execution segments). Segments together fire the whole plan.
    #[arg(long, value_parser = parse_segment)]
    segment: Option<prodlike_load::segment::Segment>,
    /// The same as --segment, numbered from 0 as Kubernetes' Indexed Jobs number their pods:
    /// `--segment-index $(JOB_COMPLETION_INDEX)/4` is `--segment 1/4` in pod 0.
    #[arg(long, value_name = "I/N", value_parser = parse_segment_index, conflicts_with = "segment")]
    segment_index: Option<prodlike_load::segment::Segment>,
    /// Start the plan's clock at this time (RFC 3339 or Unix seconds), not now: segments on
    /// several machines share it. At most --max-send-lag in the past, a day ahead.
    #[arg(long, value_name = "TIME")]
    start_at: Option<String>,
    /// Check thresholds for syntax only and never judge them (implied by --segment: one
    /// segment's partial view must not fail the run).
    #[arg(long)]
    no_thresholds: bool,
    /// The run is invalid when the generator's p99 send lag exceeds this [default 10ms].
    #[arg(long, value_parser = super::parse_duration)]
    max_send_lag: Option<Duration>,
    /// How long in-flight requests may finish after the schedule ends [default 10s].
    #[arg(long, value_parser = super::parse_duration)]
    graceful_stop: Option<Duration>,
    /// Compare mode: error rate of each verdict, and the false discovery rate across routes.
    #[arg(long, default_value_t = 0.05)]
    compare_alpha: f64,
    /// Compare mode: tolerated rise of B's error ratio over A's (0.01 is one point).
    #[arg(long, default_value_t = 0.01)]
    compare_error_margin: f64,
    /// Compare mode: tolerated relative rise of B's latency at p50 (0.10 is +10%; p90 twice
    /// it, p99 2.5 times it).
    #[arg(long, default_value_t = 0.10)]
    compare_latency_margin: f64,
    /// Extra CA certificate (PEM) for https targets.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// HTTP/2: h2c (prior knowledge) to http:// targets, h2 by ALPN to https:// ones; one
    /// multiplexed connection per target.
    #[arg(long)]
    http2: bool,
    /// Print the arrival timeline it would follow, without sending anything.
    #[arg(long)]
    dry_run: bool,
    /// Write the result as JSON (docs/results.md, schema prodlike.load/2).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write an HTML report with charts.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Summary on stdout: text or json.
    #[arg(long, default_value = "text")]
    format: OutputFormat,
    /// No live progress.
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once(':')
        .ok_or_else(|| format!("header `{s}` is not NAME: VALUE"))?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

// Long: flags into RunOptions field by field, then the dry run's printout; the run itself is
// prodlike_load's.
#[allow(clippy::too_many_lines)]
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if let Some(Action::Merge(m)) = args.action {
        return super::load_merge::run(m);
    }
    if !matches!(args.format, OutputFormat::Text | OutputFormat::Json) {
        anyhow::bail!(
            "--format {} is not available for load; use text or json",
            args.format
        );
    }
    for (flag, path) in [("--out", &args.out), ("--html", &args.html)] {
        if let Some(p) = path {
            super::check_output_file(flag, p)?;
        }
    }
    let opts = RunOptions {
        target: args.target,
        compare: args.compare,
        rate: args.rate,
        duration: args.duration,
        stages: args
            .stages
            .as_deref()
            .map(prodlike_load::stages::parse_stages)
            .transpose()
            .context("--stages")?,
        start_rate: args.start_rate,
        poisson: args.poisson,
        connections: args.connections,
        scenario: args.scenario,
        replay: args.replay,
        speed: args.speed,
        scale: args.scale,
        looped: args.looped,
        max_in_flight: args.max_in_flight,
        thresholds: args.thresholds,
        timeout: args.timeout,
        path: args.path,
        method: args.method,
        headers: args.headers,
        body: args.body,
        threads: args.threads,
        seed: args.seed,
        max_send_lag: args.max_send_lag,
        graceful_stop: args.graceful_stop,
        compare_spec: prodlike_load::compare::CompareSpec {
            alpha: args.compare_alpha,
            error_margin: args.compare_error_margin,
            latency_margin: args.compare_latency_margin,
        },
        ca_file: args.ca_file,
        hold: args.hold,
        segment: args.segment.or(args.segment_index),
        no_thresholds: args.no_thresholds,
        start_at: args.start_at,
        http2: args.http2,
    };
    let prepared = prodlike_load::prepare(&opts)?;
    if args.dry_run {
        let timeline = prepared.timeline();
        if args.format == OutputFormat::Json {
            let doc = serde_json::json!({
                "mode": prepared.mode,
                "plan": prepared.description,
                "targets": prepared.targets,
                "arrivals": prepared.arrivals,
                "thresholds": prepared.thresholds.iter().map(|t| &t.text).collect::<Vec<_>>(),
                "timeline": timeline,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        } else {
            println!("dry run: nothing is sent");
            println!("  target: {}", prepared.targets.join(" and "));
            println!("  plan: {} ({})", prepared.description, prepared.mode);
            if let Some(a) = &prepared.arrivals {
                println!("  arrivals: {a}");
            }
            for t in &prepared.thresholds {
                println!("  threshold: {}", t.text);
            }
            if let Some(tl) = timeline {
                let total: u64 = tl.iter().map(|s| s.scheduled).sum();
                println!("  {total} requests over {} s", tl.len());
                println!(
                    "  {:>6}  {:<12} {:>10} {:>10} {:>10}",
                    "second", "stage", "rate@start", "expected", "scheduled"
                );
                for s in &tl {
                    println!(
                        "  {:>6}  {:<12} {:>10.1} {:>10.1} {:>10}",
                        s.second, s.stage, s.rate_start, s.expected, s.scheduled
                    );
                }
            }
        }
        return Ok(Outcome::Success);
    }
    let started = now_rfc3339();
    let stop = StopHandle::new();
    let ctrl_c = stop.clone();
    // Ctrl-C ends the schedule early; the report covers what ran.
    std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    ctrl_c.stop();
                }
            });
        }
    });
    let result = prepared
        .run_blocking(stop, !args.quiet)
        .context("running the load")?;
    if let Some(rp) = result.replay.as_ref().filter(|rp| rp.unmasked > 0) {
        eprintln!(
            "warning: {} of {} replayed requests came from capture records that were not masked \
             (captured with mask.detect = false, or before capture format 2): they may have sent \
             production's personal data to the target",
            rp.unmasked, rp.requests
        );
    }
    emit(
        &result,
        &Emit {
            started,
            format: args.format,
            out: args.out.as_deref(),
            html: args.html.as_deref(),
        },
    )
}

/// Where a result goes: stdout in `format`, and the files asked for.
pub(super) struct Emit<'a> {
    pub started: String,
    pub format: OutputFormat,
    pub out: Option<&'a std::path::Path>,
    pub html: Option<&'a std::path::Path>,
}

/// Prints and writes a run's (or a merge's) result; its outcome: invalid run 2, a breach or
/// a divergence 1, something undecided (a route, or segments that miss part of the plan) 3.
// Long: the outcome, its one-line summary, then each output in turn.
#[allow(clippy::too_many_lines)]
pub(super) fn emit(result: &prodlike_load::LoadResult, e: &Emit<'_>) -> anyhow::Result<Outcome> {
    let breached = result.breached();
    let (divergent, undecided) = result
        .compare
        .as_ref()
        .map(|c| (c.divergent_routes, c.inconclusive_routes))
        .unwrap_or((0, 0));
    let partial = result
        .merged
        .as_ref()
        .is_some_and(|m| !m.missing.is_empty());
    // A divergence or a breach is a finding; a route the judge could not decide (too few
    // requests, nothing on one side) or a merge missing part of the plan is inconclusive,
    // exit 3 (DECISIONS.md).
    let outcome = if !result.self_check.valid {
        Outcome::Error
    } else if breached > 0 || divergent > 0 {
        Outcome::Finding
    } else if undecided > 0 || partial {
        Outcome::Inconclusive
    } else {
        Outcome::Success
    };
    let mut summary = if !result.self_check.valid {
        "run invalid: the generator could not keep its schedule".to_string()
    } else {
        format!(
            "{} requests at {:.0}/s, p99 {:.1} ms, {:.2}% errors; {} threshold(s) breached{}",
            result.totals.requests,
            result.achieved_rps,
            result.totals.latency.p99_ms,
            result.totals.error_rate * 100.0,
            breached,
            if result.compare.is_some() {
                format!(", {divergent} divergent route(s), {undecided} undecided")
            } else {
                String::new()
            }
        )
    };
    if let Some(m) = &result.merged {
        summary.push_str(&format!(
            "; merged from {} segment(s) covering {:.1}% of the plan{}",
            m.inputs.len(),
            m.coverage * 100.0,
            if m.missing.is_empty() {
                String::new()
            } else {
                format!(" (missing {})", m.missing.join(", "))
            }
        ));
    }
    if let Some(path) = e.html {
        let html = prodlike_load::html::render(result).context("rendering the HTML report")?;
        std::fs::write(path, html).with_context(|| format!("writing {}", path.display()))?;
    }
    let envelope = CommandResult::new(
        prodlike_load::SCHEMA,
        "load",
        e.started.clone(),
        outcome,
        summary,
        result,
    );
    if let Some(path) = e.out {
        envelope
            .write_to(path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    match e.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&envelope)?),
        _ => {
            print!("{}", prodlike_load::summary::render_text(result));
            if let Some(p) = e.out {
                println!("  result: {}", p.display());
            }
            if let Some(p) = e.html {
                println!("  report: {}", p.display());
            }
        }
    }
    if !result.self_check.valid {
        eprintln!(
            "prodlike load: the run is invalid (exit 2): the generator fell behind its own schedule"
        );
    }
    Ok(outcome)
}

/// `prodlike load merge`.
#[derive(clap::Subcommand)]
enum Action {
    /// Merge segments' results (`--segment … --out FILE`) into one, and judge the thresholds
    /// on the whole run.
    Merge(super::load_merge::MergeArgs),
}

/// `I/N`, 0-based: the (I+1)-th of N equal parts.
fn parse_segment_index(text: &str) -> Result<prodlike_load::segment::Segment, String> {
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}`: write I/N, I from 0 to N-1"))?;
    let i: u64 = i
        .trim()
        .parse()
        .map_err(|_| format!("`{text}`: `{i}` is not a whole number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{text}`: `{n}` is not a whole number"))?;
    if i >= n {
        return Err(format!(
            "`{text}`: the index runs from 0 to {}",
            n.saturating_sub(1)
        ));
    }
    parse_segment(&format!("{}/{n}", i + 1))
}

fn parse_segment(text: &str) -> Result<prodlike_load::segment::Segment, String> {
    prodlike_load::segment::Segment::parse(text).map_err(|e| e.to_string())
}
