//! Physical row order as production has it. PostgreSQL prices an index scan by how closely the
//! table's rows follow the index's order (`pg_stats.correlation`, recorded in the profile): a
//! synth that writes children parent by parent, or keys in increasing order, has a correlation
//! of 1 where production's may be 0, and the planner then picks an index scan where production
//! picks a bitmap scan. So a key whose production correlation is below [`KEEP_ORDER_FROM`] is
//! laid out in a partly shuffled order: a share 1 − |c| of the rows trade places at random, which
//! brings the correlation to about |c| (the rows left in place carry it), in reverse when c is
//! negative. The shuffle has a random stream of its own per table and key, so that a table that
//! is not scattered gets the very rows it got before.

use crate::profile::Profile;

/// A production correlation from this up keeps the generated order (the planner treats 0.9 and
/// 1 alike: nearly every heap fetch is sequential).
pub(super) const KEEP_ORDER_FROM: f64 = 0.9;

/// How to lay out a key of production correlation `c`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Layout {
    /// Reverse the order first (a negative correlation).
    pub reverse: bool,
    /// The share of positions that trade places at random.
    pub share: f64,
}

impl Layout {
    /// `None` when the generated order is production's already (or nothing is known of it).
    pub fn of(correlation: Option<f64>) -> Option<Self> {
        let c = correlation.filter(|c| c.is_finite())?.clamp(-1.0, 1.0);
        if c >= KEEP_ORDER_FROM {
            return None;
        }
        let share = if c.abs() >= KEEP_ORDER_FROM {
            0.0
        } else {
            1.0 - c.abs()
        };
        Some(Layout {
            reverse: c < 0.0,
            share,
        })
    }

    /// Rearranges `items` (deterministic for a given `rng` state).
    pub fn apply<T>(&self, items: &mut [T], rng: &mut fastrand::Rng) {
        if self.reverse {
            items.reverse();
        }
        let chosen: Vec<usize> = (0..items.len())
            .filter(|_| rng.f64() < self.share)
            .collect();
        // Fisher–Yates over the chosen positions only.
        for k in (1..chosen.len()).rev() {
            let j = rng.usize(..=k);
            if let (Some(&a), Some(&b)) = (chosen.get(k), chosen.get(j)) {
                items.swap(a, b);
            }
        }
    }
}

/// The profiled correlation of `table.column` (PostgreSQL sources only).
pub(super) fn correlation(profile: &Profile, table: &str, column: &str) -> Option<f64> {
    profile
        .table(table)?
        .columns
        .iter()
        .find(|c| c.name == column)?
        .correlation
}

/// The random stream of one table's layout of one key (`what`), apart from its values' stream.
pub(super) fn rng(seed: u64, table: &str, what: &str) -> fastrand::Rng {
    fastrand::Rng::with_seed(
        seed ^ crate::plan::unit_hash(seed, &format!("{table} layout {what}"), &[]),
    )
}

/// A sequential integer identity: row `i` gets `start + i`, or, laid out as production's,
/// `start + order[i]`.
pub(super) struct SeqIdentity {
    pub start: i64,
    pub order: Option<Vec<u64>>,
}

impl SeqIdentity {
    /// `start + i` in order, or the rows' keys laid out by `layout`.
    pub fn new(start: i64, n: u64, layout: Option<Layout>, rng: &mut fastrand::Rng) -> Self {
        let order = layout.map(|l| {
            let mut v: Vec<u64> = (0..n).collect();
            l.apply(&mut v, rng);
            v
        });
        SeqIdentity { start, order }
    }

    /// The key of row `i`.
    pub fn key(&self, i: u64) -> i64 {
        let at = self
            .order
            .as_ref()
            .and_then(|o| o.get(i as usize).copied())
            .unwrap_or(i);
        self.start + at as i64
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// Pearson correlation of position and value, as pg_stats measures it (on ranks).
    fn corr(v: &[u64]) -> f64 {
        let n = v.len() as f64;
        let mx = (n - 1.0) / 2.0;
        let my = v.iter().map(|x| *x as f64).sum::<f64>() / n;
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (i, y) in v.iter().enumerate() {
            let (dx, dy) = (i as f64 - mx, *y as f64 - my);
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        sxy / (sxx * syy).sqrt()
    }

    fn laid_out(c: f64, n: u64, seed: u64) -> Vec<u64> {
        let mut v: Vec<u64> = (0..n).collect();
        if let Some(l) = Layout::of(Some(c)) {
            l.apply(&mut v, &mut fastrand::Rng::with_seed(seed));
        }
        v
    }

    #[test]
    fn the_layout_follows_production_correlation() {
        for c in [0.0, 0.3, 0.5, 0.8, -0.4, -0.95, 0.95, 1.0] {
            let v = laid_out(c, 20_000, 7);
            let got = corr(&v);
            assert!((got - c).abs() < 0.1, "production {c}, laid out {got}");
            let mut sorted = v.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..20_000).collect::<Vec<_>>(), "a permutation");
        }
    }

    #[test]
    fn nothing_known_keeps_the_order_and_a_seed_gives_one_layout() {
        assert_eq!(Layout::of(None), None);
        assert_eq!(Layout::of(Some(f64::NAN)), None);
        assert_eq!(Layout::of(Some(0.93)), None);
        assert_eq!(laid_out(0.1, 1000, 3), laid_out(0.1, 1000, 3));
        assert_ne!(laid_out(0.1, 1000, 3), laid_out(0.1, 1000, 4));
    }

    #[test]
    fn a_scattered_identity_keeps_every_key_once() {
        let mut rng = fastrand::Rng::with_seed(1);
        let id = SeqIdentity::new(10, 500, Layout::of(Some(0.0)), &mut rng);
        let mut keys: Vec<i64> = (0..500).map(|i| id.key(i)).collect();
        assert_ne!(keys, (10..510).collect::<Vec<_>>());
        keys.sort_unstable();
        assert_eq!(keys, (10..510).collect::<Vec<_>>());
        let plain = SeqIdentity::new(10, 500, None, &mut rng);
        assert_eq!(plain.key(7), 17);
    }
}
