//! Prometheus metrics of the proxy. Families are registered once; per-route handles are
//! created once per route (see `routes.rs`) so a request only touches atomics.
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry};

/// Latency buckets in seconds: sub-millisecond proxies to multi-second stalls.
const LATENCY_BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub env: String,
    pub route: String,
    pub status_class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EnvRouteLabels {
    pub env: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ComparisonLabels {
    pub route: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NotComparedLabels {
    pub route: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DiffLabels {
    pub route: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MaskedLabels {
    pub route: String,
    /// A detector's name (`email`, `person_name`, …), or `rule` for values a mask rule named.
    pub detector: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    pub upstream: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamErrorLabels {
    pub upstream: String,
    pub kind: String,
}

/// Registers `metric` under `name` and hands it back: every family is registered once, here.
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub duration: Family<EnvRouteLabels, Histogram, fn() -> Histogram>,
    pub mirrored: Counter,
    pub dropped: Family<ReasonLabels, Counter>,
    pub comparisons: Family<ComparisonLabels, Counter>,
    pub diffs: Family<DiffLabels, Counter>,
    pub queue_depth: Gauge,
    pub queue_capacity: Gauge,
    pub inflight: Gauge,
    pub upstream_errors: Family<UpstreamErrorLabels, Counter>,
    pub upstream_ejected: Family<UpstreamLabels, Gauge>,
    /// Records handed to the capture writer.
    pub capture_records: Counter,
    /// Records not stored, by reason (`prodlike_capture::CaptureDrop`).
    pub capture_dropped: Family<ReasonLabels, Counter>,
    /// Records the sink stored: written to the file, or acknowledged by JetStream.
    pub capture_stored: Counter,
    /// 1 while the capture sink is connected (a file: always).
    pub capture_connected: Gauge,
    pub masked: Family<MaskedLabels, Counter>,
    pub not_compared: Family<NotComparedLabels, Counter>,
    pub noise_probes: Counter,
    pub noise_probes_capped: Counter,
    /// Connections switched to another protocol (WebSocket and other `Upgrade`s), by how they
    /// ended: `closed`, `idle_timeout`, `error`; `refused` when the upstream did not switch.
    pub upgrades: Family<ReasonLabels, Counter>,
    pub upgrades_active: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    // Long: registers every metric family in one place, one short statement each, so /metrics reads as this list.
    #[allow(clippy::too_many_lines)]
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("prodlike_shadow");
        let duration = Family::<EnvRouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        Metrics {
            requests: registered(
                &mut r,
                "requests",
                "Requests answered, by environment (production, staging), route and status class",
                Family::default(),
            ),
            duration: registered(
                &mut r,
                "request_duration_seconds",
                "Time to response headers (production) or to the whole response (staging copies), by environment and route",
                duration,
            ),
            mirrored: registered(
                &mut r,
                "mirror_sent",
                "Copies sent to staging",
                Counter::default(),
            ),
            dropped: registered(
                &mut r,
                "mirror_dropped",
                "Sampled copies not sent or not answered, by reason",
                Family::default(),
            ),
            comparisons: registered(
                &mut r,
                "comparisons",
                "Production/staging response comparisons by route and result (match, mismatch, not_compared)",
                Family::default(),
            ),
            diffs: registered(
                &mut r,
                "diffs",
                "Mismatching comparisons by route and what differed (status, header, body)",
                Family::default(),
            ),
            queue_depth: registered(
                &mut r,
                "mirror_queue_depth",
                "Copies waiting to be sent",
                Gauge::default(),
            ),
            queue_capacity: registered(
                &mut r,
                "mirror_queue_capacity",
                "Size of the copy queue",
                Gauge::default(),
            ),
            inflight: registered(
                &mut r,
                "mirror_inflight",
                "Copies being sent to staging now",
                Gauge::default(),
            ),
            upstream_errors: registered(
                &mut r,
                "upstream_errors",
                "Production upstream failures by upstream and kind (connect, timeout, protocol)",
                Family::default(),
            ),
            upstream_ejected: registered(
                &mut r,
                "upstream_ejected",
                "1 while a production upstream is ejected by passive health checking",
                Family::default(),
            ),
            capture_records: registered(
                &mut r,
                "capture_records",
                "Exchanges handed to the capture writer",
                Counter::default(),
            ),
            capture_dropped: registered(
                &mut r,
                "capture_dropped",
                "Exchanges not captured, by reason (queue_full, encode, write_failed, pending_full, disconnected, too_large, refused, ack_timeout)",
                Family::default(),
            ),
            capture_stored: registered(
                &mut r,
                "capture_stored",
                "Exchanges the capture stored: written to the file, or acknowledged by JetStream",
                Counter::default(),
            ),
            capture_connected: registered(
                &mut r,
                "capture_connected",
                "1 while the capture sink is connected (NATS); a file sink is always 1",
                Gauge::default(),
            ),
            not_compared: registered(
                &mut r,
                "not_compared",
                "Exchanges not compared, by route and reason (too_large, cut_short, encoding, decoded_too_large, not_json, staging_failed, staging_timeout, production_failed)",
                Family::default(),
            ),
            noise_probes: registered(
                &mut r,
                "noise_probes",
                "Extra production requests sent by the noise probe (production against itself)",
                Counter::default(),
            ),
            noise_probes_capped: registered(
                &mut r,
                "noise_probes_capped",
                "Probes chosen but not sent because noise.probe_max_per_second was reached",
                Counter::default(),
            ),
            masked: registered(
                &mut r,
                "masked_values",
                "Values masked in copies, responses and captures (mirror side), by route and detector",
                Family::default(),
            ),
            upgrades: registered(
                &mut r,
                "upgrades",
                "Upgraded connections (WebSocket and others) proxied, by how they ended (closed, idle_timeout, error, refused)",
                Family::default(),
            ),
            upgrades_active: registered(
                &mut r,
                "upgrades_active",
                "Upgraded connections open now",
                Gauge::default(),
            ),
            registry: r,
        }
    }

    /// Adds one exchange's masking counts to the route's counters.
    pub fn count_masked(&self, route: &str, counts: &prodlike_mask::MaskCounts) {
        let add = |detector: &str, n: u64| {
            if n > 0 {
                self.masked
                    .get_or_create(&MaskedLabels {
                        route: route.to_string(),
                        detector: detector.to_string(),
                    })
                    .inc_by(n);
            }
        };
        add("rule", counts.by_rule as u64);
        for (d, n) in counts.detected.iter() {
            add(d.name(), u64::from(n));
        }
    }

    /// Counts one capture record not stored.
    pub fn capture_drop(&self, why: prodlike_capture::CaptureDrop) {
        self.capture_dropped
            .get_or_create(&ReasonLabels {
                reason: why.as_str().to_string(),
            })
            .inc();
    }

    /// Capture drops by reason (every reason, zeros too) and their sum.
    pub fn capture_drops(&self) -> (std::collections::BTreeMap<String, u64>, u64) {
        let mut by = std::collections::BTreeMap::new();
        let mut total = 0;
        for why in prodlike_capture::CaptureDrop::ALL {
            let n = self
                .capture_dropped
                .get_or_create(&ReasonLabels {
                    reason: why.as_str().to_string(),
                })
                .get();
            total += n;
            by.insert(why.as_str().to_string(), n);
        }
        (by, total)
    }

    pub fn drop_counter(&self, reason: &str) -> Counter {
        self.dropped
            .get_or_create(&ReasonLabels {
                reason: reason.to_string(),
            })
            .clone()
    }

    /// Prometheus text exposition (version 0.0.4), which every Prometheus and promtool read.
    pub fn encode(&self) -> String {
        let mut open_metrics = String::with_capacity(16 * 1024);
        // Formatting into a String cannot fail.
        let _ =
            prometheus_client::encoding::text::encode_registry(&mut open_metrics, &self.registry);
        openmetrics_to_prometheus(&open_metrics)
    }
}

/// prometheus-client writes OpenMetrics, where a counter's HELP and TYPE name the family
/// (`x`) while its samples are `x_total`. The 0.0.4 text format wants one name throughout, so
/// counter families are renamed to their sample name.
fn openmetrics_to_prometheus(text: &str) -> String {
    let mut out: Vec<String> = Vec::with_capacity(text.lines().count());
    for line in text.lines() {
        if let Some(name) = line
            .strip_prefix("# TYPE ")
            .and_then(|l| l.strip_suffix(" counter"))
        {
            let help = format!("# HELP {name} ");
            if let Some(last) = out.last_mut()
                && last.starts_with(&help)
            {
                *last = format!("# HELP {name}_total {}", &last[help.len()..]);
            }
            out.push(format!("# TYPE {name}_total counter"));
        } else if !line.starts_with("# UNIT ") && line != "# EOF" {
            out.push(line.to_string());
        }
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}
