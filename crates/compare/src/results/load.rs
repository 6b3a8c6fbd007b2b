//! Two `prodlike load` results as the judge's input: per request name, failed out of completed
//! requests and the latency histogram of the completed ones (`latency_histogram`, version 2).
//! A name in one run only, or a run written without histograms (version 1), gives `no_data`
//! verdicts, never a pass.
use std::collections::BTreeMap;
use std::path::Path;

use prodlike_results::load::{Counts, LoadResult};
use prodlike_stats::{ErrorCounts, Sample};

use super::error::ResultsError;
use super::shadow::histogram;
use crate::input::{ComparisonInput, LatencyInput, RouteInput, Sides};

/// `a` the baseline (production's place), `b` the candidate (staging's).
pub fn input(
    pa: &Path,
    a: &LoadResult,
    pb: &Path,
    b: &LoadResult,
) -> Result<ComparisonInput, ResultsError> {
    let by_name = |r: &LoadResult| -> BTreeMap<String, Counts> {
        r.requests
            .iter()
            .map(|n| (n.name.clone(), n.counts.clone()))
            .collect()
    };
    let (na, nb) = (by_name(a), by_name(b));
    let names: std::collections::BTreeSet<&String> = na.keys().chain(nb.keys()).collect();
    let mut routes = Vec::with_capacity(names.len());
    for name in names {
        let (ca, cb) = (na.get(name), nb.get(name));
        let errors = |c: Option<&Counts>| {
            c.map(|c| ErrorCounts::new(c.failed.min(c.requests), c.requests))
                .unwrap_or_default()
        };
        let latency = |path: &Path, c: Option<&Counts>, side| -> Result<Sample, ResultsError> {
            match c.and_then(|c| c.latency_histogram.as_deref()) {
                Some(text) => histogram(path, name, side, text),
                None => Ok(Sample::default()),
            }
        };
        routes.push(RouteInput {
            route: name.clone(),
            errors: Some(Sides {
                production: errors(ca),
                staging: errors(cb),
            }),
            latency: LatencyInput::Samples(Sides {
                production: latency(pa, ca, "baseline")?,
                staging: latency(pb, cb, "candidate")?,
            }),
        });
    }
    Ok(ComparisonInput { routes, rate: None })
}
