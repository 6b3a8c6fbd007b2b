//! Streaming per-column statistics, shared by `profile` and `verify`.

use std::collections::HashMap;

use prodlike_stats::{HyperLogLog, Reservoir};
use serde::{Deserialize, Serialize};

use super::shape::shape;
use crate::schema::Kind;
use crate::value::{Value, key_hash, stat_number};

/// Distinct values counted exactly before a column counts as high-cardinality.
pub const MAX_TRACKED_VALUES: usize = 5_000;
/// Values kept for quantiles and KS.
pub const RESERVOIR: usize = 20_000;

/// Accumulates one column.
pub struct ColumnStats {
    pub kind: Kind,
    pub rows: u64,
    pub nulls: u64,
    hll: HyperLogLog,
    pub counts: HashMap<String, u64>,
    pub overflow: bool,
    pub numbers: Reservoir<f64>,
    pub lengths: Reservoir<f64>,
    pub shapes: HashMap<String, u64>,
    pub integral: bool,
    pub json_skeletons: HashMap<String, u64>,
    /// Only what a [`ColumnSummary`] holds is gathered (verify's summaries): no distinct
    /// estimate beyond the tracked values (a keyed hash of every value), no lengths, no JSON
    /// skeletons.
    summary_only: bool,
}

impl ColumnStats {
    pub fn new(kind: Kind, seed: u64) -> Self {
        Self {
            kind,
            rows: 0,
            nulls: 0,
            hll: HyperLogLog::new(12),
            counts: HashMap::new(),
            overflow: false,
            numbers: Reservoir::new(RESERVOIR, seed),
            lengths: Reservoir::new(RESERVOIR, seed ^ 0x5eed),
            shapes: HashMap::new(),
            integral: true,
            json_skeletons: HashMap::new(),
            summary_only: false,
        }
    }

    /// Statistics for a [`ColumnSummary`] only: no distinct count beyond the tracked values,
    /// which saves hashing every value, and neither lengths nor JSON skeletons.
    pub fn for_summary(kind: Kind, seed: u64) -> Self {
        Self {
            summary_only: true,
            ..Self::new(kind, seed)
        }
    }

    /// Counts a row of a column whose values are not gathered: whether it is NULL.
    pub fn add_presence(&mut self, null: bool) {
        self.rows += 1;
        if null {
            self.nulls += 1;
        }
    }

    /// Counts a value, gathered only as a number (a masked number's percentiles).
    pub fn add_number(&mut self, v: &Value) {
        self.add_presence(v.is_null());
        if let Some(x) = stat_number(v, self.kind).filter(|_| self.kind.is_numeric()) {
            if x.fract() != 0.0 {
                self.integral = false;
            }
            self.numbers.push(x);
        }
    }

    pub fn add(&mut self, v: &Value) {
        self.rows += 1;
        if v.is_null() {
            self.nulls += 1;
            return;
        }
        if !self.summary_only {
            self.hll.add_hash(key_hash(&[v]) as u64);
        }
        if let Some(x) = stat_number(v, self.kind)
            .filter(|_| self.kind.is_numeric() || matches!(v, Value::Int(_) | Value::Float(_)))
        {
            if x.fract() != 0.0 {
                self.integral = false;
            }
            self.numbers.push(x);
        }
        let text = if let Value::Json(s) = v {
            Some(s.clone())
        } else {
            v.to_text()
        };
        if let Some(t) = text {
            if !self.overflow {
                if let Some(c) = self.counts.get_mut(&t) {
                    *c += 1;
                } else if self.counts.len() < MAX_TRACKED_VALUES {
                    self.counts.insert(t.clone(), 1);
                } else {
                    self.overflow = true;
                    self.counts.clear();
                }
            }
            if self.kind.is_textual() || self.kind == Kind::Uuid {
                if !self.summary_only {
                    self.lengths.push(t.chars().count() as f64);
                }
                if self.kind == Kind::Json {
                    if !self.summary_only
                        && self.json_skeletons.len() < 50
                        && let Ok(doc) = serde_json::from_str::<serde_json::Value>(&t)
                    {
                        *self
                            .json_skeletons
                            .entry(skeleton(&doc).to_string())
                            .or_default() += 1;
                    }
                } else {
                    let sh = shape(&t);
                    if self.shapes.len() < 1000 || self.shapes.contains_key(&sh) {
                        *self.shapes.entry(sh).or_default() += 1;
                    }
                }
            }
        }
    }

    /// Distinct non-null values: exact while tracked, else the HyperLogLog estimate (none, 0,
    /// for statistics made [`ColumnStats::for_summary`]).
    pub fn distinct(&self) -> u64 {
        if !self.overflow {
            self.counts.len() as u64
        } else {
            self.hll.estimate().round() as u64
        }
    }

    pub fn non_null(&self) -> u64 {
        self.rows - self.nulls
    }

    pub fn null_fraction(&self) -> f64 {
        null_share(self.rows, self.nulls)
    }

    /// True when the column is compared as categories: few distinct values, or not numeric.
    pub fn categorical(&self) -> bool {
        !self.overflow && (self.counts.len() <= 200 || !self.kind.is_numeric())
    }

    /// What fidelity compares of this column; `values: false` keeps only the counts of rows and
    /// NULLs (a masked column's values, even as statistics, are the source's).
    pub fn summary(&self, values: bool) -> ColumnSummary {
        if !values {
            return ColumnSummary {
                kind: self.kind,
                rows: self.rows,
                nulls: self.nulls,
                counts: None,
                numbers: Vec::new(),
                shapes: HashMap::new(),
            };
        }
        let mut numbers: Vec<f64> = self
            .numbers
            .items()
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        numbers.sort_by(f64::total_cmp);
        ColumnSummary {
            kind: self.kind,
            rows: self.rows,
            nulls: self.nulls,
            counts: (!self.overflow).then(|| self.counts.clone()),
            numbers: order_statistics(&numbers, SUMMARY_NUMBERS),
            shapes: self.shapes.clone(),
        }
    }
}

/// Order statistics a [`ColumnSummary`] keeps of a column's numbers: the KS distance from an
/// evenly spaced selection of a sorted sample is within 1/`SUMMARY_NUMBERS` of the sample's own.
pub const SUMMARY_NUMBERS: usize = 4096;

/// What verify's fidelity check compares of one column, apart from the accumulator that
/// gathered it: stored in a snapshot's source profile (`verify/stored.rs`), so a target can be
/// compared with a source it cannot reach. Without values (`ColumnStats::summary(false)`) it
/// holds counts of rows and NULLs only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnSummary {
    pub kind: Kind,
    pub rows: u64,
    pub nulls: u64,
    /// Rows per distinct value while at most [`MAX_TRACKED_VALUES`] were seen; `None` beyond,
    /// or when values are withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<HashMap<String, u64>>,
    /// Up to [`SUMMARY_NUMBERS`] order statistics of the sampled numbers, ascending, finite.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<f64>,
    /// Rows per shape of text (`shape.rs`).
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub shapes: HashMap<String, u64>,
}

impl ColumnSummary {
    pub fn non_null(&self) -> u64 {
        self.rows.saturating_sub(self.nulls)
    }

    pub fn null_fraction(&self) -> f64 {
        null_share(self.rows, self.nulls)
    }

    /// The percentiles 0..=100 of a column whose values are the source's secret (a masked
    /// number), each made coarse as `data profile` makes a PII column's ([`super::coarse`]),
    /// with the counts of rows and NULLs: its distribution without any of its values.
    pub fn coarsened(stats: &ColumnStats) -> ColumnSummary {
        let mut s = stats.summary(false);
        s.numbers = percentiles(stats.numbers.items())
            .into_iter()
            .map(|x| super::coarse(x, stats.kind))
            .collect();
        s
    }

    /// The same summary with every number made coarse, to compare it with a [`Self::coarsened`]
    /// one on equal terms.
    pub fn with_coarse_numbers(mut self) -> ColumnSummary {
        for x in &mut self.numbers {
            *x = super::coarse(*x, self.kind);
        }
        self.numbers.sort_by(f64::total_cmp);
        self
    }

    /// As [`ColumnStats::categorical`]: few distinct values, or not numeric.
    pub fn categorical(&self) -> bool {
        self.counts
            .as_ref()
            .is_some_and(|c| c.len() <= 200 || !self.kind.is_numeric())
    }
}

/// The share of `rows` that are NULL (0 of none).
fn null_share(rows: u64, nulls: u64) -> f64 {
    if rows == 0 {
        0.0
    } else {
        nulls as f64 / rows as f64
    }
}

/// At most `keep` evenly spaced order statistics of `sorted` (ascending), its minimum and
/// maximum included.
pub fn order_statistics(sorted: &[f64], keep: usize) -> Vec<f64> {
    if sorted.len() <= keep {
        return sorted.to_vec();
    }
    if keep < 2 {
        return sorted.iter().copied().take(keep).collect();
    }
    let last = (sorted.len() - 1) as f64;
    (0..keep)
        .map(|i| sorted[((i as f64) * last / (keep - 1) as f64).round() as usize])
        .collect()
}

/// A JSON document with strings replaced by their shapes, numbers by 0 and booleans by false.
pub fn skeleton(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::String(s) => J::String(shape(s)),
        J::Number(_) => J::from(0),
        J::Bool(_) => J::Bool(false),
        J::Array(a) => J::Array(a.iter().take(3).map(skeleton).collect()),
        J::Object(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), skeleton(v))).collect()),
        J::Null => J::Null,
    }
}

/// Quantiles at 0%, 1%, …, 100% of a sample.
pub fn percentiles(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return vec![];
    }
    v.sort_by(f64::total_cmp);
    (0..=100)
        .map(|p| prodlike_stats::quantile_sorted(&v, f64::from(p) / 100.0).unwrap_or(0.0))
        .collect()
}

/// Equal-width histogram of a sample.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Bucket {
    pub lo: f64,
    pub hi: f64,
    pub count: u64,
}

pub fn histogram(values: &[f64], buckets: usize) -> Vec<Bucket> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return vec![];
    }
    let width = ((hi - lo) / buckets as f64).max(f64::MIN_POSITIVE);
    let mut out: Vec<Bucket> = (0..buckets)
        .map(|i| Bucket {
            lo: lo + width * i as f64,
            hi: lo + width * (i + 1) as f64,
            count: 0,
        })
        .collect();
    for v in values {
        let i = (((v - lo) / width) as usize).min(buckets - 1);
        out[i].count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The KS distance between a sorted sample and its order statistics stays within
        /// 1/(keep − 1) plus the sample's own granularity: what verify loses by storing them.
        #[test]
        fn order_statistics_keep_the_distribution(
            mut xs in proptest::collection::vec(-1e6f64..1e6, 1..3000),
            keep in 2usize..400,
        ) {
            xs.sort_by(f64::total_cmp);
            let kept = order_statistics(&xs, keep);
            prop_assert_eq!(kept.len(), xs.len().min(keep));
            prop_assert!(kept.windows(2).all(|w| w[0] <= w[1]));
            prop_assert_eq!(kept.first(), xs.first());
            if xs.len() > keep {
                prop_assert_eq!(kept.last(), xs.last());
            }
            let ks = prodlike_stats::ks_two_sample(&xs, &kept).unwrap().statistic;
            let bound = 1.0 / (keep as f64 - 1.0) + 1.0 / xs.len() as f64 + 1e-9;
            prop_assert!(ks <= bound, "ks {} > {} (n {}, keep {})", ks, bound, xs.len(), keep);
        }

        /// A summary without values holds no value of the column, whatever it saw.
        #[test]
        fn a_summary_without_values_holds_counts_only(
            values in proptest::collection::vec(proptest::option::of("[a-z]{1,8}"), 0..200),
        ) {
            let mut st = ColumnStats::new(Kind::Text, 1);
            for v in &values {
                st.add(&v.clone().map_or(Value::Null, Value::Text));
            }
            let s = st.summary(false);
            prop_assert_eq!(s.rows, values.len() as u64);
            prop_assert_eq!(s.nulls, values.iter().filter(|v| v.is_none()).count() as u64);
            prop_assert!(s.counts.is_none() && s.numbers.is_empty() && s.shapes.is_empty());
            let text = serde_json::to_string(&s).unwrap();
            for v in values.iter().flatten() {
                prop_assert!(!text.contains(&format!("\"{v}\"")), "{} in {}", v, text);
            }
        }
    }

    #[test]
    fn a_masked_dates_summary_keeps_coarse_percentiles_only() {
        let mut st = ColumnStats::new(Kind::Date, 5);
        // Birthdays, in days since 2000-01-01: 3,000 distinct days.
        for d in 0..3_000i32 {
            st.add(&Value::Date(d * 7 % 3_000));
        }
        let s = ColumnSummary::coarsened(&st);
        assert_eq!(s.numbers.len(), 101);
        assert!(s.counts.is_none() && s.shapes.is_empty());
        for x in &s.numbers {
            let months = x / 30.4375;
            assert!(
                (months - months.round()).abs() < 1e-9,
                "{x} is not a month's start"
            );
        }
        // The target's dates made coarse alike are the same distribution.
        let g = st.summary(true).with_coarse_numbers();
        let ks = prodlike_stats::ks_two_sample(&s.numbers, &g.numbers)
            .unwrap()
            .statistic;
        assert!(ks < 0.02, "{ks}");
    }

    #[test]
    fn a_summary_with_values_round_trips_through_json() {
        let mut st = ColumnStats::new(Kind::Int, 3);
        for i in 0..10_000i64 {
            st.add(&Value::Int(i % 97));
        }
        st.add(&Value::Null);
        let s = st.summary(true);
        assert_eq!(s.numbers.len(), SUMMARY_NUMBERS);
        assert_eq!(s.counts.as_ref().map(HashMap::len), Some(97));
        let back: ColumnSummary =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        assert!((back.null_fraction() - 1.0 / 10_001.0).abs() < 1e-12);
    }
}
