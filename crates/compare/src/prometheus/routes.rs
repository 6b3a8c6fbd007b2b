//! Both environments' query results reduced to the judge's neutral input: per route, error
//! counts and latency buckets (or the refusal parity decided), and the rate curves.
//!
//! `increase()` extrapolates to the window's edges, so counts come back fractional; they are
//! rounded to whole requests, and cumulative bucket counts are kept from falling (rounding two
//! adjacent buckets may cross by one) since a cumulative histogram never falls.
use std::collections::{BTreeMap, BTreeSet};

use prodlike_stats::{Buckets, ErrorCounts};

use super::fetch::SideData;
use crate::input::{ComparisonInput, LatencyInput, RouteInput, Sides};

fn whole(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v.round() as u64
    } else {
        0
    }
}

fn counts(d: &SideData, route: &str) -> ErrorCounts {
    let requests = whole(d.requests.get(route).copied().unwrap_or(0.0));
    let errors = whole(d.errors.get(route).copied().unwrap_or(0.0)).min(requests);
    ErrorCounts::new(errors, requests)
}

fn buckets(pairs: &[(f64, f64)]) -> Buckets {
    let mut running = 0u64;
    let (bounds, cumulative) = pairs
        .iter()
        .map(|&(le, c)| {
            running = running.max(whole(c));
            (le, running)
        })
        .unzip();
    Buckets::new(bounds, cumulative)
}

/// The same bounds with no observations: the side that has none.
fn empty_like(b: &Buckets) -> Buckets {
    Buckets::new(b.bounds.clone(), vec![0; b.bounds.len()])
}

pub fn input(
    p: &SideData,
    s: &SideData,
    refused: &BTreeMap<String, String>,
    has_histogram: bool,
) -> ComparisonInput {
    let names: BTreeSet<&String> = p.requests.keys().chain(s.requests.keys()).collect();
    let mut routes = Vec::new();
    for route in names {
        let (pc, sc) = (counts(p, route), counts(s, route));
        if pc.requests == 0 && sc.requests == 0 {
            continue;
        }
        let latency = if let Some(reason) = refused.get(route) {
            LatencyInput::Refused(reason.clone())
        } else if !has_histogram {
            LatencyInput::None
        } else {
            match (p.buckets.get(route), s.buckets.get(route)) {
                (Some(pb), Some(sb)) => LatencyInput::Buckets(Sides {
                    production: buckets(pb),
                    staging: buckets(sb),
                }),
                (Some(pb), None) => {
                    let production = buckets(pb);
                    LatencyInput::Buckets(Sides {
                        staging: empty_like(&production),
                        production,
                    })
                }
                (None, Some(sb)) => {
                    let staging = buckets(sb);
                    LatencyInput::Buckets(Sides {
                        production: empty_like(&staging),
                        staging,
                    })
                }
                (None, None) => LatencyInput::None,
            }
        };
        routes.push(RouteInput {
            route: route.clone(),
            errors: Some(Sides {
                production: pc,
                staging: sc,
            }),
            latency,
        });
    }
    ComparisonInput {
        routes,
        rate: Some(Sides {
            production: p.rate.clone(),
            staging: s.rate.clone(),
        }),
    }
}
