//! Seeded simulation helpers shared by the calibration and power suites: exact binomial draws,
//! normal and lognormal samples, AR(1) series, and the rate report with its Clopper–Pearson
//! bound (../shared/DECISIONS.md: the 95% upper limit of a false-positive rate must be ≤ 1.5 α).
#![allow(dead_code)]

use fastrand::Rng;

/// Exact Binomial(n, p) draw by geometric skipping: O(n·min(p, 1 − p)).
pub fn binomial(rng: &mut Rng, n: u64, p: f64) -> u64 {
    if p <= 0.0 || n == 0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    let ln_q = (-p).ln_1p();
    let mut position: u64 = 0;
    let mut count = 0;
    loop {
        let u = rng.f64().max(f64::MIN_POSITIVE);
        let gap = (u.ln() / ln_q).floor();
        if gap >= (n - position) as f64 {
            return count;
        }
        position += gap as u64 + 1;
        if position > n {
            return count;
        }
        count += 1;
    }
}

/// Standard normal draw (Box–Muller).
pub fn normal(rng: &mut Rng) -> f64 {
    let u1 = rng.f64().max(f64::MIN_POSITIVE);
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `n` standard normal draws, both halves of each Box–Muller pair used.
pub fn normals(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1 = rng.f64().max(f64::MIN_POSITIVE);
        let (sin, cos) = (std::f64::consts::TAU * rng.f64()).sin_cos();
        let r = (-2.0 * u1.ln()).sqrt();
        out.push(r * cos);
        out.push(r * sin);
    }
    out.truncate(n);
    out
}

/// `n` lognormal latencies with the given median and log-scale spread, times `scale`.
pub fn lognormal(rng: &mut Rng, n: usize, median: f64, sigma: f64, scale: f64) -> Vec<f64> {
    normals(rng, n)
        .into_iter()
        .map(|z| scale * median * (sigma * z).exp())
        .collect()
}

/// A stationary AR(1) series with lag-1 correlation `rho` and marginal sd `sd`.
pub fn ar1(rng: &mut Rng, n: usize, rho: f64, sd: f64) -> Vec<f64> {
    let innovation = sd * (1.0 - rho * rho).sqrt();
    let mut x = sd * normal(rng);
    (0..n)
        .map(|_| {
            let v = x;
            x = rho * x + innovation * normal(rng);
            v
        })
        .collect()
}

/// Two-sided 95% Clopper–Pearson limits of `hits` out of `trials`.
pub fn cp95(hits: u64, trials: u64) -> (f64, f64) {
    prodlike_stats::clopper_pearson(hits, trials, 0.95)
}

/// Run `trials` seeded trials on both cores; `trial(seed)` says whether the event happened.
pub fn count_parallel(trials: u64, base_seed: u64, trial: impl Fn(u64) -> bool + Sync) -> u64 {
    let trial = &trial;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..2u64)
            .map(|part| {
                s.spawn(move || {
                    (0..trials)
                        .filter(|i| i % 2 == part)
                        .filter(|&i| trial(base_seed.wrapping_mul(1_000_003).wrapping_add(i)))
                        .count() as u64
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    })
}

/// A table of measured rates, printed in one piece (tests run in parallel and would otherwise
/// interleave their rows) and checked after printing.
pub struct Table {
    text: String,
    failures: Vec<String>,
}

impl Table {
    /// A false-positive table: its rows are checked against `1.5 α`.
    pub fn rates(title: &str, event: &str) -> Self {
        Table {
            text: format!(
                "\n{title}\n| scenario | runs | {event} | rate | CP95 upper | bound |\n|---|---|---|---|---|---|\n"
            ),
            failures: Vec::new(),
        }
    }

    /// A power table: its rows are checked against a minimum rate.
    pub fn power(title: &str) -> Self {
        Table {
            text: format!(
                "\n{title}\n| planted divergence | runs | found | power | CP95 lower |\n|---|---|---|---|---|\n"
            ),
            failures: Vec::new(),
        }
    }

    /// A false-positive row: the Clopper–Pearson 95% upper limit must be at most `1.5 α`.
    pub fn calibrated(&mut self, scenario: &str, hits: u64, trials: u64, alpha: f64) {
        let (_, upper) = cp95(hits, trials);
        self.text.push_str(&format!(
            "| {scenario} | {trials} | {hits} | {:.4} | {upper:.4} | ≤ {:.4} |\n",
            hits as f64 / trials as f64,
            1.5 * alpha
        ));
        if upper > 1.5 * alpha {
            self.failures.push(format!(
                "{scenario}: {hits}/{trials}, CP upper {upper:.4} > 1.5α = {:.4}",
                1.5 * alpha
            ));
        }
    }

    /// A power row: at least `min_power` of the runs must find the planted divergence.
    pub fn found(&mut self, scenario: &str, hits: u64, trials: u64, min_power: f64) {
        let (lower, _) = cp95(hits, trials);
        let rate = hits as f64 / trials as f64;
        self.text.push_str(&format!(
            "| {scenario} | {trials} | {hits} | {rate:.4} | {lower:.4} |\n"
        ));
        if rate < min_power {
            self.failures.push(format!(
                "{scenario}: found in {hits}/{trials}, below {min_power}"
            ));
        }
    }

    /// A free-form row or note.
    pub fn note(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// Print the table, then fail if any row missed its bound.
    pub fn finish(self) {
        print!("{}", self.text);
        assert!(self.failures.is_empty(), "{}", self.failures.join("\n"));
    }
}
