//! Errors of the data engine. Each variant says what to fix: the URL, table, column, rule path.

/// Anything that stops a data command. Never carries a value read from a database (values may
/// be PII); only names, counts, and the database's own message.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("database URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("PostgreSQL {what}")]
    Postgres {
        what: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("SQLite {what}")]
    Sqlite {
        what: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    /// A file the command reads or writes that the system refused: what was being done, where.
    #[error("{what} {path}")]
    Io {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A `where` or other expression of the rules that the source database refused.
    #[error("rules {file}: {field}: the source database refused it")]
    RuleRefused {
        file: String,
        field: String,
        #[source]
        source: Box<DataError>,
    },
    #[error("rules {file}: {field}: {reason}")]
    Rules {
        file: String,
        field: String,
        reason: String,
    },
    #[error("table `{table}` does not exist in {url}{hint}")]
    MissingTable {
        table: String,
        url: String,
        hint: String,
    },
    #[error("column `{table}.{column}` does not exist{hint}")]
    MissingColumn {
        table: String,
        column: String,
        hint: String,
    },
    /// The key's own message names the variable or file and the fix.
    #[error(transparent)]
    Key(#[from] prodlike_mask::KeyError),
    #[error(
        "--strict: detected PII columns have no rule: {columns}; add a rule for each under [tables.<table>.columns] (use \"keep\" to copy one raw on purpose)"
    )]
    StrictUnruled { columns: String },
    #[error("masking `{table}.{column}`: {reason}")]
    Mask {
        table: String,
        column: String,
        reason: String,
    },
    #[error("profile {path}: {reason}")]
    Profile { path: String, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("target {target}: {reason}")]
    Target { target: String, reason: String },
    /// The target names the source database (however the URLs are spelt): nothing was written.
    #[error(
        "refusing to write to --target {target_url}: it is the source {source_url}: {how}. prodlike data never writes to its source; pick another target database"
    )]
    TargetIsSource {
        source_url: String,
        target_url: String,
        how: crate::identity::SameDatabase,
    },
    #[error("sync aborted: {0}; the target was left as it was")]
    Aborted(String),
    /// A task or worker thread of the command panicked or was cancelled.
    #[error("{what} failed")]
    Task {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
    /// A thread of the command could not be started.
    #[error("could not start {what}")]
    Spawn {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The pool bounding concurrent work was closed while work still waited on it.
    #[error("{what}: the worker pool was closed")]
    PoolClosed {
        what: &'static str,
        #[source]
        source: tokio::sync::AcquireError,
    },
    /// A task still held the target when the run ended: a defect of prodlike, reported
    /// rather than a panic.
    #[error("{what} outlived the run; the target was not finished")]
    Outlived { what: &'static str },
}

impl DataError {
    pub(crate) fn pg(what: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> DataError {
        let what = what.into();
        move |source| DataError::Postgres { what, source }
    }

    pub(crate) fn sqlite(what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> DataError {
        let what = what.into();
        move |source| DataError::Sqlite { what, source }
    }
}

/// Result alias of the data engine.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// "; did you mean `x`?" when a close name exists (edit distance ≤ 2), else "".
pub(crate) fn did_you_mean<'a>(wanted: &str, names: impl IntoIterator<Item = &'a str>) -> String {
    let best = names
        .into_iter()
        .map(|n| (edit_distance(wanted, n), n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, n)) => format!("; did you mean `{n}`?"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("emial", ["email", "name"]),
            "; did you mean `email`?"
        );
        assert_eq!(did_you_mean("zzzzzz", ["email", "name"]), "");
    }
}
