//! Starting and stopping the proxy. Production traffic runs on its own runtime (`workers`
//! threads); mirroring, comparison and the admin server on a separate one-thread runtime, and
//! the capture writer on a thread of its own: staging's troubles cannot take production's CPU
//! time slices or its scheduler.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue};
use prodlike_capture::RotationPolicy;
use prodlike_mask::MaskKey;
use prodlike_net::{ClientTlsOptions, Target, client_config, https_connector, server_config};
use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin;
use crate::capture_writer::{CaptureHandle, CaptureWriter, capture_header};
use crate::compare::Comparator;
use crate::config::ShadowConfig;
use crate::error::{ShadowError, bind_hint};
use crate::masking::TrafficMasker;
use crate::metrics::Metrics;
use crate::mirror::{self, MirrorQueue, MirrorSettings, StagingSettings};
use crate::proxy::{Proxy, ProxySettings};
use crate::report::{ReportSource, ShadowReport};
use crate::route::Normaliser;
use crate::routes::RouteTable;
use crate::sampler::Sampler;
use crate::server::accept_loop;
use crate::timeline::Timeline;
use crate::upstream::Upstreams;
use prodlike_capture::nats::{
    ConnectSettings, JetStreamSettings, NatsUrl, StreamSettings, default_stream,
};

/// Start-up choices that are not configuration.
#[derive(Default)]
pub struct StartOptions {
    /// Start even when no production upstream accepts a connection yet.
    pub skip_upstream_check: bool,
    /// Use this key instead of reading `mask.key_env` (tests, the demo).
    pub mask_key: Option<MaskKey>,
}

/// A proxy that is serving. Stop it with [`RunningShadow::shutdown`].
pub struct RunningShadow {
    pub addr: SocketAddr,
    pub admin_addr: Option<SocketAddr>,
    source: Arc<ReportSource>,
    stop: watch::Sender<bool>,
    proxy_task: JoinHandle<()>,
    mirror_task: Option<JoinHandle<()>>,
    admin_task: Option<JoinHandle<()>>,
    timeline_task: JoinHandle<()>,
    capture: Option<CaptureWriter>,
}

fn bind(addr: &str, what: &str) -> Result<std::net::TcpListener, ShadowError> {
    let parsed: SocketAddr = addr.parse().map_err(|_| {
        ShadowError::Config(crate::error::ConfigError::Invalid {
            field: what.into(),
            problem: format!("`{addr}` is not an address"),
        })
    })?;
    let l = std::net::TcpListener::bind(parsed).map_err(|source| ShadowError::Bind {
        addr: parsed,
        hint: bind_hint(&source),
        source,
    })?;
    l.set_nonblocking(true)
        .map_err(|source| ShadowError::Bind {
            addr: parsed,
            hint: "",
            source,
        })?;
    Ok(l)
}

/// Checks that at least one production upstream accepts a TCP connection; names every one that
/// does not.
async fn check_upstreams(targets: &[Target], timeout: Duration) -> Result<(), ShadowError> {
    let mut failures = Vec::new();
    for t in targets {
        let hp = t.host_port();
        let attempt = async {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&hp)
                .await
                .map_err(|e| format!("cannot resolve {hp}: {e}"))?
                .collect();
            let mut last = format!("{hp} resolves to no address");
            for a in addrs {
                match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(a)).await {
                    Ok(Ok(_)) => return Ok(()),
                    Ok(Err(e)) => last = format!("{a}: {e}"),
                    Err(_) => last = format!("{a}: no answer within {timeout:?}"),
                }
            }
            Err(last)
        };
        if let Err(reason) = attempt.await {
            tracing::warn!(upstream = %t, %reason, "production upstream not reachable at start-up");
            failures.push((t.original.clone(), reason));
        }
    }
    if failures.len() == targets.len()
        && let Some((upstream, reason)) = failures.into_iter().next()
    {
        return Err(ShadowError::UpstreamUnreachable { upstream, reason });
    }
    Ok(())
}

fn header_list(names: &[String]) -> Vec<HeaderName> {
    names
        .iter()
        .filter_map(|n| HeaderName::from_bytes(n.to_ascii_lowercase().as_bytes()).ok())
        .collect()
}

/// Starts serving. Must be called on the production runtime; `mirror` is the runtime for
/// copies, comparison and the admin server (it may be the same runtime in tests).
// Long: start-up as its named steps in order (files, listeners, upstreams, capture, mirror,
// proxy, admin); each step is its own function.
#[allow(clippy::too_many_lines)]
pub async fn start(
    cfg: ShadowConfig,
    opts: StartOptions,
    mirror_rt: &Handle,
) -> Result<RunningShadow, ShadowError> {
    cfg.validate()?;
    let production: Vec<Target> = cfg
        .production
        .upstreams
        .iter()
        .filter_map(|u| Target::parse_upstream(u).ok())
        .collect();
    let staging = cfg
        .mirror
        .staging
        .as_deref()
        .and_then(|s| Target::parse_upstream(s).ok());

    // Every file is read and checked before anything is bound, connected or created.
    let tls = match &cfg.tls {
        Some(t) => Some(tokio_rustls::TlsAcceptor::from(server_config(
            &t.cert,
            &t.key,
            &[b"h2", b"http/1.1"],
        )?)),
        None => None,
    };
    let masker = TrafficMasker::from_config(&cfg.mask, opts.mask_key)?;
    let listener = bind(&cfg.listen, "listen")?;
    let admin_listener = admin_listener(&cfg)?;
    if !opts.skip_upstream_check {
        check_upstreams(&production, cfg.production.connect_timeout).await?;
    }
    let metrics = Arc::new(Metrics::new());
    let routes = Arc::new(RouteTable::new(
        Normaliser::new(&cfg.normalise.templates),
        cfg.normalise.max_routes,
        cfg.compare.examples_per_route,
        metrics.clone(),
    ));
    let (capture_handle, capture_writer) = start_capture(&cfg, &masker, &metrics)?;
    let timeline = Arc::new(Timeline::default());
    let mirror = start_mirror(
        &cfg,
        MirrorInputs {
            production: &production,
            staging: staging.as_ref(),
            masker,
            capture: capture_handle,
            timeline: timeline.clone(),
            metrics: metrics.clone(),
        },
        mirror_rt,
    )?;
    let upstreams = Upstreams::new(
        production.clone(),
        cfg.production.health.clone(),
        &metrics,
        Some(prodlike_net::h1::H1PoolConfig {
            connect_timeout: cfg.production.connect_timeout,
            idle_timeout: cfg.production.pool_idle_timeout,
            max_idle: cfg.production.pool_max_idle_per_host,
        }),
    );
    let proxy = Arc::new(Proxy::new(
        proxy_settings(&cfg, tls.is_some())?,
        upstreams,
        routes.clone(),
        mirror.queue,
        metrics.clone(),
    ));
    let source = Arc::new(ReportSource {
        routes,
        metrics,
        drops: mirror.drops,
        started: Instant::now(),
        production: production.iter().map(|t| t.original.clone()).collect(),
        staging: staging.map(|t| t.original),
        sample: cfg.mirror.sample,
        noise: cfg.noise.clone(),
        timeline,
    });

    let (stop, stop_rx) = watch::channel(false);
    let addr = listener.local_addr().map_err(ShadowError::Runtime)?;
    let listener = TcpListener::from_std(listener).map_err(ShadowError::Runtime)?;
    let proxy_task = tokio::spawn(accept_loop(
        listener,
        tls,
        proxy,
        stop_rx.clone(),
        cfg.drain_timeout,
    ));
    let timeline_task = spawn_timeline(source.clone(), stop_rx.clone(), mirror_rt);
    let (admin_addr, admin_task) = spawn_admin(admin_listener, source.clone(), stop_rx, mirror_rt)?;
    tracing::info!(
        listen = %addr,
        admin = ?admin_addr,
        production = ?source.production,
        staging = ?source.staging,
        sample = source.sample,
        "prodlike shadow is serving"
    );
    Ok(RunningShadow {
        addr,
        admin_addr,
        source,
        stop,
        proxy_task,
        mirror_task: mirror.task,
        admin_task,
        timeline_task,
        capture: capture_writer,
    })
}

/// The admin server's listener: `--admin ""` turns it off; without a choice it takes the
/// default port, or any free one (with a warning) when that is taken.
fn admin_listener(cfg: &ShadowConfig) -> Result<Option<std::net::TcpListener>, ShadowError> {
    match cfg.admin.as_deref() {
        Some("") => Ok(None),
        Some(addr) => Ok(Some(bind(addr, "admin")?)),
        None => match bind(crate::config::DEFAULT_ADMIN, "admin") {
            Ok(l) => Ok(Some(l)),
            Err(ShadowError::Bind { .. }) => {
                let l = bind("127.0.0.1:0", "admin")?;
                tracing::warn!(
                    "{} is taken; the admin server uses {} instead (set --admin to choose)",
                    crate::config::DEFAULT_ADMIN,
                    l.local_addr().map(|a| a.to_string()).unwrap_or_default()
                );
                Ok(Some(l))
            }
            Err(e) => Err(e),
        },
    }
}

/// The capture writer (its thread and the handle copies write through), when a capture is
/// configured: a file, or NATS JetStream for a `nats://` path.
fn start_capture(
    cfg: &ShadowConfig,
    masker: &TrafficMasker,
    metrics: &Arc<Metrics>,
) -> Result<(Option<CaptureHandle>, Option<CaptureWriter>), ShadowError> {
    let Some(path) = &cfg.capture.path else {
        return Ok((None, None));
    };
    let header = capture_header(masker.detects(), capture_mask_summary(masker.info()));
    let (handle, writer) = match cfg.capture.nats_url() {
        Some(url) => CaptureWriter::start_nats(
            jetstream_settings(url, &cfg.capture.nats)?,
            cfg.capture.queue,
            header,
            metrics.clone(),
            cfg.mirror.nice,
        )?,
        None => CaptureWriter::start_file(
            path,
            RotationPolicy {
                max_bytes: cfg.capture.max_file_size,
                max_files: cfg.capture.max_files,
            },
            cfg.capture.queue,
            header,
            metrics.clone(),
        )?,
    };
    Ok((Some(handle), Some(writer)))
}

/// `capture.path = "nats://HOST:PORT/SUBJECT"` and `[capture.nats]` as the sink's settings
/// (validated already: errors here name the field all the same).
fn jetstream_settings(
    url: &str,
    n: &crate::config::NatsCaptureConfig,
) -> Result<JetStreamSettings, ShadowError> {
    let invalid = |problem: String| {
        ShadowError::Config(crate::error::ConfigError::Invalid {
            field: "capture.path".into(),
            problem,
        })
    };
    let parsed = NatsUrl::parse(url).map_err(|e| invalid(e.to_string()))?;
    let subject = parsed
        .subject()
        .map_err(|e| invalid(e.to_string()))?
        .to_string();
    Ok(JetStreamSettings {
        connect: ConnectSettings {
            server: parsed.server.clone(),
            credentials: n.credentials.clone(),
            name: "prodlike shadow capture".into(),
        },
        stream: StreamSettings {
            name: n.stream.clone().unwrap_or_else(|| default_stream(&subject)),
            subject,
            max_bytes: n.max_bytes,
            max_age: n.max_age,
        },
        max_pending: n.max_pending,
        ack_timeout: n.ack_timeout,
    })
}

/// What the mirror is built from besides the config.
struct MirrorInputs<'a> {
    production: &'a [Target],
    staging: Option<&'a Target>,
    masker: TrafficMasker,
    capture: Option<CaptureHandle>,
    timeline: Arc<Timeline>,
    metrics: Arc<Metrics>,
}

/// The running mirror: the production side's queue, the dispatcher's task, the drop counters.
#[derive(Default)]
struct MirrorParts {
    queue: Option<MirrorQueue>,
    task: Option<JoinHandle<()>>,
    drops: Option<crate::mirror::DropCounters>,
}

/// Starts the mirror on the mirror runtime when there is something to mirror to or capture.
fn start_mirror(
    cfg: &ShadowConfig,
    inputs: MirrorInputs<'_>,
    mirror_rt: &Handle,
) -> Result<MirrorParts, ShadowError> {
    if inputs.staging.is_none() && inputs.capture.is_none() {
        return Ok(MirrorParts::default());
    }
    let staging = match inputs.staging {
        Some(target) => Some(staging_settings(cfg, target)?),
        None => None,
    };
    let (queue, dispatcher) = mirror::build(
        MirrorSettings {
            staging,
            sampler: Sampler::new(&cfg.mirror, &cfg.routes),
            queue_capacity: cfg.mirror.queue_capacity,
            queue_max_bytes: cfg.mirror.queue_max_bytes,
            max_body: cfg.mirror.max_body,
            concurrency: cfg.mirror.concurrency,
            comparator: Comparator::new(
                &cfg.compare.headers,
                &cfg.compare.ignore,
                cfg.compare.numeric_tolerance,
                cfg.compare.numeric_relative_tolerance,
            ),
            compare_max_body: cfg.compare.max_body,
            production_wait: cfg.production.response_timeout + cfg.mirror.timeout,
            masker: inputs.masker,
            capture: inputs.capture,
            capture_max_body: cfg.capture.max_body,
            noise: cfg.noise.clone(),
            probe_upstreams: probe_upstreams(cfg, inputs.production)?,
            timeline: inputs.timeline,
            dispatch_tick: cfg.mirror.dispatch_tick,
        },
        inputs.metrics.clone(),
    );
    Ok(MirrorParts {
        queue: Some(queue),
        task: Some(mirror_rt.spawn(dispatcher)),
        drops: Some(crate::mirror::DropCounters::new(&inputs.metrics)),
    })
}

/// Staging as copies reach it: its TLS, timeouts, `Host`, dropped and set headers, circuit.
fn staging_settings(cfg: &ShadowConfig, target: &Target) -> Result<StagingSettings, ShadowError> {
    Ok(StagingSettings {
        target: target.clone(),
        connector: https_connector(
            client_config(&ClientTlsOptions {
                ca_file: cfg.mirror.ca_file.clone(),
            })?,
            cfg.mirror.connect_timeout,
        ),
        connect_timeout: cfg.mirror.connect_timeout,
        timeout: cfg.mirror.timeout,
        host: (!cfg.mirror.host.is_empty())
            .then(|| HeaderValue::from_str(&cfg.mirror.host).ok())
            .flatten(),
        drop_headers: header_list(&cfg.mirror.drop_headers),
        set_headers: cfg
            .mirror
            .set_headers
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).ok()?,
                    HeaderValue::from_str(v).ok()?,
                ))
            })
            .collect(),
        circuit_failures: cfg.mirror.circuit.consecutive_failures,
        circuit_open_for: cfg.mirror.circuit.open_for,
        streams: streams(cfg),
    })
}

/// How the proxy reaches production.
fn proxy_settings(cfg: &ShadowConfig, https_listener: bool) -> Result<ProxySettings, ShadowError> {
    Ok(ProxySettings {
        connector: https_connector(
            client_config(&ClientTlsOptions {
                ca_file: cfg.production.ca_file.clone(),
            })?,
            cfg.production.connect_timeout,
        ),
        response_timeout: cfg.production.response_timeout,
        pool_idle_timeout: cfg.production.pool_idle_timeout,
        pool_max_idle_per_host: cfg.production.pool_max_idle_per_host,
        preserve_host: cfg.production.preserve_host,
        https_listener,
        compare_max_body: cfg.compare.max_body,
        streams: streams(cfg),
        upgrade_idle_timeout: cfg.production.upgrade_idle_timeout,
    })
}

/// Which responses are streams, and where their copies are cut off.
fn streams(cfg: &ShadowConfig) -> crate::body::Streams {
    crate::body::Streams {
        types: cfg.mirror.stream_types.clone(),
        cut: cfg.mirror.stream_cut,
    }
}

/// One point a second for the dashboard's charts, on the mirror runtime, until stopped.
fn spawn_timeline(
    source: Arc<ReportSource>,
    mut stop: watch::Receiver<bool>,
    mirror_rt: &Handle,
) -> JoinHandle<()> {
    mirror_rt.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => source.timeline.sample(&source.routes, source.drops.as_ref()),
                _ = stop.changed() => break,
            }
        }
    })
}

/// The admin server (metrics, APIs, dashboard) on the mirror runtime, until stopped.
fn spawn_admin(
    listener: Option<std::net::TcpListener>,
    source: Arc<ReportSource>,
    mut stop: watch::Receiver<bool>,
    mirror_rt: &Handle,
) -> Result<(Option<SocketAddr>, Option<JoinHandle<()>>), ShadowError> {
    let Some(l) = listener else {
        return Ok((None, None));
    };
    let admin_addr = l.local_addr().map_err(ShadowError::Runtime)?;
    let router = admin::router(source);
    let task = mirror_rt.spawn(async move {
        let Ok(listener) = TcpListener::from_std(l) else {
            return;
        };
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            })
            .await;
    });
    Ok((Some(admin_addr), Some(task)))
}

impl RunningShadow {
    /// The divergence report as it stands.
    pub fn report(&self) -> ShadowReport {
        self.source.report()
    }

    /// Stops accepting, lets in-flight requests finish (up to `drain_timeout`), lets copies in
    /// flight finish, flushes the capture, and returns the final report.
    pub async fn shutdown(self) -> ShadowReport {
        let _ = self.stop.send(true);
        let _ = self.proxy_task.await;
        let _ = self.timeline_task.await;
        if let Some(t) = self.mirror_task {
            let _ = t.await;
        }
        if let Some(t) = self.admin_task {
            let _ = t.await;
        }
        if let Some(w) = self.capture {
            let _ = tokio::task::spawn_blocking(move || w.finish()).await;
        }
        self.source.report()
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT: draining"),
        _ = term => tracing::info!("SIGTERM: draining"),
    }
}

/// Runs the proxy until SIGINT/SIGTERM (or `duration`), on runtimes of its own: the entry
/// point of `prodlike shadow`. `on_ready` sees the bound addresses once serving.
pub fn run(
    cfg: ShadowConfig,
    opts: StartOptions,
    duration: Option<Duration>,
    on_ready: impl FnOnce(SocketAddr, Option<SocketAddr>),
) -> Result<ShadowReport, ShadowError> {
    let workers = cfg.effective_workers();
    let nice = cfg.mirror.nice;
    let mirror_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("prodlike-mirror")
        .on_thread_start(move || crate::priority::lower_current_thread(nice))
        .enable_all()
        .build()
        .map_err(ShadowError::Runtime)?;
    // One worker: a current-thread runtime, the cheapest scheduler, like one nginx worker.
    let production_rt = if workers == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("prodlike-proxy")
            .enable_all()
            .build()
    }
    .map_err(ShadowError::Runtime)?;
    let mirror_handle = mirror_rt.handle().clone();
    let result = production_rt.block_on(async move {
        let running = start(cfg, opts, &mirror_handle).await?;
        on_ready(running.addr, running.admin_addr);
        match duration {
            Some(d) => {
                tokio::select! {
                    _ = shutdown_signal() => {}
                    _ = tokio::time::sleep(d) => tracing::info!("duration reached: draining"),
                }
            }
            None => shutdown_signal().await,
        }
        Ok(running.shutdown().await)
    });
    drop(production_rt);
    mirror_rt.shutdown_timeout(Duration::from_secs(2));
    result
}

/// Production's upstreams as the noise probe reaches them from the mirror side: their own
/// connections (never production's pools), production's TLS settings and timeouts.
fn probe_upstreams(
    cfg: &ShadowConfig,
    production: &[Target],
) -> Result<Vec<StagingSettings>, ShadowError> {
    if cfg.noise.probe != crate::config::ProbeMode::Production {
        return Ok(Vec::new());
    }
    let connector = https_connector(
        client_config(&ClientTlsOptions {
            ca_file: cfg.production.ca_file.clone(),
        })?,
        cfg.production.connect_timeout,
    );
    Ok(production
        .iter()
        .map(|t| StagingSettings {
            target: t.clone(),
            connector: connector.clone(),
            connect_timeout: cfg.production.connect_timeout,
            timeout: cfg.production.response_timeout,
            host: None,
            drop_headers: Vec::new(),
            set_headers: Vec::new(),
            circuit_failures: cfg.mirror.circuit.consecutive_failures,
            circuit_open_for: cfg.mirror.circuit.open_for,
            streams: streams(cfg),
        })
        .collect())
}

/// What the capture header says of masking: it records the key's fingerprint, never the key.
fn capture_mask_summary(info: &crate::masking::MaskInfo) -> prodlike_capture::MaskSummary {
    prodlike_capture::MaskSummary {
        detect: info.detect,
        rules_digest: info.rules_digest.clone(),
        key_fingerprint: info.key_fingerprint.clone(),
        key_source: info.key_source.map(|s| {
            match s {
                crate::masking::KeySource::Env => "env",
                crate::masking::KeySource::Given => "given",
                crate::masking::KeySource::Ephemeral => "ephemeral",
            }
            .to_string()
        }),
    }
}
