//! Errors of the data engine. Each variant says what to fix: the URL, table, column, rule path.

/// Anything that stops a data command. Never carries a value read from a database (values may
/// be PII); only names, counts, and the database's own message.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("database URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    /// The client library failed (connection lost, protocol): what was being done, and why.
    #[error("PostgreSQL {what}")]
    Postgres {
        what: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// The server refused a statement: what was being done, and what PostgreSQL said (its
    /// message, the table, column and constraint it names, its detail and hint), each once.
    #[error("PostgreSQL {what}: {said}")]
    PostgresSaid {
        what: String,
        said: Box<ServerMessage>,
    },
    /// A MySQL or MariaDB statement failed: what was being done; the server's (or the
    /// driver's) error as the source.
    #[error("MySQL {what}")]
    Mysql {
        what: String,
        #[source]
        source: Box<mysql_async::Error>,
    },
    /// A MySQL or MariaDB server could not be connected to (unreachable, wrong credentials).
    #[error(transparent)]
    MysqlConnect(#[from] prodlike_catalog::mysql::url::ConnectError),
    /// A column of a MySQL table whose type prodlike data cannot copy yet.
    #[error(
        "table {table}: column {column} has type `{sql_type}`, which prodlike data cannot copy from MySQL/MariaDB yet (spatial types and BIT); copy the other tables by pointing --source at a database without it"
    )]
    UnsupportedType {
        table: String,
        column: String,
        sql_type: String,
    },
    /// A part of a command that MySQL and MariaDB support does not cover yet.
    #[error("{what} is not supported for MySQL/MariaDB yet")]
    MysqlUnsupported { what: String },
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
    /// A `where` or other expression of the rules that the source database refused; the
    /// database's own message is the source.
    #[error("rules {file}: {field}: the source database refused it")]
    RuleRefused {
        file: String,
        field: String,
        #[source]
        source: Box<DataError>,
    },
    /// A rules file that is not valid TOML: the parser's message with its line, the quoted
    /// source line and the caret under the error, on their own lines and aligned as printed.
    #[error("rules {file}: {message}")]
    RulesSyntax { file: String, message: String },
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
    /// A data snapshot that is not whole, not authentic, or not readable: refused before the
    /// target is touched.
    #[error("snapshot {path}: {reason}")]
    Snapshot { path: String, reason: String },
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
    /// Wraps a tokio-postgres error: the server's own words when the server refused the
    /// statement (tokio-postgres alone would print `db error` and repeat it in its source),
    /// the client error otherwise.
    pub(crate) fn pg(what: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> DataError {
        let what = what.into();
        move |source| match source.as_db_error() {
            Some(db) => DataError::PostgresSaid {
                what,
                said: Box::new(ServerMessage::from_db(db)),
            },
            None => DataError::Postgres { what, source },
        }
    }

    pub(crate) fn mysql(what: impl Into<String>) -> impl FnOnce(mysql_async::Error) -> DataError {
        let what = what.into();
        move |source| DataError::Mysql {
            what,
            source: Box::new(source),
        }
    }

    pub(crate) fn sqlite(what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> DataError {
        let what = what.into();
        move |source| DataError::Sqlite { what, source }
    }
}

/// What PostgreSQL said when it refused a statement. Its `where` context is read only for the
/// column name COPY reports (`COPY t, line 3, column city`): the rest can quote a row's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMessage {
    /// SQLSTATE, e.g. `22001` (string data right truncation).
    pub code: String,
    pub message: String,
    pub table: Option<String>,
    pub column: Option<String>,
    pub constraint: Option<String>,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl ServerMessage {
    pub(crate) fn from_db(db: &tokio_postgres::error::DbError) -> Self {
        let copy_column = db.where_().and_then(copy_context_column);
        Self {
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            table: db
                .table()
                .map(str::to_owned)
                .or_else(|| db.where_().and_then(copy_context_table)),
            column: db.column().map(str::to_owned).or(copy_column),
            constraint: db.constraint().map(str::to_owned),
            detail: db.detail().map(str::to_owned),
            hint: db.hint().map(str::to_owned),
        }
    }
}

/// `COPY customers, line 3, column city: …` → `city`.
fn copy_context_column(context: &str) -> Option<String> {
    let first = context.lines().next()?;
    let rest = first.strip_prefix("COPY ")?;
    let at = rest.find(", column ")?;
    let col = &rest[at + ", column ".len()..];
    let end = col.find(':').unwrap_or(col.len());
    Some(col[..end].trim().to_owned()).filter(|c| !c.is_empty())
}

/// `COPY customers, line 3…` → `customers`.
fn copy_context_table(context: &str) -> Option<String> {
    let rest = context.lines().next()?.strip_prefix("COPY ")?;
    let end = rest.find(',').unwrap_or(rest.len());
    Some(rest[..end].trim().to_owned()).filter(|t| !t.is_empty())
}

impl std::fmt::Display for ServerMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        let mut place = Vec::new();
        // The message often names them already (`relation "x" does not exist`): say each once.
        let quoted = |name: &str| self.message.contains(&format!("\"{name}\""));
        match (&self.table, &self.column) {
            (Some(t), Some(c)) if !quoted(c) => place.push(format!("column {t}.{c}")),
            (Some(t), _) if !quoted(t) => place.push(format!("table {t}")),
            (None, Some(c)) if !quoted(c) => place.push(format!("column {c}")),
            _ => {}
        }
        if let Some(k) = self.constraint.as_ref().filter(|k| !quoted(k)) {
            place.push(format!("constraint {k}"));
        }
        if !place.is_empty() {
            write!(f, " ({})", place.join(", "))?;
        }
        write!(f, " [SQLSTATE {}]", self.code)?;
        if let Some(d) = &self.detail {
            write!(f, "\nDETAIL: {d}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\nHINT: {h}")?;
        }
        Ok(())
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
    fn copy_context_gives_the_column_and_never_the_value() {
        let ctx = "COPY customers, line 3, column city: \"Llanfairpwllgwyngyll\"";
        assert_eq!(copy_context_column(ctx).as_deref(), Some("city"));
        assert_eq!(copy_context_table(ctx).as_deref(), Some("customers"));
        assert_eq!(copy_context_column("COPY customers, line 3"), None);
        assert_eq!(copy_context_column("SQL function \"f\""), None);
    }

    #[test]
    fn a_server_message_names_each_place_once_with_its_detail_and_hint() {
        let mut m = ServerMessage {
            code: "22001".into(),
            message: "value too long for type character varying(15)".into(),
            table: Some("customers".into()),
            column: Some("city".into()),
            constraint: None,
            detail: Some("a detail".into()),
            hint: Some("a hint".into()),
        };
        assert_eq!(
            m.to_string(),
            "value too long for type character varying(15) (column customers.city) [SQLSTATE 22001]\nDETAIL: a detail\nHINT: a hint"
        );
        m.message = "new row for relation \"customers\" violates check constraint \"k\"".into();
        m.column = None;
        m.constraint = Some("k".into());
        m.detail = None;
        m.hint = None;
        assert_eq!(
            m.to_string(),
            "new row for relation \"customers\" violates check constraint \"k\" [SQLSTATE 22001]"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("emial", ["email", "name"]),
            "; did you mean `email`?"
        );
        assert_eq!(did_you_mean("zzzzzz", ["email", "name"]), "");
    }
}
