//! The load shape a run's flags and scenario ask for, checked and turned into a [`Workload`]
//! with how it is described: the closed model (`--connections`), a replay at the recorded gaps
//! (`--speed`) or rate curve (`--scale`), ramping stages, or a constant rate. Flags replace the
//! scenario's shape as a whole; exactly one shape must be given.
use std::path::Path;
use std::time::Duration;

use super::{RunOptions, usage};
use crate::LoadError;
use crate::engine::{OpenSource, Workload};
use crate::replay;
use crate::scenario::Scenario;
use crate::schedule::ArrivalProcess;
use crate::stages::{RateProfile, Stage, fmt_rate};

/// A workload and how the result describes it.
pub(super) struct Shape {
    pub workload: Workload,
    /// `closed`, `replay` or `open`.
    pub mode: &'static str,
    pub description: String,
    /// `uniform`, `poisson` or `recorded` (none for the closed model).
    pub arrivals: Option<String>,
    /// The rate curve, when there is one.
    pub profile: Option<RateProfile>,
}

/// The shape settings after flags and scenario are merged.
struct Asked {
    rate: Option<f64>,
    stages: Option<Vec<Stage>>,
    connections: Option<usize>,
    duration: Option<Duration>,
    start_rate: f64,
    process: ArrivalProcess,
    max_in_flight: usize,
    segment: crate::segment::Segment,
}

/// The one load shape asked for, as a workload.
pub(super) fn load_shape(o: &RunOptions, sc: &Scenario) -> Result<Shape, LoadError> {
    let asked = asked(o, sc)?;
    // A segment is a share of one arrival sequence: the closed model has none.
    if !asked.segment.is_all() && asked.connections.is_some() {
        return Err(usage(
            "--segment splits a rate plan (--rate or --stages) or a replay; it does not apply \
             to --connections",
        ));
    }
    if let Some(n) = asked.connections {
        return closed(n, asked.duration);
    }
    let mut shape = match &o.replay {
        Some(path) => replayed(o, path, &asked)?,
        None => open_shape(&asked)?,
    };
    if !asked.segment.is_all() {
        shape.arrivals = shape.arrivals.map(|a| {
            format!(
                "{a}, segment {} ({:.1}% of the arrivals)",
                asked.segment,
                asked.segment.share() * 100.0
            )
        });
    }
    Ok(shape)
}

/// A rate plan's shape: stages or a constant rate.
fn open_shape(asked: &Asked) -> Result<Shape, LoadError> {
    if let Some(stages) = &asked.stages {
        return Ok(ramping(stages.clone(), asked));
    }
    if let Some(r) = asked.rate {
        return constant(r, asked);
    }
    Err(usage(
        "no load shape: give --rate R --duration D, --stages 5m:50,2m:200, --connections N, --replay FILE, or a scenario with a [load] table",
    ))
}

fn asked(o: &RunOptions, sc: &Scenario) -> Result<Asked, LoadError> {
    let poisson = o.poisson || sc.poisson.unwrap_or(false);
    let process = if poisson {
        ArrivalProcess::Poisson
    } else {
        ArrivalProcess::Uniform
    };
    let max_in_flight = o.max_in_flight.or(sc.max_in_flight).unwrap_or(1000);
    if max_in_flight == 0 {
        return Err(usage("--max-in-flight must be at least 1"));
    }
    // Flags replace the scenario's load shape as a whole.
    let flag_shape =
        o.rate.is_some() || o.stages.is_some() || o.connections.is_some() || o.replay.is_some();
    let (rate, stages, connections) = if flag_shape {
        (o.rate, o.stages.clone(), o.connections)
    } else {
        (sc.rate, sc.stages.clone(), sc.connections)
    };
    let shapes = [
        rate.is_some(),
        stages.is_some(),
        connections.is_some(),
        o.replay.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if shapes > 1 {
        return Err(usage(
            "choose one load shape: --rate (with --duration), --stages, --connections (closed model) or --replay",
        ));
    }
    if o.replay.is_none() && (o.speed.is_some() || o.scale.is_some() || o.looped) {
        return Err(usage("--speed, --scale and --loop apply to --replay"));
    }
    Ok(Asked {
        rate,
        stages,
        connections,
        duration: o.duration.or(sc.duration),
        start_rate: o.start_rate.or(sc.start_rate).unwrap_or(0.0),
        process,
        max_in_flight,
        segment: o.segment.unwrap_or(crate::segment::Segment::ALL),
    })
}

fn closed(n: usize, duration: Option<Duration>) -> Result<Shape, LoadError> {
    if n == 0 {
        return Err(usage("--connections must be at least 1"));
    }
    let d = duration.unwrap_or(Duration::from_secs(10));
    Ok(Shape {
        workload: Workload::Closed {
            connections: n,
            duration: d,
        },
        mode: "closed",
        description: format!("{n} connections flat out for {}", crate::format_duration(d)),
        arrivals: None,
        profile: None,
    })
}

fn replayed(o: &RunOptions, path: &Path, asked: &Asked) -> Result<Shape, LoadError> {
    if o.speed.is_some() && o.scale.is_some() {
        return Err(usage(
            "--speed keeps the recorded gaps, --scale the per-second rate curve; give one",
        ));
    }
    let recording = Recording {
        path,
        source: replay::replay_source(path)?,
    };
    match o.scale {
        Some(scale) => at_rate_curve(o, recording, scale, asked),
        None => at_recorded_gaps(o, recording, asked),
    }
}

/// The recording a replay reads.
struct Recording<'a> {
    path: &'a Path,
    source: replay::ReplaySource,
}

/// `--scale`: the recording's per-second rate curve × scale, looped (`--loop`) or cut to
/// `--duration`.
fn at_rate_curve(
    o: &RunOptions,
    recording: Recording<'_>,
    scale: f64,
    asked: &Asked,
) -> Result<Shape, LoadError> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(usage("--scale must be a positive number"));
    }
    let (curve, stats) = replay::rate_curve(&recording.source)?;
    if stats.requests == 0 {
        return Err(LoadError::Replay {
            path: recording.path.to_path_buf(),
            reason: format!(
                "holds no replayable request ({} malformed lines skipped)",
                stats.skipped
            ),
        });
    }
    let mut rates: Vec<f64> = curve.iter().map(|c| c * scale).collect();
    if o.looped {
        let d = asked
            .duration
            .ok_or_else(|| usage("--loop needs --duration"))?;
        let base = rates.clone();
        while (rates.len() as f64) < d.as_secs_f64() {
            rates.extend_from_slice(&base);
        }
        rates.truncate(d.as_secs_f64().ceil() as usize);
    } else if let Some(d) = asked.duration {
        rates.truncate(d.as_secs_f64().ceil().max(1.0) as usize);
    }
    let profile = RateProfile::per_second(&rates, "replay");
    let process = asked.process;
    Ok(Shape {
        description: format!(
            "replay of {} at the recorded per-second rate × {scale} ({} s, {:.0} requests)",
            recording.path.display(),
            rates.len(),
            profile.total_expected()
        ),
        workload: Workload::Open {
            source: OpenSource::ReplayRate {
                source: recording.source,
                profile: profile.clone(),
                process,
                looped: true,
            },
            max_in_flight: asked.max_in_flight,
        },
        mode: "replay",
        arrivals: Some(format!("{process:?}").to_lowercase()),
        profile: Some(profile),
    })
}

/// `--speed` (default 1): the recorded gaps divided by the speed.
fn at_recorded_gaps(
    o: &RunOptions,
    recording: Recording<'_>,
    asked: &Asked,
) -> Result<Shape, LoadError> {
    let speed = o.speed.unwrap_or(1.0);
    if !(speed.is_finite() && speed > 0.0) {
        return Err(usage("--speed must be a positive number"));
    }
    if o.looped && asked.duration.is_none() {
        return Err(usage("--loop needs --duration"));
    }
    Ok(Shape {
        description: format!(
            "replay of {} at the recorded gaps ÷ {speed}",
            recording.path.display()
        ),
        workload: Workload::Open {
            source: OpenSource::ReplayGaps {
                source: recording.source,
                speed,
                looped: o.looped,
                duration: asked.duration,
            },
            max_in_flight: asked.max_in_flight,
        },
        mode: "replay",
        arrivals: Some("recorded".into()),
        profile: None,
    })
}

/// `--stages`: k6-style ramps from `--start-rate`.
fn ramping(stages: Vec<Stage>, asked: &Asked) -> Shape {
    let p = RateProfile::ramping(asked.start_rate, stages);
    Shape {
        description: format!(
            "ramping arrival rate from {}/s: {}",
            fmt_rate(asked.start_rate),
            p.describe()
        ),
        ..open_plan(p, asked)
    }
}

/// `--rate` with `--duration`.
fn constant(r: f64, asked: &Asked) -> Result<Shape, LoadError> {
    let d = asked
        .duration
        .ok_or_else(|| usage("--rate needs --duration (e.g. --rate 500 --duration 30s)"))?;
    let p = RateProfile::constant(r, d);
    Ok(Shape {
        description: format!(
            "constant arrival rate {}/s for {}",
            fmt_rate(r),
            crate::format_duration(d)
        ),
        ..open_plan(p, asked)
    })
}

/// An open-model workload following rate plan `p` (its description is the caller's).
fn open_plan(p: RateProfile, asked: &Asked) -> Shape {
    Shape {
        workload: Workload::Open {
            source: OpenSource::Plan {
                profile: p.clone(),
                process: asked.process,
            },
            max_in_flight: asked.max_in_flight,
        },
        mode: "open",
        description: String::new(),
        arrivals: Some(format!("{:?}", asked.process).to_lowercase()),
        profile: Some(p),
    }
}
