//! Random variates that rand 0.9 does not provide on its own: a standard normal, Gamma(k, 1) and
//! Beta(a, b). Implemented here rather than through `rand_distr` to keep this crate's dependency graph to
//! rand and rand_chacha.

use rand::{Rng, RngCore};

/// Draws θ ~ Beta(a, b) as X / (X + Y) with X ~ Gamma(a, 1) and Y ~ Gamma(b, 1) independent.
///
/// Computed as θ = 1 / (1 + exp(ln Y − ln X)) from the logarithms of the Gamma draws, so that small
/// pseudo-counts (a ≪ 1), whose Gamma draws underflow to 0 in linear space, still give a valid θ.
pub(crate) fn sample_beta(rng: &mut dyn RngCore, a: f64, b: f64) -> f64 {
    let ln_x = ln_sample_gamma(rng, a);
    let ln_y = ln_sample_gamma(rng, b);
    1.0 / (1.0 + (ln_y - ln_x).exp())
}

/// ln of a Gamma(shape, 1) draw by Marsaglia & Tsang (2000), "A simple method for generating gamma
/// variables", ACM TOMS 26(3).
///
/// For shape ≥ 1: d = shape − 1/3, c = 1/√(9d); draw x ~ N(0, 1), v = (1 + c·x)³, u ~ U(0, 1], and accept
/// d·v when u < 1 − 0.0331 x⁴ (the cheap squeeze) or ln u < x²/2 + d(1 − v + ln v). For shape < 1 the
/// paper's boost: Gamma(shape) = Gamma(shape + 1) · U^(1/shape), i.e. ln G + ln(U)/shape.
fn ln_sample_gamma(rng: &mut dyn RngCore, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = uniform_open_closed(rng);
        return ln_sample_gamma(rng, shape + 1.0) + u.ln() / shape;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = standard_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = uniform_open_closed(rng);
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
            return (d * v).ln();
        }
    }
}

/// A standard normal draw by the Marsaglia polar method: (u, v) uniform in the unit disc, s = u² + v²,
/// x = u·√(−2 ln s / s). The second variate v·√(−2 ln s / s) is discarded to keep the function stateless.
fn standard_normal(rng: &mut dyn RngCore) -> f64 {
    loop {
        let u = 2.0 * rng.random::<f64>() - 1.0;
        let v = 2.0 * rng.random::<f64>() - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * (-2.0 * s.ln() / s).sqrt();
        }
    }
}

/// A uniform draw in (0, 1], so that its logarithm is finite.
fn uniform_open_closed(rng: &mut dyn RngCore) -> f64 {
    1.0 - rng.random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    /// Mean and variance of `n` draws.
    fn moments(n: usize, mut draw: impl FnMut() -> f64) -> (f64, f64) {
        let xs: Vec<f64> = (0..n).map(|_| draw()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        (mean, var)
    }

    #[test]
    fn standard_normal_has_mean_zero_and_variance_one() {
        let mut r = rng(1);
        let n = 40_000;
        let (mean, var) = moments(n, || standard_normal(&mut r));
        // Standard error of the mean is 1/√n = 0.005; of the variance √(2/n) ≈ 0.007.
        assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "mean {mean}");
        assert!(
            (var - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt(),
            "var {var}"
        );
    }

    #[test]
    fn gamma_draws_have_mean_equal_to_the_shape() {
        let n = 40_000;
        for (seed, shape) in [(2, 0.3), (3, 1.0), (4, 2.5), (5, 40.0)] {
            let mut r = rng(seed);
            let (mean, _) = moments(n, || ln_sample_gamma(&mut r, shape).exp());
            // Gamma(k, 1) has mean k and variance k, so the mean's standard error is √(k/n).
            let se = (shape / n as f64).sqrt();
            assert!(
                (mean - shape).abs() < 5.0 * se,
                "shape {shape}: mean {mean}"
            );
        }
    }

    #[test]
    fn beta_draws_have_the_beta_mean_and_variance() {
        let n = 40_000;
        for (seed, a, b) in [(6, 0.5, 0.5), (7, 2.0, 5.0), (8, 0.05, 0.2)] {
            let mut r = rng(seed);
            let (mean, var) = moments(n, || sample_beta(&mut r, a, b));
            // Beta(a, b): mean a/(a+b), variance ab / ((a+b)²(a+b+1)); a draw lies in [0, 1], so the
            // sample variance's standard error is at most 1/(2√n).
            let true_mean = a / (a + b);
            let true_var = a * b / ((a + b).powi(2) * (a + b + 1.0));
            assert!(
                (mean - true_mean).abs() < 5.0 * (true_var / n as f64).sqrt(),
                "({a}, {b}): mean {mean}"
            );
            assert!(
                (var - true_var).abs() < 5.0 / (2.0 * (n as f64).sqrt()),
                "({a}, {b}): var {var}"
            );
        }
    }

    #[test]
    fn beta_draws_with_tiny_pseudo_counts_stay_in_the_unit_interval() {
        let mut r = rng(9);
        for _ in 0..1000 {
            let theta = sample_beta(&mut r, 1e-3, 1e-3);
            assert!((0.0..=1.0).contains(&theta), "{theta}");
        }
    }
}
