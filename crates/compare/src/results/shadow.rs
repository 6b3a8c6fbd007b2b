//! One `prodlike shadow` result as the judge's input: per route, the 5xx answers out of the
//! answers each environment gave on the same mirrored exchanges, and both latency histograms
//! (`production_answers`, `staging_answers`). A route without them (a result written before
//! they were added) gives `no_data` verdicts.
use std::path::Path;

use prodlike_results::shadow::{Answers, ShadowReport};
use prodlike_stats::{ErrorCounts, LatencyHistogram, Sample};

use super::error::ResultsError;
use crate::input::{ComparisonInput, LatencyInput, RouteInput, Sides};

pub fn input(path: &Path, r: &ShadowReport) -> Result<ComparisonInput, ResultsError> {
    let mut routes = Vec::with_capacity(r.routes.len());
    for route in &r.routes {
        let side = |a: Option<&Answers>, name| -> Result<(ErrorCounts, Sample), ResultsError> {
            let Some(a) = a else {
                return Ok((ErrorCounts::default(), Sample::default()));
            };
            let errors = ErrorCounts::new(a.errors_5xx.min(a.answered), a.answered);
            let sample = match a.latency_histogram.as_deref() {
                Some(text) => histogram(path, &route.route, name, text)?,
                None => Sample::default(),
            };
            Ok((errors, sample))
        };
        let (pe, ps) = side(route.production_answers.as_ref(), "production")?;
        let (se, ss) = side(route.staging_answers.as_ref(), "staging")?;
        routes.push(RouteInput {
            route: route.route.clone(),
            errors: Some(Sides {
                production: pe,
                staging: se,
            }),
            latency: LatencyInput::Samples(Sides {
                production: ps,
                staging: ss,
            }),
        });
    }
    Ok(ComparisonInput { routes, rate: None })
}

/// A result's histogram as the judge's sample (milliseconds, counts per HDR bucket).
pub(super) fn histogram(
    path: &Path,
    route: &str,
    side: &'static str,
    text: &str,
) -> Result<Sample, ResultsError> {
    LatencyHistogram::from_base64(text)
        .map(|h| Sample::from_histogram(&h))
        .map_err(|source| ResultsError::Histogram {
            path: path.to_path_buf(),
            route: route.to_string(),
            side,
            source,
        })
}
