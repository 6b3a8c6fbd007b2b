//! The pieces several prodlike crates need, written once: civil dates ([`date`]), durations as
//! flags and config files write them ([`duration`]), `/`-separated path globs that can also be
//! stepped segment by segment ([`glob`]), percent coding ([`percent`]), URL password redaction
//! ([`redact`]), line numbers of byte offsets ([`source`]) and errors printed with their causes
//! ([`error`]).
//!
//! This crate depends on no other prodlike crate, so every crate (capability or shared) may
//! depend on it. Parsers here read untrusted text: they answer or return a typed error, never
//! panic (`tests/parsers_never_panic.rs`).
#![forbid(unsafe_code)]

pub mod date;
pub mod duration;
pub mod error;
pub mod glob;
pub mod percent;
pub mod redact;
pub mod source;
