use std::fmt;
use std::str::FromStr;

/// How a report is printed. Every command accepts `--format`; not every command supports every
/// format (drift adds Markdown and SARIF), and commands reject the ones they do not support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
    Markdown,
    Sarif,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown output format `{0}`: use one of text, json, markdown, sarif")]
pub struct UnknownFormat(pub String);

impl FromStr for OutputFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "markdown" | "md" => Ok(Self::Markdown),
            "sarif" => Ok(Self::Sarif),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Json => "json",
            Self::Markdown => "markdown",
            Self::Sarif => "sarif",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_and_reject_unknown() {
        for f in [
            OutputFormat::Text,
            OutputFormat::Json,
            OutputFormat::Markdown,
            OutputFormat::Sarif,
        ] {
            assert_eq!(f.to_string().parse::<OutputFormat>().unwrap(), f);
        }
        let err = "yaml".parse::<OutputFormat>().unwrap_err();
        assert!(err.to_string().contains("yaml"));
    }
}
