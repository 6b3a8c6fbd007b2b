//! The `prodlike data` payloads, one per subcommand. Counts are integers, shares and
//! statistics floats in 0..1 unless said otherwise. No payload ever holds a value of a PII
//! column.
pub mod plans;
pub mod profile;
pub mod snapshot;
pub mod sync;
pub mod synth;
pub mod verify;
