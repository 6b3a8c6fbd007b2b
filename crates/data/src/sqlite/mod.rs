//! SQLite: introspection, reading, the writer thread, DDL and the atomic file swap.

pub mod ddl;
pub mod introspect;
pub mod read;
pub mod write;

/// `"name"` with inner quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
