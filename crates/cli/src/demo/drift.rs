//! Demo stage: drift. Compares the bundled production and staging configurations (Kubernetes
//! manifests, Helm values, .env, properties) under the bundled rules: every intended
//! difference is accepted by a rule with its reason, one hand edit is reported as drift, and
//! an expired waiver is flagged. Then the observability parity rule pack compares two
//! OpenTelemetry Collector configurations, and the half-size Terraform cluster its two module
//! calls. Finding drift is the point of the demo, not a failure.
use anyhow::Context as _;
use prodlike_drift::rules::RuleKind;
use prodlike_drift::{RuleSet, Status, samples};

use super::Context;

pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    println!("\n== drift: production vs staging configuration ==");
    let started = prodlike_report::now_rfc3339();
    let dir = ctx.out_dir.join("drift-samples");
    samples::write_to(&dir).with_context(|| format!("writing the samples to {}", dir.display()))?;
    let rules_path = dir.join("drift.toml");
    let rules = RuleSet::load(&rules_path, prodlike_drift::Date::today())?;
    let report = prodlike_drift::compare_paths(
        &dir.join("production"),
        &dir.join("staging"),
        &rules,
        Some(rules_path.display().to_string()),
    )
    .context("comparing the bundled samples")?;

    let s = &report.summary;
    println!(
        "compared {} files, {} objects; {} intended differences accepted by rules, e.g.:",
        s.files, s.objects, s.accepted
    );
    // One example per rule kind keeps the summary short; a unit-aware scale example first.
    let accepted: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Accepted)
        .collect();
    let kind_of =
        |f: &prodlike_drift::Finding| f.rule.and_then(|r| report.rules.get(r - 1)).map(|r| r.kind);
    let has_unit = |f: &prodlike_drift::Finding| {
        f.candidate
            .as_ref()
            .and_then(|c| c.as_str())
            .is_some_and(|c| c.ends_with("Mi") || c.ends_with('m'))
    };
    let mut examples = Vec::new();
    for kind in [
        RuleKind::Scale,
        RuleKind::Rename,
        RuleKind::Map,
        RuleKind::Pattern,
        RuleKind::Ignore,
    ] {
        let of_kind = || accepted.iter().filter(|f| kind_of(f) == Some(kind.into()));
        if let Some(f) = of_kind().find(|f| has_unit(f)).or_else(|| of_kind().next()) {
            examples.push(*f);
        }
    }
    for f in &examples {
        let values = match (&f.baseline, &f.candidate) {
            (Some(b), Some(c)) => format!("{b} → {c}"),
            _ => f.change.label().to_string(),
        };
        let object = f
            .object
            .as_deref()
            .map(|o| format!(" {o}"))
            .unwrap_or_default();
        println!(
            "  ✓ {}{object}: {} {values}  ({})",
            f.file,
            f.path,
            f.reason.as_deref().unwrap_or("")
        );
    }
    if accepted.len() > examples.len() {
        println!(
            "    … and {} more accepted differences",
            accepted.len() - examples.len()
        );
    }
    for f in report.drift() {
        let values = match (&f.baseline, &f.candidate) {
            (Some(b), Some(c)) => format!("{b} → {c}"),
            _ => f.change.label().to_string(),
        };
        let line = f.line.map(|l| format!(":{l}")).unwrap_or_default();
        println!("  ✗ drift {}{line}: {} {values}", f.file, f.path);
    }
    for r in &report.rules {
        if r.state == prodlike_drift::RuleState::Expired {
            println!(
                "  ! rule {} expired on {} ({}), owner {}",
                r.index,
                r.expires.as_deref().unwrap_or("?"),
                r.reason,
                r.owner.as_deref().unwrap_or("none")
            );
        }
    }
    let out = ctx.out_dir.join("drift.json");
    report
        .envelope(started)
        .write_to(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    println!("{}", report.sentence());
    println!(
        "try: prodlike drift {0}/production {0}/staging --rules {0}/drift.toml --format markdown",
        dir.display()
    );
    otel_parity(ctx)?;
    terraform(ctx)
}

/// The half-size Terraform cluster: a module call per environment, paired across their
/// names; the halved count and the smaller instance type are accepted by rules, and the
/// timeout hard-coded in staging where production uses the shared variable is the drift.
fn terraform(ctx: &Context) -> anyhow::Result<()> {
    println!("\n-- drift: Terraform (a module call per environment) --");
    let dir = ctx.out_dir.join("drift-terraform");
    samples::terraform::write_to(&dir)
        .with_context(|| format!("writing the Terraform samples to {}", dir.display()))?;
    let rules_path = dir.join("drift.toml");
    let rules = RuleSet::load(&rules_path, prodlike_drift::Date::today())?;
    let report = prodlike_drift::compare_paths(
        &dir.join("production"),
        &dir.join("staging"),
        &rules,
        Some(rules_path.display().to_string()),
    )
    .context("comparing the Terraform samples")?;
    for f in &report.findings {
        let values = match (&f.baseline, &f.candidate) {
            (Some(b), Some(c)) => format!("{} → {}", plain(b), plain(c)),
            _ => f.change.label().to_string(),
        };
        let object = f.object.as_deref().unwrap_or("");
        let line = f.line.map(|l| format!(":{l}")).unwrap_or_default();
        match f.status {
            Status::Accepted => println!(
                "  ✓ {object} {}: {values}  ({})",
                f.path,
                f.reason.as_deref().unwrap_or("")
            ),
            Status::Drift => println!(
                "  ✗ drift {}{line} {object} {}: {} {values}",
                f.file,
                f.path,
                f.change.label()
            ),
        }
    }
    println!("{}", report.sentence());
    println!(
        "try: prodlike drift {0}/production {0}/staging --rules {0}/drift.toml",
        dir.display()
    );
    Ok(())
}

/// A value as a user wrote it: strings without JSON quotes (`var.timeout`, `t3.large`).
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The observability parity rule pack on two OpenTelemetry Collector configurations: the
/// pipelines and sampling that differ are drift, the endpoints are not.
fn otel_parity(ctx: &Context) -> anyhow::Result<()> {
    println!("\n-- drift: observability parity (OpenTelemetry Collector) --");
    let dir = ctx.out_dir.join("drift-otel");
    samples::otel::write_to(&dir)
        .with_context(|| format!("writing the collector samples to {}", dir.display()))?;
    let rules_path = dir.join("drift.toml");
    let rules = RuleSet::load(&rules_path, prodlike_drift::Date::today())?;
    let report = prodlike_drift::compare_paths(
        &dir.join("production.yaml"),
        &dir.join("staging.yaml"),
        &rules,
        Some(rules_path.display().to_string()),
    )
    .context("comparing the collector configurations")?;
    for f in report.drift() {
        let values = match (&f.baseline, &f.candidate) {
            (Some(b), Some(c)) => format!("{b} → {c}"),
            _ => f.change.label().to_string(),
        };
        let line = f.line.map(|l| format!(":{l}")).unwrap_or_default();
        let why = f.rule.map(|r| format!("  (rule {r})")).unwrap_or_default();
        println!("  ✗ staging.yaml{line}: {} {values}{why}", f.path);
    }
    println!("{}", report.sentence());
    println!(
        "try: prodlike drift {0}/production.yaml {0}/staging.yaml --rules {0}/drift.toml",
        dir.display()
    );
    Ok(())
}
