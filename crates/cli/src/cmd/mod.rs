//! One file per command: argument struct and the wiring from arguments to a capability crate.
pub mod data;
pub mod drift;
pub mod load;
pub mod shadow;
