//! `FrozenModel`: either frozen predictor, so that prompt search and evaluation take one type and each model
//! runs on its own engine.

use crate::error::InferError;
use crate::lstm::FrozenLstm;
use crate::model::FrozenTransformer;
use crate::{next_bit_log_probs, score_prompts};

/// A frozen Transformer or LSTM.
#[derive(Debug, Clone, PartialEq)]
pub enum FrozenModel {
    /// Scored by the KV-cached Transformer engine.
    Transformer(FrozenTransformer),
    /// Scored by the LSTM's state-sharing engine.
    Lstm(FrozenLstm),
}

impl FrozenModel {
    /// Longest input in positions (BOS + prompt + task tokens).
    pub fn context(&self) -> usize {
        match self {
            Self::Transformer(model) => model.context,
            Self::Lstm(model) => model.context,
        }
    }

    /// Summed loss in bits of each sequence given each prompt: [`score_prompts`] or
    /// [`FrozenLstm::score_prompts`].
    ///
    /// # Errors
    /// As [`score_prompts`].
    pub fn score_prompts(&self, prompts: &[Vec<u8>], sequences: &[Vec<u8>]) -> Result<Vec<Vec<f64>>, InferError> {
        match self {
            Self::Transformer(model) => score_prompts(model, prompts, sequences),
            Self::Lstm(model) => model.score_prompts(prompts, sequences),
        }
    }

    /// Next-bit log-probabilities at every task position: [`next_bit_log_probs`] or
    /// [`FrozenLstm::next_bit_log_probs`].
    ///
    /// # Errors
    /// As [`score_prompts`].
    pub fn next_bit_log_probs(&self, prompt: &[u8], sequences: &[Vec<u8>]) -> Result<Vec<Vec<[f32; 2]>>, InferError> {
        match self {
            Self::Transformer(model) => next_bit_log_probs(model, prompt, sequences),
            Self::Lstm(model) => model.next_bit_log_probs(prompt, sequences),
        }
    }
}

impl From<FrozenTransformer> for FrozenModel {
    fn from(model: FrozenTransformer) -> Self {
        Self::Transformer(model)
    }
}

impl From<FrozenLstm> for FrozenModel {
    fn from(model: FrozenLstm) -> Self {
        Self::Lstm(model)
    }
}
