//! Per-route divergence between production and staging: counts, latency distributions of
//! both sides, and a bounded ring of example diffs. Memory per route is fixed.
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use prodlike_stats::{LatencyHistogram, wilson_interval};

use crate::compare::{Comparison, NotCompared, Outcome};
use crate::config::NoiseConfig;
use crate::noise::{RouteNoise, generalise};

// What a route reports is part of the published result (prodlike.shadow/2).
pub use prodlike_results::shadow::{Answers, DiffExample, RouteReport, RouteVerdict};

pub struct RouteDivergence {
    /// Copies sent to staging.
    pub mirrored: u64,
    /// Exchanges compared in full (matched + mismatched).
    pub compared: u64,
    pub mismatched: u64,
    pub status_diffs: u64,
    pub header_diffs: u64,
    pub body_diffs: u64,
    /// Exchanges not compared, by reason (indexed like [`NotCompared::ALL`]).
    pub not_compared: [u64; NotCompared::ALL.len()],
    /// Copies staging did not answer (error or timeout).
    pub staging_failures: u64,
    pub production_latency: LatencyHistogram,
    pub staging_latency: LatencyHistogram,
    /// Status classes (1xx to 5xx) of the exchanges both sides answered, counted with the
    /// latencies above: the error counts of `prodlike compare results`.
    pub production_statuses: StatusClasses,
    pub staging_statuses: StatusClasses,
    pub examples: VecDeque<DiffExample>,
    /// Body paths that differed and how often (bounded).
    pub paths: BTreeMap<String, u64>,
    /// Noise learned or suspected on this route.
    pub noise: RouteNoise,
    /// Mismatches that differed in the body only, kept until noise has settled: when their
    /// every path turns out to be noise, they are counted again as matches.
    provisional: Vec<Provisional>,
    noise_version: u64,
    max_examples: usize,
    last_example: Option<Instant>,
}

/// Answers counted by status class: `counts[0]` is 1xx, `counts[4]` 5xx; anything outside
/// 100..=599 is not counted (it is no HTTP status a client would see).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusClasses {
    counts: [u64; 5],
}

impl StatusClasses {
    pub fn record(&mut self, status: u16) {
        if let Some(n) = (status / 100)
            .checked_sub(1)
            .and_then(|i| self.counts.get_mut(usize::from(i)))
        {
            *n += 1;
        }
    }

    /// The published counts, with the histogram of the same answers.
    fn answers(&self, latency: &LatencyHistogram) -> Answers {
        Answers {
            answered: self.counts.iter().sum(),
            status_classes: self
                .counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| (format!("{}xx", i + 1), *n))
                .collect(),
            errors_5xx: self.counts[4],
            // A count past i64::MAX cannot be encoded: left out, judged as no raw data.
            latency_histogram: latency.to_base64().ok(),
        }
    }
}

/// Distinct differing body paths remembered per route.
const MAX_PATHS: usize = 50;

/// Body-only mismatches kept for reclassification while noise is being learned.
const MAX_PROVISIONAL: usize = 64;

/// A body-only mismatch recorded before noise settled.
struct Provisional {
    /// Every differing path, generalised.
    general: Vec<String>,
    /// The paths counted in `paths` (the kept diffs).
    counted: Vec<String>,
}

/// Once a route's examples are full, how often one is replaced by a newer one.
const EXAMPLE_REFRESH: Duration = Duration::from_millis(200);

impl RouteDivergence {
    pub fn new(max_examples: usize) -> Self {
        Self {
            mirrored: 0,
            compared: 0,
            mismatched: 0,
            status_diffs: 0,
            header_diffs: 0,
            body_diffs: 0,
            not_compared: [0; NotCompared::ALL.len()],
            staging_failures: 0,
            production_latency: LatencyHistogram::new(),
            staging_latency: LatencyHistogram::new(),
            production_statuses: StatusClasses::default(),
            staging_statuses: StatusClasses::default(),
            examples: VecDeque::with_capacity(max_examples),
            paths: BTreeMap::new(),
            noise: RouteNoise::default(),
            provisional: Vec::new(),
            noise_version: 0,
            max_examples,
            last_example: None,
        }
    }

    /// Records a comparison and returns its outcome.
    pub fn record(&mut self, c: &Comparison, example: impl FnOnce() -> DiffExample) -> Outcome {
        self.record_at(c, Instant::now(), example)
    }

    /// Records a comparison and feeds noise learning with its differing paths. Mismatches
    /// found while noise was still being learned are counted again as matches once every path
    /// they differed in turns out to be noise.
    pub fn record_with_noise(
        &mut self,
        c: &Comparison,
        cfg: &NoiseConfig,
        example: impl FnOnce() -> DiffExample,
    ) -> Outcome {
        let outcome = self.record(c, example);
        // A path left out as noise still differed: suspicion counts it, or a path would stop
        // looking like noise as soon as it was ignored, and be un-ignored again.
        // (Borrowed in the common case: no copy of the paths per comparison.)
        let differed: std::borrow::Cow<'_, [String]> = if c.noise.is_empty() {
            std::borrow::Cow::Borrowed(&c.paths)
        } else {
            c.paths.iter().chain(c.noise.iter()).cloned().collect()
        };
        if outcome == Outcome::Mismatched {
            let shown: Vec<(String, Option<&str>, Option<&str>)> = c
                .body
                .iter()
                .map(|d| {
                    (
                        generalise(&d.path),
                        d.production.as_deref(),
                        d.staging.as_deref(),
                    )
                })
                .collect();
            self.noise.record_staging(&differed, &shown, cfg);
            if !c.status_differs()
                && !c.headers_differ()
                && self.provisional.len() < MAX_PROVISIONAL
            {
                self.provisional.push(Provisional {
                    general: c.paths.clone(),
                    counted: c.body.iter().map(|d| d.path.clone()).collect(),
                });
            }
        } else {
            self.noise.record_staging(&differed, &[], cfg);
        }
        self.noise.record_excluded(&c.noise);
        // A copy compared against an older noise set (its mirror worker had not seen the
        // latest) may differ in paths that are noise by now: settle it at once, since the next
        // change of the noise set may never come.
        let ignored = self.noise.ignored();
        if c.paths.iter().any(|p| ignored.contains(p)) {
            self.settle_provisional();
        } else {
            self.reclassify();
        }
        outcome
    }

    /// Feeds one probe's findings to noise learning.
    pub fn record_probe(&mut self, paths: &[String], cfg: &NoiseConfig) {
        self.noise.record_probe(paths, cfg);
        self.reclassify();
    }

    /// When the noise set has changed, counts the provisional mismatches whose every path is
    /// now noise as matches, and drops examples that differed in noise only.
    fn reclassify(&mut self) {
        if self.noise.version() == self.noise_version {
            return;
        }
        self.settle_provisional();
    }

    /// Takes the current noise set out of every provisional mismatch (see `reclassify`).
    fn settle_provisional(&mut self) {
        self.noise_version = self.noise.version();
        let ignored = self.noise.ignored();
        let is_noise = |p: &String| ignored.contains(p);
        let mut kept = Vec::with_capacity(self.provisional.len());
        for mut m in std::mem::take(&mut self.provisional) {
            // Noise paths leave the counts of every provisional mismatch…
            let (noisy, real): (Vec<String>, Vec<String>) = std::mem::take(&mut m.counted)
                .into_iter()
                .partition(|p| ignored.contains(&generalise(p)));
            for p in &noisy {
                if let Some(n) = self.paths.get_mut(p) {
                    *n -= 1;
                    if *n == 0 {
                        self.paths.remove(p);
                    }
                }
            }
            m.counted = real;
            let (noisy_general, real_general): (Vec<String>, Vec<String>) =
                std::mem::take(&mut m.general)
                    .into_iter()
                    .partition(is_noise);
            self.noise.record_excluded(&noisy_general);
            m.general = real_general;
            // …and one that differed in noise only is a match after all.
            if m.general.is_empty() {
                self.mismatched = self.mismatched.saturating_sub(1);
                self.body_diffs = self.body_diffs.saturating_sub(1);
            } else {
                kept.push(m);
            }
        }
        self.provisional = kept;
        // Examples keep only their real differences; one left with none is dropped.
        for ex in &mut self.examples {
            let before = ex.body.len();
            ex.body.retain(|d| !ignored.contains(&generalise(&d.path)));
            ex.body_diff_count = ex.body_diff_count.saturating_sub(before - ex.body.len());
        }
        self.examples.retain(|ex| {
            !ex.headers.is_empty()
                || ex.production_status != ex.staging_status
                || !ex.body.is_empty()
        });
    }

    /// Records an exchange that could not be compared at all (staging or production failed).
    pub fn record_not_compared(&mut self, why: NotCompared) {
        self.not_compared[why as usize] += 1;
    }

    fn record_at(
        &mut self,
        c: &Comparison,
        now: Instant,
        example: impl FnOnce() -> DiffExample,
    ) -> Outcome {
        let outcome = c.outcome();
        match outcome {
            Outcome::NotCompared(why) => {
                self.record_not_compared(why);
                return outcome;
            }
            Outcome::Matched => {
                self.compared += 1;
                return outcome;
            }
            Outcome::Mismatched => self.compared += 1,
        }
        self.mismatched += 1;
        self.status_diffs += u64::from(c.status_differs());
        self.header_diffs += u64::from(c.headers_differ());
        self.body_diffs += u64::from(c.body_differs());
        for d in &c.body {
            if let Some(n) = self.paths.get_mut(&d.path) {
                *n += 1;
            } else if self.paths.len() < MAX_PATHS {
                self.paths.insert(d.path.clone(), 1);
            }
        }
        if self.max_examples > 0 {
            let full = self.examples.len() == self.max_examples;
            // A full sample is refreshed at most every EXAMPLE_REFRESH: examples stay recent,
            // and a route diverging at thousands of copies a second does not build (and then
            // discard) an example for each.
            let due = !full
                || self
                    .last_example
                    .is_none_or(|t| now.duration_since(t) >= EXAMPLE_REFRESH);
            if due {
                if full {
                    self.examples.pop_front();
                }
                self.examples.push_back(example());
                self.last_example = Some(now);
            }
        }
        outcome
    }

    pub fn report(&self, route: &str, requests: u64, noise: &NoiseConfig) -> RouteReport {
        let not_compared: BTreeMap<String, u64> = NotCompared::ALL
            .iter()
            .zip(self.not_compared)
            .filter(|(_, n)| *n > 0)
            .map(|(why, n)| (why.as_str().to_string(), n))
            .collect();
        let (low, high) = wilson_interval(self.mismatched, self.compared, 0.95);
        RouteReport {
            route: route.to_string(),
            requests,
            mirrored: self.mirrored,
            compared: self.compared,
            mismatched: self.mismatched,
            mismatch_rate: if self.compared == 0 {
                0.0
            } else {
                self.mismatched as f64 / self.compared as f64
            },
            mismatch_rate_ci95: [low, high],
            verdict: RouteVerdict::of(self.compared, self.mismatched),
            not_compared,
            status_diffs: self.status_diffs,
            header_diffs: self.header_diffs,
            body_diffs: self.body_diffs,
            staging_failures: self.staging_failures,
            production_latency_ms: self.production_latency.summary().into(),
            staging_latency_ms: self.staging_latency.summary().into(),
            differing_paths: self.paths.clone(),
            noise: self.noise.report(noise),
            noise_probes: self.noise.probes(),
            examples: self.examples.iter().rev().cloned().collect(),
            production_answers: Some(self.production_statuses.answers(&self.production_latency)),
            staging_answers: Some(self.staging_statuses.answers(&self.staging_latency)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mismatch() -> Comparison {
        Comparison {
            status: Some((200, 500)),
            ..Comparison::default()
        }
    }

    fn example(n: u16) -> DiffExample {
        DiffExample {
            at: String::new(),
            method: "GET".into(),
            target: "/".into(),
            production_status: 200,
            staging_status: n,
            headers: Vec::new(),
            body: Vec::new(),
            body_diff_count: 0,
        }
    }

    #[test]
    fn a_full_sample_is_refreshed_at_most_every_refresh_interval() {
        let mut d = RouteDivergence::new(2);
        let t0 = Instant::now();
        let mut built = 0;
        let mut at = |d: &mut RouteDivergence, offset_ms: u64, n: u16| {
            d.record_at(&mismatch(), t0 + Duration::from_millis(offset_ms), || {
                built += 1;
                example(n)
            })
        };
        let mismatched = Outcome::Mismatched;
        assert_eq!(at(&mut d, 0, 1), mismatched);
        assert_eq!(at(&mut d, 1, 2), mismatched);
        // Full: within the interval nothing is built, but everything is counted.
        for i in 0..100 {
            assert_eq!(at(&mut d, 2 + i, 3), mismatched);
        }
        assert_eq!(
            at(&mut d, 1 + EXAMPLE_REFRESH.as_millis() as u64, 4),
            mismatched
        );
        assert_eq!(built, 3);
        assert_eq!(d.mismatched, 103);
        let kept: Vec<u16> = d.examples.iter().map(|e| e.staging_status).collect();
        assert_eq!(kept, [2, 4], "the oldest example made way for the newest");
    }

    #[test]
    fn answers_count_status_classes_beside_their_latencies() {
        let mut d = RouteDivergence::new(0);
        for (status, ms) in [(200, 10), (204, 12), (503, 40), (99, 1), (600, 1)] {
            d.staging_statuses.record(status);
            d.staging_latency.record(Duration::from_millis(ms));
        }
        let r = d.report("/a", 5, &NoiseConfig::default());
        let a = r.staging_answers.unwrap();
        assert_eq!((a.answered, a.errors_5xx), (3, 1));
        assert_eq!(a.status_classes.get("2xx"), Some(&2));
        assert!(!a.status_classes.contains_key("1xx"));
        let h = LatencyHistogram::from_base64(&a.latency_histogram.unwrap()).unwrap();
        assert_eq!(h.count(), 5);
        assert_eq!(r.production_answers.unwrap().answered, 0);
    }

    #[test]
    fn nothing_compared_is_never_matching() {
        let mut d = RouteDivergence::new(2);
        let skipped = Comparison {
            body_not_compared: Some(NotCompared::Encoding),
            ..Comparison::default()
        };
        for _ in 0..20 {
            assert_eq!(
                d.record(&skipped, || example(200)),
                Outcome::NotCompared(NotCompared::Encoding)
            );
        }
        let r = d.report("/r", 20, &NoiseConfig::default());
        assert_eq!((r.compared, r.mismatched), (0, 0));
        assert_eq!(r.verdict, RouteVerdict::NotCompared);
        assert_eq!(r.not_compared.get("encoding"), Some(&20));
        assert_eq!(r.mismatch_rate_ci95, [0.0, 1.0]);
        // Once compared, the verdict follows, with its interval.
        d.record(&Comparison::default(), || example(200));
        let r = d.report("/r", 21, &NoiseConfig::default());
        assert_eq!((r.compared, r.verdict), (1, RouteVerdict::Matching));
        assert!(r.mismatch_rate_ci95[1] > 0.5, "{:?}", r.mismatch_rate_ci95);
    }
}
