//! From flags (and an optional scenario file) to a plan, and from a plan to a result. The
//! binary only parses flags into [`RunOptions`] and prints what comes back. [`prepare`] step by
//! step: the scenario, what each request is (`request.rs`: targets, client options, templates),
//! thresholds and seed, the load shape (`shape.rs`), the generator's own limits, and the
//! thresholds' stage and request scopes checked against the plan.
mod request;
mod shape;

use std::path::PathBuf;
use std::time::Duration;

use crate::LoadError;
use crate::compare::CompareSpec;
use crate::engine::{self, OpenSource, Plan, StopHandle, Workload};
use crate::mix::{DEFAULT_PATH, Template, single_get_name};
use crate::progress::Progress;
use crate::result::{self, LoadResult, ResultContext, SegmentRun};
use crate::scenario::Scenario;
use crate::schedule::{ArrivalProcess, Arrivals, PlannedSecond, plan_timeline};
use crate::stages::{RateProfile, Stage};
use crate::thresholds::{Threshold, check_scopes, parse_threshold};

/// Every flag of `prodlike load`; `None` means "not given" (the scenario or a default decides).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub target: Option<String>,
    pub compare: Option<String>,
    pub rate: Option<f64>,
    pub duration: Option<Duration>,
    pub stages: Option<Vec<Stage>>,
    pub start_rate: Option<f64>,
    pub poisson: bool,
    pub connections: Option<usize>,
    pub scenario: Option<PathBuf>,
    pub replay: Option<PathBuf>,
    pub speed: Option<f64>,
    pub scale: Option<f64>,
    pub looped: bool,
    pub max_in_flight: Option<usize>,
    pub thresholds: Vec<String>,
    pub timeout: Option<Duration>,
    pub path: Option<String>,
    pub method: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub threads: usize,
    pub seed: Option<u64>,
    pub max_send_lag: Option<Duration>,
    pub graceful_stop: Option<Duration>,
    /// Compare mode's judge: `--compare-alpha`, `--compare-error-margin`,
    /// `--compare-latency-margin`.
    pub compare_spec: CompareSpec,
    pub ca_file: Option<PathBuf>,
    /// Held idle connections (overrides the scenario's `held.idle`).
    pub hold: Option<usize>,
    /// `--segment`: this run's share of the plan's arrivals (docs/load.md, "Segments").
    pub segment: Option<crate::segment::Segment>,
    /// `--no-thresholds` (implied by a segment): thresholds are checked, never judged.
    pub no_thresholds: bool,
    /// `--start-at`: RFC 3339 or Unix seconds, as written.
    pub start_at: Option<String>,
    /// `--http2`: HTTP/2 (h2c, or h2 by ALPN over TLS) instead of HTTP/1.1.
    pub http2: bool,
}

/// A checked plan, ready to run or to print as a dry run.
pub struct Prepared {
    pub plan: Plan,
    pub mode: &'static str,
    pub description: String,
    pub arrivals: Option<String>,
    pub profile: Option<RateProfile>,
    pub thresholds: Vec<Threshold>,
    /// Thresholds checked but not judged here (a segment, or `--no-thresholds`), as written.
    pub unjudged: Vec<String>,
    /// This run's segment of a split plan, as its result records it.
    pub segment_run: Option<SegmentRun>,
    pub max_send_lag_ms: f64,
    pub compare_spec: CompareSpec,
    pub targets: Vec<String>,
}

fn usage(msg: impl Into<String>) -> LoadError {
    LoadError::Usage(msg.into())
}

pub fn prepare(o: &RunOptions) -> Result<Prepared, LoadError> {
    let sc = match &o.scenario {
        Some(p) => Scenario::load(p)?,
        None => Scenario::default(),
    };
    let targets = request::targets(o, &sc)?;
    o.compare_spec.validate().map_err(|e| {
        usage(format!(
            "--compare-alpha, --compare-error-margin or --compare-latency-margin: {e}"
        ))
    })?;
    let client = request::client_options(o, &sc);
    request::check_http2(&client)?;
    let templates = request::templates(o, &sc)?;
    let mut thresholds = sc.thresholds.clone();
    for t in &o.thresholds {
        thresholds.push(parse_threshold(t)?);
    }
    // Segments of one run must draw the same sequence: without a seed they all use 0.
    let seed = o.seed.or(sc.seed).unwrap_or_else(|| match o.segment {
        Some(s) if !s.is_all() => 0,
        _ => fastrand::u64(..),
    });
    let shape = shape::load_shape(o, &sc)?;
    let max_send_lag = o
        .max_send_lag
        .or(sc.max_send_lag)
        .unwrap_or(Duration::from_millis(10));
    let graceful_stop = o
        .graceful_stop
        .or(sc.graceful_stop)
        .unwrap_or(Duration::from_secs(10));
    check_scopes(
        &thresholds,
        &result::stage_names(shape.profile.as_ref()),
        request_names(shape.mode, &templates).as_deref(),
    )?;
    // A segment sees part of the load: judging it alone would fail or pass the run on a
    // partial view. Never silently: the plan's description (and so the result) says so.
    let mut description = shape.description;
    let segment = o.segment.unwrap_or(crate::segment::Segment::ALL);
    let mut unjudged = Vec::new();
    if (o.no_thresholds || !segment.is_all()) && !thresholds.is_empty() {
        let texts: Vec<&str> = thresholds.iter().map(|t| t.text.as_str()).collect();
        description.push_str(&format!(
            "; thresholds not judged ({}): {}",
            if o.no_thresholds {
                "--no-thresholds"
            } else {
                "a segment's partial view"
            },
            texts.join(", ")
        ));
        unjudged = thresholds.drain(..).map(|t| t.text).collect();
    }
    let target_labels = targets.iter().map(|t| t.original.clone()).collect();
    Ok(Prepared {
        plan: Plan {
            targets,
            workload: shape.workload,
            templates,
            client,
            threads: o.threads,
            graceful_stop,
            seed,
            segment,
            start_at: start_at(o, max_send_lag, shape.mode)?,
        },
        mode: shape.mode,
        description,
        arrivals: shape.arrivals,
        profile: shape.profile,
        thresholds,
        unjudged,
        segment_run: (!segment.is_all()).then(|| {
            let (from, to) = segment.bounds();
            SegmentRun {
                segment: segment.to_string(),
                from: [from.0, from.1],
                to: [to.0, to.1],
                share: segment.share(),
                seed,
                start_at: o.start_at.clone(),
            }
        }),
        max_send_lag_ms: max_send_lag.as_secs_f64() * 1000.0,
        compare_spec: o.compare_spec,
        targets: target_labels,
    })
}

/// How far ahead `--start-at` may be: further is taken for a mistake (a wrong date).
const START_AT_MAX_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// `--start-at` checked: a time, not past by more than the send lag the run tolerates (its
/// first arrivals would be late), at most a day ahead, and for a rate plan (the closed model
/// has no arrivals to place).
fn start_at(o: &RunOptions, max_send_lag: Duration, mode: &str) -> Result<Option<u64>, LoadError> {
    let Some(text) = &o.start_at else {
        return Ok(None);
    };
    let bad = |reason: String| LoadError::Spec {
        what: "--start-at",
        input: text.clone(),
        reason,
    };
    let at = prodlike_common::date::parse_instant_micros(text).ok_or_else(|| {
        bad("not a time; write RFC 3339 (2026-12-04T10:00:00Z) or Unix seconds".into())
    })?;
    if mode == "closed" {
        return Err(bad(
            "it places a rate plan's arrivals; --connections has none".into(),
        ));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let late = Duration::from_micros(now.saturating_sub(at));
    if late > max_send_lag {
        return Err(bad(format!(
            "it passed {} ago, more than --max-send-lag ({}): the first arrivals would be late; \
             give a later time (every segment the same)",
            crate::format_duration(late),
            crate::format_duration(max_send_lag)
        )));
    }
    if Duration::from_micros(at.saturating_sub(now)) > START_AT_MAX_AHEAD {
        return Err(bad("it is more than a day ahead".into()));
    }
    Ok(Some(at))
}

/// The request names thresholds may be scoped to; `None` for replay, whose requests are named
/// by their routes as the recording is read.
fn request_names(mode: &str, templates: &[Template]) -> Option<Vec<String>> {
    match mode {
        "replay" => None,
        _ if templates.is_empty() => Some(vec![single_get_name(DEFAULT_PATH)]),
        _ => Some(templates.iter().map(|t| t.name.clone()).collect()),
    }
}

impl Prepared {
    /// The per-second timeline a dry run prints (`None` for the closed model and gap replay,
    /// which have no plan to print beyond their description).
    pub fn timeline(&self) -> Option<Vec<PlannedSecond>> {
        let p = self.profile.clone()?;
        let process = match &self.plan.workload {
            Workload::Open {
                source: OpenSource::Plan { process, .. } | OpenSource::ReplayRate { process, .. },
                ..
            } => *process,
            _ => ArrivalProcess::Uniform,
        };
        let segment = self.plan.segment;
        Some(plan_timeline(
            Arrivals::new(p, process, self.plan.seed).in_segment(segment),
        ))
    }

    /// Runs the plan on its own runtime, with live progress when `progress` is set.
    pub fn run_blocking(&self, stop: StopHandle, progress: bool) -> Result<LoadResult, LoadError> {
        let mut b = if self.plan.threads == 1 {
            tokio::runtime::Builder::new_current_thread()
        } else {
            tokio::runtime::Builder::new_multi_thread()
        };
        if self.plan.threads > 1 {
            b.worker_threads(self.plan.threads);
        }
        let rt = b.enable_all().build().map_err(LoadError::Runtime)?;
        rt.block_on(self.run(stop, progress))
    }

    pub async fn run(&self, stop: StopHandle, progress: bool) -> Result<LoadResult, LoadError> {
        let mut bar = Progress::new(progress);
        let out = engine::execute(&self.plan, stop, |l| bar.update(l)).await;
        bar.finish();
        let out = out?;
        Ok(result::build(&out, &self.context()))
    }

    pub fn context(&self) -> ResultContext<'_> {
        ResultContext {
            mode: self.mode,
            targets: self.targets.clone(),
            plan: self.description.clone(),
            arrivals: self.arrivals.clone(),
            profile: self.profile.as_ref(),
            thresholds: &self.thresholds,
            unjudged: &self.unjudged,
            segment: self.segment_run.as_ref(),
            max_send_lag_ms: self.max_send_lag_ms,
            compare: self.compare_spec,
        }
    }
}
