/// Uniform random sample of at most `capacity` values from a stream of any length (Vitter's
/// algorithm R), so statistics over long runs use fixed memory. Seeded: the same stream and seed
/// keep the same sample.
#[derive(Debug, Clone)]
pub struct Reservoir<T> {
    capacity: usize,
    seen: u64,
    items: Vec<T>,
    rng: fastrand::Rng,
}

impl<T> Reservoir<T> {
    pub fn new(capacity: usize, seed: u64) -> Self {
        Self {
            capacity,
            seen: 0,
            items: Vec::with_capacity(capacity.min(4096)),
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    pub fn push(&mut self, item: T) {
        self.seen += 1;
        if self.items.len() < self.capacity {
            self.items.push(item);
            return;
        }
        let j = self.rng.u64(..self.seen);
        if let Ok(j) = usize::try_from(j)
            && j < self.capacity
        {
            self.items[j] = item;
        }
    }

    /// How many values were offered, kept or not.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    pub fn items(&self) -> &[T] {
        &self.items
    }

    pub fn into_items(self) -> Vec<T> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_until_full_then_samples_uniformly() {
        let mut r = Reservoir::new(10, 1);
        for i in 0..5 {
            r.push(i);
        }
        assert_eq!(r.items(), &[0, 1, 2, 3, 4]);
        // Uniformity: over many runs each of 100 values is kept about 10% of the time.
        let mut kept = [0u32; 100];
        for seed in 0..2000 {
            let mut r = Reservoir::new(10, seed);
            for i in 0..100 {
                r.push(i);
            }
            assert_eq!(r.items().len(), 10);
            assert_eq!(r.seen(), 100);
            for &i in r.items() {
                kept[i] += 1;
            }
        }
        for (i, &k) in kept.iter().enumerate() {
            assert!(
                (120..=280).contains(&k),
                "value {i} kept {k} times of 2000, expected ~200"
            );
        }
    }
}
