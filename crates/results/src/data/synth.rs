//! `prodlike.data.synth/1`: what `prodlike data synth` generated from a profile. Built by
//! `crates/data` (synth/), converted into these types when written (data/src/published.rs).
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "prodlike.data.synth/1";

/// Rows written to one table.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SynthTable {
    pub table: String,
    pub profiled_rows: u64,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
}

/// The result of a synth (`prodlike.data.synth/1`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SynthReport {
    pub target: String,
    pub scale: f64,
    pub seed: u64,
    pub tables: Vec<SynthTable>,
    pub total_rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
}
