//! The HTML report: summary cards, charts (target vs achieved rate, latency percentiles over
//! time, errors/drops/retries over time) and the tables of the JSON result.
use prodlike_report::chart::{LineChart, Series, line_chart_svg};
use serde::Serialize;

use crate::LoadError;
use crate::result::LoadResult;

const TEMPLATE: &str = include_str!("report.html");

#[derive(Serialize)]
struct Charts {
    rate: String,
    latency: String,
    errors: String,
}

fn series(
    r: &LoadResult,
    name: &str,
    color: (u8, u8, u8),
    f: impl Fn(&crate::result::SecondResult) -> Option<f64>,
) -> Series {
    Series {
        name: name.into(),
        points: r
            .timeline
            .iter()
            .filter_map(|s| f(s).map(|v| (s.second as f64, v)))
            .collect(),
        color,
    }
}

fn chart(title: &str, y: &str, series: Vec<Series>) -> Result<String, LoadError> {
    line_chart_svg(&LineChart {
        title: title.into(),
        x_label: "second".into(),
        y_label: y.into(),
        series,
        width: 1100,
        height: 320,
    })
    .map_err(LoadError::Chart)
}

pub fn render(r: &LoadResult) -> Result<String, LoadError> {
    let mut rate = Vec::new();
    if r.timeline.iter().any(|s| s.target.is_some()) {
        rate.push(series(r, "target", (120, 120, 120), |s| s.target));
    }
    rate.push(series(r, "achieved (sent)", (26, 115, 232), |s| {
        Some(s.sent as f64)
    }));
    rate.push(series(r, "completed", (52, 168, 83), |s| {
        Some(s.completed as f64)
    }));
    let charts = Charts {
        rate: chart("requests per second", "requests/s", rate)?,
        latency: chart(
            "latency percentiles per second (from intended send time)",
            "ms",
            vec![
                series(r, "p50", (52, 168, 83), |s| s.p50_ms),
                series(r, "p90", (251, 188, 4), |s| s.p90_ms),
                series(r, "p99", (234, 67, 53), |s| s.p99_ms),
                series(r, "max", (120, 60, 160), |s| s.max_ms),
            ],
        )?,
        errors: chart(
            "errors, drops and retries per second",
            "per second",
            vec![
                series(r, "errors", (234, 67, 53), |s| Some(s.failed as f64)),
                series(r, "dropped", (120, 60, 160), |s| Some(s.dropped as f64)),
                series(r, "retries", (251, 140, 0), |s| Some(s.retries as f64)),
            ],
        )?,
    };
    prodlike_report::html::render(
        "load.html",
        TEMPLATE,
        serde_json::json!({ "r": r, "charts": charts, "breached": r.breached() }),
    )
    .map_err(LoadError::Html)
}
