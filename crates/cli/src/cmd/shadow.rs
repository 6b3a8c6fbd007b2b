use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use prodlike_report::{CommandResult, Outcome, OutputFormat, now_rfc3339};
use prodlike_shadow::{ShadowConfig, StartOptions, config::ListenerTls};

/// `prodlike shadow`: flags override the config file.
#[derive(clap::Args)]
pub struct Args {
    /// Address clients connect to [config: listen; default 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<String>,
    /// Production upstream URL; repeat for several (served round-robin) [config: production.upstreams].
    #[arg(long = "production", value_name = "URL")]
    production: Vec<String>,
    /// Staging URL; without it this is a plain reverse proxy [config: mirror.staging].
    #[arg(long, value_name = "URL")]
    staging: Option<String>,
    /// Share of requests mirrored, 0.0–1.0 [config: mirror.sample; default 1.0].
    #[arg(long, value_name = "FRACTION")]
    sample: Option<f64>,
    /// Worker threads for production traffic; default: one per core [config: workers].
    #[arg(long)]
    workers: Option<usize>,
    /// Admin address (/metrics, /healthz, /api/divergence, dashboard); "" disables it
    /// [config: admin; default 127.0.0.1:9090].
    #[arg(long)]
    admin: Option<String>,
    /// Write sampled exchanges, masked, to this file, or publish them to NATS JetStream with
    /// nats://HOST:PORT/SUBJECT (docs/capture-format.md; stream settings in [capture.nats])
    /// [config: capture.path].
    #[arg(long, value_name = "FILE|nats://HOST:PORT/SUBJECT")]
    capture: Option<PathBuf>,
    /// Configuration file (TOML; docs/shadow.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key) [config: tls.cert].
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert [config: tls.key].
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Stop after this long (e.g. 10m), as on SIGINT/SIGTERM.
    #[arg(long, value_parser = super::parse_duration)]
    duration: Option<Duration>,
    /// Exit 1 when the share of mismatching comparisons exceeds this fraction; exit 3
    /// (inconclusive) when nothing was compared, or a route's copies were all left uncompared.
    #[arg(long, value_name = "FRACTION")]
    fail_on_mismatch_rate: Option<f64>,
    /// Write the final divergence report as JSON (docs/results.md, schema prodlike.shadow/2).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Final summary on stdout: text or json.
    #[arg(long, default_value = "text")]
    format: OutputFormat,
    /// Start even when no production upstream accepts connections yet.
    #[arg(long)]
    skip_upstream_check: bool,
}

fn config_from(args: &Args) -> anyhow::Result<ShadowConfig> {
    let mut cfg = match &args.config {
        Some(path) => ShadowConfig::from_file(path)?,
        None => ShadowConfig::default(),
    };
    if let Some(v) = &args.listen {
        cfg.listen = v.clone();
    }
    if !args.production.is_empty() {
        cfg.production.upstreams = args.production.clone();
    }
    if let Some(v) = &args.staging {
        cfg.mirror.staging = Some(v.clone());
    }
    if let Some(v) = args.sample {
        cfg.mirror.sample = v;
    }
    if let Some(v) = args.workers {
        cfg.workers = v;
    }
    if let Some(v) = &args.admin {
        cfg.admin = Some(v.clone());
    }
    if let Some(v) = &args.capture {
        cfg.capture.path = Some(v.clone());
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        cfg.tls = Some(ListenerTls {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    cfg.validate()?;
    Ok(cfg)
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if !matches!(args.format, OutputFormat::Text | OutputFormat::Json) {
        anyhow::bail!(
            "--format {} is not available for shadow; use text or json",
            args.format
        );
    }
    if let Some(r) = args.fail_on_mismatch_rate
        && !(0.0..=1.0).contains(&r)
    {
        anyhow::bail!("--fail-on-mismatch-rate {r} is not a fraction; use 0.0 to 1.0");
    }
    if let Some(p) = &args.out {
        super::check_output_file("--out", p)?;
    }
    let cfg = config_from(&args)?;
    let started = now_rfc3339();
    let report = prodlike_shadow::run(
        cfg,
        StartOptions {
            skip_upstream_check: args.skip_upstream_check,
            mask_key: None,
        },
        args.duration,
        |addr, admin| {
            eprintln!("prodlike shadow listening on {addr}");
            if let Some(a) = admin {
                eprintln!("dashboard http://{a}/   metrics http://{a}/metrics");
            }
        },
    )?;

    let t = &report.totals;
    let outcome = match args.fail_on_mismatch_rate {
        Some(limit) if t.compared > 0 && t.mismatch_rate > limit => Outcome::Finding,
        // Nothing compared proves nothing: never a pass when a limit was asked for, neither
        // overall nor for a route whose copies were all left uncompared.
        Some(_) if t.compared == 0 || t.routes_not_compared > 0 => Outcome::Inconclusive,
        _ => Outcome::Success,
    };
    let summary = format!(
        "{} requests, {} mirrored, {} compared, {} mismatched ({:.2}%)",
        t.requests,
        t.mirrored,
        t.compared,
        t.mismatched,
        t.mismatch_rate * 100.0
    );
    let result = CommandResult::new(
        prodlike_shadow::SCHEMA,
        "shadow",
        started,
        outcome,
        summary,
        &report,
    );
    if let Some(path) = &args.out {
        result
            .write_to(path)
            .with_context(|| format!("writing the result to {}", path.display()))?;
    }
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&result)?),
        _ => print!("{}", prodlike_shadow::ReportText::to_text(&report)),
    }
    Ok(outcome)
}
