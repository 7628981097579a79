//! `markov(order, a, b)`: an order-k binary Markov chain whose 2^k transition probabilities are latent, each
//! drawn independently from Beta(a, b). The Bayes predictor keeps one Beta-Bernoulli count per context.
//! Not exchangeable for k ≥ 1: order matters, so prompts act through more than their counts.

use rand::RngCore;

use crate::check;
use crate::source::{coin_flip, LatentCoin, Sample};
use crate::{BetaBernoulli, Exchangeable, Source, SourceError};

/// An order-k binary Markov chain with θ_c ~ Beta(a, b) independently for each of the 2^k contexts c.
///
/// The context of position t is the previous k tokens, with positions before the start of the sequence
/// read as 0 (zero padding), so every token, including the first k, has a context and is predicted. The
/// context is encoded as c = Σ_{j=1..k} x_{t−j} · 2^(j−1): the most recent token is the lowest bit.
#[derive(Debug, Clone, PartialEq)]
pub struct Markov {
    order: usize,
    /// The prior of every context's θ_c; also the per-context predictive rule.
    prior: BetaBernoulli,
}

impl Markov {
    /// The order-`order` chain (0..=[`MAX_MARKOV_ORDER`](crate::MAX_MARKOV_ORDER)) with per-context prior
    /// Beta(`a`, `b`). Order 0 is a single context: the same distribution as `beta(a, b)`.
    pub fn new(order: usize, a: f64, b: f64) -> Result<Self, SourceError> {
        check::order("order".to_owned(), order)?;
        Ok(Self {
            order,
            prior: BetaBernoulli::new(a, b)?,
        })
    }

    /// The order k: how many previous tokens form the context.
    pub fn order(&self) -> usize {
        self.order
    }

    /// The per-context prior Beta(a, b).
    pub fn prior(&self) -> &BetaBernoulli {
        &self.prior
    }

    /// Number of contexts, 2^k.
    fn n_contexts(&self) -> usize {
        1 << self.order
    }

    /// The context after `context` is followed by token `x`: shift in x as the lowest bit, drop the oldest.
    fn next_context(&self, context: usize, x: u8) -> usize {
        ((context << 1) | usize::from(x != 0)) & (self.n_contexts() - 1)
    }
}

/// `markov(order=2, a=0.5, b=0.5)`.
pub(crate) fn canonical_name(order: usize, a: f64, b: f64) -> String {
    format!("markov(order={order}, a={a}, b={b})")
}

impl Source for Markov {
    fn name(&self) -> String {
        canonical_name(self.order, self.prior.a(), self.prior.b())
    }

    /// Draws θ_c ~ Beta(a, b) for all 2^k contexts, then runs the chain from the all-zero padding context;
    /// `probs[t]` = θ of the context of t.
    fn sample(&self, rng: &mut dyn RngCore, len: usize) -> Sample {
        let thetas: Vec<f64> = (0..self.n_contexts())
            .map(|_| self.prior.sample_theta(rng))
            .collect();
        let mut context = 0;
        let mut tokens = Vec::with_capacity(len);
        let mut probs = Vec::with_capacity(len);
        for _ in 0..len {
            let theta = thetas[context];
            let x = coin_flip(theta, rng);
            probs.push(theta);
            tokens.push(x);
            context = self.next_context(context, x);
        }
        Sample { tokens, probs }
    }

    /// `out[t]` = (n1_c + a) / (n_c + a + b) with c the context of t and n0_c, n1_c the zeros and ones that
    /// followed context c in `seq[..t]`: the contexts' θ_c are independent a priori, so their posteriors are
    /// independent Beta(a + n1_c, b + n0_c).
    fn bayes_predictions(&self, seq: &[u8]) -> Vec<f64> {
        let mut counts = vec![(0u64, 0u64); self.n_contexts()];
        let mut context = 0;
        seq.iter()
            .map(|&x| {
                let (n0, n1) = &mut counts[context];
                let p = self.prior.predict_counts(*n0, *n1);
                if x != 0 {
                    *n1 += 1;
                } else {
                    *n0 += 1;
                }
                context = self.next_context(context, x);
                p
            })
            .collect()
    }

    /// Order 0 is exchangeable (it is `beta(a, b)`); higher orders are not.
    fn as_exchangeable(&self) -> Option<&dyn Exchangeable> {
        (self.order == 0).then_some(&self.prior as &dyn Exchangeable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use crate::testing::{assert_joint_sums_to_one, sequence_log_loss_bits};

    #[test]
    fn markov_order_one_predictor_uses_per_context_laplace_counts() {
        // Laplace (a = b = 1) on "01101"; the context is the previous token, 0 before the start.
        // t=0: ctx 0, no counts: 1/2.                 then ctx 0 has (n0, n1) = (1, 0)
        // t=1: ctx 0 (x0 = 0): (0 + 1)/(1 + 2) = 1/3.  then ctx 0 has (1, 1)
        // t=2: ctx 1 (x1 = 1), no counts: 1/2.         then ctx 1 has (0, 1)
        // t=3: ctx 1: (1 + 1)/(1 + 2) = 2/3.           then ctx 1 has (1, 1)
        // t=4: ctx 0 (x3 = 0): (1 + 1)/(2 + 2) = 1/2.
        let preds = Markov::new(1, 1.0, 1.0)
            .expect("valid")
            .bayes_predictions(&[0, 1, 1, 0, 1]);
        let expected = [0.5, 1.0 / 3.0, 0.5, 2.0 / 3.0, 0.5];
        for (p, e) in preds.iter().zip(expected) {
            assert!((p - e).abs() < 1e-15, "{preds:?}");
        }
    }

    #[test]
    fn markov_order_two_predictor_uses_zero_padded_contexts() {
        // KT (a = b = 1/2) on "1111"; contexts (x_{t−1}, x_{t−2}) with zero padding:
        // t=0: (0,0) → 1/2; t=1: (1,0) → 1/2; t=2: (1,1) → 1/2 (all three contexts are new);
        // t=3: (1,1) seen once followed by 1 → (1 + 1/2)/(1 + 1) = 3/4.
        let preds = Markov::new(2, 0.5, 0.5)
            .expect("valid")
            .bayes_predictions(&[1, 1, 1, 1]);
        assert_eq!(preds, vec![0.5, 0.5, 0.5, 0.75]);
    }

    #[test]
    fn markov_order_zero_equals_beta() {
        let seq = [1, 0, 0, 1, 1, 1, 0, 1];
        let markov = Markov::new(0, 0.5, 2.0).expect("valid");
        let beta = BetaBernoulli::new(0.5, 2.0).expect("valid");
        assert_eq!(markov.bayes_predictions(&seq), beta.bayes_predictions(&seq));
        assert!(markov.as_exchangeable().is_some());
        assert!(Markov::new(1, 0.5, 2.0)
            .expect("valid")
            .as_exchangeable()
            .is_none());
    }

    #[test]
    fn markov_order_one_is_not_exchangeable() {
        // Same counts, different order. KT per context, with the padded start as context 0:
        // "1100": ctx 0 sees 1 then 0, ctx 1 sees 1 then 0: (1/2 · 1/4)² = 1/64, 6 bits;
        // "1010": ctx 0 sees 1, 1 and ctx 1 sees 0, 0: (1/2 · 3/4)² = 9/64, log2(64/9) ≈ 2.83 bits.
        let source = Markov::new(1, 0.5, 0.5).expect("valid");
        let a = sequence_log_loss_bits(&source, &[1, 1, 0, 0]);
        let b = sequence_log_loss_bits(&source, &[1, 0, 1, 0]);
        assert!((a - 6.0).abs() < 1e-12, "{a}");
        assert!((b - (64.0f64 / 9.0).log2()).abs() < 1e-12, "{b}");
    }

    #[test]
    fn markov_joint_probabilities_sum_to_one() {
        for order in 0..=3 {
            assert_joint_sums_to_one(&Markov::new(order, 0.5, 0.5).expect("valid"), 8);
        }
    }

    #[test]
    fn markov_sample_probs_follow_the_context() {
        // Every step with the same context must report the same θ_c; the first step has context 0.
        let source = Markov::new(2, 1.0, 1.0).expect("valid");
        let sample = source.sample(&mut rng(5), 2_000);
        let mut theta_of = [None; 4];
        let mut context = 0;
        for (&x, &p) in sample.tokens.iter().zip(&sample.probs) {
            assert_eq!(*theta_of[context].get_or_insert(p), p);
            context = source.next_context(context, x);
        }
        assert!(theta_of.iter().all(Option::is_some));
    }

    #[test]
    fn markov_rejects_orders_above_the_maximum() {
        let err = Markov::new(9, 1.0, 1.0).expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "order = 9 is outside the allowed range 0..=8"
        );
    }

    #[test]
    fn markov_sampling_is_deterministic_for_a_fixed_seed() {
        let source = Markov::new(3, 0.5, 0.5).expect("valid");
        assert_eq!(
            source.sample(&mut rng(6), 64),
            source.sample(&mut rng(6), 64)
        );
        assert_eq!(source.name(), "markov(order=3, a=0.5, b=0.5)");
    }
}
