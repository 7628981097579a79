//! `mix(thetas, weights)` (BernMix): the latent coin bias is one of finitely many values, θ = θ_k with
//! probability w_k. This is the pretraining meta-distribution of "Why is prompting hard?" (arXiv 2502.10760),
//! where a prompt moves the posterior over the components.

use rand::{Rng, RngCore};

use crate::check;
use crate::source::{format_list, predictions_from_counts, LatentCoin, Sample};
use crate::{log_sum_exp, Exchangeable, Source, SourceError};

/// A finite mixture of coins: θ = θ_k with probability w_k, then tokens i.i.d. Bernoulli(θ).
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    thetas: Vec<f64>,
    weights: Vec<f64>,
    /// ln w_k, ln θ_k and ln(1 − θ_k), cached because every prediction needs them.
    ln_weights: Vec<f64>,
    ln_thetas: Vec<f64>,
    ln_one_minus_thetas: Vec<f64>,
}

impl Mix {
    /// The mixture with component biases `thetas` (each in (0, 1)) and prior `weights` (positive, as many as
    /// `thetas`, summing to 1 within 1e-9; they are not normalised for you).
    pub fn new(thetas: Vec<f64>, weights: Vec<f64>) -> Result<Self, SourceError> {
        check::mixture("", &thetas, &weights)?;
        Ok(Self {
            ln_weights: weights.iter().map(|w| w.ln()).collect(),
            ln_thetas: thetas.iter().map(|t| t.ln()).collect(),
            ln_one_minus_thetas: thetas.iter().map(|t| (-t).ln_1p()).collect(),
            thetas,
            weights,
        })
    }

    /// The component biases θ_k.
    pub fn thetas(&self) -> &[f64] {
        &self.thetas
    }

    /// The prior weights w_k.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Posterior over the components after `n0` zeros and `n1` ones:
    /// P(k | n0, n1) = w_k θ_k^n1 (1 − θ_k)^n0 / Σ_j w_j θ_j^n1 (1 − θ_j)^n0.
    ///
    /// Computed in log space and normalised with log-sum-exp: the unnormalised terms underflow f64 after a
    /// few thousand tokens.
    pub fn posterior(&self, n0: u64, n1: u64) -> Vec<f64> {
        let ln_joint: Vec<f64> = (0..self.thetas.len())
            .map(|k| self.ln_joint(k, n0, n1))
            .collect();
        let ln_evidence = log_sum_exp(&ln_joint);
        ln_joint.iter().map(|l| (l - ln_evidence).exp()).collect()
    }

    /// ln of the joint probability of component k and a history with `n0` zeros and `n1` ones:
    /// ln w_k + n1 ln θ_k + n0 ln(1 − θ_k).
    fn ln_joint(&self, k: usize, n0: u64, n1: u64) -> f64 {
        self.ln_weights[k] + n1 as f64 * self.ln_thetas[k] + n0 as f64 * self.ln_one_minus_thetas[k]
    }
}

/// `mix(thetas=[0.2, 0.7], weights=[0.5, 0.5])`.
pub(crate) fn canonical_name(thetas: &[f64], weights: &[f64]) -> String {
    format!(
        "mix(thetas={}, weights={})",
        format_list(thetas),
        format_list(weights)
    )
}

impl Source for Mix {
    fn name(&self) -> String {
        canonical_name(&self.thetas, &self.weights)
    }

    /// Draws the component k ~ w, then tokens i.i.d. Bernoulli(θ_k); `probs[t] = θ_k`.
    fn sample(&self, rng: &mut dyn RngCore, len: usize) -> Sample {
        let theta = self.sample_theta(rng);
        Sample::iid(theta, rng, len)
    }

    /// `out[t]` = [`predict_counts`](Exchangeable::predict_counts) on the counts of `seq[..t]`.
    fn bayes_predictions(&self, seq: &[u8]) -> Vec<f64> {
        predictions_from_counts(self, seq)
    }

    fn as_exchangeable(&self) -> Option<&dyn Exchangeable> {
        Some(self)
    }
}

impl Exchangeable for Mix {
    /// P(next = 1 | n0, n1) = Σ_k P(k | n0, n1) θ_k, the posterior mean of θ (see [`Mix::posterior`]).
    fn predict_counts(&self, n0: u64, n1: u64) -> f64 {
        // Σ_k e^(l_k − m) θ_k / Σ_k e^(l_k − m) with m = max_k l_k: the posterior mean without allocating,
        // since this is the inner loop of the switching recursion and of `expected_loss_bits`.
        let components = 0..self.thetas.len();
        let m = components
            .clone()
            .map(|k| self.ln_joint(k, n0, n1))
            .fold(f64::NEG_INFINITY, f64::max);
        let (mut numerator, mut denominator) = (0.0, 0.0);
        for k in components {
            let scaled = (self.ln_joint(k, n0, n1) - m).exp();
            numerator += scaled * self.thetas[k];
            denominator += scaled;
        }
        numerator / denominator
    }
}

impl LatentCoin for Mix {
    /// Draws θ_k with probability w_k by inverting the cumulative weights.
    fn sample_theta(&self, rng: &mut dyn RngCore) -> f64 {
        let u = rng.random::<f64>();
        let mut cumulative = 0.0;
        for (theta, weight) in self.thetas.iter().zip(&self.weights) {
            cumulative += weight;
            if u < cumulative {
                return *theta;
            }
        }
        // The weights sum to 1 only within 1e-9, so u can exceed their rounded sum: that mass belongs to the
        // last component.
        self.thetas[self.thetas.len() - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use crate::testing::{assert_binomial, assert_joint_sums_to_one, assert_permutation_invariant};

    fn paper_mix() -> Mix {
        Mix::new(vec![0.2, 0.7], vec![0.5, 0.5]).expect("valid")
    }

    #[test]
    fn mix_predictor_after_a_one_matches_the_hand_posterior() {
        // After "1": joint 0.5 · 0.2 = 0.1 and 0.5 · 0.7 = 0.35, so P(0.7 | 1) = 0.35 / 0.45 = 7/9 and the
        // predictive is 0.2 · 2/9 + 0.7 · 7/9 = 53/90.
        let preds = paper_mix().bayes_predictions(&[1, 1]);
        assert!((preds[0] - 0.45).abs() < 1e-15); // prior mean (0.2 + 0.7) / 2
        assert!((preds[1] - 53.0 / 90.0).abs() < 1e-15);
        let post = paper_mix().posterior(0, 1);
        assert!((post[1] - 7.0 / 9.0).abs() < 1e-15);
    }

    #[test]
    fn mix_predictor_after_a_zero_matches_the_hand_posterior() {
        // After "0": joint 0.5 · 0.8 = 0.4 and 0.5 · 0.3 = 0.15, so P(0.7 | 0) = 0.15 / 0.55 = 3/11 and the
        // predictive is 0.2 · 8/11 + 0.7 · 3/11 = 3.7/11 = 37/110.
        assert!((paper_mix().predict_counts(1, 0) - 37.0 / 110.0).abs() < 1e-15);
    }

    #[test]
    fn mix_predictor_after_three_ones_and_a_zero_matches_the_hand_posterior() {
        // Joint ∝ 0.2³ · 0.8 = 0.0064 and 0.7³ · 0.3 = 0.1029 (equal weights cancel):
        // predictive = (0.2 · 0.0064 + 0.7 · 0.1029) / (0.0064 + 0.1029) = 0.07331 / 0.1093.
        let expected = 0.07331 / 0.1093;
        assert!((paper_mix().predict_counts(1, 3) - expected).abs() < 1e-14);
    }

    #[test]
    fn mix_posterior_is_stable_for_long_histories() {
        // 0.2^10000 underflows f64; in log space the posterior is simply certain of 0.7.
        let p = paper_mix().predict_counts(3_000, 7_000);
        assert!((p - 0.7).abs() < 1e-12, "{p}");
    }

    #[test]
    fn mix_log_loss_is_invariant_under_permutation() {
        let source = Mix::new(vec![0.1, 0.5, 0.8], vec![0.2, 0.3, 0.5]).expect("valid");
        assert_permutation_invariant(&source, &[1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1]);
    }

    #[test]
    fn mix_joint_probabilities_sum_to_one() {
        assert_joint_sums_to_one(&paper_mix(), 8);
    }

    #[test]
    fn mix_latent_frequencies_match_the_weights() {
        let source = Mix::new(vec![0.1, 0.5, 0.8], vec![0.2, 0.3, 0.5]).expect("valid");
        let mut r = rng(3);
        let n = 20_000;
        let mut counts = [0usize; 3];
        for _ in 0..n {
            let sample = source.sample(&mut r, 4);
            // The generating probability is the sequence's latent θ at every step.
            let theta = sample.probs[0];
            assert!(sample.probs.iter().all(|&p| p == theta));
            let k = source
                .thetas()
                .iter()
                .position(|&t| t == theta)
                .expect("a component");
            counts[k] += 1;
        }
        for (k, &weight) in source.weights().iter().enumerate() {
            assert_binomial(counts[k], n, weight, &format!("component {k}"));
        }
    }

    #[test]
    fn mix_tokens_given_the_latent_are_within_binomial_bounds() {
        let source = paper_mix();
        let mut r = rng(4);
        let (mut ones, mut trials) = ([0usize; 2], [0usize; 2]);
        for _ in 0..2_000 {
            let sample = source.sample(&mut r, 10);
            let k = usize::from(sample.probs[0] == 0.7);
            ones[k] += sample.tokens.iter().filter(|&&x| x == 1).count();
            trials[k] += 10;
        }
        assert_binomial(ones[0], trials[0], 0.2, "ones given θ = 0.2");
        assert_binomial(ones[1], trials[1], 0.7, "ones given θ = 0.7");
    }

    #[test]
    fn mix_sampling_is_deterministic_for_a_fixed_seed() {
        let source = paper_mix();
        assert_eq!(
            source.sample(&mut rng(9), 32),
            source.sample(&mut rng(9), 32)
        );
    }

    #[test]
    fn mix_name_is_canonical() {
        assert_eq!(
            paper_mix().name(),
            "mix(thetas=[0.2, 0.7], weights=[0.5, 0.5])"
        );
    }
}
