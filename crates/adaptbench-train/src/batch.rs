//! Batches of binary sequences drawn from a source and turned into model inputs and targets.

use adaptbench_model::model_inputs;
use adaptbench_sources::Source;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::RngCore;

/// Draws `count` sequences of `len` tokens from `source`.
pub fn sample_sequences(source: &dyn Source, rng: &mut dyn RngCore, count: usize, len: usize) -> Vec<Vec<u8>> {
    (0..count).map(|_| source.sample(rng, len).tokens).collect()
}

/// A teacher-forced batch: inputs `[BOS, x_1, …, x_{n-1}]`, targets `[x_1, …, x_n]`.
pub struct Batch {
    /// `[batch, seq]` token ids.
    pub inputs: Tensor<2, Int>,
    /// `[batch, seq]` next bits.
    pub targets: Tensor<2, Int>,
}

impl Batch {
    /// Builds the batch for equal-length `sequences` on `device`.
    pub fn new(sequences: &[Vec<u8>], device: &Device) -> Self {
        let batch = sequences.len();
        let seq = sequences.first().map_or(0, Vec::len);
        let targets: Vec<i64> = sequences.iter().flat_map(|s| s.iter().map(|&x| x as i64)).collect();
        Self {
            inputs: Tensor::from_data(TensorData::new(model_inputs(sequences), [batch, seq]), device),
            targets: Tensor::from_data(TensorData::new(targets, [batch, seq]), device),
        }
    }
}
