//! `prodlike alerts`: flags → prodlike-compare's rule generator → the rules file (and, with
//! --tests, its `promtool test rules` file). Exit 0 when written; 2 on bad input, before any
//! file is written.
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use prodlike_compare::CompareSpec;
use prodlike_compare::alerts::{self, AlertsOptions};
use prodlike_report::Outcome;

/// Prometheus rules that watch staging against production continuously (docs/alerts.md).
#[derive(clap::Args)]
pub struct Args {
    /// Label matchers selecting production: 'environment="production"'.
    #[arg(long, value_name = "MATCHERS")]
    production: String,
    /// Label matchers selecting staging: 'environment="staging"'.
    #[arg(long, value_name = "MATCHERS")]
    staging: String,
    /// Margins, metrics and labels, the same file as `prodlike compare` (docs/compare.md).
    #[arg(long, value_name = "compare.toml")]
    spec: Option<PathBuf>,
    /// The rules file to write (Prometheus rule-file YAML).
    #[arg(long, value_name = "rules.yml")]
    out: PathBuf,
    /// Also write a `promtool test rules` file proving each alert fires and stays silent.
    #[arg(long, value_name = "rules.test.yml")]
    tests: Option<PathBuf>,
    /// Prometheus URL written into the `prodlike compare prometheus` command of the alerts'
    /// annotations.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

pub fn run(a: Args) -> anyhow::Result<Outcome> {
    super::check_output_file("--out", &a.out)?;
    if let Some(t) = &a.tests {
        super::check_output_file("--tests", t)?;
        if t == &a.out {
            bail!(
                "--tests {}: the same file as --out; give another",
                t.display()
            );
        }
    }
    let spec = match &a.spec {
        Some(path) => CompareSpec::load(path)?,
        None => CompareSpec::default(),
    };
    let options = AlertsOptions {
        production: a.production,
        staging: a.staging,
        url: a.url,
        spec: a.spec.as_ref().map(|p| p.display().to_string()),
    };
    let generated = alerts::generate(&options, &spec)?;
    let tests = match &a.tests {
        Some(t) => Some(alerts::generate_tests(
            &options,
            &spec,
            &rule_file_from(&a.out, t)?,
        )?),
        None => None,
    };
    std::fs::write(&a.out, &generated.rules)
        .with_context(|| format!("writing the rules to {}", a.out.display()))?;
    println!(
        "wrote {} recording rules and alerts {} to {}",
        generated.records,
        generated.alerts.join(", "),
        a.out.display()
    );
    if let (Some(path), Some(text)) = (&a.tests, tests) {
        std::fs::write(path, text)
            .with_context(|| format!("writing the rule tests to {}", path.display()))?;
        println!(
            "wrote rule tests to {}; run: promtool test rules {}",
            path.display(),
            path.display()
        );
    }
    Ok(Outcome::Success)
}

/// The rules file as the test file names it: promtool reads it relative to the test file's
/// folder, so its bare name when both are in one folder, else its absolute path.
fn rule_file_from(rules: &Path, tests: &Path) -> anyhow::Result<String> {
    let folder = |p: &Path| {
        std::path::absolute(p)
            .ok()
            .and_then(|a| a.parent().map(Path::to_path_buf))
    };
    if folder(rules) == folder(tests)
        && let Some(name) = rules.file_name()
    {
        return Ok(name.to_string_lossy().into_owned());
    }
    let abs =
        std::path::absolute(rules).with_context(|| format!("resolving {}", rules.display()))?;
    Ok(abs.display().to_string())
}
