//! The `Source` trait: a distribution over binary sequences {0,1}^T with its exact Bayes-optimal predictor,
//! plus the two refinements the analysis exploits — exchangeable sources ([`Exchangeable`]), whose
//! predictive depends on the counts only, and i.i.d. coins with a latent bias ([`LatentCoin`]).

use rand::{Rng, RngCore};

/// A distribution over binary sequences with its exact Bayes-optimal predictor.
///
/// Sampling separates the latent from the sample, as DeepMind's `data_generator.py` does
/// (`sample_params`, then `sample_from_params`): the latent (a coin bias, per-context biases, change
/// points) is drawn first and the tokens given it, and the true per-step probability is returned beside the
/// tokens so the gap between the Bayes predictor and an oracle that knows the latent can be measured.
pub trait Source: Send + Sync + std::fmt::Debug {
    /// Short canonical name, e.g. `mix(thetas=[0.2, 0.7], weights=[0.5, 0.5])`; the same string as the
    /// [`SourceSpec`](crate::SourceSpec)'s `Display`.
    fn name(&self) -> String;

    /// Draws one sequence of `len` tokens; also returns the true generating probability
    /// P(x_t = 1 | latent, x_<t) per step.
    fn sample(&self, rng: &mut dyn RngCore, len: usize) -> Sample;

    /// Exact Bayes-optimal predictive probabilities: `out[t]` = P(x_t = 1 | x_<t) under this source, for t in
    /// 0..seq.len() (the prediction for position t uses only `seq[..t]`). Any non-zero byte counts as a 1.
    fn bayes_predictions(&self, seq: &[u8]) -> Vec<f64>;

    /// `Some(..)` for exchangeable sources: the predictive depends on the counts (n0, n1) only.
    fn as_exchangeable(&self) -> Option<&dyn Exchangeable> {
        None
    }
}

/// One sampled sequence with its per-step generating probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The tokens, each 0 or 1.
    pub tokens: Vec<u8>,
    /// `probs[t]` = P(x_t = 1 | latent, x_<t): what an oracle that knows the latent would predict.
    pub probs: Vec<f64>,
}

impl Sample {
    /// `len` tokens i.i.d. Bernoulli(θ), with `probs[t] = θ` for every t.
    pub(crate) fn iid(theta: f64, rng: &mut dyn RngCore, len: usize) -> Self {
        let tokens = (0..len).map(|_| coin_flip(theta, rng)).collect();
        Self {
            tokens,
            probs: vec![theta; len],
        }
    }
}

/// One Bernoulli(θ) token: 1 when a uniform draw in [0, 1) falls below θ.
pub(crate) fn coin_flip(theta: f64, rng: &mut dyn RngCore) -> u8 {
    u8::from(rng.random::<f64>() < theta)
}

/// An exchangeable source: the probability of a sequence is invariant under permutation, so (de Finetti) the
/// Bayes predictive is a function of the counts alone. This is what makes the prompt analysis exact: a
/// prompt acts only through its counts, and expected losses are sums over counts, not over sequences
/// (see [`expected_loss_bits`](crate::expected_loss_bits)).
pub trait Exchangeable {
    /// P(next = 1 | `n0` zeros and `n1` ones seen).
    fn predict_counts(&self, n0: u64, n1: u64) -> f64;
}

/// A source whose latent is one coin bias θ drawn from a prior, with tokens i.i.d. Bernoulli(θ) given θ:
/// `bern` (a point-mass prior), `mix` (a discrete prior) and `beta` (a Beta prior). These are exactly the
/// sources `switching` can re-draw at a change point, since its recursion (Adams & MacKay 2007) needs a fresh
/// draw of the latent and the predictive of a segment from its counts.
pub trait LatentCoin: Source + Exchangeable {
    /// Draws θ from the prior.
    fn sample_theta(&self, rng: &mut dyn RngCore) -> f64;
}

/// The Bayes predictions of an exchangeable source along `seq`: `out[t] = predict_counts(n0(x_<t), n1(x_<t))`.
pub(crate) fn predictions_from_counts(source: &dyn Exchangeable, seq: &[u8]) -> Vec<f64> {
    let (mut n0, mut n1) = (0u64, 0u64);
    seq.iter()
        .map(|&x| {
            let p = source.predict_counts(n0, n1);
            if x != 0 {
                n1 += 1;
            } else {
                n0 += 1;
            }
            p
        })
        .collect()
}

/// Canonical spelling of a list of reals in source names: `[0.2, 0.7]`.
pub(crate) fn format_list(xs: &[f64]) -> String {
    let items: Vec<String> = xs.iter().map(f64::to_string).collect();
    format!("[{}]", items.join(", "))
}
