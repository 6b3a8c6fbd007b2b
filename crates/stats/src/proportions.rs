use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// Two-proportion z-test, e.g. staging's error rate against production's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProportionTest {
    pub rate_a: f64,
    pub rate_b: f64,
    /// rate_a − rate_b
    pub difference: f64,
    pub z: f64,
    /// Two-sided p-value; 1 when there is nothing to compare.
    pub p_value: f64,
    pub n_a: u64,
    pub n_b: u64,
}

pub fn two_proportion_test(hits_a: u64, n_a: u64, hits_b: u64, n_b: u64) -> ProportionTest {
    let rate = |h: u64, n: u64| {
        if n == 0 {
            0.0
        } else {
            h.min(n) as f64 / n as f64
        }
    };
    let (ra, rb) = (rate(hits_a, n_a), rate(hits_b, n_b));
    let mut out = ProportionTest {
        rate_a: ra,
        rate_b: rb,
        difference: ra - rb,
        z: 0.0,
        p_value: 1.0,
        n_a,
        n_b,
    };
    if n_a == 0 || n_b == 0 {
        return out;
    }
    let pooled = (hits_a.min(n_a) + hits_b.min(n_b)) as f64 / (n_a + n_b) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n_a as f64 + 1.0 / n_b as f64)).sqrt();
    if se > 0.0 {
        out.z = (ra - rb) / se;
        out.p_value = (2.0 * (1.0 - Normal::standard().cdf(out.z.abs()))).clamp(0.0, 1.0);
    }
    out
}

/// Wilson score interval for `hits` out of `n` at the given two-sided confidence (e.g. 0.95).
pub fn wilson_interval(hits: u64, n: u64, confidence: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = Normal::standard().inverse_cdf(1.0 - (1.0 - confidence.clamp(0.5, 0.999_999)) / 2.0);
    let nf = n as f64;
    let p = hits.min(n) as f64 / nf;
    let denom = 1.0 + z * z / nf;
    let centre = (p + z * z / (2.0 * nf)) / denom;
    let half = z * ((p * (1.0 - p) / nf) + z * z / (4.0 * nf * nf)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Chi-square test of homogeneity for two rows of category counts (same categories, same
/// order). Returns (statistic, degrees of freedom, p-value); categories empty in both rows are
/// dropped.
pub fn chi_square_homogeneity(a: &[u64], b: &[u64]) -> (f64, usize, f64) {
    let cols: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64, y as f64))
        .filter(|(x, y)| x + y > 0.0)
        .collect();
    let (ta, tb): (f64, f64) = cols
        .iter()
        .fold((0.0, 0.0), |acc, c| (acc.0 + c.0, acc.1 + c.1));
    if cols.len() < 2 || ta == 0.0 || tb == 0.0 {
        return (0.0, 0, 1.0);
    }
    let total = ta + tb;
    let mut stat = 0.0;
    for (x, y) in &cols {
        let col = x + y;
        let ea = col * ta / total;
        let eb = col * tb / total;
        stat += (x - ea).powi(2) / ea + (y - eb).powi(2) / eb;
    }
    let df = cols.len() - 1;
    let p = ChiSquared::new(df as f64)
        .map(|d| 1.0 - d.cdf(stat))
        .unwrap_or(1.0);
    (stat, df, p.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_error_rates_are_significant() {
        let t = two_proportion_test(100, 1000, 20, 1000);
        assert!(t.p_value < 1e-6, "{t:?}");
        assert!((t.difference - 0.08).abs() < 1e-9);
        let same = two_proportion_test(10, 1000, 11, 1000);
        assert!(same.p_value > 0.5, "{same:?}");
        assert_eq!(two_proportion_test(0, 0, 1, 10).p_value, 1.0);
    }

    #[test]
    fn wilson_interval_contains_the_rate() {
        let (lo, hi) = wilson_interval(50, 1000, 0.95);
        assert!(lo < 0.05 && 0.05 < hi);
        assert!(lo > 0.035 && hi < 0.068, "{lo} {hi}");
        assert_eq!(wilson_interval(0, 0, 0.95), (0.0, 1.0));
    }

    #[test]
    fn chi_square_detects_shifted_mix() {
        let (stat, df, p) = chi_square_homogeneity(&[500, 300, 200], &[200, 300, 500]);
        assert_eq!(df, 2);
        assert!(stat > 100.0 && p < 1e-10);
        let (_, _, p_same) = chi_square_homogeneity(&[500, 300, 200], &[510, 290, 200]);
        assert!(p_same > 0.5);
    }
}
