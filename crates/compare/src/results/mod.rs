//! `prodlike compare results A.json B.json`: prodlike's own results judged with the same judge
//! as `prodlike compare prometheus` — two `prodlike load` runs (A the baseline in production's
//! place, B the candidate in staging's), or one `prodlike shadow` result (production against
//! staging on the same mirrored exchanges).
//!
//! Step by step: each file read with prodlike-results' versioned reader ([`read`]); their raw
//! material — error counts and HDR latency histograms per request name or route — reduced to
//! the neutral [`ComparisonInput`](crate::input::ComparisonInput) (load.rs, shadow.rs); then
//! `judge` and `report` as for Prometheus. A file of another schema is refused by name
//! (error.rs), an input error (exit 2).

mod error;
mod load;
mod shadow;

use std::path::{Path, PathBuf};

use prodlike_results::AnyResult;
use prodlike_results::compare::{CompareReport, ResultsSource, Source};

pub use error::ResultsError;

use crate::judge::judge;
use crate::report::build;
use crate::spec::CompareSpec;

/// The unit of every latency in prodlike's results: milliseconds.
const UNIT: &str = "ms";

/// Compare prodlike's own results: two load results, or one shadow result.
pub fn compare_results(
    paths: &[PathBuf],
    spec: &CompareSpec,
) -> Result<CompareReport, ResultsError> {
    let mut spec = spec.clone();
    spec.metrics.unit = UNIT.into();
    let docs: Vec<(PathBuf, AnyResult)> = paths
        .iter()
        .map(|p| read(p).map(|r| (p.clone(), r)))
        .collect::<Result<_, _>>()?;
    let (input, source) = match docs.as_slice() {
        [(pa, AnyResult::Load(a)), (pb, AnyResult::Load(b))] => (
            load::input(pa, &a.data, pb, &b.data)?,
            ResultsSource {
                results: "load".into(),
                production: display(pa),
                staging: display(pb),
                schemas: vec![a.schema.clone(), b.schema.clone()],
            },
        ),
        [(p, AnyResult::Shadow(s))] => (
            shadow::input(p, &s.data)?,
            ResultsSource {
                results: "shadow".into(),
                production: format!("{} (production)", display(p)),
                staging: format!("{} (staging)", display(p)),
                schemas: vec![s.schema.clone()],
            },
        ),
        _ => return Err(wrong_inputs(&docs)),
    };
    let judged = judge(&input, &spec).map_err(ResultsError::Judge)?;
    Ok(build(Source::Results(source), &spec, Vec::new(), judged))
}

fn read(path: &Path) -> Result<AnyResult, ResultsError> {
    prodlike_results::read(path).map_err(ResultsError::Read)
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

/// What was given instead of two load results or one shadow result, each file by its schema.
fn wrong_inputs(docs: &[(PathBuf, AnyResult)]) -> ResultsError {
    ResultsError::WrongInputs {
        given: docs
            .iter()
            .map(|(p, r)| format!("{} ({})", p.display(), r.schema()))
            .collect::<Vec<_>>()
            .join(", "),
    }
}
