//! A frozen neural model as a prompt-steerable predictor, scored by the inference crate's engines (forward
//! only, no autodiff, prompts shared across the N sequences: KV-cached for the Transformer, state-shared for
//! the LSTM).

use adaptbench_infer::FrozenModel;

use crate::error::PromptError;
use crate::config::PredictorKind;
use crate::predictor::{Predictor, ScoreMatrix};

/// A trained Transformer or LSTM conditioned on `BOS, prompt, task tokens`.
pub struct NeuralPredictor {
    model: FrozenModel,
}

impl NeuralPredictor {
    /// Wraps a frozen model (see `adaptbench_model::freeze`).
    pub fn new(model: FrozenModel) -> Self {
        Self { model }
    }
}

impl Predictor for NeuralPredictor {
    fn kind(&self) -> PredictorKind {
        PredictorKind::Neural
    }

    fn score(&self, prompts: &[Vec<u8>], sequences: &[Vec<u8>]) -> Result<ScoreMatrix, PromptError> {
        Ok(self.model.score_prompts(prompts, sequences)?)
    }

    /// BOS + prompt + T − 1 inputs must fit the context: `L ≤ context − T`.
    fn max_prompt_len(&self, task_len: usize) -> Option<usize> {
        Some(self.model.context().saturating_sub(task_len))
    }
}
