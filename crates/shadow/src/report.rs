//! The divergence report: served live at `/api/divergence`, written as the JSON result
//! (schema `prodlike.shadow/2`, docs/results.md) and printed at the end of a run.
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::divergence::{RouteReport, RouteVerdict};
use crate::metrics::{Metrics, UpstreamLabels};
use crate::mirror::{DropCounters, DropReason};
use crate::routes::RouteTable;

// The report's types are the published result (prodlike.shadow/2), shared with its readers.
pub use prodlike_results::shadow::{SCHEMA, ShadowReport, Totals, UpstreamStatus};

/// What the report is built from; shared by the admin server and the runner.
pub struct ReportSource {
    pub routes: Arc<RouteTable>,
    pub metrics: Arc<Metrics>,
    pub drops: Option<DropCounters>,
    pub started: Instant,
    pub production: Vec<String>,
    pub staging: Option<String>,
    pub sample: f64,
    pub noise: crate::config::NoiseConfig,
    pub timeline: Arc<crate::timeline::Timeline>,
}

impl ReportSource {
    pub fn report(&self) -> ShadowReport {
        let mut routes: Vec<RouteReport> = self
            .routes
            .entries()
            .iter()
            .map(|e| {
                e.with_divergence(|d| {
                    d.report(&e.name, e.requests.load(Ordering::Relaxed), &self.noise)
                })
            })
            .collect();
        // Diverging routes first (worst rate first), then routes with no verdict, then matching.
        let rank = |v: RouteVerdict| match v {
            RouteVerdict::Mismatching => 0,
            RouteVerdict::NotCompared => 1,
            RouteVerdict::Matching => 2,
        };
        routes.sort_by(|a, b| {
            rank(a.verdict)
                .cmp(&rank(b.verdict))
                .then(b.mismatch_rate.total_cmp(&a.mismatch_rate))
                .then(b.requests.cmp(&a.requests))
                .then(a.route.cmp(&b.route))
        });
        let (capture_dropped_reasons, capture_dropped) = self.metrics.capture_drops();
        let mut t = Totals {
            queue_depth: self.metrics.queue_depth.get(),
            queue_capacity: self.metrics.queue_capacity.get(),
            inflight: self.metrics.inflight.get(),
            capture_records: self.metrics.capture_records.get(),
            capture_dropped,
            capture_stored: self.metrics.capture_stored.get(),
            capture_dropped_reasons: if self.metrics.capture_records.get() > 0 {
                capture_dropped_reasons
            } else {
                Default::default()
            },
            ..Totals::default()
        };
        for r in &routes {
            t.requests += r.requests;
            t.mirrored += r.mirrored;
            t.compared += r.compared;
            t.mismatched += r.mismatched;
            for (why, n) in &r.not_compared {
                *t.not_compared.entry(why.clone()).or_insert(0) += n;
            }
            if r.mirrored > 0 && r.compared == 0 {
                t.routes_not_compared += 1;
            }
        }
        t.mismatch_rate = if t.compared == 0 {
            0.0
        } else {
            t.mismatched as f64 / t.compared as f64
        };
        if let Some(d) = &self.drops {
            for r in DropReason::ALL {
                t.dropped.insert(r.as_str().to_string(), d.get(r));
            }
        }
        ShadowReport {
            uptime_s: self.started.elapsed().as_secs_f64(),
            production: self
                .production
                .iter()
                .map(|u| UpstreamStatus {
                    url: u.clone(),
                    ejected: self
                        .metrics
                        .upstream_ejected
                        .get_or_create(&UpstreamLabels {
                            upstream: u.clone(),
                        })
                        .get()
                        > 0,
                })
                .collect(),
            staging: self.staging.clone(),
            sample: self.sample,
            totals: t,
            routes,
        }
    }
}

/// The report as text for terminals.
pub trait ReportText {
    /// A plain-text summary.
    fn to_text(&self) -> String;
}

impl ReportText for ShadowReport {
    // Long: the text summary's sections in the order they print; splitting would scatter one layout.
    #[allow(clippy::too_many_lines)]
    fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let t = &self.totals;
        let rate = if t.compared == 0 {
            "nothing compared".to_string()
        } else {
            format!("{:.1}%", t.mismatch_rate * 100.0)
        };
        let _ = writeln!(
            s,
            "requests {}  mirrored {}  compared {}  mismatched {} ({rate})",
            t.requests, t.mirrored, t.compared, t.mismatched,
        );
        if !t.not_compared.is_empty() {
            let why: Vec<String> = t
                .not_compared
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = writeln!(s, "not compared: {}", why.join(", "));
        }
        let drops: Vec<String> = t
            .dropped
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        if !drops.is_empty() {
            let _ = writeln!(s, "copies dropped: {}", drops.join(", "));
        }
        if t.capture_records > 0 {
            let why: Vec<String> = t
                .capture_dropped_reasons
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = writeln!(
                s,
                "captured {} of {} records, dropped {}{}",
                t.capture_stored,
                t.capture_records,
                t.capture_dropped,
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", why.join(", "))
                }
            );
        }
        let _ = writeln!(
            s,
            "\n{:<28} {:>8} {:>13} {:>9} {:>16} {:>22} {:>22}",
            "route",
            "requests",
            "compared",
            "mismatch",
            "rate (95% CI)",
            "prod p50/p99 ms",
            "staging p50/p99 ms"
        );
        for r in &self.routes {
            let rate = match r.verdict {
                RouteVerdict::NotCompared => "not compared".to_string(),
                _ => format!(
                    "{:.1}% ({:.0}–{:.0})",
                    r.mismatch_rate * 100.0,
                    r.mismatch_rate_ci95[0] * 100.0,
                    r.mismatch_rate_ci95[1] * 100.0
                ),
            };
            let _ = writeln!(
                s,
                "{:<28} {:>8} {:>13} {:>9} {:>16} {:>22} {:>22}",
                truncate(&r.route, 28),
                r.requests,
                format!("{} of {}", r.compared, r.mirrored),
                r.mismatched,
                rate,
                format!(
                    "{:.1} / {:.1}",
                    r.production_latency_ms.p50_ms, r.production_latency_ms.p99_ms
                ),
                format!(
                    "{:.1} / {:.1}",
                    r.staging_latency_ms.p50_ms, r.staging_latency_ms.p99_ms
                ),
            );
        }
        for r in self
            .routes
            .iter()
            .filter(|r| r.verdict == RouteVerdict::NotCompared && r.mirrored > 0)
        {
            let why: Vec<String> = r
                .not_compared
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = writeln!(
                s,
                "\n{}: nothing compared, so no verdict ({})",
                r.route,
                why.join(", ")
            );
        }
        let noisy: Vec<&RouteReport> = self.routes.iter().filter(|r| !r.noise.is_empty()).collect();
        if !noisy.is_empty() {
            let _ = writeln!(
                s,
                "\nnoise (left out of the verdict when learned or ignored):"
            );
            for r in noisy {
                for n in &r.noise {
                    let how = match n.source {
                        crate::noise::NoiseSource::Probe => format!(
                            "production differed from itself in {} of {} probes",
                            n.differed, n.samples
                        ),
                        crate::noise::NoiseSource::Suspected => format!(
                            "suspected: differed in {} of {} comparisons{}; silence with {}",
                            n.differed,
                            n.samples,
                            n.shape
                                .as_deref()
                                .map(|s| format!(", values look like a {s}"))
                                .unwrap_or_default(),
                            n.rule
                        ),
                    };
                    let _ = writeln!(s, "  {} {}: {how}", r.route, n.path);
                }
            }
        }
        for r in self.routes.iter().filter(|r| r.mismatched > 0) {
            if let Some(ex) = r.examples.first() {
                let _ = writeln!(
                    s,
                    "\n{} e.g. {} {} → production {}, staging {}",
                    r.route, ex.method, ex.target, ex.production_status, ex.staging_status
                );
                for d in ex.body.iter().take(3) {
                    let _ = writeln!(
                        s,
                        "    {} {:?}: {} → {}",
                        d.path,
                        d.kind,
                        d.production.as_deref().unwrap_or("(absent)"),
                        d.staging.as_deref().unwrap_or("(absent)")
                    );
                }
                for (h, p, st) in ex.headers.iter().take(3) {
                    let _ = writeln!(
                        s,
                        "    header {h}: {} → {}",
                        p.as_deref().unwrap_or("(absent)"),
                        st.as_deref().unwrap_or("(absent)")
                    );
                }
            }
        }
        s
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
