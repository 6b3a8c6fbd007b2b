//! Scenario files (TOML): everything the flags cannot say — the request mix and its data files,
//! the retry policy, churn, slow readers, held connections, think time, thresholds. Errors name
//! the file and the line. Format: docs/load.md.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use prodlike_common::duration::parse as parse_duration;
use prodlike_common::source::line_of;
use serde::Deserialize;
use toml::Spanned;

use crate::LoadError;
use crate::engine::{Backoff, ClientOptions, HeldConnections, RetryOn, RetryPolicy, ThinkTime};
use crate::mix::{DataSource, RowOrder, Template, TemplateSpec};
use crate::stages::{Stage, parse_rate, validate_stages};
use crate::thresholds::{Threshold, parse_threshold};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Target URL (`--target` overrides).
    pub target: Option<String>,
    /// Second target for compare mode (`--compare` overrides).
    pub compare: Option<String>,
    /// Seed for Poisson arrivals, weighted picks and jitter.
    pub seed: Option<u64>,
    /// Thresholds, as on the command line.
    #[serde(default)]
    pub thresholds: Vec<Spanned<String>>,
    #[serde(default)]
    pub load: LoadSection,
    #[serde(default)]
    pub client: ClientSection,
    #[serde(default)]
    pub held: HeldSection,
    #[serde(default)]
    pub data: BTreeMap<String, Spanned<DataSection>>,
    #[serde(default)]
    pub request: Vec<Spanned<RequestSection>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSection {
    /// Constant arrival rate, requests/s.
    pub rate: Option<f64>,
    pub duration: Option<String>,
    pub stages: Option<Vec<Spanned<StageSection>>>,
    pub start_rate: Option<f64>,
    pub poisson: Option<bool>,
    /// Closed model: this many connections flat out.
    pub connections: Option<usize>,
    pub max_in_flight: Option<usize>,
    pub think_time: Option<ThinkSection>,
    pub graceful_stop: Option<String>,
    pub max_send_lag: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSection {
    pub name: Option<String>,
    pub duration: String,
    pub target: f64,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ThinkSection {
    Fixed(String),
    Range { min: String, max: String },
    Mean { mean: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSection {
    pub timeout: Option<String>,
    pub connect_timeout: Option<String>,
    pub churn: Option<f64>,
    pub slow_readers: Option<f64>,
    pub slow_read_bytes_per_second: Option<u64>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub ca_file: Option<PathBuf>,
    pub retry: Option<Spanned<RetrySection>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySection {
    pub max_attempts: u32,
    #[serde(default)]
    pub on: Vec<String>,
    #[serde(default)]
    pub backoff: Option<String>,
    pub base: Option<String>,
    pub max: Option<String>,
    pub delay: Option<String>,
    #[serde(default)]
    pub jitter: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldSection {
    #[serde(default)]
    pub idle: usize,
    pub reopen: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    pub file: PathBuf,
    #[serde(default)]
    pub order: RowOrder,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSection {
    pub name: Option<String>,
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub data: Option<String>,
}

fn one() -> f64 {
    1.0
}
fn get() -> String {
    "GET".into()
}

/// A scenario, checked and compiled.
#[derive(Debug, Default)]
pub struct Scenario {
    pub path: PathBuf,
    pub target: Option<String>,
    pub compare: Option<String>,
    pub seed: Option<u64>,
    pub rate: Option<f64>,
    pub duration: Option<std::time::Duration>,
    pub stages: Option<Vec<Stage>>,
    pub start_rate: Option<f64>,
    pub poisson: Option<bool>,
    pub connections: Option<usize>,
    pub max_in_flight: Option<usize>,
    pub graceful_stop: Option<std::time::Duration>,
    pub max_send_lag: Option<std::time::Duration>,
    pub client: ClientOptions,
    pub templates: Vec<Template>,
    pub thresholds: Vec<Threshold>,
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario, LoadError> {
        let src = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&src, path)
    }

    // Long: the scenario file's sections checked in the order they appear, each naming its line.
    #[allow(clippy::too_many_lines)]
    pub fn parse(src: &str, path: &Path) -> Result<Scenario, LoadError> {
        let label = path.display().to_string();
        let file: ScenarioFile = toml::from_str(src).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = line_of(src, s.start);
                    let col = src[..s.start.min(src.len())]
                        .rfind('\n')
                        .map(|i| s.start - i)
                        .unwrap_or(s.start + 1);
                    format!("line {line}, column {col}: ")
                })
                .unwrap_or_default();
            LoadError::Scenario {
                path: label.clone(),
                message: format!("{at}{}", e.message()),
            }
        })?;
        let err = |span: std::ops::Range<usize>, field: &str, msg: String| LoadError::Scenario {
            path: label.clone(),
            message: format!("line {} ({field}): {msg}", line_of(src, span.start)),
        };
        let plain = |field: &str, msg: String| LoadError::Scenario {
            path: label.clone(),
            message: format!("{field}: {msg}"),
        };
        let dur =
            |field: &str, v: &Option<String>| -> Result<Option<std::time::Duration>, LoadError> {
                v.as_deref()
                    .map(|s| parse_duration(s).map_err(|e| plain(field, e.to_string())))
                    .transpose()
            };
        let base = path.parent().unwrap_or(Path::new("."));
        let mut sc = Scenario {
            path: path.to_path_buf(),
            target: file.target.clone(),
            compare: file.compare.clone(),
            seed: file.seed,
            rate: file.load.rate,
            duration: dur("load.duration", &file.load.duration)?,
            start_rate: file.load.start_rate,
            poisson: file.load.poisson,
            connections: file.load.connections,
            max_in_flight: file.load.max_in_flight,
            graceful_stop: dur("load.graceful_stop", &file.load.graceful_stop)?,
            max_send_lag: dur("load.max_send_lag", &file.load.max_send_lag)?,
            ..Default::default()
        };
        if let Some(r) = sc.rate
            && let Err(e) = parse_rate(&r.to_string())
        {
            return Err(plain("load.rate", e));
        }
        if sc.connections == Some(0) {
            return Err(plain("load.connections", "must be at least 1".into()));
        }
        if sc.max_in_flight == Some(0) {
            return Err(plain("load.max_in_flight", "must be at least 1".into()));
        }
        if let Some(stages) = &file.load.stages {
            let mut out = Vec::new();
            for (i, s) in stages.iter().enumerate() {
                let field = format!("load.stages[{i}]");
                let d = parse_duration(&s.get_ref().duration)
                    .map_err(|e| err(s.span(), &field, e.to_string()))?;
                parse_rate(&s.get_ref().target.to_string())
                    .map_err(|e| err(s.span(), &field, e))?;
                out.push(Stage {
                    name: s.get_ref().name.clone(),
                    duration: d,
                    target: s.get_ref().target,
                });
            }
            validate_stages(&out).map_err(|e| plain("load.stages", e))?;
            sc.stages = Some(out);
        }
        if sc.rate.is_some() && sc.stages.is_some() {
            return Err(plain(
                "load",
                "set either rate (with duration) or stages, not both".into(),
            ));
        }
        if sc.connections.is_some() && (sc.rate.is_some() || sc.stages.is_some()) {
            return Err(plain(
                "load.connections",
                "the closed model (connections) runs flat out; remove rate/stages, or remove connections for the open model".into(),
            ));
        }
        let mut c = ClientOptions::default();
        if let Some(t) = dur("client.timeout", &file.client.timeout)? {
            c.timeout = t;
        }
        if let Some(t) = dur("client.connect_timeout", &file.client.connect_timeout)? {
            c.connect_timeout = t;
        }
        for (field, v) in [
            ("client.churn", file.client.churn),
            ("client.slow_readers", file.client.slow_readers),
        ] {
            if let Some(v) = v
                && !(0.0..=1.0).contains(&v)
            {
                return Err(plain(field, format!("{v} is not a share; use 0.0 to 1.0")));
            }
        }
        c.churn = file.client.churn.unwrap_or(0.0);
        c.slow_readers = file.client.slow_readers.unwrap_or(0.0);
        if let Some(r) = file.client.slow_read_bytes_per_second {
            if r == 0 {
                return Err(plain(
                    "client.slow_read_bytes_per_second",
                    "must be at least 1".into(),
                ));
            }
            c.slow_read_bytes_per_second = r;
        }
        for (k, v) in &file.client.headers {
            c.headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(k));
            c.headers.push((k.to_ascii_lowercase(), v.clone()));
        }
        c.ca_file = file.client.ca_file.as_ref().map(|p| base.join(p));
        if let Some(r) = &file.client.retry {
            c.retry = retry_policy(r.get_ref()).map_err(|e| err(r.span(), "client.retry", e))?;
        }
        if let Some(t) = &file.load.think_time {
            let d =
                |s: &str| parse_duration(s).map_err(|e| plain("load.think_time", e.to_string()));
            c.think_time = match t {
                ThinkSection::Fixed(s) => ThinkTime::Fixed { delay: d(s)? },
                ThinkSection::Range { min, max } => {
                    let (min, max) = (d(min)?, d(max)?);
                    if min > max {
                        return Err(plain("load.think_time", "min is larger than max".into()));
                    }
                    ThinkTime::Uniform { min, max }
                }
                ThinkSection::Mean { mean } => ThinkTime::Exponential { mean: d(mean)? },
            };
        }
        c.held = HeldConnections {
            idle: file.held.idle,
            reopen: file.held.reopen.unwrap_or(true),
        };
        if c.held.idle > 50_000 {
            return Err(plain("held.idle", "at most 50000 held connections".into()));
        }
        sc.client = c;
        let mut sources: BTreeMap<String, Arc<DataSource>> = BTreeMap::new();
        for (name, d) in &file.data {
            let ds = DataSource::load(name, &base.join(&d.get_ref().file), d.get_ref().order)
                .map_err(|source| LoadError::InScenario {
                    path: label.clone(),
                    line: line_of(src, d.span().start),
                    field: format!("data.{name}"),
                    source: Box::new(source),
                })?;
            sources.insert(name.clone(), Arc::new(ds));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, r) in file.request.iter().enumerate() {
            let req = r.get_ref();
            let field = format!("request[{i}]");
            let data = match &req.data {
                Some(n) => Some(sources.get(n).cloned().ok_or_else(|| {
                    err(
                        r.span(),
                        &field,
                        format!(
                            "data `{n}` is not defined; add a [data.{n}] table (defined: {})",
                            sources.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    )
                })?),
                None => None,
            };
            let name = req
                .name
                .clone()
                .unwrap_or_else(|| format!("{} {}", req.method.to_ascii_uppercase(), req.path));
            if !names.insert(name.clone()) {
                return Err(err(
                    r.span(),
                    &field,
                    format!("request name `{name}` is used twice; names must be unique"),
                ));
            }
            let spec = TemplateSpec {
                name,
                weight: req.weight,
                method: req.method.clone(),
                path: req.path.clone(),
                headers: req
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                body: req.body.clone(),
            };
            sc.templates
                .push(Template::compile(&spec, data).map_err(|e| err(r.span(), &field, e))?);
        }
        for (i, t) in file.thresholds.iter().enumerate() {
            sc.thresholds.push(
                parse_threshold(t.get_ref())
                    .map_err(|e| err(t.span(), &format!("thresholds[{i}]"), e.to_string()))?,
            );
        }
        Ok(sc)
    }
}

fn retry_policy(r: &RetrySection) -> Result<RetryPolicy, String> {
    if !(1..=20).contains(&r.max_attempts) {
        return Err(format!("max_attempts {} must be 1 to 20", r.max_attempts));
    }
    let mut on = RetryOn::default();
    for item in &r.on {
        match item.to_ascii_lowercase().as_str() {
            "5xx" => on.server_errors = true,
            "timeout" => on.timeout = true,
            "connect" => on.connect = true,
            "io" | "reset" => on.io = true,
            s => match s.parse::<u16>() {
                Ok(code) if (100..600).contains(&code) => on.statuses.push(code),
                _ => {
                    return Err(format!(
                        "retry on `{item}`: use 5xx, a status like 429, timeout, connect or io"
                    ));
                }
            },
        }
    }
    if r.on.is_empty() {
        on = RetryOn {
            server_errors: true,
            statuses: Vec::new(),
            timeout: true,
            connect: true,
            io: true,
        };
    }
    let d = |v: &Option<String>, default: &str| {
        parse_duration(v.as_deref().unwrap_or(default)).map_err(|e| e.to_string())
    };
    let backoff = match r.backoff.as_deref().unwrap_or("exponential") {
        "none" => Backoff::None,
        "fixed" => Backoff::Fixed {
            delay: d(&r.delay, "100ms")?,
        },
        "exponential" => Backoff::Exponential {
            base: d(&r.base, "100ms")?,
            max: d(&r.max, "10s")?,
            jitter: r.jitter.unwrap_or(true),
        },
        other => return Err(format!("backoff `{other}`: use none, fixed or exponential")),
    };
    Ok(RetryPolicy {
        max_attempts: r.max_attempts,
        on,
        backoff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<Scenario, String> {
        Scenario::parse(s, Path::new("scenario.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_scenario() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("users.csv"), "id,name\n1,ann\n2,bob\n").unwrap();
        let src = r#"
target = "http://127.0.0.1:8080"
thresholds = ["p99<300ms", "spike:p99<1s"]

[load]
stages = [{ duration = "10s", target = 50 }, { name = "spike", duration = "2s", target = 200 }]
poisson = true
think_time = { min = "10ms", max = "20ms" }

[client]
churn = 0.1
headers = { "x-run" = "ci" }
retry = { max_attempts = 3, on = ["5xx", "429", "timeout"], backoff = "exponential", base = "50ms", max = "1s" }

[held]
idle = 20

[data.users]
file = "users.csv"
order = "random"

[[request]]
name = "user"
weight = 3
path = "/users/{{id}}"
data = "users"

[[request]]
method = "POST"
path = "/orders"
body = '{"n": {{seq}}}'
"#;
        let path = dir.path().join("s.toml");
        let sc = Scenario::parse(src, &path).unwrap();
        assert_eq!(sc.stages.as_ref().unwrap().len(), 2);
        assert_eq!(sc.templates.len(), 2);
        assert_eq!(sc.templates[1].name, "POST /orders");
        assert_eq!(sc.client.retry.max_attempts, 3);
        assert_eq!(sc.client.retry.on.statuses, vec![429]);
        assert_eq!(sc.client.held.idle, 20);
        assert_eq!(sc.thresholds.len(), 2);
        assert!(sc.client.headers.iter().any(|(k, _)| k == "x-run"));
    }

    #[test]
    fn errors_carry_line_numbers() {
        let cases = [
            ("[load]\nrate = 10\nbogus = 1\n", "line 3"),
            ("[load]\nrate = \"fast\"\n", "line 2"),
            ("thresholds = [\"p99<1s\", \"p99 fast\"]\n", "line 1"),
            (
                "[[request]]\npath = \"/\"\n\n[[request]]\npath = \"/{{nope}}\"\n",
                "line 4",
            ),
            ("[[request]]\npath = \"/a\"\ndata = \"users\"\n", "line 1"),
            ("[client]\nretry = { max_attempts = 0 }\n", "line 2"),
            (
                "[load]\nstages = [\n  { duration = \"1s\", target = 1 },\n  { duration = \"1x\", target = 2 },\n]\n",
                "line 4",
            ),
            ("[load\n", "line 1"),
        ];
        for (src, needle) in cases {
            let msg = parse(src).unwrap_err();
            assert!(
                msg.contains("scenario.toml") && msg.contains(needle),
                "{src:?}: {msg}"
            );
        }
        let msg = parse("[load]\nrate = 5\nconnections = 3\n").unwrap_err();
        assert!(msg.contains("closed model"), "{msg}");
        let msg = parse("[client]\nchurn = 2\n").unwrap_err();
        assert!(msg.contains("client.churn"), "{msg}");
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
            let _ = parse(&s);
        }

        #[test]
        fn mangled_scenarios_never_panic(cut in 0usize..400, ch in any::<char>()) {
            let src = "target = \"http://x\"\nthresholds = [\"p99<1s\"]\n[load]\nstages = [{ duration = \"1s\", target = 5 }]\n[client]\nretry = { max_attempts = 2, on = [\"5xx\"] }\n[[request]]\npath = \"/a/{{seq}}\"\nweight = 2\n";
            let mut chars: Vec<char> = src.chars().collect();
            let i = cut % chars.len();
            chars[i] = ch;
            let s: String = chars.into_iter().collect();
            let _ = parse(&s);
        }
    }
}
