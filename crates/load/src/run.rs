//! From flags (and an optional scenario file) to a plan, and from a plan to a result. The
//! binary only parses flags into [`RunOptions`] and prints what comes back.
use std::path::PathBuf;
use std::time::Duration;

use prodlike_net::Target;

use crate::LoadError;
use crate::engine::{self, ClientOptions, OpenSource, Plan, StopHandle, Workload};
use crate::mix::{DEFAULT_PATH, Template, TemplateSpec, single_get_name};
use crate::progress::Progress;
use crate::replay;
use crate::result::{self, LoadResult, ResultContext};
use crate::scenario::Scenario;
use crate::schedule::{ArrivalProcess, Arrivals, PlannedSecond, plan_timeline};
use crate::stages::{RateProfile, Stage, fmt_rate};
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
    pub compare_alpha: f64,
    pub compare_min_effect: f64,
    pub ca_file: Option<PathBuf>,
    /// Held idle connections (overrides the scenario's `held.idle`).
    pub hold: Option<usize>,
}

/// A checked plan, ready to run or to print as a dry run.
pub struct Prepared {
    pub plan: Plan,
    pub mode: &'static str,
    pub description: String,
    pub arrivals: Option<String>,
    pub profile: Option<RateProfile>,
    pub thresholds: Vec<Threshold>,
    pub max_send_lag_ms: f64,
    pub compare_alpha: f64,
    pub compare_min_effect: f64,
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
    let target_url =
        o.target.clone().or(sc.target.clone()).ok_or_else(|| {
            usage("no target: give --target URL (or `target` in the scenario file)")
        })?;
    let mut targets =
        vec![Target::parse(&target_url).map_err(|e| usage(format!("--target: {e}")))?];
    if let Some(b) = o.compare.clone().or(sc.compare.clone()) {
        targets.push(Target::parse(&b).map_err(|e| usage(format!("--compare: {e}")))?);
    }
    let mut client: ClientOptions = sc.client.clone();
    if let Some(t) = o.timeout {
        client.timeout = t;
    }
    if let Some(ca) = &o.ca_file {
        client.ca_file = Some(ca.clone());
    }
    for (k, v) in &o.headers {
        client.headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(k));
        client.headers.push((k.to_ascii_lowercase(), v.clone()));
    }
    if let Some(h) = o.hold {
        client.held.idle = h;
        client.held.reopen = true;
    }
    let mut templates: Vec<Template> = sc.templates.clone();
    if o.path.is_some() || o.method.is_some() || o.body.is_some() {
        if !templates.is_empty() {
            return Err(usage(
                "--path/--method/--body describe a single request; the scenario already has [[request]] entries",
            ));
        }
        let method = o.method.clone().unwrap_or_else(|| "GET".into());
        let path = o.path.clone().unwrap_or_else(|| "/".into());
        let spec = TemplateSpec {
            name: format!("{} {path}", method.to_ascii_uppercase()),
            weight: 1.0,
            method,
            path,
            headers: Vec::new(),
            body: o.body.clone(),
        };
        templates.push(
            Template::compile(&spec, None)
                .map_err(|e| usage(format!("--path/--method/--body: {e}")))?,
        );
    }
    let mut thresholds = sc.thresholds.clone();
    for t in &o.thresholds {
        thresholds.push(parse_threshold(t)?);
    }
    let seed = o.seed.or(sc.seed).unwrap_or_else(|| fastrand::u64(..));
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
    let connections = o.connections.or(sc.connections);
    let duration = o.duration.or(sc.duration);
    // Flags replace the scenario's load shape as a whole.
    let flag_shape =
        o.rate.is_some() || o.stages.is_some() || o.connections.is_some() || o.replay.is_some();
    let (rate, stages) = if flag_shape {
        (o.rate, o.stages.clone())
    } else {
        (sc.rate, sc.stages.clone())
    };
    let connections = if flag_shape {
        o.connections
    } else {
        connections
    };
    let start_rate = o.start_rate.or(sc.start_rate).unwrap_or(0.0);
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
    let (workload, mode, description, arrivals, profile) = if let Some(n) = connections {
        if n == 0 {
            return Err(usage("--connections must be at least 1"));
        }
        let d = duration.unwrap_or(Duration::from_secs(10));
        (
            Workload::Closed {
                connections: n,
                duration: d,
            },
            "closed",
            format!("{n} connections flat out for {}", crate::format_duration(d)),
            None,
            None,
        )
    } else if let Some(path) = &o.replay {
        let (files, capture) = replay::replay_files(path)?;
        if o.speed.is_some() && o.scale.is_some() {
            return Err(usage(
                "--speed keeps the recorded gaps, --scale the per-second rate curve; give one",
            ));
        }
        if let Some(scale) = o.scale {
            if !(scale.is_finite() && scale > 0.0) {
                return Err(usage("--scale must be a positive number"));
            }
            let (curve, stats) = replay::rate_curve(&files, capture)?;
            if stats.requests == 0 {
                return Err(LoadError::Replay {
                    path: path.clone(),
                    reason: format!(
                        "holds no replayable request ({} malformed lines skipped)",
                        stats.skipped
                    ),
                });
            }
            let mut rates: Vec<f64> = curve.iter().map(|c| c * scale).collect();
            if o.looped {
                let d = duration.ok_or_else(|| usage("--loop needs --duration"))?;
                let base = rates.clone();
                while (rates.len() as f64) < d.as_secs_f64() {
                    rates.extend_from_slice(&base);
                }
                rates.truncate(d.as_secs_f64().ceil() as usize);
            } else if let Some(d) = duration {
                rates.truncate(d.as_secs_f64().ceil().max(1.0) as usize);
            }
            let profile = RateProfile::per_second(&rates, "replay");
            (
                Workload::Open {
                    source: OpenSource::ReplayRate {
                        files,
                        capture,
                        profile: profile.clone(),
                        process,
                        looped: true,
                    },
                    max_in_flight,
                },
                "replay",
                format!(
                    "replay of {} at the recorded per-second rate × {scale} ({} s, {:.0} requests)",
                    path.display(),
                    rates.len(),
                    profile.total_expected()
                ),
                Some(format!("{process:?}").to_lowercase()),
                Some(profile),
            )
        } else {
            let speed = o.speed.unwrap_or(1.0);
            if !(speed.is_finite() && speed > 0.0) {
                return Err(usage("--speed must be a positive number"));
            }
            if o.looped && duration.is_none() {
                return Err(usage("--loop needs --duration"));
            }
            (
                Workload::Open {
                    source: OpenSource::ReplayGaps {
                        files,
                        capture,
                        speed,
                        looped: o.looped,
                        duration,
                    },
                    max_in_flight,
                },
                "replay",
                format!(
                    "replay of {} at the recorded gaps ÷ {speed}",
                    path.display()
                ),
                Some("recorded".into()),
                None,
            )
        }
    } else if let Some(stages) = stages {
        let p = RateProfile::ramping(start_rate, stages);
        (
            Workload::Open {
                source: OpenSource::Plan {
                    profile: p.clone(),
                    process,
                },
                max_in_flight,
            },
            "open",
            format!(
                "ramping arrival rate from {}/s: {}",
                fmt_rate(start_rate),
                p.describe()
            ),
            Some(format!("{process:?}").to_lowercase()),
            Some(p),
        )
    } else if let Some(r) = rate {
        let d = duration
            .ok_or_else(|| usage("--rate needs --duration (e.g. --rate 500 --duration 30s)"))?;
        let p = RateProfile::constant(r, d);
        (
            Workload::Open {
                source: OpenSource::Plan {
                    profile: p.clone(),
                    process,
                },
                max_in_flight,
            },
            "open",
            format!(
                "constant arrival rate {}/s for {}",
                fmt_rate(r),
                crate::format_duration(d)
            ),
            Some(format!("{process:?}").to_lowercase()),
            Some(p),
        )
    } else {
        return Err(usage(
            "no load shape: give --rate R --duration D, --stages 5m:50,2m:200, --connections N, --replay FILE, or a scenario with a [load] table",
        ));
    };
    let max_send_lag = o
        .max_send_lag
        .or(sc.max_send_lag)
        .unwrap_or(Duration::from_millis(10));
    let graceful_stop = o
        .graceful_stop
        .or(sc.graceful_stop)
        .unwrap_or(Duration::from_secs(10));
    let requests: Option<Vec<String>> = match mode {
        // Replayed requests are named by their routes as the recording is read.
        "replay" => None,
        _ if templates.is_empty() => Some(vec![single_get_name(DEFAULT_PATH)]),
        _ => Some(templates.iter().map(|t| t.name.clone()).collect()),
    };
    check_scopes(
        &thresholds,
        &result::stage_names(profile.as_ref()),
        requests.as_deref(),
    )?;
    let target_labels = targets.iter().map(|t| t.original.clone()).collect();
    Ok(Prepared {
        plan: Plan {
            targets,
            workload,
            templates,
            client,
            threads: o.threads,
            graceful_stop,
            seed,
        },
        mode,
        description,
        arrivals,
        profile,
        thresholds,
        max_send_lag_ms: max_send_lag.as_secs_f64() * 1000.0,
        compare_alpha: o.compare_alpha,
        compare_min_effect: o.compare_min_effect,
        targets: target_labels,
    })
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
        Some(plan_timeline(Arrivals::new(p, process, self.plan.seed)))
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
            max_send_lag_ms: self.max_send_lag_ms,
            compare_alpha: self.compare_alpha,
            compare_min_effect: self.compare_min_effect,
        }
    }
}
