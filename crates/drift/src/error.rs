use std::fmt;
use std::path::PathBuf;

/// Everything that stops a drift comparison from running (exit code 2). Findings are not
/// errors: they are the report.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// A file that could not be read as its format: names the file, the line and column when
    /// the reader knows them, and what was wrong.
    #[error("{0}")]
    Malformed(Malformed),
    #[error("could not read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} does not exist")]
    Missing { path: PathBuf },
    #[error(
        "cannot compare the directory {dir} with the file {file}: give two files or two directories"
    )]
    DirVersusFile { dir: PathBuf, file: PathBuf },
    /// A rules file refused: the file and the field (`rule[3].factor`) or line, with what is
    /// wrong there as the source.
    #[error("rules file {path}: {place}")]
    Rules {
        path: PathBuf,
        place: String,
        #[source]
        source: Box<crate::rules::RulesFileProblem>,
    },
    /// A database URL that names nothing readable: `message` says what is wrong and the fix.
    #[error("{url}: {message}")]
    Schema { url: String, message: String },
    /// The PostgreSQL server refused the connection or a query.
    #[error("{url}: cannot connect")]
    Connect {
        url: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// The MySQL or MariaDB server refused the connection (unreachable, wrong credentials).
    #[error("{url}: cannot connect")]
    MysqlConnect {
        url: String,
        #[source]
        source: prodlike_catalog::mysql::url::ConnectError,
    },
    /// The SQLite file could not be opened read-only.
    #[error("{url}: cannot open the SQLite file read-only")]
    Open {
        url: String,
        #[source]
        source: rusqlite::Error,
    },
    /// The catalog could not be read.
    #[error("{url}")]
    Catalog {
        url: String,
        #[source]
        source: prodlike_catalog::CatalogError,
    },
    #[error(
        "--render kustomize needs `kubectl` or `kustomize` on PATH; without them, render each side by hand (`kubectl kustomize DIR > side.yaml`) and compare the files"
    )]
    NoRenderer,
    #[error("could not run the kustomize renderer on {dir}")]
    Render {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// The renderer ran and refused the overlay; `message` is its own error output.
    #[error("kustomize could not render {dir}: {message}")]
    RenderFailed { dir: PathBuf, message: String },
    #[error(
        "{url}: unsupported database URL; use postgres://user@host:port/db, mysql://user:password@host:port/db or sqlite://path"
    )]
    UnsupportedUrl { url: String },
}

/// A parse error located in a file.
#[derive(Debug)]
pub struct Malformed {
    pub path: PathBuf,
    /// The format the file was read as (`YAML`, `JSON`, ...).
    pub format: &'static str,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(
                f,
                ":{l}:{c}: malformed {} at line {l}, column {c}",
                self.format
            )?,
            (Some(l), None) => write!(f, ":{l}: malformed {} at line {l}", self.format)?,
            _ => write!(f, ": malformed {}", self.format)?,
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_names_file_and_line() {
        let e = DriftError::Malformed(Malformed {
            path: "prod/values.yaml".into(),
            format: "YAML",
            line: Some(7),
            column: Some(3),
            message: "unexpected mapping".into(),
        });
        assert_eq!(
            e.to_string(),
            "prod/values.yaml:7:3: malformed YAML at line 7, column 3: unexpected mapping"
        );
    }
}
