//! `prodlike.report/1`: the fidelity score of one environment, combined from other results by
//! `prodlike report` (crates/score; the formula is in docs/report.md).
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema name of this payload.
pub const SCHEMA: &str = "prodlike.report/1";

/// One area in which staging can differ from production.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// Live traffic: shadow divergence, load compare.
    Traffic,
    /// Data: data verify's fidelity, integrity and leaks.
    Data,
    /// Configuration files: drift.
    Configuration,
    /// Database schema and settings: drift schema.
    Schema,
    /// Observability parity: compare's parity findings.
    Observability,
    /// Behaviour: compare's verdicts per route and metric.
    Behaviour,
}

impl Component {
    /// Every component, in report order.
    pub const ALL: [Component; 6] = [
        Component::Traffic,
        Component::Data,
        Component::Configuration,
        Component::Schema,
        Component::Observability,
        Component::Behaviour,
    ];

    /// The name used in report.toml, outputs and the history.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Traffic => "traffic",
            Component::Data => "data",
            Component::Configuration => "configuration",
            Component::Schema => "schema",
            Component::Observability => "observability",
            Component::Behaviour => "behaviour",
        }
    }

    /// The component named `s`, if any.
    pub fn parse(s: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Whether a component could be scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComponentState {
    /// Scored from at least one result.
    Scored,
    /// No result measured it: it earns no points (never counted as perfect).
    Missing,
    /// Results were given but nothing in them was decided: it earns no points.
    Inconclusive,
}

/// One component's score and what it contributes to the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ComponentScore {
    pub component: Component,
    /// The weight from report.toml (default table in docs/report.md).
    pub weight: f64,
    /// weight / sum of all weights: the share of the total this component can earn.
    pub share: f64,
    /// Declared critical in report.toml.
    pub critical: bool,
    pub state: ComponentState,
    /// 0–100; `None` when missing or inconclusive.
    pub score: Option<f64>,
    /// share × score: what it adds to the total (0 when missing or inconclusive).
    pub points: f64,
    /// share × 100: what it could add.
    pub max_points: f64,
    /// One of its results is a failure (drift, a diverged or leaked finding, a failed verify).
    pub failed: bool,
    /// The scoring sources that fed it (`shadow`, `data.verify`, ...), with their files.
    pub sources: Vec<String>,
    /// One sentence: how the score came about, or why it is missing.
    pub note: String,
}

/// Why points were lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Something differs.
    Finding,
    /// Something could not be decided: never counted as a pass.
    Undecided,
    /// The component was not measured, or nothing in it was decided.
    Missing,
    /// A critical component failed and the score was capped.
    Cap,
}

/// Points lost, with what lost them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Loss {
    pub component: Component,
    /// Points of the total (0–100) this costs.
    pub points: f64,
    pub kind: LossKind,
    /// The route, column, file path or metric.
    pub subject: String,
    /// What was found, in one sentence.
    pub finding: String,
    /// The command that shows it in detail.
    pub command: String,
}

/// The cap applied when a critical component failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cap {
    /// The score cannot exceed this.
    pub limit: f64,
    /// The critical components that failed.
    pub components: Vec<Component>,
}

/// One result file given to the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Input {
    pub file: String,
    pub schema: String,
    /// The scoring sources read from it (`compare.verdicts`, `compare.parity`); empty when it
    /// is not scored.
    pub sources: Vec<String>,
    /// Why it is not scored (e.g. a load result without a comparison).
    pub ignored: Option<String>,
}

/// `--min-score` and `--fail-on critical`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Gate {
    pub min_score: Option<f64>,
    pub fail_on_critical: bool,
    /// No gate condition was broken.
    pub passed: bool,
    /// Each broken condition, in one sentence.
    pub reasons: Vec<String>,
}

/// The run before this one in the history (same project and environment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Previous {
    pub run: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub score: f64,
    /// This score − that score.
    pub delta: f64,
    /// For a drop: the component that fell most and the loss behind it.
    pub cause: Option<String>,
}

/// One run of the history, for trends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryPoint {
    pub run: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub score: f64,
    /// Each component's score (`None`: missing or inconclusive).
    pub components: BTreeMap<Component, Option<f64>>,
}

/// The payload of `prodlike.report/1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScoreReport {
    /// `--project` or report.toml's `project`.
    pub project: String,
    /// `--environment` or report.toml's `environment`.
    pub environment: String,
    /// The fidelity score, 0–100, after any cap.
    pub score: f64,
    /// The sum of the components' points, before any cap.
    pub uncapped: f64,
    /// Present when a critical component failed.
    pub cap: Option<Cap>,
    /// Every component, missing ones included.
    pub components: Vec<ComponentScore>,
    /// Points lost, worst first. They add up to 100 − score.
    pub losses: Vec<Loss>,
    /// The result files read.
    pub inputs: Vec<Input>,
    pub gate: Gate,
    /// This run's id in the history (`None` with --no-history).
    pub run: Option<i64>,
    /// The previous run, when the history has one.
    pub previous: Option<Previous>,
    /// The latest runs, oldest first, this one included.
    pub trend: Vec<HistoryPoint>,
}
