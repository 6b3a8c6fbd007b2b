//! Foreign-key fan-out, target against source: for every foreign key, the distribution of
//! children per parent row (parents without children included) and the share of parents without
//! children, from one `GROUP BY` per key and side. Keys along which the sync keeps every kept
//! parent's children (`plan::fan_out_kept`, from the modes the sync decides with the same rules)
//! are held to a tolerance; the others are reported with the reason they differ by design.
//!
//! The tolerance is a margin, as elsewhere in prodlike: a key fails only when its difference is
//! beyond the margin by more than sampling explains at α = 0.001 —
//! - share of parents without children: |target − source| > 0.05 + z(α)·√(p(1 − p)/m), the
//!   binomial spread of a share of m sampled parents around the source's share p (the source is
//!   the whole population, so its share is known exactly: when every order has lines, a
//!   correct sample has none without);
//! - distribution: Kolmogorov–Smirnov distance (prodlike-stats) > 0.1 + c(α)·√(1/n + 1/m), the
//!   two-sample critical value, n and m the parent rows of each side.
//!
//! A correct 10% sample of Northwind and Chinook passes on every seed measured
//! (`tests/fanout_realworld.rs`, docs/data.md); a target with most order lines deleted fails.

use std::collections::{BTreeMap, HashMap};

use crate::error::Result;
use crate::plan::{self, FanOutKept, Mode, PlanOptions};
use crate::rules::Rules;
use crate::schema::{ForeignKey, Schema, Table};
use crate::source::Source;

pub use prodlike_results::data::verify::FanOutCheck;

use super::Expected;

/// Absolute margin on the share of parents without children.
pub const CHILDLESS_MARGIN: f64 = 0.05;
/// Margin on the KS distance between the children-per-parent distributions.
pub const KS_MARGIN: f64 = 0.1;
/// Two-sided level at which sampling noise is allowed for.
pub const ALPHA: f64 = 0.001;
/// The standard normal quantile at 1 − [`ALPHA`]/2.
const Z_ALPHA: f64 = 3.2905;

/// Rows per table, source and target.
pub struct Counts<'a> {
    pub source: &'a HashMap<String, u64>,
    pub target: &'a HashMap<String, u64>,
}

/// Measures every foreign key's fan-out on both sides and judges the keys the sync keeps whole.
pub async fn check(
    source: &Source,
    target: &Source,
    schema: &Schema,
    rules: &Rules,
    expected: &Expected,
    counts: &Counts<'_>,
    synthetic: bool,
) -> Result<Vec<FanOutCheck>> {
    let diluted = diluted(schema, rules, expected, counts)?;
    let mut out = Vec::new();
    for t in &schema.tables {
        for (i, fk) in t.foreign_keys.iter().enumerate() {
            let s = Side::measure(source, t, fk, counts.source).await?;
            let g = Side::measure(target, t, fk, counts.target).await?;
            // Synth draws children per parent from the profile's percentiles, and its sizes
            // follow --scale: measured, not yet held to a tolerance.
            let why = if synthetic {
                Some("synthetic target: reported only".to_owned())
            } else {
                diluted.get(&(t.name.clone(), i)).cloned()
            };
            out.push(compare(t, fk, &s, &g, why));
        }
    }
    Ok(out)
}

/// The foreign keys (child table, index among its keys) along which the sync does not keep
/// every kept parent's children, with the reason their fan-out differs by design.
pub(crate) fn diluted(
    schema: &Schema,
    rules: &Rules,
    expected: &Expected,
    counts: &Counts<'_>,
) -> Result<BTreeMap<(String, usize), String>> {
    let modes = sync_modes(schema, rules, expected, counts)?;
    Ok(plan::fan_out_kept(schema, &modes)
        .into_iter()
        .filter_map(|(k, v)| match v {
            FanOutKept::Whole => None,
            FanOutKept::Diluted(why) => Some((k, why)),
        })
        .collect())
}

/// The modes the sync decided: the planner's, with the share the verify was told, else any
/// share below 1 when the target holds fewer rows than the source (only whether the sync
/// sampled changes the modes), else a full copy.
fn sync_modes(
    schema: &Schema,
    rules: &Rules,
    expected: &Expected,
    counts: &Counts<'_>,
) -> Result<BTreeMap<String, (Mode, bool)>> {
    let smaller = |name: &String, rows: u64| counts.source.get(name).is_some_and(|&s| rows < s);
    let sampled = match expected {
        Expected::Fraction(f) => *f < 1.0,
        Expected::Rows(m) => m.iter().any(|(t, &n)| smaller(t, n)),
        Expected::Unknown => counts.target.iter().any(|(t, &n)| smaller(t, n)),
    };
    let fraction = match expected {
        Expected::Fraction(f) => *f,
        _ if sampled => rules.defaults.sample.filter(|f| *f < 1.0).unwrap_or(0.5),
        _ => 1.0,
    };
    let opts = PlanOptions {
        fraction,
        seed: 0,
        rare_max_distinct: rules.defaults.rare_max_distinct,
        lookup_max_rows: rules.defaults.lookup_max_rows,
    };
    plan::modes(schema, rules, &opts, counts.source)
}

/// Children per parent row on one side.
pub(crate) struct Side {
    parents: u64,
    /// Children per parent, zeros included.
    per_parent: Vec<f64>,
    children: u64,
    childless: u64,
}

impl Side {
    pub(crate) async fn measure(
        db: &Source,
        t: &Table,
        fk: &ForeignKey,
        counts: &HashMap<String, u64>,
    ) -> Result<Side> {
        let parents = counts.get(&fk.ref_table).copied().unwrap_or(0);
        let groups = db.group_counts(t, &fk.columns).await?;
        // Groups of orphans (no parent row) are the integrity check's business; parents
        // without children are the rows no group names.
        let childless = parents.saturating_sub(groups.len() as u64);
        let mut per_parent: Vec<f64> = groups.iter().map(|&g| g as f64).collect();
        per_parent.extend(std::iter::repeat_n(0.0, childless as usize));
        Ok(Side {
            parents,
            children: groups.iter().sum(),
            per_parent,
            childless,
        })
    }

    /// Parents per number of children (zeros included): what a snapshot stores of the source.
    pub(crate) fn histogram(&self) -> BTreeMap<u64, u64> {
        let mut h = BTreeMap::new();
        for &n in &self.per_parent {
            *h.entry(n as u64).or_insert(0) += 1;
        }
        h
    }

    /// The side a [`Side::histogram`] was taken of.
    pub(crate) fn from_histogram(h: &BTreeMap<u64, u64>) -> Side {
        let mut per_parent = Vec::new();
        let (mut children, mut childless) = (0u64, 0u64);
        for (&n, &parents) in h {
            per_parent.extend(std::iter::repeat_n(n as f64, parents as usize));
            children = children.saturating_add(n.saturating_mul(parents));
            if n == 0 {
                childless = parents;
            }
        }
        Side {
            parents: per_parent.len() as u64,
            per_parent,
            children,
            childless,
        }
    }

    fn mean(&self) -> f64 {
        if self.parents == 0 {
            0.0
        } else {
            self.children as f64 / self.parents as f64
        }
    }

    fn childless_share(&self) -> f64 {
        if self.parents == 0 {
            0.0
        } else {
            self.childless as f64 / self.parents as f64
        }
    }
}

/// The check of one key; `not_compared` says why it is reported only.
pub(crate) fn compare(
    t: &Table,
    fk: &ForeignKey,
    s: &Side,
    g: &Side,
    not_compared: Option<String>,
) -> FanOutCheck {
    let (ps, pg) = (s.childless_share(), g.childless_share());
    let childless_tolerance = CHILDLESS_MARGIN + childless_noise(ps, g.parents);
    let ks = prodlike_stats::ks_two_sample(&s.per_parent, &g.per_parent)
        .map(|k| k.statistic)
        .unwrap_or(0.0);
    let ks_tolerance = KS_MARGIN + ks_noise(s.per_parent.len(), g.per_parent.len());
    let empty = s.parents == 0 || g.parents == 0;
    let not_compared =
        not_compared.or_else(|| empty.then(|| "a side has no parent rows".to_owned()));
    let over =
        not_compared.is_none() && ((pg - ps).abs() > childless_tolerance || ks > ks_tolerance);
    FanOutCheck {
        child: t.name.clone(),
        columns: fk.columns.clone(),
        parent: fk.ref_table.clone(),
        compared: not_compared.is_none(),
        not_compared,
        source_parents: s.parents,
        target_parents: g.parents,
        source_mean: s.mean(),
        target_mean: g.mean(),
        source_childless: ps,
        target_childless: pg,
        childless_tolerance,
        ks,
        ks_tolerance,
        over_tolerance: over,
    }
}

/// How far a share of `parents` sampled parents may stray by chance from the source's
/// `source_share`: z(α) binomial standard errors.
fn childless_noise(source_share: f64, parents: u64) -> f64 {
    if parents == 0 {
        return 0.0;
    }
    Z_ALPHA * (source_share * (1.0 - source_share) / parents as f64).sqrt()
}

/// The two-sample KS critical value at [`ALPHA`]: c(α)·√(1/n + 1/m), c(α) = √(−ln(α/2)/2).
fn ks_noise(n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 0.0;
    }
    let c = (-(ALPHA / 2.0).ln() / 2.0).sqrt();
    c * (1.0 / n as f64 + 1.0 / m as f64).sqrt()
}

/// The failure line naming each key over tolerance, if any.
pub fn failure(checks: &[FanOutCheck]) -> Option<String> {
    let over: Vec<String> = checks
        .iter()
        .filter(|c| c.over_tolerance)
        .map(|c| {
            format!(
                "{}({}) → {}: {:.1}% of parents without children (source {:.1}%, allowed ±{:.1}%), KS distance {:.3} (allowed {:.3})",
                c.child,
                c.columns.join(", "),
                c.parent,
                c.target_childless * 100.0,
                c.source_childless * 100.0,
                c.childless_tolerance * 100.0,
                c.ks,
                c.ks_tolerance
            )
        })
        .collect();
    (!over.is_empty()).then(|| {
        format!(
            "foreign-key fan-out differs from the source: {}",
            over.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_known_to_be_zero_allows_only_the_margin() {
        // Every source order has lines: 15% of 123 sampled orders without lines fails.
        assert_eq!(childless_noise(0.0, 123), 0.0);
        assert!(0.15 > CHILDLESS_MARGIN + childless_noise(0.0, 123));
        // A 44% share over 400 parents may stray by about 8 points.
        let n = childless_noise(0.44, 400);
        assert!((n - 0.0817).abs() < 0.001, "{n}");
    }

    #[test]
    fn ks_noise_is_the_two_sample_critical_value() {
        let c = ks_noise(830, 123);
        assert!(
            (c - 1.949 * (1.0f64 / 830.0 + 1.0 / 123.0).sqrt()).abs() < 0.001,
            "{c}"
        );
        assert_eq!(ks_noise(0, 10), 0.0);
    }
}
