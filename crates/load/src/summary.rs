//! The text summary printed at the end of a run.
use std::fmt::Write as _;

use crate::result::{Counts, LoadResult};

fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{n} B")
    }
}

fn ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2}s", v / 1000.0)
    } else if v >= 10.0 {
        format!("{v:.1}ms")
    } else {
        format!("{v:.2}ms")
    }
}

fn row(out: &mut String, name: &str, target: Option<f64>, achieved: f64, c: &Counts) {
    let _ = writeln!(
        out,
        "  {:<16} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>6} {:>7}",
        truncate(name, 16),
        target
            .map(|t| format!("{t:.0}/s"))
            .unwrap_or_else(|| "-".into()),
        format!("{achieved:.0}/s"),
        c.requests,
        ms(c.latency.p50_ms),
        ms(c.latency.p90_ms),
        ms(c.latency.p99_ms),
        ms(c.latency.p999_ms),
        ms(c.latency.max_ms),
        format!("{:.2}%", c.error_rate * 100.0),
        c.dropped,
        c.retries,
    );
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}…")
    }
}

/// The end-of-run report as text.
// The text report's lines in print order.
#[allow(clippy::too_many_lines)]
pub fn render_text(r: &LoadResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "prodlike load → {} ({}, {})", r.target, r.mode, r.plan);
    if let Some(a) = &r.arrivals {
        let _ = writeln!(out, "  arrivals: {a}");
    }
    if let Some(m) = &r.merged {
        let segments: Vec<String> = m
            .inputs
            .iter()
            .map(|i| format!("{} ({})", i.segment, i.file))
            .collect();
        let _ = writeln!(
            out,
            "  merged from {} segment(s) covering {:.1}% of the plan: {}",
            m.inputs.len(),
            m.coverage * 100.0,
            segments.join(", ")
        );
        if !m.missing.is_empty() {
            let _ = writeln!(
                out,
                "  missing {}: the merged result speaks only for the segments above (inconclusive)",
                m.missing.join(", ")
            );
        }
    }
    if !r.unjudged_thresholds.is_empty() {
        let _ = writeln!(
            out,
            "  not judged here: {} (`prodlike load merge` judges them on the whole run)",
            r.unjudged_thresholds.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "  {:<16} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>6} {:>7}",
        "stage",
        "target",
        "achieved",
        "requests",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
        "errors",
        "drops",
        "retries"
    );
    for s in &r.stages {
        let target = (s.target_rps > 0.0).then_some(s.target_rps);
        row(&mut out, &s.name, target, s.achieved_rps, &s.counts);
    }
    if r.stages.len() > 1 {
        row(&mut out, "total", r.target_rps, r.achieved_rps, &r.totals);
    }
    if r.requests.len() > 1 {
        let _ = writeln!(out, "  by request:");
        for n in &r.requests {
            row(
                &mut out,
                &n.name,
                None,
                n.counts.requests as f64 / r.duration_s,
                &n.counts,
            );
        }
    }
    let t = &r.totals;
    let _ = writeln!(
        out,
        "  latency is measured from each request's intended send time (no coordinated omission); mean {}",
        ms(t.latency.mean_ms)
    );
    let _ = writeln!(
        out,
        "  data: {} in, {} out; connections opened: {}; amplification {:.2} attempts/request",
        bytes(t.bytes_in),
        bytes(t.bytes_out),
        r.connections_opened,
        t.amplification
    );
    if !r.errors.is_empty() {
        let list: Vec<String> = r.errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "  errors by kind: {}", list.join(", "));
        for (k, v) in &r.error_examples {
            let _ = writeln!(out, "    {k}: {v}");
        }
    }
    if r.interrupted > 0 {
        let _ = writeln!(
            out,
            "  {} requests were still in flight at the end (interrupted)",
            r.interrupted
        );
    }
    if r.held.requested > 0 {
        let h = &r.held;
        let _ = writeln!(
            out,
            "  held connections: {} requested, {} opened, {} closed by the server{}, {} open at the end",
            h.requested,
            h.opened,
            h.closed_by_server,
            h.first_close_s
                .map(|s| format!(" (first at {s:.1}s)"))
                .unwrap_or_default(),
            h.open_at_end
        );
    }
    if let Some(rp) = &r.replay {
        let _ = writeln!(
            out,
            "  replay: {} requests read from {} line(s), {} malformed line(s) skipped{}",
            rp.requests,
            rp.lines,
            rp.skipped,
            if rp.loops > 0 {
                format!(", looped {} time(s)", rp.loops)
            } else {
                String::new()
            }
        );
        for e in rp.skipped_examples.iter().take(5) {
            let _ = writeln!(out, "    skipped {e}");
        }
        if rp.unmasked > 0 {
            let _ = writeln!(
                out,
                "  warning: {} replayed request(s) came from unmasked capture records; they may carry production's personal data",
                rp.unmasked
            );
        }
    }
    let sc = &r.self_check;
    let _ = writeln!(
        out,
        "  self-check: send lag p50 {} p99 {} max {}{}",
        ms(sc.send_lag.p50_ms),
        ms(sc.send_lag.p99_ms),
        ms(sc.send_lag.max_ms),
        if sc.seconds_checked > 0 {
            format!(
                "; {}/{} whole seconds within ±2% of target (worst {:.2}%)",
                sc.seconds_within_2pct, sc.seconds_checked, sc.worst_second_pct
            )
        } else {
            String::new()
        }
    );
    if let Some(reason) = &sc.reason {
        let _ = writeln!(out, "  RUN INVALID: {reason}");
    }
    if let Some(c) = &r.compare {
        let _ = writeln!(
            out,
            "  compare: A = {}, B = {} (α = {}, margins: errors +{} points, latency +{:.0}%; {} of {} routes divergent, {} undecided)",
            c.target_a,
            c.target_b,
            c.alpha,
            c.error_margin * 100.0,
            c.latency_margin * 100.0,
            c.divergent_routes,
            c.routes.len(),
            c.inconclusive_routes,
        );
        for rt in &c.routes {
            let _ = writeln!(
                out,
                "    {:<12} {:<28} n {}/{}  p50 {} → {}  p99 {} → {}",
                rt.verdict.as_str(),
                truncate(&rt.route, 28),
                rt.n_a,
                rt.n_b,
                ms(rt.p50_a_ms),
                ms(rt.p50_b_ms),
                ms(rt.p99_a_ms),
                ms(rt.p99_b_ms),
            );
            for w in &rt.why {
                let _ = writeln!(out, "        {w}");
            }
        }
    }
    for t in &r.thresholds {
        let _ = writeln!(
            out,
            "  threshold {} {}: {}",
            if t.passed { "✓" } else { "✗" },
            t.threshold,
            t.detail
        );
    }
    out
}
