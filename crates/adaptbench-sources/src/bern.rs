//! `bern(p)`: an i.i.d. coin with a known bias, the simplest task. It has no latent, so its Bayes predictor is
//! p itself and its Bayes floor is the binary entropy H(p).

use rand::RngCore;

use crate::check;
use crate::source::{LatentCoin, Sample};
use crate::{Exchangeable, Source, SourceError};

/// An i.i.d. Bernoulli(p) coin: P(x_t = 1 | x_<t) = p.
#[derive(Debug, Clone, PartialEq)]
pub struct Bern {
    p: f64,
}

impl Bern {
    /// The coin with P(1) = `p`; `p` must lie in (0, 1).
    pub fn new(p: f64) -> Result<Self, SourceError> {
        check::probability("p".to_owned(), p)?;
        Ok(Self { p })
    }

    /// P(x_t = 1).
    pub fn p(&self) -> f64 {
        self.p
    }
}

/// `bern(p=0.7)`.
pub(crate) fn canonical_name(p: f64) -> String {
    format!("bern(p={p})")
}

impl Source for Bern {
    fn name(&self) -> String {
        canonical_name(self.p)
    }

    /// Tokens i.i.d. Bernoulli(p), `probs[t] = p`.
    fn sample(&self, rng: &mut dyn RngCore, len: usize) -> Sample {
        Sample::iid(self.p, rng, len)
    }

    /// P(x_t = 1 | x_<t) = p for every t: the history carries no information.
    fn bayes_predictions(&self, seq: &[u8]) -> Vec<f64> {
        vec![self.p; seq.len()]
    }

    fn as_exchangeable(&self) -> Option<&dyn Exchangeable> {
        Some(self)
    }
}

impl Exchangeable for Bern {
    /// P(next = 1 | n0, n1) = p.
    fn predict_counts(&self, _n0: u64, _n1: u64) -> f64 {
        self.p
    }
}

impl LatentCoin for Bern {
    /// The prior is a point mass: θ = p.
    fn sample_theta(&self, _rng: &mut dyn RngCore) -> f64 {
        self.p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use crate::testing::{assert_binomial, assert_joint_sums_to_one, assert_permutation_invariant};

    #[test]
    fn bern_predictor_is_p_whatever_the_history() {
        let source = Bern::new(0.3).expect("valid");
        assert_eq!(source.bayes_predictions(&[1, 1, 0, 1]), vec![0.3; 4]);
        assert_eq!(source.predict_counts(17, 4), 0.3);
        assert_eq!(source.name(), "bern(p=0.3)");
    }

    #[test]
    fn bern_rejects_probabilities_outside_the_open_unit_interval() {
        for p in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            let err = Bern::new(p).expect_err("invalid");
            assert!(err.to_string().starts_with("p = "), "{err}");
            assert!(
                err.to_string()
                    .ends_with("is outside the allowed range (0, 1)"),
                "{err}"
            );
        }
    }

    #[test]
    fn bern_sample_frequency_is_within_binomial_bounds() {
        let source = Bern::new(0.3).expect("valid");
        let sample = source.sample(&mut rng(1), 20_000);
        let ones = sample.tokens.iter().filter(|&&x| x == 1).count();
        assert_binomial(ones, 20_000, 0.3, "ones");
        assert!(sample.tokens.iter().all(|&x| x <= 1));
        // With no latent to infer, the generating probability is p at every step.
        assert!(sample.probs.iter().all(|&p| p == 0.3));
    }

    #[test]
    fn bern_sampling_is_deterministic_for_a_fixed_seed() {
        let source = Bern::new(0.6).expect("valid");
        assert_eq!(
            source.sample(&mut rng(5), 64),
            source.sample(&mut rng(5), 64)
        );
        assert_ne!(
            source.sample(&mut rng(5), 64),
            source.sample(&mut rng(6), 64)
        );
    }

    #[test]
    fn bern_log_loss_is_invariant_under_permutation() {
        assert_permutation_invariant(
            &Bern::new(0.3).expect("valid"),
            &[1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0],
        );
    }

    #[test]
    fn bern_joint_probabilities_sum_to_one() {
        assert_joint_sums_to_one(&Bern::new(0.3).expect("valid"), 8);
    }
}
