//! Observability parity, checked before judging: are both environments observed alike?
//! The same metric names, the same label keys on them, the same histogram bucket boundaries and
//! the same scrape interval (read from sample spacing). Each gap is a finding of its own; a
//! route whose buckets differ gets its latency comparison refused, with the reason, because
//! counts over different buckets do not measure the same thing.
use std::collections::{BTreeMap, BTreeSet};

use prodlike_results::compare::{ParityFinding, ParityKind};

use super::fetch::SideData;
use super::metrics::Plan;

/// Scrape intervals further apart than this ratio are a gap.
const INTERVAL_TOLERANCE: f64 = 1.25;

/// The findings, and the routes whose latency cannot be compared (with the reason).
pub struct Parity {
    pub findings: Vec<ParityFinding>,
    pub refused: BTreeMap<String, String>,
}

/// Inputs of the check besides the two sides' data.
pub struct Context<'a> {
    pub plan: &'a Plan,
    /// Label names the selectors use: they tell the environments apart, so they may differ.
    pub selector_labels: BTreeSet<String>,
    pub production_interval: Option<f64>,
    pub staging_interval: Option<f64>,
}

pub fn check(p: &SideData, s: &SideData, cx: &Context<'_>) -> Parity {
    let mut findings = Vec::new();
    names(p, s, &mut findings);
    label_keys(p, s, cx, &mut findings);
    let refused = buckets(p, s, cx.plan, &mut findings);
    interval(cx, &mut findings);
    Parity { findings, refused }
}

fn list<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    let v: Vec<&str> = items.into_iter().map(String::as_str).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn names(p: &SideData, s: &SideData, out: &mut Vec<ParityFinding>) {
    let pn: BTreeSet<&String> = p.names.keys().collect();
    let sn: BTreeSet<&String> = s.names.keys().collect();
    for name in pn.symmetric_difference(&sn) {
        let (in_p, in_s) = (pn.contains(name), sn.contains(name));
        out.push(ParityFinding {
            kind: ParityKind::MetricName,
            subject: name.to_string(),
            production: if in_p { "present" } else { "missing" }.into(),
            staging: if in_s { "present" } else { "missing" }.into(),
            message: format!(
                "metric {name} is exposed by {} only; {} exposes {}",
                if in_p { "production" } else { "staging" },
                if in_p { "staging" } else { "production" },
                list(if in_p { &sn } else { &pn }.iter().copied())
            ),
        });
    }
}

fn label_keys(p: &SideData, s: &SideData, cx: &Context<'_>, out: &mut Vec<ParityFinding>) {
    for (name, pk) in &p.names {
        let Some(sk) = s.names.get(name) else {
            continue;
        };
        let strip = |k: &BTreeSet<String>| -> BTreeSet<String> {
            k.difference(&cx.selector_labels).cloned().collect()
        };
        let (pk, sk) = (strip(pk), strip(sk));
        if pk == sk {
            continue;
        }
        let only_p: Vec<&String> = pk.difference(&sk).collect();
        let only_s: Vec<&String> = sk.difference(&pk).collect();
        out.push(ParityFinding {
            kind: ParityKind::LabelKeys,
            subject: name.clone(),
            production: list(&pk),
            staging: list(&sk),
            message: format!(
                "metric {name} carries different label keys: only production has {}, only \
                 staging has {}",
                list(only_p),
                list(only_s)
            ),
        });
    }
}

fn bounds_text(b: &[f64]) -> String {
    b.iter()
        .map(|v| {
            if v.is_infinite() {
                "+Inf".to_string()
            } else {
                v.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One finding per distinct pair of differing boundary lists (naming its routes), and each
/// such route refused.
fn buckets(
    p: &SideData,
    s: &SideData,
    plan: &Plan,
    out: &mut Vec<ParityFinding>,
) -> BTreeMap<String, String> {
    let Some(h) = &plan.histogram else {
        return BTreeMap::new();
    };
    let mut refused = BTreeMap::new();
    let mut pairs: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (route, pb) in &p.buckets {
        let Some(sb) = s.buckets.get(route) else {
            continue;
        };
        let pl: Vec<f64> = pb.iter().map(|b| b.0).collect();
        let sl: Vec<f64> = sb.iter().map(|b| b.0).collect();
        if pl != sl {
            let (pt, st) = (bounds_text(&pl), bounds_text(&sl));
            refused.insert(
                route.clone(),
                format!(
                    "latency not compared: the histogram buckets differ (production le = {pt}; \
                     staging le = {st}), so their counts do not measure the same thing; give \
                     both environments the same buckets"
                ),
            );
            pairs.entry((pt, st)).or_default().push(route.clone());
        }
    }
    for ((pt, st), routes) in pairs {
        out.push(ParityFinding {
            kind: ParityKind::Buckets,
            subject: format!("{h}_bucket ({})", routes.join(", ")),
            message: format!(
                "histogram {h} has different bucket boundaries on {} route(s) ({}): production \
                 le = {pt}; staging le = {st}; their latency is not compared",
                routes.len(),
                routes.join(", ")
            ),
            production: pt,
            staging: st,
        });
    }
    refused
}

fn interval(cx: &Context<'_>, out: &mut Vec<ParityFinding>) {
    let (Some(p), Some(s)) = (cx.production_interval, cx.staging_interval) else {
        return;
    };
    if p.max(s) / p.min(s).max(1e-9) > INTERVAL_TOLERANCE {
        out.push(ParityFinding {
            kind: ParityKind::ScrapeInterval,
            subject: cx.plan.requests.clone(),
            production: format!("{p:.1}s"),
            staging: format!("{s:.1}s"),
            message: format!(
                "the scrape interval differs: production's samples of {} are {p:.1}s apart, \
                 staging's {s:.1}s; rates and curves are smoothed differently",
                cx.plan.requests
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            family: "otel",
            requests: "m_count".into(),
            histogram: Some("m".into()),
            route_label: "route".into(),
            status_label: "code".into(),
            method_label: None,
            group_by: vec!["route".into()],
        }
    }

    fn side(names: &[(&str, &[&str])], buckets: &[f64]) -> SideData {
        SideData {
            names: names
                .iter()
                .map(|(n, ks)| (n.to_string(), ks.iter().map(|k| k.to_string()).collect()))
                .collect(),
            buckets: [(
                "/a".to_string(),
                buckets.iter().map(|&b| (b, 1.0)).collect(),
            )]
            .into(),
            ..SideData::default()
        }
    }

    #[test]
    fn each_gap_is_a_finding_of_its_own() {
        let p = side(
            &[
                ("m_count", &["route", "code", "env", "pod"]),
                ("x_total", &["route"]),
            ],
            &[0.1, 1.0, f64::INFINITY],
        );
        let s = side(
            &[("m_count", &["route", "code", "environment"])],
            &[0.1, 2.0, f64::INFINITY],
        );
        let plan = plan();
        let cx = Context {
            plan: &plan,
            selector_labels: ["env".to_string(), "environment".to_string()].into(),
            production_interval: Some(15.0),
            staging_interval: Some(60.0),
        };
        let parity = check(&p, &s, &cx);
        let kinds: Vec<ParityKind> = parity.findings.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ParityKind::MetricName,
                ParityKind::LabelKeys,
                ParityKind::Buckets,
                ParityKind::ScrapeInterval
            ]
        );
        // The selectors' own labels are not a gap; `pod` is.
        assert!(
            parity.findings[1]
                .message
                .contains("only production has pod")
        );
        assert!(!parity.findings[1].message.contains("environment"));
        assert!(parity.refused["/a"].contains("buckets differ"));
        // Alike: nothing.
        let same = check(
            &p,
            &p,
            &Context {
                staging_interval: Some(16.0),
                ..cx
            },
        );
        assert!(same.findings.is_empty() && same.refused.is_empty());
    }
}
