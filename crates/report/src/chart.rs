//! SVG line charts (plotters), for HTML reports: one x axis (usually seconds), several series.
use plotters::prelude::*;

/// One line.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// RGB.
    pub color: (u8, u8, u8),
}

#[derive(Debug, Clone)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("could not draw chart `{title}`")]
pub struct ChartError {
    pub title: String,
    /// The drawing library's error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Draws `chart` as an SVG document (a string to inline in a page).
pub fn line_chart_svg(chart: &LineChart) -> Result<String, ChartError> {
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| ChartError {
        title: chart.title.clone(),
        source: e,
    };
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let pts = chart.series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0.0f64);
    for &(x, y) in pts {
        x0 = x0.min(finite(x));
        x1 = x1.max(finite(x));
        y1 = y1.max(finite(y));
    }
    if x0 > x1 {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    let y1 = if y1 <= 0.0 { 1.0 } else { y1 * 1.08 };
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (chart.width, chart.height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.into()))?;
        let mut c = ChartBuilder::on(&root)
            .caption(&chart.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, 0.0..y1)
            .map_err(|e| fail(e.into()))?;
        c.configure_mesh()
            .x_desc(chart.x_label.as_str())
            .y_desc(chart.y_label.as_str())
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| fail(e.into()))?;
        for s in &chart.series {
            let color = RGBColor(s.color.0, s.color.1, s.color.2);
            c.draw_series(LineSeries::new(
                s.points.iter().map(|&(x, y)| (finite(x), finite(y))),
                color.stroke_width(2),
            ))
            .map_err(|e| fail(e.into()))?
            .label(s.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
        if !chart.series.is_empty() {
            c.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(180, 180, 180))
                .draw()
                .map_err(|e| fail(e.into()))?;
        }
        root.present().map_err(|e| fail(e.into()))?;
    }
    Ok(svg)
}

/// A horizontal bar chart: one bar per label, longest values first as given.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    pub x_label: String,
    /// (label, value), drawn top to bottom in this order.
    pub bars: Vec<(String, f64)>,
    /// RGB.
    pub color: (u8, u8, u8),
    pub width: u32,
    /// Height of one bar's row, in pixels.
    pub row_height: u32,
}

/// Draws `chart` as an SVG document (a string to inline in a page).
pub fn bar_chart_svg(chart: &BarChart) -> Result<String, ChartError> {
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| ChartError {
        title: chart.title.clone(),
        source: e,
    };
    let n = chart.bars.len().max(1);
    let finite = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    let x1 = chart
        .bars
        .iter()
        .map(|b| finite(b.1))
        .fold(0.0f64, f64::max);
    let x1 = if x1 <= 0.0 { 1.0 } else { x1 * 1.08 };
    let height = 90 + chart.row_height.saturating_mul(n as u32);
    let labels: Vec<String> = chart
        .bars
        .iter()
        .map(|(l, _)| {
            if l.chars().count() > 48 {
                let cut: String = l.chars().take(47).collect();
                format!("{cut}…")
            } else {
                l.clone()
            }
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (chart.width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.into()))?;
        let mut c = ChartBuilder::on(&root)
            .caption(&chart.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(300)
            .build_cartesian_2d(0.0..x1, 0.0..n as f64)
            .map_err(|e| fail(e.into()))?;
        // Row i is drawn from the top: y = n − i − 1 … n − i.
        let label_of = |y: &f64| {
            let row = n as f64 - y - 0.5;
            if row >= 0.0 && (row - row.round()).abs() < 1e-6 {
                labels
                    .get(row.round() as usize)
                    .cloned()
                    .unwrap_or_default()
            } else {
                String::new()
            }
        };
        c.configure_mesh()
            .x_desc(chart.x_label.as_str())
            .disable_y_mesh()
            .y_labels(n * 2 + 1)
            .y_label_formatter(&label_of)
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| fail(e.into()))?;
        let color = RGBColor(chart.color.0, chart.color.1, chart.color.2);
        c.draw_series(chart.bars.iter().enumerate().map(|(i, (_, v))| {
            let top = n as f64 - i as f64;
            Rectangle::new(
                [(0.0, top - 0.85), (finite(*v), top - 0.15)],
                color.filled(),
            )
        }))
        .map_err(|e| fail(e.into()))?;
        root.present().map_err(|e| fail(e.into()))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_series_with_labels() {
        let svg = line_chart_svg(&LineChart {
            title: "rate".into(),
            x_label: "second".into(),
            y_label: "requests/s".into(),
            series: vec![
                Series {
                    name: "target".into(),
                    points: vec![(0.0, 1.0), (1.0, 5.0), (2.0, f64::NAN)],
                    color: (80, 80, 80),
                },
                Series {
                    name: "achieved".into(),
                    points: vec![(0.0, 1.0), (1.0, 4.0)],
                    color: (30, 120, 200),
                },
            ],
            width: 600,
            height: 300,
        })
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100]);
        assert!(svg.contains("achieved") && svg.contains("requests/s"));
        assert!(svg.contains("<polyline") || svg.contains("<path"));
        // An empty chart still draws.
        let empty = line_chart_svg(&LineChart {
            title: "none".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![],
            width: 300,
            height: 200,
        })
        .unwrap();
        assert!(empty.contains("none"));
    }

    #[test]
    fn draws_one_bar_per_label() {
        let svg = bar_chart_svg(&BarChart {
            title: "losses".into(),
            x_label: "points".into(),
            bars: vec![
                ("traffic /price".into(), 12.5),
                ("data users.email".into(), 3.0),
            ],
            color: (179, 38, 30),
            width: 800,
            row_height: 28,
        })
        .unwrap();
        assert!(svg.contains("traffic /price") && svg.contains("data users.email"));
        assert_eq!(svg.matches("<rect").count() - 1, 2, "{svg}");
    }
}
