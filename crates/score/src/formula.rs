//! The score formula (docs/report.md, "Formula"):
//!
//! - share(c) = weight(c) / Σ weights;
//! - score(c) = the mean over c's sources of max(0, 100 − Σ penalties); a source that decided
//!   nothing scores 0 (undecided); a component with no source, or none that decided anything,
//!   scores nothing (missing, inconclusive): never 100;
//! - total = Σ share(c) × score(c), capped at `critical_cap` while a critical component failed.
//!
//! Every point lost is one [`Loss`]: share(c) × penalty / sources(c) for each penalty, share(c)
//! × 100 for a missing or inconclusive component, and what the cap took. They add up to
//! 100 − total.
use std::collections::BTreeMap;

use prodlike_results::report::{Cap, Component, ComponentScore, ComponentState, Loss, LossKind};

use crate::config::Resolved;
use crate::sources::SourceScore;

/// The formula's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Combined {
    pub score: f64,
    pub uncapped: f64,
    pub cap: Option<Cap>,
    pub components: Vec<ComponentScore>,
    /// Worst first.
    pub losses: Vec<Loss>,
}

/// Combines the sources' penalties into the score.
pub fn combine(cfg: &Resolved, sources: &[SourceScore]) -> Combined {
    let total_weight: f64 = cfg.weights.values().sum();
    let mut by_component: BTreeMap<Component, Vec<&SourceScore>> = BTreeMap::new();
    for s in sources {
        if let Some(c) = cfg.component_of(s.source, &s.file) {
            by_component.entry(c).or_default().push(s);
        }
    }
    let mut components = Vec::new();
    let mut losses = Vec::new();
    for c in Component::ALL {
        let weight = cfg.weights.get(&c).copied().unwrap_or(0.0);
        let share = if total_weight > 0.0 {
            weight / total_weight
        } else {
            0.0
        };
        let feeds = by_component.get(&c).map(Vec::as_slice).unwrap_or(&[]);
        let (component, lost) = one_component(cfg, c, weight, share, feeds);
        components.push(component);
        losses.extend(lost);
    }
    let uncapped: f64 = components.iter().map(|c| c.points).sum();
    let failed_critical: Vec<Component> = components
        .iter()
        .filter(|c| c.critical && c.failed && c.weight > 0.0)
        .map(|c| c.component)
        .collect();
    let mut score = uncapped;
    let cap = match failed_critical.first() {
        Some(first) => {
            if uncapped > cfg.critical_cap {
                score = cfg.critical_cap;
                let names: Vec<&str> = failed_critical.iter().map(|c| c.as_str()).collect();
                losses.push(Loss {
                    component: *first,
                    points: uncapped - cfg.critical_cap,
                    kind: LossKind::Cap,
                    subject: format!("critical: {}", names.join(", ")),
                    finding: format!(
                        "a critical component failed, so the score is capped at {}",
                        cfg.critical_cap
                    ),
                    command: "prodlike report --format json (see components[].failed)".into(),
                });
            }
            Some(Cap {
                limit: cfg.critical_cap,
                components: failed_critical,
            })
        }
        None => None,
    };
    losses.retain(|l| l.points > 0.0);
    losses.sort_by(|a, b| b.points.total_cmp(&a.points));
    Combined {
        score,
        uncapped,
        cap,
        components,
        losses,
    }
}

fn one_component(
    cfg: &Resolved,
    c: Component,
    weight: f64,
    share: f64,
    feeds: &[&SourceScore],
) -> (ComponentScore, Vec<Loss>) {
    let mut sources: Vec<String> = feeds
        .iter()
        .map(|s| format!("{} ({})", s.source, s.file))
        .collect();
    sources.dedup();
    let mut out = ComponentScore {
        component: c,
        weight,
        share,
        critical: cfg.critical.contains(&c),
        state: ComponentState::Scored,
        score: None,
        points: 0.0,
        max_points: 100.0 * share,
        failed: feeds.iter().any(|s| s.failed),
        sources,
        note: String::new(),
    };
    let mut losses = Vec::new();
    if feeds.is_empty() || !feeds.iter().any(|s| s.decided) {
        let (state, finding) = if feeds.is_empty() {
            (ComponentState::Missing, missing_hint(c).0.to_owned())
        } else {
            let notes: Vec<&str> = feeds.iter().map(|s| s.note.as_str()).collect();
            (
                ComponentState::Inconclusive,
                format!("nothing decided: {}", notes.join("; ")),
            )
        };
        out.state = state;
        out.note = finding.clone();
        losses.push(Loss {
            component: c,
            points: 100.0 * share,
            kind: LossKind::Missing,
            subject: c.as_str().into(),
            finding,
            command: missing_hint(c).1.into(),
        });
        return (out, losses);
    }
    let k = feeds.len() as f64;
    let mut sum = 0.0;
    for s in feeds {
        if !s.decided {
            losses.push(Loss {
                component: c,
                points: share * 100.0 / k,
                kind: LossKind::Undecided,
                subject: s.source.into(),
                finding: format!("nothing decided in {}: {}", s.file, s.note),
                command: format!("prodlike report {}", crate::sources::sh(&s.file)),
            });
            continue;
        }
        sum += s.score();
        for item in s.scaled_items() {
            losses.push(Loss {
                component: c,
                points: share * item.penalty / k,
                kind: item.kind,
                subject: item.subject,
                finding: item.finding,
                command: item.command,
            });
        }
    }
    let score = sum / k;
    out.score = Some(score);
    out.points = share * score;
    let notes: Vec<&str> = feeds.iter().map(|s| s.note.as_str()).collect();
    out.note = notes.join("; ");
    (out, losses)
}

/// Why a component is missing, and the command that would measure it.
fn missing_hint(c: Component) -> (&'static str, &'static str) {
    match c {
        Component::Traffic => (
            "not measured: no shadow result, nor a load result with a comparison",
            "prodlike shadow … --out shadow.json",
        ),
        Component::Data => (
            "not measured: no data verify result",
            "prodlike data verify --source … --target … --out verify.json",
        ),
        Component::Configuration => (
            "not measured: no drift result of configuration files",
            "prodlike drift PRODUCTION_DIR STAGING_DIR --out drift.json",
        ),
        Component::Schema => (
            "not measured: no drift schema result",
            "prodlike drift schema --baseline … --candidate … --out schema.json",
        ),
        Component::Observability => (
            "not measured: no compare prometheus result (its parity findings)",
            "prodlike compare prometheus … --out compare.json",
        ),
        Component::Behaviour => (
            "not measured: no compare result",
            "prodlike compare results … --out compare.json",
        ),
    }
}
