//! What a read covers: which schemas, and whether the server's state comes too.

/// Which schemas a PostgreSQL read covers (SQLite has one: `main`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every schema but the system's (`pg_catalog`, `information_schema`, `pg_toast*`,
    /// `pg_temp_*`).
    UserSchemas,
    /// One schema; reading it fails with [`crate::CatalogError::NoSuchSchema`] when it does not
    /// exist.
    Schema(String),
}

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub scope: Scope,
    /// Also read the server's version, settings and extensions ([`crate::Server`]).
    pub server: bool,
}

impl Options {
    /// The objects of one schema, without the server's state: what a copy needs.
    pub fn schema(name: &str) -> Options {
        Options {
            scope: Scope::Schema(name.to_string()),
            server: false,
        }
    }

    /// Every user schema and the server's state: what a comparison of two databases needs.
    pub fn everything() -> Options {
        Options {
            scope: Scope::UserSchemas,
            server: true,
        }
    }
}
