//! Evaluation against the exact Bayes floor: a fixed held-out set of sequences, the model's log-loss on it,
//! the Bayes-optimal log-loss on the same sequences, and their paired difference (excess loss) with a 95% CI.

use adaptbench_model::Transformer;
use adaptbench_sources::Source;
use burn::tensor::Device;
use rand::RngCore;

use crate::batch::{sample_sequences, Batch};
use crate::loss::next_bit_log_probs;

/// A fixed evaluation set with each sequence's exact Bayes-optimal loss.
pub struct HeldOut {
    pub sequences: Vec<Vec<u8>>,
    /// Per sequence, the Bayes-optimal loss in bits per token, `−(1/n) Σ_t log2 P_bayes(x_t | x_<t)`.
    pub bayes_bits: Vec<f64>,
}

/// Model and Bayes losses on a held-out set, in bits per token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    pub loss_bits: f64,
    pub bayes_bits: f64,
    /// `loss_bits − bayes_bits` (≥ 0 up to sampling noise).
    pub excess_bits: f64,
    /// Half-width of the 95% CI of `excess_bits`, over sequences (paired, normal approximation 1.96·s/√n).
    pub excess_ci95: f64,
    pub sequences: usize,
}

impl HeldOut {
    /// Draws `count` sequences of `len` tokens from `source` and computes their Bayes losses exactly.
    pub fn draw(source: &dyn Source, rng: &mut dyn RngCore, count: usize, len: usize) -> Self {
        let sequences = sample_sequences(source, rng, count, len);
        let bayes_bits = sequences
            .iter()
            .map(|sequence| {
                let predictions = source.bayes_predictions(sequence);
                mean_log_loss_bits(sequence, &predictions)
            })
            .collect();
        Self { sequences, bayes_bits }
    }

    /// Evaluates `model` (on an inference device) in batches of `batch_size` sequences.
    pub fn evaluate(&self, model: &Transformer, batch_size: usize, device: &Device) -> Evaluation {
        let mut model_bits = Vec::with_capacity(self.sequences.len());
        for chunk in self.sequences.chunks(batch_size) {
            let batch = Batch::new(chunk, device);
            let [_, seq] = batch.inputs.dims();
            let log_probs = next_bit_log_probs(model.forward(batch.inputs), batch.targets); // [rows, seq]
            // Summed here in f64, in a fixed order: a backend reduction may split differently from run to
            // run under rayon, which would break bit-for-bit reproducibility of the reported losses.
            let nats: Vec<f32> = log_probs.into_data().try_to_vec::<f32>().expect("f32 log-probabilities");
            model_bits.extend(nats.chunks(seq).map(|row| {
                -row.iter().map(|&n| n as f64).sum::<f64>() / (seq as f64 * std::f64::consts::LN_2)
            }));
        }
        let n = model_bits.len() as f64;
        let differences: Vec<f64> = model_bits.iter().zip(&self.bayes_bits).map(|(m, b)| m - b).collect();
        let excess = differences.iter().sum::<f64>() / n;
        let variance = differences.iter().map(|d| (d - excess).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Evaluation {
            loss_bits: model_bits.iter().sum::<f64>() / n,
            bayes_bits: self.bayes_bits.iter().sum::<f64>() / n,
            excess_bits: excess,
            excess_ci95: 1.96 * (variance / n).sqrt(),
            sequences: model_bits.len(),
        }
    }
}

/// `−(1/n) Σ_t log2 P(x_t)` where `predictions[t] = P(x_t = 1 | x_<t)`.
fn mean_log_loss_bits(sequence: &[u8], predictions: &[f64]) -> f64 {
    let total: f64 = sequence
        .iter()
        .zip(predictions)
        .map(|(&x, &p1)| -(if x == 1 { p1 } else { 1.0 - p1 }).log2())
        .sum();
    total / sequence.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_log_loss_of_fair_coin_predictions_is_one_bit() {
        assert_eq!(mean_log_loss_bits(&[1, 0, 1], &[0.5, 0.5, 0.5]), 1.0);
        // x = 1 with P(1) = ¾, then x = 0 with P(1) = ¼, i.e. P(0) = ¾: both cost −log2 ¾.
        let loss = mean_log_loss_bits(&[1, 0], &[0.75, 0.25]);
        assert!((loss - -(0.75f64.log2())).abs() < 1e-15);
    }
}
