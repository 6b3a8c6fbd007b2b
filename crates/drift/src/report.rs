//! The drift result: the payload of the `prodlike.drift/1` envelope (docs/results.md). The types,
//! their summary sentence and envelope live in prodlike-results, shared with every reader of
//! results; drift builds them (compare.rs, schema/) and renders them (render/).
pub use prodlike_results::drift::{
    Change, DriftReport, Finding, Location, Mode, RuleState, RuleUse, SCHEMA, Status, Summary,
};

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
