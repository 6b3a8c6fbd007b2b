//! `report.toml`: who is scored (project, environment), the components' weights, which are
//! critical and the cap a failed critical one imposes, which scoring source feeds which
//! component, and how much history is kept. Every field has a default, so no file is a valid
//! configuration; unknown fields are refused by name. docs/report.md documents the file.
use std::collections::BTreeMap;
use std::path::Path;

use prodlike_results::report::Component;
use serde::Deserialize;

use crate::error::ScoreError;

/// Every scoring source: a part of one result schema that measures one thing.
pub const SOURCES: [&str; 8] = [
    "shadow",
    "load.compare",
    "data.verify",
    "data.plans",
    "drift.files",
    "drift.schema",
    "compare.verdicts",
    "compare.parity",
];

/// The default mapping of sources to components (docs/report.md, "Mapping").
pub fn default_component(source: &str) -> Option<Component> {
    Some(match source {
        "shadow" | "load.compare" => Component::Traffic,
        "data.verify" | "data.plans" => Component::Data,
        "drift.files" => Component::Configuration,
        "drift.schema" => Component::Schema,
        "compare.parity" => Component::Observability,
        "compare.verdicts" => Component::Behaviour,
        _ => return None,
    })
}

/// The default weight of a component (docs/report.md, "Weights"); they sum to 100.
pub fn default_weight(c: Component) -> f64 {
    match c {
        Component::Traffic => 25.0,
        Component::Data => 20.0,
        Component::Configuration => 15.0,
        Component::Schema => 10.0,
        Component::Observability => 10.0,
        Component::Behaviour => 20.0,
    }
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// The project the history is kept for (`--project` overrides it).
    pub project: String,
    /// The environment scored (`--environment` overrides it).
    pub environment: String,
    /// Weight per component (`traffic = 25`); components left out keep their default weight.
    /// A weight of 0 leaves a component out of the score.
    pub weights: BTreeMap<String, f64>,
    /// Components whose failure caps the score at `critical_cap`.
    pub critical: Vec<String>,
    /// The most a score can be while a critical component failed.
    pub critical_cap: f64,
    /// Source → component (or `ignore`), overriding the default mapping.
    pub mapping: BTreeMap<String, String>,
    /// Result file glob → component (or `ignore`), for every source of a matching file, before
    /// `mapping`: e.g. a drift of OpenTelemetry Collector configurations scored as
    /// observability (`"otel-drift.json" = "observability"`). Globs are tried in sorted
    /// order and the first match wins; keep them from overlapping.
    pub files: BTreeMap<String, String>,
    /// History retention.
    pub history: HistoryConfig,
}

/// `[history]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistoryConfig {
    /// Runs kept per project and environment; older ones are deleted as a new one is stored.
    pub keep_runs: u32,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig { keep_runs: 500 }
    }
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            project: "default".into(),
            environment: "staging".into(),
            weights: BTreeMap::new(),
            critical: Vec::new(),
            critical_cap: 50.0,
            mapping: BTreeMap::new(),
            files: BTreeMap::new(),
            history: HistoryConfig::default(),
        }
    }
}

/// The configuration checked and resolved: one weight per component, the mapping complete.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub project: String,
    pub environment: String,
    pub weights: BTreeMap<Component, f64>,
    pub critical: Vec<Component>,
    pub critical_cap: f64,
    /// Source → component; `None` for an ignored source.
    pub mapping: BTreeMap<&'static str, Option<Component>>,
    /// Result file glob → component (`None`: ignored), tried before `mapping`.
    pub files: Vec<(prodlike_common::glob::Glob, Option<Component>)>,
    pub keep_runs: u32,
}

impl Default for Resolved {
    fn default() -> Self {
        // The defaults are valid by construction (tests/config.rs checks it).
        ReportConfig::default()
            .resolve()
            .unwrap_or_else(|_| Resolved::fallback())
    }
}

impl Resolved {
    /// The component a source of result file `file` feeds (`None`: ignored): the first
    /// `[files]` glob matching the file, else the source's mapping.
    pub fn component_of(&self, source: &str, file: &str) -> Option<Component> {
        let name = file.trim_start_matches("./");
        let base = name.rsplit('/').next().unwrap_or(name);
        if let Some((_, to)) = self
            .files
            .iter()
            .find(|(g, _)| g.matches(name) || g.matches(base))
        {
            return *to;
        }
        self.mapping.get(source).copied().flatten()
    }

    fn fallback() -> Resolved {
        Resolved {
            project: "default".into(),
            environment: "staging".into(),
            weights: Component::ALL
                .into_iter()
                .map(|c| (c, default_weight(c)))
                .collect(),
            critical: Vec::new(),
            critical_cap: 50.0,
            mapping: SOURCES
                .into_iter()
                .map(|s| (s, default_component(s)))
                .collect(),
            files: Vec::new(),
            keep_runs: 500,
        }
    }
}

impl ReportConfig {
    /// Reads and checks `report.toml`.
    pub fn load(path: &Path) -> Result<ReportConfig, ScoreError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScoreError::ConfigIo {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|problem| ScoreError::Config {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// Parses the file's text; the error is the problem with its line.
    pub fn parse(text: &str) -> Result<ReportConfig, String> {
        let config: ReportConfig = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| prodlike_common::source::line_col(text, s.start).0);
            match line {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_string(),
            }
        })?;
        config.resolve()?;
        Ok(config)
    }

    /// Checks every field and resolves names; the error names the field, the value and the fix.
    pub fn resolve(&self) -> Result<Resolved, String> {
        let mut weights: BTreeMap<Component, f64> = Component::ALL
            .into_iter()
            .map(|c| (c, default_weight(c)))
            .collect();
        for (name, w) in &self.weights {
            let c = component(name, &format!("weights.{name}"))?;
            if !w.is_finite() || *w < 0.0 {
                return Err(format!(
                    "weights.{name} = {w}: a weight is a number of at least 0"
                ));
            }
            weights.insert(c, *w);
        }
        if weights.values().sum::<f64>() <= 0.0 {
            return Err("weights: every weight is 0; give at least one component a weight".into());
        }
        let mut critical = Vec::new();
        for (i, name) in self.critical.iter().enumerate() {
            let c = component(name, &format!("critical[{i}]"))?;
            if !critical.contains(&c) {
                critical.push(c);
            }
        }
        if !(0.0..=100.0).contains(&self.critical_cap) {
            return Err(format!(
                "critical_cap = {}: the cap is a score from 0 to 100",
                self.critical_cap
            ));
        }
        let mut mapping: BTreeMap<&'static str, Option<Component>> = SOURCES
            .into_iter()
            .map(|s| (s, default_component(s)))
            .collect();
        for (source, target) in &self.mapping {
            let Some(known) = SOURCES.into_iter().find(|s| s == source) else {
                return Err(format!(
                    "mapping.\"{source}\": unknown source; use one of {}",
                    SOURCES.join(", ")
                ));
            };
            let to = if target == "ignore" {
                None
            } else {
                Some(component(target, &format!("mapping.\"{source}\""))?)
            };
            mapping.insert(known, to);
        }
        let mut files = Vec::new();
        for (pattern, target) in &self.files {
            let field = format!("files.\"{pattern}\"");
            let glob = prodlike_common::glob::Glob::file(pattern)
                .map_err(|e| format!("{field}: not a file pattern: {e}"))?;
            let to = if target == "ignore" {
                None
            } else {
                Some(component(target, &field)?)
            };
            files.push((glob, to));
        }
        if self.project.trim().is_empty() || self.environment.trim().is_empty() {
            return Err("project and environment must not be empty".into());
        }
        if self.history.keep_runs == 0 {
            return Err("history.keep_runs = 0: keep at least 1 run".into());
        }
        Ok(Resolved {
            project: self.project.clone(),
            environment: self.environment.clone(),
            weights,
            critical,
            critical_cap: self.critical_cap,
            mapping,
            files,
            keep_runs: self.history.keep_runs,
        })
    }
}

fn component(name: &str, field: &str) -> Result<Component, String> {
    Component::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Component::ALL.iter().map(|c| c.as_str()).collect();
        format!(
            "{field}: unknown component `{name}`; use one of {}",
            names.join(", ")
        )
    })
}
