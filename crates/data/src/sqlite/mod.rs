//! SQLite: reading, the writer thread, DDL and the atomic file swap (the schema is read by
//! prodlike-catalog, see `crate::catalog`).

pub mod ddl;
pub mod read;
pub mod write;

/// `"name"` with inner quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
