use std::collections::HashMap;
use std::hash::Hash;

/// Total variation distance between two categorical distributions given as counts: half the sum
/// of absolute differences of their frequencies, in 0..=1 (0 identical, 1 disjoint). Two empty
/// distributions are at distance 0; one empty against a non-empty one at distance 1.
pub fn total_variation_distance<K: Eq + Hash>(a: &HashMap<K, u64>, b: &HashMap<K, u64>) -> f64 {
    let ta: u64 = a.values().sum();
    let tb: u64 = b.values().sum();
    match (ta, tb) {
        (0, 0) => return 0.0,
        (0, _) | (_, 0) => return 1.0,
        _ => {}
    }
    let freq =
        |m: &HashMap<K, u64>, k: &K, t: u64| m.get(k).copied().unwrap_or(0) as f64 / t as f64;
    let mut sum = 0.0;
    for k in a.keys() {
        sum += (freq(a, k, ta) - freq(b, k, tb)).abs();
    }
    for k in b.keys().filter(|k| !a.contains_key(k)) {
        sum += freq(b, k, tb);
    }
    (sum / 2.0).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&'static str, u64)]) -> HashMap<&'static str, u64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn known_distances() {
        let prod = m(&[("free", 90), ("premium", 10)]);
        let same_shape = m(&[("free", 9), ("premium", 1)]);
        assert!(total_variation_distance(&prod, &same_shape) < 1e-12);
        let skewed = m(&[("free", 80), ("premium", 20)]);
        assert!((total_variation_distance(&prod, &skewed) - 0.10).abs() < 1e-12);
        let disjoint = m(&[("trial", 5)]);
        assert!((total_variation_distance(&prod, &disjoint) - 1.0).abs() < 1e-12);
        assert_eq!(total_variation_distance(&m(&[]), &m(&[])), 0.0);
    }
}
