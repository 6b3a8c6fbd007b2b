//! Pass/fail criteria: `p99<300ms`, `p(99.9)<=1s`, `error_rate<0.01`, `spike:p99<500ms`,
//! `request=checkout:error_rate<1%`, `spike:recovery<10s`. A breached threshold makes the run
//! exit 1.
use prodlike_common::duration::parse as parse_duration;
use serde::Serialize;

use crate::LoadError;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Scope {
    Run,
    Stage(String),
    Request(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Metric {
    /// Latency quantile (0..=1), ms.
    Quantile(f64),
    MaxLatency,
    MeanLatency,
    /// Failed / completed.
    ErrorRate,
    /// Dropped / (completed + dropped).
    DropRate,
    /// Attempts per logical request.
    Amplification,
    /// Achieved rate / target rate.
    Achieved,
    /// Achieved requests per second.
    Rps,
    /// Seconds after the stage ends until per-second p99 and error rate are back to the
    /// level of the stage before it.
    Recovery,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
}

impl Op {
    pub fn holds(self, observed: f64, limit: f64) -> bool {
        match self {
            Op::Lt => observed < limit,
            Op::Le => observed <= limit,
            Op::Gt => observed > limit,
            Op::Ge => observed >= limit,
            Op::Eq => (observed - limit).abs() < 1e-9,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// As written.
    pub text: String,
    pub scope: Scope,
    pub metric: Metric,
    pub op: Op,
    /// In ms for latencies, a fraction for rates, seconds for recovery.
    pub limit: f64,
}

const HELP: &str = "write [SCOPE:]METRIC OP VALUE, e.g. p99<300ms, p(99.9)<1s, error_rate<0.01, spike:p99<500ms, request=checkout:error_rate<1%; metrics: p50 p90 p95 p99 p999 p(N) max mean error_rate drop_rate amplification achieved rps recovery";

// Long: the threshold grammar read left to right, one short arm per metric and scope.
#[allow(clippy::too_many_lines)]
pub fn parse_threshold(input: &str) -> Result<Threshold, LoadError> {
    let text = input.trim();
    let bad = |why: &str| LoadError::spec("threshold", input, format!("{why}; {HELP}"));
    // `=` may appear in a scope (`request=NAME:`), so the comparison is the first `<`, `>` or
    // `==`; a lone `=` after the scope is a mistake worth naming.
    let op_at = match (text.find(['<', '>']), text.find("==")) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => {
            let after_scope = text.rfind(':').map(|i| &text[i + 1..]).unwrap_or(text);
            return Err(if after_scope.contains('=') {
                bad("`=` alone is not a comparison; use ==")
            } else {
                bad("no comparison (<, <=, >, >=, ==)")
            });
        }
    };
    let (lhs, rest) = text.split_at(op_at);
    let (op, value) = if let Some(v) = rest.strip_prefix("<=") {
        (Op::Le, v)
    } else if let Some(v) = rest.strip_prefix(">=") {
        (Op::Ge, v)
    } else if let Some(v) = rest.strip_prefix("==") {
        (Op::Eq, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Op::Lt, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (Op::Gt, v)
    } else {
        return Err(bad("`=` alone is not a comparison; use =="));
    };
    let (scope, metric_txt) = match lhs.rfind(':') {
        Some(i) => {
            let s = lhs[..i].trim();
            let scope = if let Some(r) = s.strip_prefix("request=") {
                Scope::Request(r.trim().to_string())
            } else if let Some(st) = s.strip_prefix("stage=") {
                Scope::Stage(st.trim().to_string())
            } else {
                Scope::Stage(s.to_string())
            };
            if matches!(&scope, Scope::Stage(n) | Scope::Request(n) if n.is_empty()) {
                return Err(bad("empty scope before `:`"));
            }
            (scope, lhs[i + 1..].trim())
        }
        None => (Scope::Run, lhs.trim()),
    };
    let metric = match metric_txt.to_ascii_lowercase().as_str() {
        "p50" | "median" => Metric::Quantile(0.5),
        "p90" => Metric::Quantile(0.9),
        "p95" => Metric::Quantile(0.95),
        "p99" => Metric::Quantile(0.99),
        "p999" | "p99.9" => Metric::Quantile(0.999),
        "max" => Metric::MaxLatency,
        "mean" | "avg" => Metric::MeanLatency,
        "error_rate" | "errors" | "http_req_failed" => Metric::ErrorRate,
        "drop_rate" | "drops" | "dropped" => Metric::DropRate,
        "amplification" => Metric::Amplification,
        "achieved" => Metric::Achieved,
        "rps" | "rate" => Metric::Rps,
        "recovery" => Metric::Recovery,
        m => {
            let q = m
                .strip_prefix("p(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.trim().parse::<f64>().ok())
                .filter(|q| *q > 0.0 && *q <= 100.0)
                .ok_or_else(|| bad(&format!("unknown metric `{metric_txt}`")))?;
            Metric::Quantile((q / 100.0 * 1e9).round() / 1e9)
        }
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(bad("no value after the comparison"));
    }
    let limit = match metric {
        Metric::Quantile(_) | Metric::MaxLatency | Metric::MeanLatency => {
            parse_duration(value)
                .map_err(|_| bad("latency limits are durations like 300ms or 1.5s"))?
                .as_micros() as f64
                / 1000.0
        }
        Metric::Recovery => parse_duration(value)
            .map_err(|_| bad("recovery limits are durations like 10s"))?
            .as_secs_f64(),
        Metric::ErrorRate | Metric::DropRate | Metric::Achieved => {
            let (num, pct) = match value.strip_suffix('%') {
                Some(n) => (n, true),
                None => (value, false),
            };
            let v: f64 = num
                .trim()
                .parse()
                .map_err(|_| bad("rates are fractions like 0.01 or percentages like 1%"))?;
            if pct { v / 100.0 } else { v }
        }
        Metric::Amplification | Metric::Rps => {
            value.parse().map_err(|_| bad("expected a number"))?
        }
    };
    if !limit.is_finite() || limit < 0.0 {
        return Err(bad("the value must be a non-negative number"));
    }
    if metric == Metric::Recovery && !matches!(scope, Scope::Stage(_)) {
        return Err(bad("recovery needs a stage scope, e.g. spike:recovery<10s"));
    }
    if metric == Metric::Achieved && matches!(scope, Scope::Request(_)) {
        return Err(bad(
            "achieved compares with the planned rate, which a request has no share of; use rps",
        ));
    }
    Ok(Threshold {
        text: text.to_string(),
        scope,
        metric,
        op,
        limit,
    })
}

/// Checks that every scoped threshold names a stage or a request of the run, so that a
/// misspelled name is an error before anything is sent rather than a pass. `requests` is `None`
/// when the names come from what the run reads (replayed routes); those are checked in the result.
pub fn check_scopes(
    thresholds: &[Threshold],
    stages: &[String],
    requests: Option<&[String]>,
) -> Result<(), LoadError> {
    for t in thresholds {
        let (kind, name, known) = match (&t.scope, requests) {
            (Scope::Stage(name), _) => ("stage", name, stages),
            (Scope::Request(name), Some(known)) => ("request", name, known),
            (Scope::Run, _) | (Scope::Request(_), None) => continue,
        };
        if !known.contains(name) {
            return Err(LoadError::UnknownScope {
                threshold: t.text.clone(),
                kind,
                name: name.clone(),
                known: known.join(", "),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_documented_forms() {
        let t = parse_threshold("p99<300ms").unwrap();
        assert_eq!(
            (t.metric, t.op, t.limit, t.scope),
            (Metric::Quantile(0.99), Op::Lt, 300.0, Scope::Run)
        );
        let t = parse_threshold("p(99.9) <= 1.5s").unwrap();
        assert_eq!((t.metric, t.limit), (Metric::Quantile(0.999), 1500.0));
        let t = parse_threshold("spike:p99<500ms").unwrap();
        assert_eq!(t.scope, Scope::Stage("spike".into()));
        let t = parse_threshold("request=GET /api/items:error_rate<1%").unwrap();
        assert_eq!(
            (t.scope, t.limit),
            (Scope::Request("GET /api/items".into()), 0.01)
        );
        let t = parse_threshold("achieved>=0.98").unwrap();
        assert_eq!((t.metric, t.op), (Metric::Achieved, Op::Ge));
        let t = parse_threshold("spike:recovery<10s").unwrap();
        assert_eq!((t.metric, t.limit), (Metric::Recovery, 10.0));
        assert!(parse_threshold("drops==0").is_ok());
    }

    #[test]
    fn bad_thresholds_say_why() {
        for (bad, needle) in [
            ("p99", "no comparison"),
            ("p99=3ms", "=="),
            ("p98<3ms", "unknown metric"),
            ("p99<fast", "durations"),
            ("error_rate<lots", "fractions"),
            ("recovery<5s", "stage scope"),
            ("request=GET /:recovery<5s", "stage scope"),
            ("request=GET /:achieved>0.9", "use rps"),
            (":p99<1s", "empty scope"),
            ("p99<", "no value"),
        ] {
            let msg = parse_threshold(bad).unwrap_err().to_string();
            assert!(msg.contains(needle), "{bad}: {msg}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_threshold(&s);
        }

        #[test]
        fn latency_thresholds_round_trip(q in prop::sample::select(vec!["p50", "p90", "p95", "p99", "p999", "max", "mean"]),
                                         op in prop::sample::select(vec!["<", "<=", ">", ">="]),
                                         ms in 1u64..100_000) {
            let t = parse_threshold(&format!("{q}{op}{ms}ms")).unwrap();
            prop_assert_eq!(t.limit, ms as f64);
        }
    }
}
