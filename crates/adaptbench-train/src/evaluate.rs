//! Evaluation against the exact Bayes floor: a fixed held-out set of sequences, the model's log-loss on it,
//! the Bayes-optimal log-loss on the same sequences, their paired difference (excess loss) with a 95% CI,
//! next-bit accuracy and calibration.

use adaptbench_report::mean_ci95;
use adaptbench_model::fused::is_fused;
use adaptbench_model::{engine_form, Network};
use adaptbench_sources::Source;
use burn::tensor::activation::log_softmax;
use burn::tensor::Device;
use rand::RngCore;

use crate::batch::{sample_sequences, Batch};
use crate::calibration::Calibration;

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
    /// Half-width of the 95% CI of `loss_bits` over sequences (normal approximation 1.96·s/√n).
    pub loss_ci95: f64,
    pub bayes_bits: f64,
    /// `loss_bits − bayes_bits` (≥ 0 up to sampling noise).
    pub excess_bits: f64,
    /// Half-width of the 95% CI of `excess_bits`, over sequences (paired, normal approximation 1.96·s/√n).
    pub excess_ci95: f64,
    /// Next-bit accuracy of the model's arg-max prediction.
    pub accuracy: f64,
    /// Expected calibration error of the model's P(x = 1) (see [`Calibration`]).
    pub ece: f64,
    pub sequences: usize,
}

impl HeldOut {
    /// Draws `count` sequences of `len` tokens from `source` and computes their Bayes losses exactly.
    pub fn draw(source: &dyn Source, rng: &mut dyn RngCore, count: usize, len: usize) -> Self {
        Self::of(source, sample_sequences(source, rng, count, len))
    }

    /// `sequences` (drawn from `source`, e.g. the validation split of D_N) with their exact Bayes losses.
    pub fn of(source: &dyn Source, sequences: Vec<Vec<u8>>) -> Self {
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
    pub fn evaluate(&self, model: &Network, batch_size: usize, device: &Device) -> Evaluation {
        let mut calibration = Calibration::default();
        let model_bits = score(model, &self.sequences, batch_size, device, Some(&mut calibration));
        let differences: Vec<f64> = model_bits.iter().zip(&self.bayes_bits).map(|(m, b)| m - b).collect();
        let (loss_bits, loss_ci95) = mean_ci95(&model_bits);
        let (excess_bits, excess_ci95) = mean_ci95(&differences);
        Evaluation {
            loss_bits,
            loss_ci95,
            bayes_bits: self.bayes_bits.iter().sum::<f64>() / self.bayes_bits.len() as f64,
            excess_bits,
            excess_ci95,
            accuracy: calibration.accuracy(),
            ece: calibration.expected_calibration_error(),
            sequences: model_bits.len(),
        }
    }
}

/// Mean next-bit loss of `model` on `sequences`, bits per token (no Bayes reference needed, e.g. for early
/// stopping on a validation split).
pub fn mean_loss_bits(model: &Network, sequences: &[Vec<u8>], batch_size: usize, device: &Device) -> f64 {
    let bits = score(model, sequences, batch_size, device, None);
    bits.iter().sum::<f64>() / bits.len() as f64
}

/// Per-sequence mean loss in bits per token; also feeds every (P(x = 1), x) pair to `calibration`.
fn score(
    model: &Network,
    sequences: &[Vec<u8>],
    batch_size: usize,
    device: &Device,
    mut calibration: Option<&mut Calibration>,
) -> Vec<f64> {
    let log_probs = engine_log_probs(model, sequences, device).unwrap_or_else(|| burn_log_probs(model, sequences, batch_size, device));
    sequences
        .iter()
        .zip(&log_probs)
        .map(|(sequence, pairs)| {
            // Summed here in f64, in a fixed order: a backend reduction may split differently from run to run
            // under rayon, which would break bit-for-bit reproducibility of the reported losses.
            let mut total = 0.0f64;
            for (&x, pair) in sequence.iter().zip(pairs) {
                total += pair[x as usize] as f64;
                if let Some(calibration) = calibration.as_deref_mut() {
                    calibration.add((pair[1] as f64).exp(), x);
                }
            }
            -total / (sequence.len() as f64 * std::f64::consts::LN_2)
        })
        .collect()
}

/// `[ln P(x_t = 0), ln P(x_t = 1)]` at every position of every sequence from the forward-only engine
/// (`adaptbench-infer`): on the CPU backend, for a model without a prompt or with a hard one. `None` where it
/// does not serve (another backend, a soft prompt; an input the engine rejects, e.g. no sequences), and burn's
/// forward runs instead. The two agree to 1e-5 (tested); the engine is exact up to `f32` rounding and its
/// result does not depend on the thread count.
fn engine_log_probs(model: &Network, sequences: &[Vec<u8>], device: &Device) -> Option<Vec<Vec<[f32; 2]>>> {
    if !is_fused(device, model.head.weight.val().dtype()) {
        return None;
    }
    let (frozen, prompt) = engine_form(model)?;
    frozen.next_bit_log_probs(&prompt, sequences).ok()
}

/// The same from burn's forward, in batches of `batch_size` sequences (of one length each).
fn burn_log_probs(model: &Network, sequences: &[Vec<u8>], batch_size: usize, device: &Device) -> Vec<Vec<[f32; 2]>> {
    let mut result = Vec::with_capacity(sequences.len());
    for chunk in sequences.chunks(batch_size) {
        let batch = Batch::new(chunk, device);
        let log_probs = log_softmax(model.forward(batch.inputs), 2); // [rows, seq, 2]
        let nats: Vec<f32> = log_probs.into_data().try_to_vec::<f32>().expect("f32 log-probabilities");
        let len = chunk.first().map_or(0, Vec::len);
        result.extend(nats.chunks(2 * len).map(|row| row.chunks_exact(2).map(|pair| [pair[0], pair[1]]).collect()));
    }
    result
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

    #[test]
    fn the_ci_of_one_two_three_is_the_normal_half_width() {
        // Mean 2, s = 1, n = 3: 1.96 / √3.
        let (mean, ci) = mean_ci95(&[1.0, 2.0, 3.0]);
        assert_eq!(mean, 2.0);
        assert!((ci - 1.96 / 3f64.sqrt()).abs() < 1e-15);
    }

    fn assert_close(engine: &[Vec<[f32; 2]>], burn: &[Vec<[f32; 2]>]) {
        assert_eq!(engine.len(), burn.len());
        for (a, b) in engine.iter().zip(burn) {
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
                assert!((x - y).abs() <= 1e-5, "engine {x} vs burn {y}");
            }
        }
    }

    #[test]
    fn the_engine_and_burns_forward_agree_to_1e_5_with_and_without_a_hard_prompt() {
        use adaptbench_model::{Prompt, ModelConfig};
        use adaptbench_sources::{rng, SourceSpec};
        let device = Device::flex();
        let mut model = ModelConfig { d_model: 16, n_layers: 2, n_heads: 2, context: 16, ..Default::default() }.init_seeded(&device, 4);
        let source = SourceSpec::Bern { p: 0.3 }.build().unwrap();
        // 37 sequences: the engine's chunks of 16 and a ragged one.
        let sequences = sample_sequences(source.as_ref(), &mut rng(6), 37, 12);
        let engine = engine_log_probs(&model, &sequences, &device).expect("the engine serves a base on flex");
        assert_close(&engine, &burn_log_probs(&model, &sequences, 10, &device));
        model.prompt = Some(Prompt::hard(&[1, 0, 1, 1], &device));
        let engine = engine_log_probs(&model, &sequences, &device).expect("the engine serves a hard prompt on flex");
        assert_close(&engine, &burn_log_probs(&model, &sequences, 10, &device));
    }

    #[test]
    fn a_soft_prompt_is_evaluated_by_burns_forward() {
        use adaptbench_model::{Prompt, PromptSpace, ModelConfig};
        use burn::tensor::{Tensor, TensorData};
        let device = Device::flex();
        let mut model = ModelConfig { d_model: 16, n_heads: 2, context: 12, ..Default::default() }.init_seeded(&device, 4);
        let weights = Tensor::from_data(TensorData::new(vec![0.9f32, 0.1, 0.0, 0.0, 1.0, 0.0], [2, 3]), &device);
        model.prompt = Some(Prompt::new(weights, PromptSpace::TokenWeights));
        assert!(engine_log_probs(&model, &[vec![1, 0, 1]], &device).is_none());
    }

    #[test]
    fn a_model_evaluated_on_the_bayes_sequences_reports_consistent_fields() {
        use adaptbench_model::ModelConfig;
        use adaptbench_sources::{rng, SourceSpec};
        let device = Device::flex();
        let model = ModelConfig { d_model: 16, n_heads: 2, context: 12, ..Default::default() }.init_seeded(&device, 4);
        let source = SourceSpec::Bern { p: 0.8 }.build().unwrap();
        let held_out = HeldOut::draw(source.as_ref(), &mut rng(5), 40, 12);
        let evaluation = held_out.evaluate(&model, 16, &device);
        assert!((evaluation.loss_bits - evaluation.bayes_bits - evaluation.excess_bits).abs() < 1e-12);
        assert!((0.0..=1.0).contains(&evaluation.accuracy) && (0.0..=1.0).contains(&evaluation.ece));
        assert_eq!(evaluation.sequences, 40);
        // The loss of the same model through the validation path is the same number.
        assert_eq!(mean_loss_bits(&model, &held_out.sequences, 16, &device), evaluation.loss_bits);
    }
}
