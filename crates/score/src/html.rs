//! The HTML report (`--html`): the score, its components, the score over time per component
//! (a line chart of the history) and the losses as a bar chart, on prodlike-report's shared
//! layout and chart code.
use prodlike_report::chart::{BarChart, LineChart, Series, bar_chart_svg, line_chart_svg};
use prodlike_results::report::{Component, ScoreReport};
use serde::Serialize;

use crate::error::ScoreError;

/// Bars in the losses chart.
const BARS: usize = 15;

const TEMPLATE: &str = r#"{% extends "base.html" %}
{% block title %}prodlike report: {{ r.project }}/{{ r.environment }}{% endblock %}
{% block header %}<h1>Fidelity score {{ score }}/100</h1><p>{{ r.project }} / {{ r.environment }}{% if r.run %} · run {{ r.run }}{% endif %}</p>{% endblock %}
{% block content %}
{% if r.cap and capped %}<div class="banner bad" id="cap">Capped at {{ r.cap.limit }} (from {{ uncapped }}): critical component {{ cap_names }} failed.</div>{% endif %}
{% if not r.gate.passed %}<div class="banner bad" id="gate">Gate failed: {{ r.gate.reasons|join("; ") }}</div>{% elif gated %}<div class="banner ok" id="gate">Gate passed.</div>{% endif %}
<div class="cards" id="cards">
<div class="card"><b id="score">{{ score }}</b><span>score / 100</span></div>
{% if r.previous %}<div class="card"><b id="delta" class="{{ 'bad' if r.previous.delta < 0 else 'ok' }}">{{ delta }}</b><span>since run {{ r.previous.run }}</span></div>{% endif %}
<div class="card"><b>{{ r.losses|length }}</b><span>losses</span></div>
</div>
{% if r.previous and r.previous.cause %}<section id="cause"><h2>Why it dropped</h2><p>{{ r.previous.cause }}</p></section>{% endif %}
<section id="components"><h2>Components</h2>
<table><tr><th>component</th><th>weight</th><th>state</th><th>score</th><th>points</th><th>note</th></tr>
{% for c in comps %}<tr><td>{{ c.name }}{% if c.critical %} (critical){% endif %}</td><td>{{ c.weight }}</td><td class="{{ 'ok' if c.state == 'scored' and not c.failed else 'bad' }}">{{ c.state }}{% if c.failed %}, failed{% endif %}</td><td>{{ c.score }}</td><td>{{ c.points }} / {{ c.max }}</td><td style="text-align:left;white-space:normal">{{ c.note }}</td></tr>
{% endfor %}</table></section>
<section class="chart" id="chart-trend"><h2>Score over time</h2>{{ trend_svg|safe }}</section>
<section class="chart" id="chart-losses"><h2>Points lost</h2>{{ losses_svg|safe }}</section>
<section id="losses"><h2>Every loss, worst first</h2>
<table><tr><th>points</th><th>component</th><th>where</th><th>finding</th><th>command</th></tr>
{% for l in r.losses %}<tr><td>−{{ l.points }}</td><td style="text-align:left">{{ l.component }}</td><td style="text-align:left;white-space:normal">{{ l.subject }}</td><td style="text-align:left;white-space:normal">{{ l.finding }}</td><td style="text-align:left"><code>{{ l.command }}</code></td></tr>
{% endfor %}</table></section>
{% endblock %}
"#;

#[derive(Serialize)]
struct Row {
    name: &'static str,
    weight: String,
    state: &'static str,
    score: String,
    points: String,
    max: String,
    note: String,
    critical: bool,
    failed: bool,
}

const COLORS: [(u8, u8, u8); 7] = [
    (29, 35, 48),
    (30, 120, 200),
    (19, 115, 51),
    (200, 120, 20),
    (120, 60, 170),
    (0, 150, 150),
    (179, 38, 30),
];

/// Renders the page.
pub fn render(r: &ScoreReport) -> Result<String, ScoreError> {
    let trend_svg = line_chart_svg(&trend_chart(r)).map_err(ScoreError::Chart)?;
    let losses_svg = bar_chart_svg(&BarChart {
        title: "Points lost, worst first".into(),
        x_label: "points of 100".into(),
        bars: r
            .losses
            .iter()
            .take(BARS)
            .map(|l| {
                let label = if l.subject == l.component.as_str() {
                    format!("{} (not measured)", l.subject)
                } else {
                    format!("{} {}", l.component.as_str(), l.subject)
                };
                (label, l.points)
            })
            .collect(),
        color: (179, 38, 30),
        width: 1100,
        row_height: 26,
    })
    .map_err(ScoreError::Chart)?;
    let comps: Vec<Row> = r
        .components
        .iter()
        .map(|c| Row {
            name: c.component.as_str(),
            weight: format!("{:.0}", c.weight),
            state: match c.state {
                prodlike_results::report::ComponentState::Scored => "scored",
                prodlike_results::report::ComponentState::Missing => "missing",
                prodlike_results::report::ComponentState::Inconclusive => "inconclusive",
            },
            score: c.score.map_or("–".into(), |s| format!("{s:.1}")),
            points: format!("{:.1}", c.points),
            max: format!("{:.1}", c.max_points),
            note: c.note.clone(),
            critical: c.critical,
            failed: c.failed,
        })
        .collect();
    let cap_names: Vec<&str> = r
        .cap
        .iter()
        .flat_map(|c| c.components.iter().map(|x| x.as_str()))
        .collect();
    let ctx = serde_json::json!({
        "r": r,
        "score": format!("{:.1}", r.score),
        "uncapped": format!("{:.1}", r.uncapped),
        "capped": r.uncapped > r.score,
        "cap_names": cap_names.join(", "),
        "gated": r.gate.min_score.is_some() || r.gate.fail_on_critical,
        "delta": r.previous.as_ref().map(|p| format!("{:+.1}", p.delta)),
        "comps": comps,
        "trend_svg": trend_svg,
        "losses_svg": losses_svg,
    });
    prodlike_report::html::render("report.html", TEMPLATE, ctx).map_err(ScoreError::Html)
}

/// The total and each component over the runs of the trend (this run alone without history).
fn trend_chart(r: &ScoreReport) -> LineChart {
    let mut series = vec![Series {
        name: "score".into(),
        points: r.trend.iter().map(|p| (p.run as f64, p.score)).collect(),
        color: COLORS[0],
    }];
    if r.trend.is_empty() {
        series[0].points.push((0.0, r.score));
    }
    for (i, c) in Component::ALL.into_iter().enumerate() {
        let points: Vec<(f64, f64)> = r
            .trend
            .iter()
            .filter_map(|p| {
                p.components
                    .get(&c)
                    .copied()
                    .flatten()
                    .map(|v| (p.run as f64, v))
            })
            .collect();
        if !points.is_empty() {
            series.push(Series {
                name: c.as_str().into(),
                points,
                color: COLORS[(i + 1) % COLORS.len()],
            });
        }
    }
    LineChart {
        title: "Score per component, by run".into(),
        x_label: "run".into(),
        y_label: "score".into(),
        series,
        width: 1100,
        height: 380,
    }
}
