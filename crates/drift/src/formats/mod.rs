//! Readers from file text into [`Node`] documents. Each reader returns a [`Malformed`] error
//! naming the file and line on bad input, and never panics on any input (see the property tests).
//! Terraform's HCL (`.tf`, `.tfvars`) has one reader, [`hcl`]; `.tf` files become objects in
//! `crate::terraform`.
mod env;
pub mod hcl;
mod properties;

use std::path::Path;

use prodlike_common::source::line_col;

use crate::error::Malformed;
use crate::position::{self, PosNode};
use crate::secrets::SecretPolicy;
use crate::terraform;
use crate::tree::{Node, NodeSeed};

/// A file format prodlike drift reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Yaml,
    Json,
    Toml,
    Env,
    Properties,
    Tfvars,
    /// Terraform configuration (`.tf`): HCL blocks.
    Terraform,
    /// Anything else: compared as opaque text.
    Text,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::Toml => "TOML",
            Format::Env => ".env",
            Format::Properties => "Java properties",
            Format::Tfvars => "Terraform tfvars",
            Format::Terraform => "Terraform HCL",
            Format::Text => "text",
        }
    }
}

/// Recognises a format by file name first, then by content.
pub fn detect(path: &Path, text: &str) -> Format {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let ext = name.rsplit('.').next().unwrap_or("");
    if name.ends_with(".tfvars.json") {
        return Format::Json;
    }
    match ext {
        "yaml" | "yml" => return Format::Yaml,
        "json" => return Format::Json,
        "toml" => return Format::Toml,
        "properties" => return Format::Properties,
        "tfvars" => return Format::Tfvars,
        "tf" => return Format::Terraform,
        "env" => return Format::Env,
        _ => {}
    }
    if name == ".env" || name.starts_with(".env.") || name == "env" {
        return Format::Env;
    }
    detect_content(text)
}

/// Content sniffing for files whose name says nothing.
pub fn detect_content(text: &str) -> Format {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.is_empty() {
        return Format::Text;
    }
    if (body.starts_with('{') || body.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok()
    {
        return Format::Json;
    }
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let env_like = |l: &&str| {
        let l = l.strip_prefix("export ").unwrap_or(l);
        match l.split_once('=') {
            Some((k, _)) => {
                !k.is_empty()
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !k.starts_with(|c: char| c.is_ascii_digit())
            }
            None => false,
        }
    };
    if !lines.is_empty() && lines.iter().all(env_like) {
        return Format::Env;
    }
    if body.starts_with("---")
        || matches!(
            serde_saphyr::from_multiple::<Node>(body).as_deref(),
            Ok([Node::Map(_) | Node::List(_), ..])
        )
    {
        return Format::Yaml;
    }
    if lines.iter().any(|l| l.starts_with('[')) && toml::from_str::<Node>(body).is_ok() {
        return Format::Toml;
    }
    Format::Text
}

/// Reads `text` as `format` into its documents with the positions of their values, where the
/// format keeps them (YAML, JSON, HCL); `None` for the others, located by text search.
pub fn parse_located(
    format: Format,
    path: &Path,
    text: &str,
) -> Result<(Vec<Node>, Option<Vec<PosNode>>), Malformed> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Tfvars => hcl::tfvars(text)
            .map(|(n, p)| (vec![n], Some(vec![p])))
            .map_err(|(line, col, message)| {
                malformed(format, path, Some(line), Some(col), message)
            }),
        Format::Yaml | Format::Json => {
            let docs = parse(format, path, text)?;
            let positions = position::read_yaml(text).filter(|p| p.len() == docs.len());
            Ok((docs, positions))
        }
        _ => parse(format, path, text).map(|docs| (docs, None)),
    }
}

fn malformed(
    format: Format,
    path: &Path,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
) -> Malformed {
    Malformed {
        path: path.to_path_buf(),
        format: format.name(),
        line,
        column,
        message,
    }
}

/// Reads `text` as `format` into its documents (YAML may hold several; every other format one;
/// a `.tf` file one map from each block's address to its attributes).
pub fn parse(format: Format, path: &Path, text: &str) -> Result<Vec<Node>, Malformed> {
    let err = |line: Option<usize>, column: Option<usize>, message: String| {
        malformed(format, path, line, column, message)
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Yaml => {
            let options = serde_saphyr::options! { with_snippet: false };
            serde_saphyr::from_multiple_with_options::<Node>(text, options).map_err(|e| {
                let loc = e.location();
                let message = strip_yaml_position(&first_line(&e.to_string()));
                err(
                    loc.map(|l| l.line() as usize),
                    loc.map(|l| l.column() as usize),
                    message,
                )
            })
        }
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            let node = serde::de::DeserializeSeed::deserialize(NodeSeed { depth: 0 }, &mut de)
                .and_then(|n| de.end().map(|()| n));
            node.map(|n| vec![n]).map_err(|e| {
                if terraform::show::is_plan_log(text) {
                    return err(
                        Some(1),
                        None,
                        "this is the log stream of `terraform plan -json`, not a plan document: save the plan (`terraform plan -out tfplan`) and compare `terraform show -json tfplan`".into(),
                    );
                }
                let message = strip_json_position(&e.to_string());
                err(Some(e.line()), Some(e.column()), message)
            })
        }
        Format::Toml => toml::from_str::<Node>(text).map(|n| vec![n]).map_err(|e| {
            let (line, col) = match e.span() {
                Some(span) => {
                    let (l, c) = line_col(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            err(line, col, e.message().trim().to_string())
        }),
        Format::Env => env::parse(text)
            .map(|n| vec![n])
            .map_err(|(line, message)| err(Some(line), None, message)),
        Format::Properties => properties::parse(text)
            .map(|n| vec![n])
            .map_err(|(line, message)| err(Some(line), None, message)),
        Format::Tfvars => hcl::tfvars(text)
            .map(|(n, _)| vec![n])
            .map_err(|(line, col, message)| err(Some(line), Some(col), message)),
        Format::Terraform => terraform::config::objects(text, &SecretPolicy::default())
            .map(|objects| {
                let map = objects.into_iter().map(|o| (o.display, o.node)).collect();
                vec![Node::Map(map)]
            })
            .map_err(|(line, col, message)| err(Some(line), Some(col), message)),
        Format::Text => Ok(vec![Node::String(text.to_string())]),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// serde-saphyr appends " at line L, column C"; the error already says where.
fn strip_yaml_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) if s[i..].contains("column") => s[..i].to_string(),
        _ => s.to_string(),
    }
}

/// serde_json appends " at line L column C"; the error already says where.
fn strip_json_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_name_then_content() {
        assert_eq!(detect(Path::new("a/values.yml"), ""), Format::Yaml);
        assert_eq!(detect(Path::new("x.tfvars.json"), ""), Format::Json);
        assert_eq!(detect(Path::new(".env.production"), ""), Format::Env);
        assert_eq!(detect(Path::new("app.env"), ""), Format::Env);
        assert_eq!(detect(Path::new("Config"), "{\"a\": 1}"), Format::Json);
        assert_eq!(
            detect(Path::new("Config"), "A=1\nexport B=two\n"),
            Format::Env
        );
        assert_eq!(detect(Path::new("Config"), "a:\n  b: 1\n"), Format::Yaml);
        assert_eq!(
            detect(Path::new("Config"), "[server]\nport = 80\n"),
            Format::Toml
        );
        assert_eq!(detect(Path::new("README"), "just words"), Format::Text);
    }

    #[test]
    fn malformed_yaml_names_line() {
        let e = parse(
            Format::Yaml,
            Path::new("prod/values.yaml"),
            "image:\n  tag: 1.2\n  repo: [unclosed\nreplicas: 3\n",
        )
        .unwrap_err();
        assert!(e.line.is_some(), "{e}");
        assert!(e.to_string().starts_with("prod/values.yaml:"), "{e}");
    }

    #[test]
    fn malformed_json_and_toml_name_line() {
        let e = parse(
            Format::Json,
            Path::new("a.json"),
            "{\n  \"a\": 1,\n  \"b\": }\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        let e = parse(Format::Toml, Path::new("a.toml"), "[x]\na = 1\nb = = 2\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }

    #[test]
    fn yaml_multi_document() {
        let docs = parse(Format::Yaml, Path::new("m.yaml"), "a: 1\n---\nb: 2\n---\n").unwrap();
        assert_eq!(docs.len(), 2);
    }
}
