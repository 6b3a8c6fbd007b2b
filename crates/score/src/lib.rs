//! prodlike report's scoring: one fidelity score, 0–100, for an environment, from any set of
//! prodlike result envelopes, with a component per area, every lost point explained, and the
//! history of scores per project and environment.
//!
//! Inputs are read through `prodlike_results::read` (unknown schemas and versions refused);
//! [`sources`] turns each result into penalties, [`formula`] combines them (docs/report.md),
//! [`history`] stores runs in SQLite or PostgreSQL, [`render`] and [`html`] print the report.
//! The payload is `prodlike_results::report::ScoreReport` (`prodlike.report/1`).
#![forbid(unsafe_code)]

pub mod config;
mod error;
pub mod formula;
pub mod history;
pub mod html;
pub mod render;
pub mod sources;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use prodlike_report::Outcome;
use prodlike_results::AnyResult;
use prodlike_results::report::{
    Component, ComponentState, Gate, Input, LossKind, Previous, ScoreReport,
};

pub use config::{ReportConfig, Resolved};
pub use error::{HistoryError, ScoreError};
pub use formula::Combined;
pub use history::{History, Key, NewRun, StoredRun};

/// Where the history is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryTarget {
    /// A file path or a `postgres://` URL.
    pub target: String,
    /// How long a locked SQLite file is waited for.
    pub wait: Duration,
}

/// Everything one report needs, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub config: Resolved,
    pub files: Vec<PathBuf>,
    /// `None`: --no-history.
    pub history: Option<HistoryTarget>,
    pub min_score: Option<f64>,
    pub fail_on_critical: bool,
    /// Runs shown in the trend (HTML charts, JSON `trend`).
    pub trend_runs: u32,
}

/// Reads every result file; the first one that cannot be read is the error.
pub fn read_inputs(files: &[PathBuf]) -> Result<Vec<(String, AnyResult)>, ScoreError> {
    if files.is_empty() {
        return Err(ScoreError::NoInputs);
    }
    files
        .iter()
        .map(|p| {
            prodlike_results::read(p)
                .map(|r| (p.display().to_string(), r))
                .map_err(ScoreError::Read)
        })
        .collect()
}

/// The score of `inputs` under `cfg`, without history: pure, for tests and callers.
pub fn evaluate(cfg: &Resolved, inputs: &[(String, AnyResult)]) -> (Combined, Vec<Input>) {
    let mut all = Vec::new();
    let mut described = Vec::new();
    for (file, result) in inputs {
        match sources::of(result, file) {
            Ok(list) => {
                let names = list
                    .iter()
                    .map(|s| match cfg.component_of(s.source, &s.file) {
                        Some(c) => format!("{} → {}", s.source, c.as_str()),
                        None => format!("{} (ignored by report.toml)", s.source),
                    })
                    .collect();
                described.push(Input {
                    file: file.clone(),
                    schema: result.schema().to_owned(),
                    sources: names,
                    ignored: None,
                });
                all.extend(list);
            }
            Err(why) => described.push(Input {
                file: file.clone(),
                schema: result.schema().to_owned(),
                sources: Vec::new(),
                ignored: Some(why),
            }),
        }
    }
    (formula::combine(cfg, &all), described)
}

/// Reads, scores, records the run in the history and returns the report. Nothing is written
/// to the history before every input was read and scored.
pub fn run(opts: &Options) -> Result<ScoreReport, ScoreError> {
    if let Some(m) = opts.min_score
        && !(0.0..=100.0).contains(&m)
    {
        return Err(ScoreError::MinScore(m));
    }
    let inputs = read_inputs(&opts.files)?;
    let (combined, described) = evaluate(&opts.config, &inputs);
    let mut report = assemble(opts, combined, described);
    if let Some(h) = &opts.history {
        let key = Key {
            project: opts.config.project.clone(),
            environment: opts.config.environment.clone(),
        };
        let mut store = History::open(&h.target, h.wait)?;
        let new = NewRun {
            at: prodlike_report::now_rfc3339(),
            score: report.score,
            components: component_scores(&report),
            losses: report.losses.clone(),
        };
        let (id, previous) = store.record(&key, &new, opts.config.keep_runs)?;
        report.run = Some(id);
        report.previous = previous.map(|p| compare_with(&report, &p));
        report.trend = store
            .runs(&key, opts.trend_runs)?
            .iter()
            .map(StoredRun::point)
            .collect();
    }
    Ok(report)
}

/// The runs of `key`, oldest first (`--show-history`).
pub fn show_history(
    target: &HistoryTarget,
    key: &Key,
    limit: u32,
) -> Result<Vec<StoredRun>, ScoreError> {
    let mut store = History::open(&target.target, target.wait)?;
    Ok(store.runs(key, limit)?)
}

/// How the report ends: a broken gate is a finding (1); otherwise a component that was given
/// results but decided nothing, nothing scored at all, or a critical component that could not
/// be scored under `--fail-on critical`, is inconclusive (3).
pub fn outcome(r: &ScoreReport) -> Outcome {
    if !r.gate.passed {
        return Outcome::Finding;
    }
    let weighted = r.components.iter().filter(|c| c.weight > 0.0);
    let inconclusive = weighted.clone().any(|c| {
        c.state == ComponentState::Inconclusive
            || (r.gate.fail_on_critical && c.critical && c.state != ComponentState::Scored)
    });
    let nothing_scored = !weighted.clone().any(|c| c.state == ComponentState::Scored);
    if inconclusive || nothing_scored {
        Outcome::Inconclusive
    } else {
        Outcome::Success
    }
}

/// One sentence for the envelope's summary.
pub fn summary(r: &ScoreReport) -> String {
    let mut s = format!(
        "fidelity {:.1}/100 for {}/{}",
        r.score, r.project, r.environment
    );
    if let Some(p) = &r.previous {
        s.push_str(&format!(" ({:+.1} since run {})", p.delta, p.run));
    }
    if let Some(l) = r.losses.first() {
        s.push_str(&format!(
            "; worst loss {:.1} points: {} {}",
            l.points,
            l.component.as_str(),
            l.subject
        ));
    }
    s
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn assemble(opts: &Options, c: Combined, inputs: Vec<Input>) -> ScoreReport {
    let score = round2(c.score);
    let mut reasons = Vec::new();
    if let Some(m) = opts.min_score
        && score < m
    {
        reasons.push(format!("score {score:.1} is below --min-score {m}"));
    }
    if opts.fail_on_critical {
        for comp in c.components.iter().filter(|x| x.critical && x.failed) {
            reasons.push(format!(
                "critical component {} failed: {}",
                comp.component.as_str(),
                comp.note
            ));
        }
    }
    let components = c
        .components
        .into_iter()
        .map(|mut x| {
            x.score = x.score.map(round2);
            x.points = round2(x.points);
            x.share = (x.share * 10_000.0).round() / 10_000.0;
            x.max_points = round2(x.max_points);
            x
        })
        .collect();
    let losses = c
        .losses
        .into_iter()
        .map(|mut l| {
            l.points = round2(l.points);
            l
        })
        .filter(|l| l.points > 0.0)
        .collect();
    ScoreReport {
        project: opts.config.project.clone(),
        environment: opts.config.environment.clone(),
        score,
        uncapped: round2(c.uncapped),
        cap: c.cap,
        components,
        losses,
        inputs,
        gate: Gate {
            min_score: opts.min_score,
            fail_on_critical: opts.fail_on_critical,
            passed: reasons.is_empty(),
            reasons,
        },
        run: None,
        previous: None,
        trend: Vec::new(),
    }
}

fn component_scores(r: &ScoreReport) -> BTreeMap<Component, Option<f64>> {
    r.components
        .iter()
        .map(|c| (c.component, c.score))
        .collect()
}

/// The delta since `prev`, and for a drop its cause: the component that fell most and its
/// worst loss that is new since then (else its worst loss).
fn compare_with(now: &ScoreReport, prev: &StoredRun) -> Previous {
    let delta = round2(now.score - prev.score);
    let mut cause = None;
    if delta < 0.0 {
        let fell = now
            .components
            .iter()
            .filter(|c| c.weight > 0.0)
            .map(|c| {
                let before = prev.components.get(&c.component).copied().flatten();
                let drop = before.unwrap_or(0.0) - c.score.unwrap_or(0.0);
                (c, before, drop * c.share)
            })
            .max_by(|a, b| a.2.total_cmp(&b.2));
        if let Some((c, before, drop)) = fell
            && drop > 0.0
        {
            let fmt = |v: Option<f64>| v.map_or("missing".to_owned(), |v| format!("{v:.1}"));
            let mut text = format!(
                "{} fell from {} to {}",
                c.component.as_str(),
                fmt(before),
                fmt(c.score)
            );
            let mine = now
                .losses
                .iter()
                .filter(|l| l.component == c.component && l.kind != LossKind::Cap);
            let new = mine.clone().find(|l| {
                !prev
                    .losses
                    .iter()
                    .any(|p| p.component == l.component && p.subject == l.subject)
            });
            if let Some(l) = new.or_else(|| mine.clone().next()) {
                let tag = if new.is_some() { "new: " } else { "" };
                text.push_str(&format!(" — {tag}{}: {}", l.subject, l.finding));
            }
            cause = Some(text);
        }
    }
    Previous {
        run: prev.run,
        at: prev.at.clone(),
        score: prev.score,
        delta,
        cause,
    }
}
