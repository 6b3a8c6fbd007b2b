//! Intended send times. Uniform arrivals put the n-th request where the plan expects n + ½
//! requests; Poisson arrivals draw unit-rate exponential gaps in "expected arrivals" and map them
//! back through the plan (time rescaling), which is exactly a Poisson process whose rate follows
//! the plan, ramps included.
use serde::Serialize;

use crate::segment::Segment;
use crate::stages::RateProfile;

/// How arrivals are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalProcess {
    /// Evenly spaced, following the plan's rate.
    Uniform,
    /// Exponential gaps (a Poisson process) with the plan's rate.
    Poisson,
}

/// One planned request: when it should be sent (seconds from the start) and in which stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    pub seq: u64,
    pub at: f64,
    pub stage: usize,
}

/// The arrivals of a plan, in order, computed lazily (constant memory for any length).
#[derive(Debug, Clone)]
pub struct Arrivals {
    profile: RateProfile,
    process: ArrivalProcess,
    next: u64,
    acc: f64,
    rng: fastrand::Rng,
    segment: Segment,
}

impl Arrivals {
    pub fn new(profile: RateProfile, process: ArrivalProcess, seed: u64) -> Arrivals {
        Arrivals {
            profile,
            process,
            next: 0,
            acc: 0.0,
            rng: fastrand::Rng::with_seed(seed),
            segment: Segment::ALL,
        }
    }

    /// Only the arrivals of `segment`, at their unsplit times and sequence numbers: the whole
    /// sequence is still drawn (Poisson gaps included), so every segment sees the same one.
    pub fn in_segment(mut self, segment: Segment) -> Arrivals {
        self.segment = segment;
        self
    }

    pub fn profile(&self) -> &RateProfile {
        &self.profile
    }
}

/// A standard exponential deviate.
pub(crate) fn exp1(rng: &mut fastrand::Rng) -> f64 {
    // 1 - U is in (0, 1], so the log is finite.
    -(1.0 - rng.f64()).ln()
}

impl Iterator for Arrivals {
    type Item = Arrival;

    fn next(&mut self) -> Option<Arrival> {
        loop {
            let n = match self.process {
                ArrivalProcess::Uniform => self.next as f64 + 0.5,
                ArrivalProcess::Poisson => {
                    self.acc += exp1(&mut self.rng);
                    self.acc
                }
            };
            let at = self.profile.time_of(n)?;
            let seq = self.next;
            self.next += 1;
            if self.segment.contains(seq) {
                return Some(Arrival {
                    seq,
                    at,
                    stage: self.profile.stage_at(at),
                });
            }
        }
    }
}

/// One second of a dry run: what the plan asks for and what the scheduler would do.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedSecond {
    pub second: u64,
    pub stage: String,
    /// Rate at the start of the second, requests/s.
    pub rate_start: f64,
    /// Expected requests in this second (the ramp's area).
    pub expected: f64,
    /// Requests the scheduler places in this second.
    pub scheduled: u64,
}

/// The per-second timeline a run would follow, without sending anything.
pub fn plan_timeline(arrivals: Arrivals) -> Vec<PlannedSecond> {
    let profile = arrivals.profile().clone();
    let secs = profile.duration_secs().ceil() as usize;
    let mut counts = vec![0u64; secs.max(1)];
    for a in arrivals {
        let i = (a.at.floor() as usize).min(counts.len() - 1);
        counts[i] += 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let t = i as f64;
            let stage = profile.stage_at(t);
            PlannedSecond {
                second: i as u64,
                stage: profile
                    .stages()
                    .get(stage)
                    .map(|s| s.label(stage))
                    .unwrap_or_default(),
                rate_start: profile.rate_at(t),
                expected: profile.expected_between(t, (t + 1.0).min(profile.duration_secs())),
                scheduled: c,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::stages::parse_stages;

    #[test]
    fn uniform_arrivals_hit_every_second_exactly() {
        let p = RateProfile::ramping(
            0.0,
            parse_stages("10s:1000,5s:4000,10s:1000,5s:6000").unwrap(),
        );
        let plan = plan_timeline(Arrivals::new(p, ArrivalProcess::Uniform, 1));
        assert_eq!(plan.len(), 30);
        for s in &plan {
            assert!(
                (s.scheduled as f64 - s.expected).abs() <= 1.0,
                "second {}: {} scheduled, {} expected",
                s.second,
                s.scheduled,
                s.expected
            );
        }
    }

    #[test]
    fn uniform_constant_rate_is_evenly_spaced() {
        let p = RateProfile::constant(100.0, Duration::from_secs(2));
        let v: Vec<f64> = Arrivals::new(p, ArrivalProcess::Uniform, 1)
            .map(|a| a.at)
            .collect();
        assert_eq!(v.len(), 200);
        for w in v.windows(2) {
            assert!((w[1] - w[0] - 0.01).abs() < 1e-9);
        }
    }

    #[test]
    fn poisson_gaps_are_exponential() {
        // KS test of the inter-arrival times against Exp(rate) at a constant rate.
        let rate = 2000.0;
        let p = RateProfile::constant(rate, Duration::from_secs(10));
        let times: Vec<f64> = Arrivals::new(p, ArrivalProcess::Poisson, 42)
            .map(|a| a.at)
            .collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.len() > 19_000, "{}", gaps.len());
        let ks = prodlike_stats::ks_one_sample(&gaps, |x| 1.0 - (-rate * x).exp()).unwrap();
        assert!(ks.p_value > 0.01, "{ks:?}");
        // And the test has power: uniform spacing is rejected outright.
        let p = RateProfile::constant(rate, Duration::from_secs(10));
        let times: Vec<f64> = Arrivals::new(p, ArrivalProcess::Uniform, 42)
            .map(|a| a.at)
            .collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let ks = prodlike_stats::ks_one_sample(&gaps, |x| 1.0 - (-rate * x).exp()).unwrap();
        assert!(ks.p_value < 1e-6, "{ks:?}");
    }

    #[test]
    fn poisson_follows_a_ramp() {
        // Time-rescaled gaps of a ramping Poisson process are Exp(1).
        let p = RateProfile::ramping(100.0, parse_stages("10s:3000").unwrap());
        let times: Vec<f64> = Arrivals::new(p.clone(), ArrivalProcess::Poisson, 7)
            .map(|a| a.at)
            .collect();
        let rescaled: Vec<f64> = times
            .windows(2)
            .map(|w| p.cumulative(w[1]) - p.cumulative(w[0]))
            .collect();
        let ks = prodlike_stats::ks_one_sample(&rescaled, |x| 1.0 - (-x).exp()).unwrap();
        assert!(ks.p_value > 0.01, "{ks:?}");
        let expected = p.total_expected();
        assert!(((times.len() as f64) - expected).abs() < 4.0 * expected.sqrt());
    }

    proptest::proptest! {
        /// Four segments of a ramping plan, uniform or Poisson (seeded), together fire the
        /// unsplit schedule arrival by arrival: the same sequence numbers at the same times.
        #[test]
        fn segments_together_are_the_unsplit_schedule(
            seed in 0u64..1000,
            poisson in proptest::bool::ANY,
            peak in 50.0f64..400.0,
        ) {
            let p = RateProfile::ramping(
                20.0,
                parse_stages(&format!("2s:{peak:.0},2s:20")).unwrap(),
            );
            let process = if poisson { ArrivalProcess::Poisson } else { ArrivalProcess::Uniform };
            let whole: Vec<(u64, u64)> = Arrivals::new(p.clone(), process, seed)
                .map(|a| (a.seq, a.at.to_bits()))
                .collect();
            let mut union: Vec<(u64, u64)> = (1..=4)
                .flat_map(|k| {
                    let s = crate::segment::Segment::parse(&format!("{k}/4")).unwrap();
                    Arrivals::new(p.clone(), process, seed)
                        .in_segment(s)
                        .map(|a| (a.seq, a.at.to_bits()))
                        .collect::<Vec<_>>()
                })
                .collect();
            union.sort_unstable();
            proptest::prop_assert_eq!(union, whole);
        }
    }
}
