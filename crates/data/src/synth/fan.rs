//! Foreign-key fan-out: how many children each parent gets. The main foreign key deals an
//! exact number of children over the parents, each parent's share drawn from the profiled
//! fan-out percentiles (zeros included); other foreign keys pick a parent per row, weighted by
//! draws from the same distribution.

use super::column::draw_percentile;
use crate::profile::FanOut;

/// Children per parent for `n_children` over `n_parents`, following the fan-out percentiles.
pub(super) fn fan_counts(
    fan: Option<&FanOut>,
    n_parents: u64,
    n_children: u64,
    rng: &mut fastrand::Rng,
) -> Vec<u64> {
    if n_parents == 0 {
        return vec![];
    }
    let mut draws: Vec<f64> = (0..n_parents)
        .map(|_| match fan {
            Some(f) if !f.percentiles.is_empty() => {
                draw_percentile(&f.percentiles, rng.f64()).max(0.0)
            }
            _ => 1.0,
        })
        .collect();
    let sum: f64 = draws.iter().sum();
    let factor = if sum > 0.0 {
        n_children as f64 / sum
    } else {
        0.0
    };
    let mut out: Vec<u64> = Vec::with_capacity(draws.len());
    let mut total = 0u64;
    for d in draws.iter_mut() {
        let x = *d * factor;
        let k = x.floor() as u64 + u64::from(rng.f64() < x.fract());
        out.push(k);
        total += k;
    }
    // Settle the exact total with unit steps on random parents that can take them.
    let len = out.len();
    let mut guard = 0u64;
    while total != n_children && guard < 10 * n_children + 1000 {
        guard += 1;
        let i = rng.usize(..len);
        if total < n_children {
            if out[i] > 0 || sum == 0.0 || guard > 4 * n_children + 100 {
                out[i] += 1;
                total += 1;
            }
        } else if out[i] > 0 {
            out[i] -= 1;
            total -= 1;
        }
    }
    out
}

/// Cumulative parent weights for picking parents at random: one fan-out draw per parent (a
/// tiny floor keeps a zero draw pickable in principle), 1 each without a profile.
pub(super) fn cumulative_weights(
    fan: Option<&FanOut>,
    n_parents: u64,
    rng: &mut fastrand::Rng,
) -> Vec<f64> {
    let mut cum = Vec::with_capacity(n_parents as usize);
    let mut acc = 0.0;
    for _ in 0..n_parents {
        acc += match fan {
            Some(f) if !f.percentiles.is_empty() => {
                draw_percentile(&f.percentiles, rng.f64()).max(0.0) + 1e-9
            }
            _ => 1.0,
        };
        cum.push(acc);
    }
    cum
}

/// A parent index drawn with the weights `cum` (`None` when there are no parents).
pub(super) fn pick_weighted(cum: &[f64], rng: &mut fastrand::Rng) -> Option<u64> {
    let total = *cum.last()?;
    let x = rng.f64() * total;
    let p = cum.partition_point(|c| *c < x).min(cum.len() - 1);
    Some(p as u64)
}
