//! Why a catalog could not be read. The database's own error is the source; the message says
//! which part of the catalog was being read.

/// A catalog read that failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A PostgreSQL query failed.
    #[error("PostgreSQL: reading {what}")]
    Postgres {
        /// The part of the catalog: `tables`, `columns`, `constraints`, `indexes`, `enum types`,
        /// `sequences`, `views`, `namespace`, `server version`, `settings`, `extensions`,
        /// `table sizes`.
        what: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    /// A SQLite query failed.
    #[error("SQLite: reading {what}")]
    Sqlite {
        /// The part of the catalog: `tables`, `columns`, `foreign keys`, `indexes`,
        /// `index columns`, `index sql`, `views`, `server version`, `settings`.
        what: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    /// A MySQL or MariaDB query failed.
    #[error("MySQL: reading {what}")]
    Mysql {
        /// The part of the catalog: `schemas`, `tables`, `columns`, `indexes`, `foreign keys`,
        /// `checks`, `views`, `triggers`, `routines`, `server version`, `settings`,
        /// `table definitions`.
        what: &'static str,
        #[source]
        source: Box<mysql_async::Error>,
    },
    /// [`crate::Scope::Schema`] names a schema the database does not have.
    #[error("schema `{schema}` does not exist")]
    NoSuchSchema { schema: String },
}

impl CatalogError {
    pub(crate) fn pg(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> CatalogError {
        move |source| CatalogError::Postgres { what, source }
    }

    pub(crate) fn sqlite(what: &'static str) -> impl FnOnce(rusqlite::Error) -> CatalogError {
        move |source| CatalogError::Sqlite { what, source }
    }

    pub(crate) fn mysql(what: &'static str) -> impl FnOnce(mysql_async::Error) -> CatalogError {
        move |source| CatalogError::Mysql {
            what,
            source: Box::new(source),
        }
    }

    /// The part of the catalog whose read failed (`None` for a missing schema).
    pub fn what(&self) -> Option<&'static str> {
        match self {
            CatalogError::Postgres { what, .. }
            | CatalogError::Sqlite { what, .. }
            | CatalogError::Mysql { what, .. } => Some(what),
            CatalogError::NoSuchSchema { .. } => None,
        }
    }
}
