//! `prodlike alerts`: Prometheus recording and alerting rules that watch staging against
//! production continuously, from the same spec as `prodlike compare` (docs/alerts.md).
//!
//! [`Names`] fixes the metrics and labels (the spec's, else OpenTelemetry's HTTP server
//! histogram), `rules.rs` writes the rules file, `rule_tests.rs` the `promtool test rules`
//! file proving each alert fires and stays silent, both through the quoting emitter `yaml.rs`.
mod rule_tests;
mod rules;
pub mod yaml;

use std::time::Duration;

use prodlike_results::alerts::AlertsReport;

use crate::error::CompareError;
use crate::prometheus::metrics::{OTEL_HISTOGRAM, candidate_names};
use crate::spec::CompareSpec;

/// Requests per second each side must serve on a route before its ratios are compared: below
/// it, a few errors swing the ratio by more than any useful margin (docs/alerts.md, "Guards").
pub const MIN_RATE: f64 = 1.0;
/// How long a condition must hold before it fires, unless `--for` says otherwise: two rate
/// windows, so one bad scrape or one deploy's restart does not page.
pub const DEFAULT_FOR: Duration = Duration::from_secs(600);
/// The rate window of every recording rule, unless `--range` says otherwise.
pub const DEFAULT_RANGE: Duration = Duration::from_secs(300);

/// The flags of `prodlike alerts`.
#[derive(Debug, Clone)]
pub struct AlertsOptions {
    /// Label matchers selecting production (`environment="production"`).
    pub production: String,
    /// Label matchers selecting staging.
    pub staging: String,
    /// The Prometheus URL written into the `prodlike compare prometheus` command of the
    /// annotations (a placeholder when not given).
    pub url: Option<String>,
    /// The spec's path as given, for the same command.
    pub spec: Option<String>,
    /// How long a condition must hold before an alert fires (`for:`).
    pub for_duration: Duration,
    /// The rate window of the recording rules.
    pub range: Duration,
}

impl AlertsOptions {
    /// Options with the default `for:` and rate window.
    pub fn new(production: String, staging: String) -> AlertsOptions {
        AlertsOptions {
            production,
            staging,
            url: None,
            spec: None,
            for_duration: DEFAULT_FOR,
            range: DEFAULT_RANGE,
        }
    }

    /// Checks the durations: Prometheus writes them in whole seconds, and a rate needs two
    /// scrapes inside its window.
    pub fn validate(&self) -> Result<(), CompareError> {
        let whole = |flag: &'static str, d: Duration| {
            if d.subsec_nanos() != 0 {
                return Err(CompareError::Flag {
                    flag,
                    problem: format!(
                        "{}: give whole seconds (Prometheus rule durations), e.g. 30s or 10m",
                        prodlike_common::duration::format(d)
                    ),
                });
            }
            Ok(())
        };
        whole("--for", self.for_duration)?;
        whole("--range", self.range)?;
        if self.range < Duration::from_secs(2) {
            return Err(CompareError::Flag {
                flag: "--range",
                problem: format!(
                    "{}: a rate window needs two scrapes inside it; give at least 2s, and in \
                     practice four times the scrape interval (the default is 5m)",
                    prodlike_common::duration::format(self.range)
                ),
            });
        }
        Ok(())
    }

    /// `for:` as the rules write it (`10m`).
    pub fn for_text(&self) -> String {
        prom_duration(self.for_duration)
    }

    /// The rate window as the rules write it (`5m`).
    pub fn range_text(&self) -> String {
        prom_duration(self.range)
    }
}

/// A whole-second duration in Prometheus' syntax (`1h30m`, `5m`, `10s`, `0s`); the shared
/// formatter writes exactly that for whole seconds.
pub(crate) fn prom_duration(d: Duration) -> String {
    prodlike_common::duration::format(Duration::from_secs(d.as_secs()))
}

/// The generated files' text.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub rules: String,
    /// Alert names, in the order written.
    pub alerts: Vec<&'static str>,
    /// Recording rules written.
    pub records: usize,
    /// The names the rules read.
    pub names: Names,
    /// Each side's matchers, normalised.
    pub production: String,
    pub staging: String,
    /// The alerts' `for:` as written (`10m`).
    pub for_duration: String,
}

impl Generated {
    /// The `prodlike.alerts/1` payload for the files written.
    pub fn report(
        &self,
        spec: Option<String>,
        rules_file: String,
        tests_file: Option<String>,
    ) -> AlertsReport {
        AlertsReport {
            production: self.production.clone(),
            staging: self.staging.clone(),
            spec,
            rules_file,
            tests_file,
            recording_rules: self.records,
            alerts: self.alerts.iter().map(|a| a.to_string()).collect(),
            requests_metric: self.names.requests.clone(),
            histogram: self.names.histogram.clone(),
            route_label: self.names.route_label.clone(),
            min_rate: MIN_RATE,
            for_duration: self.for_duration.clone(),
        }
    }
}

/// Metric and label names the rules read.
#[derive(Debug, Clone, PartialEq)]
pub struct Names {
    /// The request counter with the status label (a counter, or a histogram's `_count`).
    pub requests: String,
    /// The latency histogram's base name; no latency alert without one.
    pub histogram: Option<String>,
    pub route_label: String,
    pub status_label: String,
    /// The regular expression on the status label that counts errors.
    pub errors: String,
}

impl Names {
    /// The spec's names, else OpenTelemetry's: rules are written before any series is read,
    /// so nothing is detected; a spec naming its metrics is how other families are used.
    pub fn from_spec(spec: &CompareSpec) -> Names {
        let m = &spec.metrics;
        let requests = candidate_names(m)
            .into_iter()
            .next()
            .unwrap_or_else(|| format!("{OTEL_HISTOGRAM}_count"));
        let histogram = match (&m.requests, &m.histogram) {
            (_, Some(h)) => Some(h.clone()),
            (Some(_), None) => None,
            (None, None) => Some(OTEL_HISTOGRAM.to_string()),
        };
        Names {
            requests,
            histogram,
            route_label: m.route_label.clone().unwrap_or_else(|| "http_route".into()),
            status_label: m
                .status_label
                .clone()
                .unwrap_or_else(|| "http_response_status_code".into()),
            errors: m.errors.clone(),
        }
    }
}

/// One environment's label matchers, as given and split.
#[derive(Debug, Clone, PartialEq)]
pub struct Matchers {
    pub flag: &'static str,
    /// Without braces, as written into every selector.
    pub text: String,
    /// `(label, operator, value)` of each matcher, value unquoted.
    pub parts: Vec<(String, String, String)>,
}

impl Matchers {
    pub fn parse(flag: &'static str, given: &str) -> Result<Matchers, CompareError> {
        let bad = |problem: String| CompareError::Flag { flag, problem };
        let t = given.trim();
        let t = t
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(t)
            .trim();
        if t.is_empty() {
            return Err(bad(
                "give label matchers that select this environment, such as \
                 'environment=\"production\"'"
                    .into(),
            ));
        }
        let mut parts = Vec::new();
        for m in t.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            let name: String = m
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let rest = m[name.len()..].trim_start();
            let op = ["=~", "!~", "!=", "="]
                .into_iter()
                .find(|op| rest.starts_with(op));
            let value = op.and_then(|op| {
                let v = rest[op.len()..].trim();
                v.strip_prefix('"').and_then(|v| v.strip_suffix('"'))
            });
            match (name.is_empty(), op, value) {
                (false, Some(op), Some(v)) if !v.contains(['"', '\\', '{', '}']) => {
                    parts.push((name, op.to_string(), v.to_string()))
                }
                _ => {
                    return Err(bad(format!(
                        "`{m}` is not a label matcher such as environment=\"production\" \
                         (a label, = != =~ or !~, a double-quoted value without quotes, \
                         backslashes or braces)"
                    )));
                }
            }
        }
        parts.sort();
        parts.dedup();
        let text = parts
            .iter()
            .map(|(n, o, v)| format!("{n}{o}\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Matchers { flag, text, parts })
    }

    /// The labels a series of this environment carries: its equality matchers.
    pub fn labels(&self) -> Vec<(String, String)> {
        self.parts
            .iter()
            .filter(|(_, op, _)| op == "=")
            .map(|(n, _, v)| (n.clone(), v.clone()))
            .collect()
    }
}

/// Refuses selectors that can select the same series: one's matchers all among the other's
/// (identical, or staging = production plus one more label), so staging would be compared
/// with itself.
pub fn check_distinct(production: &Matchers, staging: &Matchers) -> Result<(), CompareError> {
    let within = |a: &Matchers, b: &Matchers| a.parts.iter().all(|p| b.parts.contains(p));
    if within(production, staging) || within(staging, production) {
        return Err(CompareError::Flag {
            flag: "--staging",
            problem: format!(
                "`{}` and --production `{}` can select the same series, so staging would be \
                 compared with itself; give matchers that tell the two apart, such as \
                 environment=\"production\" and environment=\"staging\"",
                staging.text, production.text
            ),
        });
    }
    Ok(())
}

/// Checks the flags and spec and writes the rules file's text.
pub fn generate(options: &AlertsOptions, spec: &CompareSpec) -> Result<Generated, CompareError> {
    options.validate()?;
    let (production, staging) = sides(options, spec)?;
    Ok(rules::rules(
        &Names::from_spec(spec),
        spec,
        &production,
        &staging,
        options,
    ))
}

/// The `promtool test rules` file's text, reading the rules from `rule_file` (as written into
/// the file: relative to the test file's folder, or absolute).
pub fn generate_tests(
    options: &AlertsOptions,
    spec: &CompareSpec,
    rule_file: &str,
) -> Result<String, CompareError> {
    options.validate()?;
    let (production, staging) = sides(options, spec)?;
    rule_tests::tests(
        &Names::from_spec(spec),
        spec,
        &production,
        &staging,
        options,
        rule_file,
    )
}

/// With `--url`: the request metric the rules read must have series for `--production` at that
/// Prometheus in the last hour, else the rules could never fire (an error naming the metric and
/// what was found). Staging without series is only a warning, returned: it is what
/// `StagingMissingSeries` reports once the rules run.
pub async fn check_metrics(
    options: &AlertsOptions,
    spec: &CompareSpec,
) -> Result<Vec<String>, CompareError> {
    let Some(url) = &options.url else {
        return Ok(Vec::new());
    };
    let names = Names::from_spec(spec);
    let prepared = crate::prometheus::prepare(
        &crate::prometheus::PrometheusOptions {
            url: url.clone(),
            staging_url: None,
            production: options.production.clone(),
            staging: options.staging.clone(),
            window: Some("1h".into()),
            start: None,
            end: None,
        },
        spec.clone(),
    )?;
    let (production, staging) = crate::prometheus::names_on_both_sides(&prepared).await?;
    let found = |n: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>| {
        n.keys().cloned().collect::<Vec<_>>().join(", ")
    };
    if !production.contains_key(&names.requests) {
        return Err(CompareError::Flag {
            flag: "--spec",
            problem: format!(
                "the rules read `{}`, which has no series for --production `{}` at {url} in the \
                 last hour (found: {}); set metrics.requests to the request counter production \
                 exports",
                names.requests,
                options.production,
                found(&production)
            ),
        });
    }
    let mut warnings = Vec::new();
    match staging {
        Some(s) if s.contains_key(&names.requests) => {}
        Some(s) => warnings.push(format!(
            "staging has no series of `{}` at {url} in the last hour (found: {}); \
             StagingMissingSeries will fire until it has",
            names.requests,
            found(&s)
        )),
        None => warnings.push(format!(
            "--staging `{}` matches no series at {url} in the last hour; StagingMissingSeries \
             will fire until it does",
            options.staging
        )),
    }
    Ok(warnings)
}

fn sides(
    options: &AlertsOptions,
    spec: &CompareSpec,
) -> Result<(Matchers, Matchers), CompareError> {
    if spec.selection.join.is_some() {
        return Err(CompareError::Flag {
            flag: "--spec",
            problem: "`selection.join`: prodlike alerts does not yet select environments by an \
                      info metric; give matchers on the metrics' own labels"
                .into(),
        });
    }
    let production = Matchers::parse("--production", &options.production)?;
    let staging = Matchers::parse("--staging", &options.staging)?;
    check_distinct(&production, &staging)?;
    Ok((production, staging))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_selectors_are_refused() {
        let p = Matchers::parse("--production", "{env=\"prod\"}").unwrap();
        let same = Matchers::parse("--staging", " env = \"prod\" ").unwrap();
        assert!(check_distinct(&p, &same).is_err());
        let more = Matchers::parse("--staging", "env=\"prod\", canary=\"1\"").unwrap();
        assert!(check_distinct(&p, &more).is_err());
        let s = Matchers::parse("--staging", "env=\"staging\"").unwrap();
        assert!(check_distinct(&p, &s).is_ok());
        assert!(Matchers::parse("--staging", "env").is_err());
        assert_eq!(s.labels(), vec![("env".to_string(), "staging".to_string())]);
    }
}
