//! `beta(a, b)` (Beta-Bernoulli): the coin bias is drawn from a Beta(a, b) prior, so the Bayes predictor is
//! the conjugate rule (n1 + a) / (n + a + b). Krichevsky–Trofimov (KT, 1981) is beta(1/2, 1/2) and Laplace's
//! rule of succession is beta(1, 1).

use rand::RngCore;

use crate::check;
use crate::random::sample_beta;
use crate::source::{predictions_from_counts, LatentCoin, Sample};
use crate::{Exchangeable, Source, SourceError};

/// A coin whose bias is drawn from Beta(a, b): θ ~ Beta(a, b), then tokens i.i.d. Bernoulli(θ).
#[derive(Debug, Clone, PartialEq)]
pub struct BetaBernoulli {
    a: f64,
    b: f64,
}

impl BetaBernoulli {
    /// The Beta(a, b) prior; `a` (pseudo-count of ones) and `b` (of zeros) must be positive and finite.
    pub fn new(a: f64, b: f64) -> Result<Self, SourceError> {
        check::pseudo_count("a".to_owned(), a)?;
        check::pseudo_count("b".to_owned(), b)?;
        Ok(Self { a, b })
    }

    /// Krichevsky–Trofimov: beta(1/2, 1/2), the Jeffreys prior, predictive (n1 + 1/2) / (n + 1). Its regret
    /// against the best fixed coin is ½ log2 n + O(1) bits, minimax to first order (Krichevsky & Trofimov
    /// 1981).
    pub fn kt() -> Self {
        Self { a: 0.5, b: 0.5 }
    }

    /// Laplace's rule of succession: beta(1, 1), the uniform prior, predictive (n1 + 1) / (n + 2).
    pub fn laplace() -> Self {
        Self { a: 1.0, b: 1.0 }
    }

    /// Pseudo-count of ones.
    pub fn a(&self) -> f64 {
        self.a
    }

    /// Pseudo-count of zeros.
    pub fn b(&self) -> f64 {
        self.b
    }
}

/// `beta(a=0.5, b=0.5)`.
pub(crate) fn canonical_name(a: f64, b: f64) -> String {
    format!("beta(a={a}, b={b})")
}

impl Source for BetaBernoulli {
    fn name(&self) -> String {
        canonical_name(self.a, self.b)
    }

    /// Draws θ ~ Beta(a, b), then tokens i.i.d. Bernoulli(θ); `probs[t] = θ`.
    fn sample(&self, rng: &mut dyn RngCore, len: usize) -> Sample {
        let theta = self.sample_theta(rng);
        Sample::iid(theta, rng, len)
    }

    /// `out[t]` = (n1 + a) / (t + a + b) with n1 the ones in `seq[..t]`.
    fn bayes_predictions(&self, seq: &[u8]) -> Vec<f64> {
        predictions_from_counts(self, seq)
    }

    fn as_exchangeable(&self) -> Option<&dyn Exchangeable> {
        Some(self)
    }
}

impl Exchangeable for BetaBernoulli {
    /// P(next = 1 | n0, n1) = (n1 + a) / (n0 + n1 + a + b), the posterior mean of θ under
    /// Beta(a + n1, b + n0).
    fn predict_counts(&self, n0: u64, n1: u64) -> f64 {
        (n1 as f64 + self.a) / ((n0 + n1) as f64 + self.a + self.b)
    }
}

impl LatentCoin for BetaBernoulli {
    /// θ ~ Beta(a, b) from two Gamma draws (Marsaglia & Tsang 2000).
    fn sample_theta(&self, rng: &mut dyn RngCore) -> f64 {
        sample_beta(rng, self.a, self.b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use crate::testing::{assert_joint_sums_to_one, assert_permutation_invariant};

    #[test]
    fn kt_predictor_is_n1_plus_half_over_n_plus_one() {
        // Along "1101": 1/2, (1 + 1/2)/2 = 3/4, (2 + 1/2)/3 = 5/6, (2 + 1/2)/4 = 5/8.
        let preds = BetaBernoulli::kt().bayes_predictions(&[1, 1, 0, 1]);
        let expected = [0.5, 0.75, 5.0 / 6.0, 0.625];
        for (p, e) in preds.iter().zip(expected) {
            assert!((p - e).abs() < 1e-15, "{preds:?}");
        }
    }

    #[test]
    fn laplace_predictor_is_n1_plus_one_over_n_plus_two() {
        // Two ones and one zero: (2 + 1) / (3 + 2) = 3/5; nothing seen: 1/2.
        let laplace = BetaBernoulli::laplace();
        assert!((laplace.predict_counts(1, 2) - 0.6).abs() < 1e-15);
        assert_eq!(laplace.predict_counts(0, 0), 0.5);
        assert_eq!(laplace, BetaBernoulli::new(1.0, 1.0).expect("valid"));
    }

    #[test]
    fn beta_predictor_uses_the_pseudo_counts() {
        // beta(2, 3) after 4 zeros and 1 one: (1 + 2) / (5 + 5) = 3/10.
        let source = BetaBernoulli::new(2.0, 3.0).expect("valid");
        assert!((source.predict_counts(4, 1) - 0.3).abs() < 1e-15);
        assert_eq!(source.name(), "beta(a=2, b=3)");
    }

    #[test]
    fn beta_rejects_non_positive_or_infinite_pseudo_counts() {
        let err = BetaBernoulli::new(0.0, 1.0).expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "a = 0 is outside the allowed range (0, inf)"
        );
        let err = BetaBernoulli::new(1.0, f64::INFINITY).expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "b = inf is outside the allowed range (0, inf)"
        );
    }

    #[test]
    fn beta_log_loss_is_invariant_under_permutation() {
        let source = BetaBernoulli::new(0.7, 2.5).expect("valid");
        assert_permutation_invariant(&source, &[1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1]);
    }

    #[test]
    fn beta_joint_probabilities_sum_to_one() {
        assert_joint_sums_to_one(&BetaBernoulli::kt(), 8);
    }

    #[test]
    fn beta_latent_mean_is_a_over_a_plus_b() {
        let source = BetaBernoulli::new(2.0, 5.0).expect("valid");
        let mut r = rng(11);
        let n = 20_000;
        let thetas: Vec<f64> = (0..n).map(|_| source.sample(&mut r, 1).probs[0]).collect();
        let mean = thetas.iter().sum::<f64>() / n as f64;
        // Beta(2, 5): mean 2/7, variance ab / ((a+b)²(a+b+1)) = 10 / (49 · 8) = 10/392.
        let se = (10.0 / 392.0 / n as f64).sqrt();
        assert!((mean - 2.0 / 7.0).abs() < 5.0 * se, "mean {mean}");
    }

    #[test]
    fn beta_sampling_is_deterministic_for_a_fixed_seed() {
        let source = BetaBernoulli::kt();
        assert_eq!(
            source.sample(&mut rng(2), 32),
            source.sample(&mut rng(2), 32)
        );
    }
}
