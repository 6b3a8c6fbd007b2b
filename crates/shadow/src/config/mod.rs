//! `shadow.toml`: every setting of the proxy, with defaults, documented in docs/shadow.md.
//! Command-line flags override the file; [`ShadowConfig::validate`] runs after both.
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use prodlike_common::source::line_of;
use prodlike_mask::{HttpMaskRules, JsonRule, QueryRule};
use serde::Deserialize;

use crate::error::ConfigError;
use crate::units::de_bytes;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShadowConfig {
    /// Address clients connect to, e.g. `0.0.0.0:8080`.
    pub listen: String,
    /// Address of the admin server (`/metrics`, `/healthz`, `/api/divergence`, dashboard at
    /// `/`). Absent: `127.0.0.1:9090`, or a free port when that one is taken (several proxies
    /// on one machine). Empty: no admin server. Given and taken: an error.
    pub admin: Option<String>,
    /// Worker threads serving production traffic; 0 means one per core. Mirroring, comparison
    /// and the admin server run on their own thread so they never take production's.
    pub workers: usize,
    /// How long in-flight requests may take to finish after SIGINT/SIGTERM.
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub drain_timeout: Duration,
    /// Serve HTTPS (HTTP/2 and HTTP/1.1 through ALPN) with this certificate.
    pub tls: Option<ListenerTls>,
    pub production: ProductionConfig,
    pub mirror: MirrorConfig,
    /// Per-route overrides, first match wins.
    #[serde(rename = "route")]
    pub routes: Vec<RouteRule>,
    pub normalise: NormaliseConfig,
    pub mask: MaskConfig,
    pub compare: CompareConfig,
    /// Telling noise (request ids, timestamps: differences production has with itself) from
    /// real differences.
    pub noise: NoiseConfig,
    pub capture: CaptureConfig,
}

impl Default for ShadowConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            admin: None,
            workers: 0,
            drain_timeout: Duration::from_secs(30),
            tls: None,
            production: ProductionConfig::default(),
            mirror: MirrorConfig::default(),
            routes: Vec::new(),
            normalise: NormaliseConfig::default(),
            mask: MaskConfig::default(),
            compare: CompareConfig::default(),
            noise: NoiseConfig::default(),
            capture: CaptureConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerTls {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProductionConfig {
    /// Production upstreams, served round-robin: `http://host:port`, `https://…` (HTTP/2 or
    /// HTTP/1.1, chosen by ALPN) or `h2c://host:port` (HTTP/2 over plain TCP, e.g. gRPC).
    pub upstreams: Vec<String>,
    /// Time allowed to open a connection to an upstream.
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub connect_timeout: Duration,
    /// Time allowed from sending a request until the response headers arrive; 504 after it.
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub response_timeout: Duration,
    /// Idle keep-alive connections are closed after this long.
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub pool_idle_timeout: Duration,
    /// Idle keep-alive connections kept per upstream.
    pub pool_max_idle_per_host: usize,
    /// Extra CA certificates (PEM) for `https://` upstreams, besides the system store.
    pub ca_file: Option<PathBuf>,
    /// Send the client's Host header upstream (true), or the upstream's own host (false).
    pub preserve_host: bool,
    /// Passive health checking.
    pub health: HealthConfig,
    /// An upgraded connection (WebSocket and other `Upgrade`s) with no byte moving either way
    /// for this long is closed.
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub upgrade_idle_timeout: Duration,
}

impl Default for ProductionConfig {
    fn default() -> Self {
        Self {
            upstreams: Vec::new(),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(30),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 1024,
            ca_file: None,
            preserve_host: true,
            health: HealthConfig::default(),
            upgrade_idle_timeout: Duration::from_secs(300),
        }
    }
}

/// An upstream that fails this many times in a row (connect error, timeout, 502/503/504) is
/// taken out of rotation for `ejection_time`. When every upstream is ejected, they are all
/// used anyway: a degraded answer beats none.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthConfig {
    pub consecutive_failures: u32,
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub ejection_time: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            ejection_time: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MirrorConfig {
    /// Staging URL (`http://`, `https://` or `h2c://`). Without it, prodlike shadow is a plain
    /// reverse proxy (it still captures sampled traffic when `capture.path` is set).
    pub staging: Option<String>,
    /// Share of requests copied, 0.0 to 1.0.
    pub sample: f64,
    /// Methods mirrored by default; others only where a `[[route]]` opts in.
    pub methods: Vec<String>,
    /// Copies waiting to be sent; further copies are dropped (reason `queue_full`).
    pub queue_capacity: usize,
    /// Bytes of request bodies the queue may hold; further copies are dropped.
    #[serde(deserialize_with = "de_bytes")]
    pub queue_max_bytes: u64,
    /// Copies in flight to staging at once.
    pub concurrency: usize,
    /// Time allowed for a whole copy: connect, send, response and body.
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub timeout: Duration,
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub connect_timeout: Duration,
    /// Request bodies up to this size are copied; larger ones reach production untouched and
    /// are not mirrored (reason `body_too_large`).
    #[serde(deserialize_with = "de_bytes")]
    pub max_body: u64,
    /// Host header sent to staging; empty keeps the client's.
    pub host: String,
    /// Extra CA certificates (PEM) for an `https://` staging.
    pub ca_file: Option<PathBuf>,
    /// Headers removed from copies (case-insensitive).
    pub drop_headers: Vec<String>,
    /// Headers set on copies (after dropping), e.g. a staging credential.
    pub set_headers: BTreeMap<String, String>,
    /// Sticky sampling; absent means each request is sampled independently.
    pub sticky: Option<StickyConfig>,
    /// Stop sending copies for a while when staging keeps failing.
    pub circuit: CircuitConfig,
    /// Nice value of the mirror's threads (copies, comparison, admin), 0 to 19: the higher,
    /// the more readily they yield the CPU to production's. 0 lets them compete equally.
    pub nice: i32,
    /// Responses of these media types are streams (server-sent events, long polls): they pass
    /// through unbuffered, and their copies (production's and staging's) are cut off after
    /// `stream_cut` bytes and counted as not compared (reason `stream_cut`).
    pub stream_types: Vec<String>,
    /// Bytes of a stream kept for the mirror before its copy is cut off.
    #[serde(deserialize_with = "de_bytes")]
    pub stream_cut: u64,
    /// While copies keep coming, the mirror looks for them once per tick rather than being
    /// woken by production's threads for each; "0s" wakes it per copy.
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub dispatch_tick: Duration,
}

impl Default for MirrorConfig {
    fn default() -> Self {
        Self {
            staging: None,
            sample: 1.0,
            methods: vec!["GET".into(), "HEAD".into(), "OPTIONS".into()],
            queue_capacity: 1024,
            queue_max_bytes: 64 << 20,
            concurrency: 64,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(1),
            max_body: 1 << 20,
            host: String::new(),
            ca_file: None,
            drop_headers: vec!["authorization".into(), "cookie".into()],
            set_headers: BTreeMap::new(),
            sticky: None,
            circuit: CircuitConfig::default(),
            nice: 10,
            stream_types: vec!["text/event-stream".into()],
            stream_cut: 64 << 10,
            dispatch_tick: Duration::from_millis(1),
        }
    }
}

/// Sample by a key so that a user's whole session is mirrored or none of it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StickyConfig {
    /// `header:NAME`, `cookie:NAME` or `client_ip`.
    pub key: String,
    /// Seed of the key hash. Proxies running side by side must share it to agree.
    #[serde(default = "default_seed")]
    pub seed: String,
    /// What to do with requests that lack the key: `random` (sample them independently) or
    /// `skip` (never mirror them).
    #[serde(default = "default_missing")]
    pub missing_key: String,
}

fn default_seed() -> String {
    "prodlike".into()
}

fn default_missing() -> String {
    "random".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CircuitConfig {
    /// Consecutive staging failures (connect errors, timeouts) that open the circuit; 0 never.
    pub consecutive_failures: u32,
    /// How long copies are dropped (reason `circuit_open`) before one is tried again.
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub open_for: Duration,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: 20,
            open_for: Duration::from_secs(2),
        }
    }
}

/// Overrides for the routes a pattern matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// Path prefix (`/api/`) or glob (`/api/*/orders/**`; `*` one segment, `**` any number).
    #[serde(rename = "match")]
    pub pattern: String,
    /// `false` never mirrors these routes.
    #[serde(default = "yes")]
    pub mirror: bool,
    /// Methods mirrored on these routes, replacing `mirror.methods` (opt in to POST here).
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Sample rate on these routes, replacing `mirror.sample`.
    #[serde(default)]
    pub sample: Option<f64>,
}

fn yes() -> bool {
    true
}

/// How request paths are grouped into routes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NormaliseConfig {
    /// Explicit templates tried first, e.g. `/users/{id}/orders/{order}`.
    pub templates: Vec<String>,
    /// Distinct routes tracked; the rest are grouped as `{other}` so memory and metric
    /// cardinality stay bounded.
    pub max_routes: usize,
}

impl Default for NormaliseConfig {
    fn default() -> Self {
        Self {
            templates: Vec::new(),
            max_routes: 500,
        }
    }
}

/// Masking of copies, captures and diff examples, with the `prodlike-mask` engine, on the
/// mirror side only; rule syntax in docs/masking.md:
///
/// ```toml
/// [mask]
/// key_env = "PRODLIKE_MASK_KEY"
/// detect = true                       # the default
/// keep = ["/genre/name", "query:q", "header:x-request-id"]
/// [[mask.json]]
/// key = "email"
/// transform = "email"
/// [[mask.query]]
/// param = "token"
/// transform = "hash"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaskConfig {
    /// Environment variable holding the mask key (at least 16 bytes). Data masked with the same
    /// key by `prodlike data` masks to the same values, so staging's data and copies agree.
    /// When it is unset, a random key is used for the run (with a warning).
    pub key_env: String,
    /// Mask every personal value the detectors find (emails, phones, cards, national ids,
    /// tokens, secrets by key name, IP addresses, person names), beyond what the rules name.
    /// On by default; `false` masks only what the rules name, with a warning at start.
    pub detect: bool,
    /// What a team has decided is not personal, kept although detection flags it: JSON-pointer
    /// globs (`/artist/name`), `query:NAME`, `header:NAME`, or a bare NAME (a JSON member, query
    /// parameter or header of that name). Rules still mask what they name.
    pub keep: Vec<String>,
    /// Rules for JSON bodies (and form bodies' fields), by key name anywhere or pointer glob.
    pub json: Vec<JsonRule>,
    /// Rules for query-string parameters.
    pub query: Vec<QueryRule>,
}

impl Default for MaskConfig {
    fn default() -> Self {
        Self {
            key_env: prodlike_mask::DEFAULT_KEY_ENV.into(),
            detect: true,
            keep: Vec::new(),
            json: Vec::new(),
            query: Vec::new(),
        }
    }
}

impl MaskConfig {
    /// Whether nothing is masked: detection off and no rules.
    pub fn is_noop(&self) -> bool {
        self.rules().is_noop()
    }

    pub fn rules(&self) -> HttpMaskRules {
        HttpMaskRules {
            detect: self.detect,
            keep: self.keep.clone(),
            json: self.json.clone(),
            query: self.query.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompareConfig {
    /// Response headers compared besides status and body.
    pub headers: Vec<String>,
    /// JSON-pointer globs ignored in body comparison (`/meta/**`, `**/request_id`).
    pub ignore: Vec<String>,
    /// Numbers equal within this absolute difference…
    pub numeric_tolerance: f64,
    /// …or within this fraction of the larger magnitude.
    pub numeric_relative_tolerance: f64,
    /// Response bodies larger than this are compared by status and headers only.
    #[serde(deserialize_with = "de_bytes")]
    pub max_body: u64,
    /// Example diffs kept per route (the newest).
    pub examples_per_route: usize,
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            headers: vec!["content-type".into()],
            ignore: Vec::new(),
            numeric_tolerance: 0.0,
            numeric_relative_tolerance: 0.0,
            max_body: 1 << 20,
            examples_per_route: 5,
        }
    }
}

/// How noise is learned:
///
/// ```toml
/// [noise]
/// probe = "production"        # off by default: it adds production load
/// probe_share = 0.1           # of mirrored GET/HEAD/OPTIONS copies
/// probe_max_per_second = 5    # never more extra production requests than this
/// min_samples = 5
/// threshold = 0.5
/// auto_ignore = false         # without a probe, hide suspected noise from the verdict
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseConfig {
    /// `off` (the default) or `production`: send a share of mirrored safe-method requests to
    /// a second production upstream as well, and learn, per route, the paths where production
    /// differs from itself. Needs two production upstreams or more.
    pub probe: ProbeMode,
    /// Share of mirrored GET/HEAD/OPTIONS copies also probed, 0.0 to 1.0.
    pub probe_share: f64,
    /// The most extra production requests the probe sends per second (a hard cap).
    pub probe_max_per_second: f64,
    /// Probes (or, without a probe, comparisons) seen on a path before it can be called noise.
    pub min_samples: u64,
    /// A path differing in at least this share of its samples is noise (learned by the probe)
    /// or suspected noise (without one, when its values also look volatile).
    pub threshold: f64,
    /// Without a probe: leave suspected noise out of the verdict too (it is always reported,
    /// with the ignore rule that would silence it).
    pub auto_ignore: bool,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self {
            probe: ProbeMode::Off,
            probe_share: 0.1,
            probe_max_per_second: 5.0,
            min_samples: 5,
            threshold: 0.5,
            auto_ignore: false,
        }
    }
}

/// Whether production is probed against itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeMode {
    Off,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// Capture file (docs/capture-format.md), or `nats://HOST:PORT/SUBJECT` to publish the
    /// records to NATS JetStream (settings in `[capture.nats]`); empty disables capture.
    pub path: Option<PathBuf>,
    /// Rotate the file when it reaches this size.
    #[serde(deserialize_with = "de_bytes")]
    pub max_file_size: u64,
    /// Rotated files kept; 0 keeps all.
    pub max_files: usize,
    /// Body bytes kept per message.
    #[serde(deserialize_with = "de_bytes")]
    pub max_body: u64,
    /// Records waiting for the disk or the stream; further records are dropped and counted.
    pub queue: usize,
    /// Publishing to NATS JetStream, when `path` is a `nats://` URL.
    pub nats: NatsCaptureConfig,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        Self {
            path: None,
            max_file_size: 256 << 20,
            max_files: 10,
            max_body: 64 << 10,
            queue: 4096,
            nats: NatsCaptureConfig::default(),
        }
    }
}

impl CaptureConfig {
    /// The capture's `nats://` URL, when it goes to NATS (checked by `validate()`).
    pub fn nats_url(&self) -> Option<&str> {
        self.path
            .as_deref()
            .and_then(|p| p.to_str())
            .filter(|p| prodlike_capture::nats::is_nats(p))
    }
}

/// `[capture.nats]`: where and how records are published when `capture.path` is
/// `nats://HOST:PORT/SUBJECT` (docs/capture-format.md, "NATS JetStream").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsCaptureConfig {
    /// The stream storing the subject; created when missing. Default: the subject upper-cased
    /// with `.` as `_` (`prodlike.capture` → `PRODLIKE_CAPTURE`).
    pub stream: Option<String>,
    /// Size limit of a stream created here; beyond it the oldest records are discarded.
    /// An existing stream keeps its own limits.
    #[serde(deserialize_with = "de_bytes")]
    pub max_bytes: u64,
    /// Age limit of a stream created here: older records are removed.
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub max_age: Duration,
    /// A NATS credentials file (`.creds`: JWT and nkey seed); none connects without.
    pub credentials: Option<PathBuf>,
    /// Records awaiting JetStream's acknowledgement at most; further records are dropped and
    /// counted (`pending_full`).
    pub max_pending: usize,
    /// How long an acknowledgement is awaited; a record not acknowledged by then is counted
    /// as dropped (`ack_timeout`).
    #[serde(deserialize_with = "prodlike_common::duration::deserialize")]
    pub ack_timeout: Duration,
}

impl Default for NatsCaptureConfig {
    fn default() -> Self {
        Self {
            stream: None,
            max_bytes: 1 << 30,
            max_age: Duration::from_secs(24 * 3600),
            credentials: None,
            max_pending: 1024,
            ack_timeout: Duration::from_secs(5),
        }
    }
}

/// The admin address used when none is configured.
pub const DEFAULT_ADMIN: &str = "127.0.0.1:9090";

impl ShadowConfig {
    /// Reads a TOML file. Errors name the file, the line and the field.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Parses TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            ConfigError::Parse {
                origin: origin.to_string(),
                line,
                message: e.message().to_string(),
            }
        })
    }

    /// Checks every field that parsing cannot, naming the field and the fix (section by
    /// section, in `validate.rs`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::listeners(self)?;
        validate::upstreams(self)?;
        validate::mirror(self)?;
        validate::streams(self)?;
        validate::routes(self)?;
        validate::copy_headers(self)?;
        validate::compare(self)?;
        validate::mask(self)?;
        validate::noise(self)?;
        validate::capture(self)?;
        validate::tls(self)
    }

    /// Worker threads to start for production.
    pub fn effective_workers(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }
    }
}

fn validate_methods(field: &str, methods: &[String]) -> Result<(), ConfigError> {
    for (i, m) in methods.iter().enumerate() {
        if m.is_empty() || http::Method::from_bytes(m.to_ascii_uppercase().as_bytes()).is_err() {
            return Err(ConfigError::Invalid {
                field: format!("{field}[{i}]"),
                problem: format!("`{m}` is not an HTTP method"),
            });
        }
    }
    Ok(())
}
