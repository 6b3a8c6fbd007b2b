//! `prodlike.load/1`, still read: its compare section ran equality tests (Mann–Whitney U, a
//! two-proportion z-test) and its counts carry no histograms. Read into version 2's types by
//! `read`: the counts get no histogram (null), and each compared route becomes `no_data`
//! with version 1's sentences kept, since there is no raw data to judge it again.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compare::{Correction, Verdict};
use crate::load::{CompareResult, ComparedRoute, Counts};
use crate::shared::{MannWhitney, ProportionTest};

pub const SCHEMA: &str = "prodlike.load/1";

/// Version 1's compare section: target B against target A.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CompareResultV1 {
    pub target_a: String,
    pub target_b: String,
    pub alpha: f64,
    pub min_effect: f64,
    pub b: Counts,
    pub routes: Vec<RouteDivergenceV1>,
    pub divergent_routes: u64,
}

/// One request name in version 1's compare mode.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RouteDivergenceV1 {
    pub route: String,
    pub n_a: u64,
    pub n_b: u64,
    pub p50_a_ms: f64,
    pub p50_b_ms: f64,
    pub p99_a_ms: f64,
    pub p99_b_ms: f64,
    pub latency_test: Option<MannWhitney>,
    pub error_test: ProportionTest,
    pub divergent: bool,
    pub why: Vec<String>,
}

impl From<CompareResultV1> for CompareResult {
    fn from(c: CompareResultV1) -> Self {
        let CompareResultV1 {
            target_a,
            target_b,
            alpha,
            min_effect: _,
            b,
            routes,
            divergent_routes: _,
        } = c;
        let routes: Vec<ComparedRoute> = routes.into_iter().map(Into::into).collect();
        CompareResult {
            target_a,
            target_b,
            alpha,
            error_margin: 0.0,
            latency_margin: 0.0,
            b,
            inconclusive_routes: routes.len() as u64,
            divergent_routes: 0,
            routes,
            correction: Correction {
                method: "none".into(),
                level: alpha,
                comparisons: 0,
                diverged_before: 0,
                diverged_after: 0,
            },
        }
    }
}

impl From<RouteDivergenceV1> for ComparedRoute {
    fn from(r: RouteDivergenceV1) -> Self {
        let RouteDivergenceV1 {
            route,
            n_a,
            n_b,
            p50_a_ms,
            p50_b_ms,
            p99_a_ms,
            p99_b_ms,
            latency_test: _,
            error_test: _,
            divergent: _,
            why,
        } = r;
        let mut why: Vec<String> = why
            .into_iter()
            .map(|w| format!("{SCHEMA} equality test: {w}"))
            .collect();
        why.insert(
            0,
            format!("written as {SCHEMA}, which keeps no histograms: no raw data to judge"),
        );
        ComparedRoute {
            route,
            n_a,
            n_b,
            p50_a_ms,
            p50_b_ms,
            p99_a_ms,
            p99_b_ms,
            verdict: Verdict::NoData,
            comparisons: Vec::new(),
            divergent: false,
            why,
        }
    }
}
