//! `switching(inner, rate)`: a piecewise-stationary coin. The inner source's latent θ is drawn at t = 0 and
//! re-drawn, fresh and independent, before each later step with probability `rate` (a change point). The
//! exact Bayes predictor is the run-length recursion of Adams & MacKay (2007), "Bayesian online changepoint
//! detection", with a constant hazard and the inner source's conjugate predictive per segment.

use rand::{Rng, RngCore};

use crate::check;
use crate::source::{coin_flip, LatentCoin, Sample};
use crate::{Source, SourceError};

/// A piecewise-stationary source: segments separated by change points, each segment an independent draw of
/// the inner source's latent θ with tokens i.i.d. Bernoulli(θ) inside it.
#[derive(Debug)]
pub struct Switching {
    inner: Box<dyn LatentCoin>,
    rate: f64,
}

impl Switching {
    /// Segments drawn from `inner` (bern, mix or beta), with a change point before each step t ≥ 1 with
    /// probability `rate` ∈ [0, 1). The expected segment length is 1 / rate.
    pub fn new(inner: Box<dyn LatentCoin>, rate: f64) -> Result<Self, SourceError> {
        check::rate("rate".to_owned(), rate)?;
        Ok(Self { inner, rate })
    }

    /// The per-segment source.
    pub fn inner(&self) -> &dyn LatentCoin {
        self.inner.as_ref()
    }

    /// The change-point probability per step (the constant hazard).
    pub fn rate(&self) -> f64 {
        self.rate
    }
}

/// `switching(inner=beta(a=1, b=1), rate=0.01)`.
pub(crate) fn canonical_name(inner: &str, rate: f64) -> String {
    format!("switching(inner={inner}, rate={rate})")
}

impl Source for Switching {
    fn name(&self) -> String {
        canonical_name(&self.inner.name(), self.rate)
    }

    /// Draws θ from the inner prior at t = 0 and, before each t ≥ 1, redraws it with probability `rate`;
    /// `probs[t]` is the θ of the segment containing t.
    fn sample(&self, rng: &mut dyn RngCore, len: usize) -> Sample {
        let mut theta = self.inner.sample_theta(rng);
        let mut tokens = Vec::with_capacity(len);
        let mut probs = Vec::with_capacity(len);
        for t in 0..len {
            if t > 0 && rng.random::<f64>() < self.rate {
                theta = self.inner.sample_theta(rng);
            }
            probs.push(theta);
            tokens.push(coin_flip(theta, rng));
        }
        Sample { tokens, probs }
    }

    /// Exact predictive by the run-length recursion (Adams & MacKay 2007, Alg. 1), O(T²) time, O(T) memory.
    ///
    /// With the current segment starting at s ≤ t (run length r = t − s), let w_t(s) = P(s | x_<t). Then
    ///   P(x_t = 1 | x_<t) = Σ_s w_t(s) · q(n0[s..t], n1[s..t]),
    /// with q the inner predictive on the counts of the segment so far (prefix sums make each O(1) plus the
    /// inner cost). Observing x_t multiplies w_t(s) by q(x_t | segment) and renormalises; the change-point
    /// prior then gives w_{t+1}(s) = (1 − rate) · w_t(s | x_t) for s ≤ t and w_{t+1}(t + 1) = rate.
    /// With rate = 0 only s = 0 keeps mass and this is the inner predictor.
    fn bayes_predictions(&self, seq: &[u8]) -> Vec<f64> {
        // ones[i] = number of ones in seq[..i].
        let mut ones = Vec::with_capacity(seq.len() + 1);
        ones.push(0u64);
        for &x in seq {
            ones.push(ones[ones.len() - 1] + u64::from(x != 0));
        }
        // weights[s] = P(current segment started at s | x_<t); every sequence starts a segment at 0.
        let mut weights = vec![1.0];
        let mut segment_preds = Vec::with_capacity(seq.len());
        let mut out = Vec::with_capacity(seq.len());
        for (t, &x) in seq.iter().enumerate() {
            segment_preds.clear();
            segment_preds.extend((0..=t).map(|s| {
                let n1 = ones[t] - ones[s];
                let n0 = (t - s) as u64 - n1;
                self.inner.predict_counts(n0, n1)
            }));
            out.push(weights.iter().zip(&segment_preds).map(|(w, q)| w * q).sum());
            // Posterior over the segment start given x_t, renormalised so no weight underflows over long
            // sequences; the normaliser is P(x_t | x_<t) > 0 because every q lies in (0, 1).
            for (w, q) in weights.iter_mut().zip(&segment_preds) {
                *w *= if x != 0 { *q } else { 1.0 - q };
            }
            let evidence: f64 = weights.iter().sum();
            let keep = (1.0 - self.rate) / evidence;
            for w in &mut weights {
                *w *= keep;
            }
            weights.push(self.rate);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{
        all_sequences, assert_joint_sums_to_one, assert_permutation_invariant, joint_probability,
    };
    use crate::{rng, Bern, BetaBernoulli, Mix};

    fn paper_mix() -> Mix {
        Mix::new(vec![0.2, 0.7], vec![0.5, 0.5]).expect("valid")
    }

    fn switching(inner: impl LatentCoin + 'static, rate: f64) -> Switching {
        Switching::new(Box::new(inner), rate).expect("valid")
    }

    #[test]
    fn switching_with_rate_zero_reduces_to_the_inner_predictor() {
        let seq = [1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1];
        let inners: Vec<Box<dyn LatentCoin>> = vec![
            Box::new(paper_mix()),
            Box::new(BetaBernoulli::kt()),
            Box::new(Bern::new(0.3).expect("valid")),
        ];
        for inner in inners {
            let expected = inner.bayes_predictions(&seq);
            let source = Switching::new(inner, 0.0).expect("valid");
            for (p, e) in source.bayes_predictions(&seq).iter().zip(&expected) {
                assert!((p - e).abs() < 1e-12, "{}: {p} vs {e}", source.name());
            }
        }
    }

    #[test]
    fn switching_with_rate_zero_is_exchangeable() {
        assert_permutation_invariant(
            &switching(paper_mix(), 0.0),
            &[1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0],
        );
    }

    #[test]
    fn switching_second_prediction_mixes_continuation_and_a_fresh_draw() {
        // After "1", with probability 1 − r the segment continues (predictive 53/90, see mix.rs) and with
        // probability r a fresh θ is drawn (prior mean 0.45): P(x_1 = 1 | 1) = (1 − r) · 53/90 + r · 0.45.
        let r = 0.1;
        let preds = switching(paper_mix(), r).bayes_predictions(&[1, 1]);
        assert!((preds[0] - 0.45).abs() < 1e-15);
        assert!((preds[1] - ((1.0 - r) * 53.0 / 90.0 + r * 0.45)).abs() < 1e-15);
    }

    #[test]
    fn switching_joint_probabilities_sum_to_one() {
        for rate in [0.0, 0.05, 0.3, 0.9] {
            assert_joint_sums_to_one(&switching(paper_mix(), rate), 8);
            assert_joint_sums_to_one(
                &switching(BetaBernoulli::new(0.5, 2.0).expect("valid"), rate),
                8,
            );
        }
    }

    #[test]
    fn switching_predictions_stay_in_the_open_unit_interval() {
        let source = switching(BetaBernoulli::kt(), 0.2);
        let sample = source.sample(&mut rng(3), 500);
        assert!(source
            .bayes_predictions(&sample.tokens)
            .iter()
            .all(|&p| p > 0.0 && p < 1.0));
    }

    /// P(x) by brute force: sum over every change-point pattern c ∈ {0,1}^(T−1) (c_i = 1 means a change
    /// point before step i + 1) of P(c) = rate^|c| (1 − rate)^(T−1−|c|) times the product over segments of
    /// the mixture's marginal likelihood Σ_k w_k θ_k^n1 (1 − θ_k)^n0.
    fn brute_force_joint(mix: &Mix, rate: f64, seq: &[u8]) -> f64 {
        let marginal = |segment: &[u8]| -> f64 {
            let n1 = segment.iter().filter(|&&x| x == 1).count() as i32;
            let n0 = segment.len() as i32 - n1;
            mix.thetas()
                .iter()
                .zip(mix.weights())
                .map(|(t, w)| w * t.powi(n1) * (1.0 - t).powi(n0))
                .sum()
        };
        let len = seq.len();
        all_sequences(len - 1)
            .map(|changes| {
                let n_changes = changes.iter().filter(|&&c| c == 1).count() as i32;
                let prior = rate.powi(n_changes) * (1.0 - rate).powi(len as i32 - 1 - n_changes);
                let mut start = 0;
                let mut likelihood = 1.0;
                for (i, &c) in changes.iter().enumerate() {
                    if c == 1 {
                        likelihood *= marginal(&seq[start..=i]);
                        start = i + 1;
                    }
                }
                prior * likelihood * marginal(&seq[start..])
            })
            .sum()
    }

    #[test]
    fn switching_joint_equals_brute_force_marginalisation_over_change_points() {
        let mix = Mix::new(vec![0.1, 0.5, 0.85], vec![0.3, 0.3, 0.4]).expect("valid");
        for rate in [0.05, 0.25, 0.6] {
            let source = switching(mix.clone(), rate);
            for seq in all_sequences(7) {
                let exact = joint_probability(&source, &seq);
                let brute = brute_force_joint(&mix, rate, &seq);
                assert!(
                    (exact - brute).abs() <= 1e-12 * brute,
                    "{seq:?}: {exact} vs {brute}"
                );
            }
        }
    }

    #[test]
    fn switching_sample_redraws_theta_at_the_rate() {
        // With a continuous inner prior, a change of probs between consecutive steps marks a change point
        // (almost surely: two Beta draws coincide with probability 0).
        let rate = 0.1;
        let source = switching(BetaBernoulli::laplace(), rate);
        let sample = source.sample(&mut rng(8), 20_001);
        let changes = sample.probs.windows(2).filter(|w| w[0] != w[1]).count();
        crate::testing::assert_binomial(changes, 20_000, rate, "change points");
    }

    #[test]
    fn switching_sampling_is_deterministic_for_a_fixed_seed() {
        let source = switching(paper_mix(), 0.2);
        assert_eq!(
            source.sample(&mut rng(4), 64),
            source.sample(&mut rng(4), 64)
        );
    }

    #[test]
    fn switching_name_nests_the_inner_name() {
        assert_eq!(
            switching(BetaBernoulli::laplace(), 0.01).name(),
            "switching(inner=beta(a=1, b=1), rate=0.01)"
        );
    }
}
