//! Arrival-rate plans: constant rate, or k6-style ramping stages where each stage ramps linearly
//! from the previous target (or the start rate) to its own target over its duration.
use std::time::Duration;

use prodlike_common::duration::{format as format_duration, parse as parse_duration};
use serde::{Deserialize, Serialize};

use crate::LoadError;

/// One stage of a ramping plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Optional name, used in reports and to scope thresholds (`spike:p99<300ms`).
    pub name: Option<String>,
    pub duration: Duration,
    /// Requests per second reached at the end of the stage.
    pub target: f64,
}

impl Stage {
    /// The stage's label: its name, or `stageN` (1-based).
    pub fn label(&self, index: usize) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("stage{}", index + 1))
    }
}

/// Parses `10s:1000,5s:4000,10s:1000` (duration:rate per stage); a stage may be named
/// `spike=2m:200`, and a rate may carry `/s`.
pub fn parse_stages(input: &str) -> Result<Vec<Stage>, LoadError> {
    let mut out = Vec::new();
    if input.trim().is_empty() {
        return Err(LoadError::spec(
            "stage plan",
            input,
            "empty; write e.g. 5m:50,2m:200,5m:50",
        ));
    }
    for (i, part) in input.split(',').enumerate() {
        let part = part.trim();
        let bad = |reason: String| LoadError::spec("stage plan", input, reason);
        let (name, spec) = match part.split_once('=') {
            Some((n, s)) => {
                let n = n.trim();
                if n.is_empty()
                    || !n
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(bad(format!(
                        "stage {}: name `{n}` must be letters, digits, `_` or `-`",
                        i + 1
                    )));
                }
                (Some(n.to_string()), s.trim())
            }
            None => (None, part),
        };
        let (d, r) = spec.split_once(':').ok_or_else(|| {
            bad(format!(
                "stage {} `{part}` is not DURATION:RATE (e.g. 2m:200)",
                i + 1
            ))
        })?;
        let duration =
            parse_duration(d).map_err(|e| bad(format!("stage {} duration: {e}", i + 1)))?;
        let target = parse_rate(r).map_err(|reason| bad(format!("stage {}: {reason}", i + 1)))?;
        out.push(Stage {
            name,
            duration,
            target,
        });
    }
    validate_stages(&out).map_err(|reason| LoadError::spec("stage plan", input, reason))?;
    Ok(out)
}

/// A rate: `500`, `500/s`, `0.5`.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let t = t.strip_suffix("/s").unwrap_or(t);
    match t.parse::<f64>() {
        Ok(v) if (0.0..=10_000_000.0).contains(&v) => Ok(v),
        Ok(_) => Err(format!(
            "rate `{s}` must be between 0 and 10,000,000 requests per second"
        )),
        Err(_) => Err(format!("rate `{s}` is not a number of requests per second")),
    }
}

pub(crate) fn validate_stages(stages: &[Stage]) -> Result<(), String> {
    if stages.is_empty() {
        return Err("no stages".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, s) in stages.iter().enumerate() {
        if s.duration.is_zero() {
            return Err(format!("stage {} has a zero duration", i + 1));
        }
        if !(s.target.is_finite() && s.target >= 0.0) {
            return Err(format!("stage {} has a negative or non-finite rate", i + 1));
        }
        if !seen.insert(s.label(i)) {
            return Err(format!("stage name `{}` is used twice", s.label(i)));
        }
    }
    Ok(())
}

/// One linear piece of a rate curve: from `r0` to `r1` requests/s over `len` seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    start: f64,
    len: f64,
    r0: f64,
    r1: f64,
    /// Expected arrivals before this segment starts.
    cum_before: f64,
    stage: usize,
}

impl Segment {
    fn cum_local(&self, tau: f64) -> f64 {
        let tau = tau.clamp(0.0, self.len);
        self.r0 * tau + (self.r1 - self.r0) * tau * tau / (2.0 * self.len)
    }
    fn total(&self) -> f64 {
        (self.r0 + self.r1) * self.len / 2.0
    }
    /// Local time at which `m` arrivals (0..=total) have been expected.
    fn inverse_local(&self, m: f64) -> f64 {
        if m <= 0.0 {
            return 0.0;
        }
        let a = (self.r1 - self.r0) / (2.0 * self.len);
        let b = self.r0;
        let tau = if a.abs() < 1e-12 {
            if b <= 0.0 { self.len } else { m / b }
        } else {
            let disc = (b * b + 4.0 * a * m).max(0.0);
            let denom = b + disc.sqrt();
            if denom <= 0.0 {
                self.len
            } else {
                2.0 * m / denom
            }
        };
        tau.clamp(0.0, self.len)
    }
}

/// A piecewise-linear arrival-rate curve with its stages, and the expected number of arrivals
/// up to any time (its integral) and back.
#[derive(Debug, Clone, PartialEq)]
pub struct RateProfile {
    segments: Vec<Segment>,
    stages: Vec<Stage>,
    start_rate: f64,
}

impl RateProfile {
    /// `rate` requests/s for `duration`: one stage named `main`.
    pub fn constant(rate: f64, duration: Duration) -> RateProfile {
        Self::ramping(
            rate,
            vec![Stage {
                name: Some("main".into()),
                duration,
                target: rate,
            }],
        )
    }

    /// k6's ramping arrival rate: stage i ramps from stage i-1's target (or `start_rate`) to its
    /// own target.
    pub fn ramping(start_rate: f64, stages: Vec<Stage>) -> RateProfile {
        let mut segments = Vec::with_capacity(stages.len());
        let (mut t, mut cum, mut prev) = (0.0, 0.0, start_rate);
        for (i, s) in stages.iter().enumerate() {
            let seg = Segment {
                start: t,
                len: s.duration.as_secs_f64().max(1e-9),
                r0: prev,
                r1: s.target,
                cum_before: cum,
                stage: i,
            };
            t += seg.len;
            cum += seg.total();
            prev = s.target;
            segments.push(seg);
        }
        RateProfile {
            segments,
            stages,
            start_rate,
        }
    }

    /// A rate held constant within each whole second (replay's recorded curve): one stage.
    pub fn per_second(rates: &[f64], stage_name: &str) -> RateProfile {
        let mut segments = Vec::with_capacity(rates.len());
        let mut cum = 0.0;
        for (i, &r) in rates.iter().enumerate() {
            let r = if r.is_finite() { r.max(0.0) } else { 0.0 };
            segments.push(Segment {
                start: i as f64,
                len: 1.0,
                r0: r,
                r1: r,
                cum_before: cum,
                stage: 0,
            });
            cum += r;
        }
        RateProfile {
            segments,
            stages: vec![Stage {
                name: Some(stage_name.to_string()),
                duration: Duration::from_secs(rates.len() as u64),
                target: rates.last().copied().unwrap_or(0.0),
            }],
            start_rate: rates.first().copied().unwrap_or(0.0),
        }
    }

    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    pub fn start_rate(&self) -> f64 {
        self.start_rate
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration_secs())
    }

    pub fn duration_secs(&self) -> f64 {
        self.segments.last().map(|s| s.start + s.len).unwrap_or(0.0)
    }

    /// Expected arrivals over the whole plan.
    pub fn total_expected(&self) -> f64 {
        self.segments
            .last()
            .map(|s| s.cum_before + s.total())
            .unwrap_or(0.0)
    }

    fn segment_at(&self, t: f64) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.start + s.len <= t);
        self.segments.get(i)
    }

    /// Index of the stage running at `t` seconds (the last stage after the end).
    pub fn stage_at(&self, t: f64) -> usize {
        self.segment_at(t)
            .or(self.segments.last())
            .map(|s| s.stage)
            .unwrap_or(0)
    }

    /// Start and end of stage `i`, in seconds from the run's start.
    pub fn stage_bounds(&self, i: usize) -> (f64, f64) {
        let mut segs = self.segments.iter().filter(|s| s.stage == i);
        let first = segs.next();
        let last = segs.next_back().or(first);
        match (first, last) {
            (Some(f), Some(l)) => (f.start, l.start + l.len),
            _ => (0.0, 0.0),
        }
    }

    /// Target rate at `t` seconds.
    pub fn rate_at(&self, t: f64) -> f64 {
        match self.segment_at(t) {
            Some(s) => s.r0 + (s.r1 - s.r0) * ((t - s.start) / s.len).clamp(0.0, 1.0),
            None => 0.0,
        }
    }

    /// Expected arrivals in [0, t).
    pub fn cumulative(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        match self.segment_at(t) {
            Some(s) => s.cum_before + s.cum_local(t - s.start),
            None => self.total_expected(),
        }
    }

    /// Expected arrivals in [a, b): the target for a window, allowing for ramps.
    pub fn expected_between(&self, a: f64, b: f64) -> f64 {
        (self.cumulative(b) - self.cumulative(a)).max(0.0)
    }

    /// The time at which `n` arrivals are expected; `None` past the end of the plan.
    pub fn time_of(&self, n: f64) -> Option<f64> {
        if !(n.is_finite() && n >= 0.0) || n > self.total_expected() {
            return None;
        }
        let i = self
            .segments
            .partition_point(|s| s.cum_before + s.total() < n);
        let s = self.segments.get(i)?;
        Some(s.start + s.inverse_local(n - s.cum_before))
    }

    /// Human description, e.g. `ramp 0→1000/s over 10s, ramp 1000→4000/s over 5s`.
    pub fn describe(&self) -> String {
        let mut prev = self.start_rate;
        self.stages
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let d = format_duration(s.duration);
                let txt = if (prev - s.target).abs() < 1e-9 {
                    format!("{}: hold {}/s for {d}", s.label(i), fmt_rate(s.target))
                } else {
                    format!(
                        "{}: ramp {}→{}/s over {d}",
                        s.label(i),
                        fmt_rate(prev),
                        fmt_rate(s.target)
                    )
                };
                prev = s.target;
                txt
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub(crate) fn fmt_rate(r: f64) -> String {
    if (r - r.round()).abs() < 1e-9 {
        format!("{}", r.round() as i64)
    } else {
        format!("{r:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_a_plan() {
        let s = parse_stages("10s:1000, spike=5s:4000/s,1m:0.5").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].duration, Duration::from_secs(10));
        assert_eq!(s[1].name.as_deref(), Some("spike"));
        assert_eq!(s[1].target, 4000.0);
        assert_eq!(s[2].target, 0.5);
        assert_eq!(s[2].label(2), "stage3");
    }

    #[test]
    fn rejects_bad_plans_with_the_reason() {
        for (bad, needle) in [
            ("", "empty"),
            ("10s", "DURATION:RATE"),
            ("10x:5", "unit"),
            ("10s:-5", "between"),
            ("10s:abc", "not a number"),
            ("0s:5", "zero duration"),
            ("a=1s:1,a=1s:2", "twice"),
            ("a b=1s:1", "name"),
        ] {
            let msg = parse_stages(bad).unwrap_err().to_string();
            assert!(msg.contains(needle), "{bad}: {msg}");
        }
    }

    #[test]
    fn k6_ramps_are_linear_from_the_previous_target() {
        let p = RateProfile::ramping(0.0, parse_stages("10s:1000,5s:4000,10s:1000").unwrap());
        assert_eq!(p.rate_at(5.0), 500.0);
        assert_eq!(p.rate_at(12.5), 2500.0);
        // Area under the ramps: 5000 + 12500 + 25000.
        assert!((p.total_expected() - 42_500.0).abs() < 1e-6);
        assert!((p.expected_between(0.0, 1.0) - 50.0).abs() < 1e-9);
        assert!((p.expected_between(10.0, 11.0) - 1300.0).abs() < 1e-9);
        assert_eq!(p.stage_at(11.0), 1);
        assert_eq!(p.stage_bounds(1), (10.0, 15.0));
        let c = RateProfile::constant(500.0, Duration::from_secs(30));
        assert!((c.total_expected() - 15_000.0).abs() < 1e-9);
        assert!(c.describe().contains("hold 500/s for 30s"));
    }

    #[test]
    fn per_second_curve() {
        let p = RateProfile::per_second(&[10.0, 0.0, 30.0], "replay");
        assert_eq!(p.total_expected(), 40.0);
        assert_eq!(p.time_of(10.0), Some(1.0));
        assert!((p.time_of(25.0).unwrap() - 2.5).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn inverse_of_cumulative(start in 0.0f64..5000.0,
                                 plan in prop::collection::vec((1u64..20_000, 0.0f64..5000.0), 1..6),
                                 frac in 0.0f64..1.0) {
            let stages: Vec<Stage> = plan.iter().map(|&(ms, r)| Stage {
                name: None, duration: Duration::from_millis(ms), target: r }).collect();
            let p = RateProfile::ramping(start, stages);
            let n = p.total_expected() * frac;
            let t = p.time_of(n).unwrap();
            prop_assert!(t >= 0.0 && t <= p.duration_secs() + 1e-9);
            prop_assert!((p.cumulative(t) - n).abs() < 1e-6 * n.max(1.0));
        }

        #[test]
        fn stage_parser_never_panics(s in "\\PC{0,40}") {
            let _ = parse_stages(&s);
        }

        #[test]
        fn stage_parser_accepts_what_it_describes(plan in prop::collection::vec((1u64..100_000, 0u32..100_000), 1..8)) {
            let spec: Vec<String> = plan.iter().map(|(ms, r)| format!("{}:{r}", format_duration(Duration::from_millis(*ms)))).collect();
            let parsed = parse_stages(&spec.join(",")).unwrap();
            prop_assert_eq!(parsed.len(), plan.len());
            for (s, (ms, r)) in parsed.iter().zip(&plan) {
                prop_assert_eq!(s.duration, Duration::from_millis(*ms));
                prop_assert_eq!(s.target, *r as f64);
            }
        }
    }
}
