//! `prodlike compare prometheus`: both environments read from Prometheus' HTTP API and judged.
//!
//! Step by step ([`compare`]): the window (`window.rs`) → each side's metric names and label
//! keys (`fetch.rs`; an empty selection is an error naming the selector) → the metrics to read
//! (`metrics.rs`: the spec's, else OpenTelemetry's or the classic ones) → each side's scrape
//! interval and the curve's step → each side's counts, buckets and curve (`fetch.rs`, through
//! `client.rs`) → observability parity (`parity.rs`) → the judge's neutral input (`routes.rs`)
//! → the shared judge and report (`crate::judge`, `crate::report`). `--watch` (`watch.rs`):
//! the per-route counts since the watch began, for `crate::watch`.
mod client;
mod fetch;
pub(crate) mod metrics;
mod parity;
mod response;
mod routes;
mod selector;
mod watch;
mod window;

use prodlike_results::compare::{CompareReport, PrometheusSource, Source};

use crate::error::CompareError;
use crate::spec::CompareSpec;
use client::Prometheus;
use selector::Selector;
pub use watch::PrometheusCounts;
pub use window::Window;

/// The flags of `compare prometheus`.
#[derive(Debug, Clone)]
pub struct PrometheusOptions {
    /// Production's Prometheus (and staging's, unless `staging_url`).
    pub url: String,
    /// Staging's own Prometheus.
    pub staging_url: Option<String>,
    /// Label matchers selecting production.
    pub production: String,
    /// Label matchers selecting staging.
    pub staging: String,
    /// `--window`, `--start`, `--end` as given.
    pub window: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// Everything checked before any query: flags and spec into clients, selectors and a window.
pub struct Prepared {
    production: Prometheus,
    staging: Option<Prometheus>,
    production_selector: Selector,
    staging_selector: Selector,
    window: Window,
    spec: CompareSpec,
}

/// Checks every flag without touching the network.
pub fn prepare(options: &PrometheusOptions, spec: CompareSpec) -> Result<Prepared, CompareError> {
    spec.validate()?;
    let production = Prometheus::new("--url", &options.url)?;
    let staging = options
        .staging_url
        .as_deref()
        .map(|u| Prometheus::new("--staging-url", u))
        .transpose()?;
    let production_selector = Selector::new("--production", &options.production, &spec.selection)?;
    let staging_selector = Selector::new("--staging", &options.staging, &spec.selection)?;
    let window = Window::from_flags(
        options.window.as_deref(),
        options.start.as_deref(),
        options.end.as_deref(),
        window::now(),
    )?;
    Ok(Prepared {
        production,
        staging,
        production_selector,
        staging_selector,
        window,
        spec,
    })
}

/// The metric names (with their label keys) each side has series of in the window, among the
/// spec's candidates: an error naming the selector when production has none; `None` for a
/// staging that has none (which the caller may only warn about).
pub async fn names_on_both_sides(
    p: &Prepared,
) -> Result<
    (
        std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        Option<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>>,
    ),
    CompareError,
> {
    let production = p
        .production_side()
        .names(&p.spec.metrics, &p.window)
        .await?;
    let staging = match p.staging_side().names(&p.spec.metrics, &p.window).await {
        Ok(n) => Some(n),
        Err(CompareError::NothingSelected(_)) => None,
        Err(e) => return Err(e),
    };
    Ok((production, staging))
}

/// Reads both environments and judges them.
pub async fn compare(p: &Prepared) -> Result<CompareReport, CompareError> {
    let w = &p.window;
    let spec = &p.spec;
    let production = p.production_side();
    let staging = p.staging_side();
    let production_names = production.names(&spec.metrics, w).await?;
    let staging_names = staging.names(&spec.metrics, w).await?;
    let plan = metrics::plan(&spec.metrics, &production_names).ok_or_else(|| {
        CompareError::NothingSelected(Box::new(crate::error::Unselected {
            side: "production",
            selector: p.production_selector.shown.clone(),
            metrics: metrics::candidate_names(&spec.metrics).join(", "),
            url: p.production.shown().to_string(),
            start: window::rfc3339(w.start),
            end: window::rfc3339(w.end),
        }))
    })?;
    let production_interval = production.scrape_interval(&plan, w).await?;
    let staging_interval = staging.scrape_interval(&plan, w).await?;
    let coarsest = match (production_interval, staging_interval) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let step = w.step(spec.step()?, coarsest);
    let errors = &spec.metrics.errors;
    let pd = production
        .data(&plan, errors, w, step, production_names)
        .await?;
    let sd = staging.data(&plan, errors, w, step, staging_names).await?;
    let selector_labels = p
        .production_selector
        .matcher_labels()
        .into_iter()
        .chain(p.staging_selector.matcher_labels())
        .collect();
    let parity = parity::check(
        &pd,
        &sd,
        &parity::Context {
            plan: &plan,
            selector_labels,
            production_interval,
            staging_interval,
        },
    );
    let input = routes::input(&pd, &sd, &parity.refused, plan.histogram.is_some());
    let judged = crate::judge::judge(&input, spec)?;
    let source = Source::Prometheus(PrometheusSource {
        url: p.production.shown().to_string(),
        staging_url: p.staging.as_ref().map(|s| s.shown().to_string()),
        production_selector: p.production_selector.shown.clone(),
        staging_selector: p.staging_selector.shown.clone(),
        join: p.production_selector.join().map(str::to_string),
        start: window::rfc3339(w.start),
        end: window::rfc3339(w.end),
        window_seconds: w.seconds(),
        step_seconds: step,
        family: plan.family.to_string(),
        requests_metric: plan.requests.clone(),
        histogram_metric: plan.histogram.clone(),
        group_by: plan.group_by.clone(),
        status_label: plan.status_label.clone(),
        errors: errors.clone(),
    });
    Ok(crate::report::build(source, spec, parity.findings, judged))
}
