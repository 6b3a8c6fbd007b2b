//! Scoring sources: each result schema read into one or more [`SourceScore`]s, each a list of
//! penalties in the points (0–100) of the component it feeds. The penalty of every kind of
//! finding is a constant documented in docs/report.md ("Penalties").
pub mod compare;
pub mod data;
pub mod drift;
pub mod traffic;

use prodlike_results::AnyResult;
use prodlike_results::compare::Verdict;
use prodlike_results::report::LossKind;

/// One penalty: component points lost, with what lost them.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Points of the component (0–100).
    pub penalty: f64,
    pub kind: LossKind,
    pub subject: String,
    pub finding: String,
    pub command: String,
}

/// What one source of one result says.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceScore {
    /// One of [`crate::config::SOURCES`].
    pub source: &'static str,
    /// The result file.
    pub file: String,
    pub items: Vec<Item>,
    /// Something was decided (a pass or a finding); otherwise the source is inconclusive.
    pub decided: bool,
    /// The result holds a failure (drift, divergence, leak, failed verify).
    pub failed: bool,
    /// One sentence: what was measured.
    pub note: String,
}

impl SourceScore {
    fn new(source: &'static str, file: &str) -> SourceScore {
        SourceScore {
            source,
            file: file.to_owned(),
            items: Vec::new(),
            decided: false,
            failed: false,
            note: String::new(),
        }
    }

    /// 100 minus the penalties, at least 0.
    pub fn score(&self) -> f64 {
        (100.0 - self.total_penalty()).max(0.0)
    }

    /// The penalties as they count: scaled down so they add up to at most 100.
    pub fn scaled_items(&self) -> impl Iterator<Item = Item> + '_ {
        let total = self.total_penalty();
        let k = if total > 100.0 { 100.0 / total } else { 1.0 };
        self.items.iter().map(move |i| Item {
            penalty: i.penalty * k,
            ..i.clone()
        })
    }

    /// What a verdict costs: nothing for a pass (which decides), a finding for a divergence
    /// (which decides and fails), undecided otherwise.
    fn judged(&mut self, verdict: Verdict) -> Option<LossKind> {
        match verdict {
            Verdict::Pass => {
                self.decided = true;
                None
            }
            Verdict::Diverged => {
                self.decided = true;
                self.failed = true;
                Some(LossKind::Finding)
            }
            Verdict::Inconclusive | Verdict::NoData => Some(LossKind::Undecided),
        }
    }

    fn total_penalty(&self) -> f64 {
        self.items.iter().map(|i| i.penalty).sum()
    }

    fn push(
        &mut self,
        penalty: f64,
        kind: LossKind,
        subject: impl Into<String>,
        finding: impl Into<String>,
        command: impl Into<String>,
    ) {
        self.items.push(Item {
            penalty,
            kind,
            subject: subject.into(),
            finding: finding.into(),
            command: command.into(),
        });
    }
}

/// The sources of one result, or why it is not scored.
pub fn of(result: &AnyResult, file: &str) -> Result<Vec<SourceScore>, String> {
    match result {
        AnyResult::Shadow(r) => Ok(vec![traffic::shadow(&r.data, file)]),
        AnyResult::Load(r) => match &r.data.compare {
            Some(c) => Ok(vec![traffic::load_compare(c, file)]),
            None => Err(
                "a load result without a comparison measures staging alone; \
                 score `prodlike compare results` of two runs, or load --compare"
                    .into(),
            ),
        },
        AnyResult::DataVerify(r) => Ok(vec![data::verify(&r.data, file)]),
        AnyResult::DataPlans(r) => Ok(vec![data::plans(&r.data, file)]),
        AnyResult::Drift(r) => Ok(vec![drift::drift(&r.data, file)]),
        AnyResult::Compare(r) => Ok(compare::compare(&r.data, file)),
        AnyResult::DataProfile(_) => Err("a profile describes production only".into()),
        AnyResult::DataSync(_) | AnyResult::DataSynth(_) => {
            Err("a sync or synth result says what was copied; its fidelity is data verify's".into())
        }
        AnyResult::Alerts(_) => Err("alerts generate rules; they measure nothing".into()),
        AnyResult::Report(_) => {
            Err("a report is not scored again: give the results it combined".into())
        }
    }
}

/// `n` with its noun, `1 route`, `3 routes`.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A file path quoted for a shell command when it needs it.
pub(crate) fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:@=,+".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
