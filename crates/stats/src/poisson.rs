//! Seeded Poisson draws for the traffic-shape bootstrap: inversion below a mean of 10, and
//! Hörmann's transformed rejection (PTRS, 1993; the algorithm NumPy uses) above, which costs a
//! few uniforms whatever the mean, so a million requests per interval resample as fast as ten.

use statrs::function::gamma::ln_gamma;

pub(crate) fn poisson(rng: &mut fastrand::Rng, lambda: f64) -> f64 {
    if lambda.is_nan() || lambda <= 0.0 || lambda.is_infinite() {
        return 0.0;
    }
    if lambda < 10.0 {
        let limit = (-lambda).exp();
        let mut k = 0.0;
        let mut p = rng.f64();
        while p > limit {
            k += 1.0;
            p *= rng.f64();
        }
        return k;
    }
    let slam = lambda.sqrt();
    let loglam = lambda.ln();
    let b = 0.931 + 2.53 * slam;
    let a = -0.059 + 0.02483 * b;
    let invalpha = 1.1239 + 1.1328 / (b - 3.4);
    let vr = 0.9277 - 3.6224 / (b - 2.0);
    loop {
        let u = rng.f64() - 0.5;
        let v = rng.f64();
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + lambda + 0.43).floor();
        if us >= 0.07 && v <= vr {
            return k;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        if v.ln() + invalpha.ln() - (a / (us * us) + b).ln()
            <= -lambda + k * loglam - ln_gamma(k + 1.0)
        {
            return k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_variance_match() {
        let mut rng = fastrand::Rng::with_seed(5);
        for lambda in [0.5, 3.0, 25.0, 1e4] {
            let n = 20_000;
            let draws: Vec<f64> = (0..n).map(|_| poisson(&mut rng, lambda)).collect();
            let m = draws.iter().sum::<f64>() / n as f64;
            let v = draws.iter().map(|d| (d - m).powi(2)).sum::<f64>() / n as f64;
            let se = (lambda / n as f64).sqrt();
            assert!((m - lambda).abs() < 5.0 * se, "{lambda}: mean {m}");
            assert!((v / lambda - 1.0).abs() < 0.06, "{lambda}: variance {v}");
        }
        assert_eq!(poisson(&mut rng, 0.0), 0.0);
        assert_eq!(poisson(&mut rng, f64::NAN), 0.0);
    }
}
