//! HTML reports rendered with minijinja: a command supplies its template (which may extend the
//! shared `base.html` layout) and a serialisable context. Output is auto-escaped; SVG charts
//! are inserted with `|safe`.
use minijinja::Environment;
use serde::Serialize;

/// Shared page layout and styles; templates use `{% extends "base.html" %}` and fill
/// `title` and `content` blocks.
pub const BASE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}prodlike report{% endblock %}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330; background: #f4f6f9; }
header { background: #1d2330; color: #fff; padding: 14px 28px; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 4px 0 0; color: #b9c2d3; }
main { padding: 18px 28px 40px; max-width: 1200px; }
section { background: #fff; border-radius: 8px; padding: 14px 18px; margin: 0 0 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { font-size: 16px; margin: 0 0 10px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #e6e9ef; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { color: #5a6478; font-weight: 600; }
.ok { color: #137333; font-weight: 600; } .bad { color: #b3261e; font-weight: 600; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: #fff; border-radius: 8px; padding: 10px 14px; min-width: 130px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.card b { display: block; font-size: 20px; }
.card span { color: #5a6478; font-size: 12px; }
.chart svg { width: 100%; height: auto; }
.banner { padding: 10px 14px; border-radius: 8px; margin-bottom: 16px; font-weight: 600; }
.banner.bad { background: #fce8e6; } .banner.ok { background: #e6f4ea; }
code { background: #eef1f6; padding: 1px 4px; border-radius: 3px; }
</style>
</head>
<body>
<header>{% block header %}{% endblock %}</header>
<main>{% block content %}{% endblock %}</main>
</body>
</html>
"#;

#[derive(Debug, thiserror::Error)]
#[error("could not render the HTML template {name}")]
pub struct HtmlError {
    name: String,
    #[source]
    source: minijinja::Error,
}

/// Renders `template` (named `name`, ending in `.html` for HTML escaping) with `ctx`.
pub fn render(name: &str, template: &str, ctx: impl Serialize) -> Result<String, HtmlError> {
    let mut env = Environment::new();
    let failed = |source| HtmlError {
        name: name.to_string(),
        source,
    };
    env.add_template("base.html", BASE).map_err(failed)?;
    env.add_template(name, template).map_err(failed)?;
    env.get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
        .map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_the_base_layout_and_escapes() {
        let t = r#"{% extends "base.html" %}{% block content %}<p>{{ name }}</p>{{ svg|safe }}{% endblock %}"#;
        let html = render(
            "x.html",
            t,
            serde_json::json!({"name": "<b>a&b</b>", "svg": "<svg></svg>"}),
        )
        .unwrap();
        assert!(
            html.contains("&lt;b&gt;a&amp;b") && !html.contains("<b>a"),
            "{html}"
        );
        assert!(html.contains("<svg></svg>"));
        assert!(html.starts_with("<!doctype html>"));
        let err = render("bad.html", "{% if %}", serde_json::json!({})).unwrap_err();
        assert!(err.to_string().contains("bad.html"), "{err}");
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert!(cause.is_some_and(|c| c.contains("syntax error")), "{err:?}");
    }
}
