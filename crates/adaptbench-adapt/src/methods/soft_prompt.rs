//! `soft_prompt`: k prompt vectors after BOS trained by gradient descent on D_N with the base frozen
//! (Lester et al. 2021), in one of three spaces: free embedding vectors, real-valued weights over the token
//! embeddings, or points of the token simplex (convex mixtures of the tokens 0, 1 and BOS) — the relaxations
//! of a hard prompt studied alongside it.

use adaptbench_model::{with_device_seed, Prompt, PromptSpace, Network, VOCAB_SIZE};
use burn::tensor::{Device, Distribution, Int, Tensor};
use serde::{Deserialize, Serialize};

use super::{adapt_parameters, Adapted};
use crate::error::AdaptError;
use crate::finetune_config::{validate_lr, FinetuneConfig};
use crate::task_data::TaskData;

/// The parameter path of a prompt's weights.
pub(crate) const PROMPT_PATHS: [&str; 1] = ["prompt.weights"];

/// The `space` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoftPromptSpace {
    /// k free vectors in the embedding space: k · d_model parameters.
    Embeddings,
    /// k real-valued weight vectors over the 3 token embeddings: 3k parameters.
    TokenWeights,
    /// k softmax-normalised weight vectors over the token embeddings: 3k parameters, always a mixture of tokens.
    TokenSimplex,
}

/// The `init` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoftPromptInit {
    /// Start at a random hard prompt (bits drawn uniformly): the embeddings of those tokens, one-hot weights,
    /// or simplex logits 4·one-hot (98% of the mass on the token).
    Tokens,
    /// Start at random: N(0, s²) vectors with s the RMS of the token embedding entries, or N(0, 1) weights.
    Random,
}

/// The `[methods.soft_prompt]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SoftPromptConfig {
    /// Prompt vectors k. Default: 4. 0 leaves the base unchanged.
    pub length: usize,
    /// Default: "embeddings".
    pub space: SoftPromptSpace,
    /// Default: "tokens".
    pub init: SoftPromptInit,
    /// Peak AdamW learning rate. Default: 1e-2.
    pub lr: f64,
}

impl Default for SoftPromptConfig {
    fn default() -> Self {
        Self { length: 4, space: SoftPromptSpace::Embeddings, init: SoftPromptInit::Tokens, lr: 1e-2 }
    }
}

impl SoftPromptConfig {
    pub(crate) fn params(&self) -> String {
        let space = match self.space {
            SoftPromptSpace::Embeddings => "embeddings",
            SoftPromptSpace::TokenWeights => "token_weights",
            SoftPromptSpace::TokenSimplex => "token_simplex",
        };
        let init = match self.init {
            SoftPromptInit::Tokens => "tokens",
            SoftPromptInit::Random => "random",
        };
        format!("length={};space={space};init={init};lr={}", self.length, self.lr)
    }

    pub(crate) fn validate(&self, table: &str, max_prompt_len: usize) -> Result<(), AdaptError> {
        if self.length > max_prompt_len {
            return Err(AdaptError::invalid(
                format!("{table}.length"),
                self.length,
                format!("allowed range 0..=layout.prompt_max_len = {max_prompt_len}"),
            ));
        }
        validate_lr(format!("{table}.lr"), self.lr)
    }

    /// `base` with an untrained prompt of `length` vectors drawn from `seed` (no prompt when `length` = 0).
    pub fn attach(&self, base: &Network, seed: u64, device: &Device) -> Network {
        let mut model = base.clone();
        if self.length > 0 {
            let weights = with_device_seed(device, seed, || self.initial_weights(base, device));
            model.prompt = Some(Prompt::new(weights, self.space.into()));
        }
        model
    }

    fn initial_weights(&self, base: &Network, device: &Device) -> Tensor<2> {
        let k = self.length;
        let tokens = || Tensor::<2, Int>::random([k, 1], Distribution::Uniform(0.0, 2.0), device).reshape([k]);
        let one_hot = || tokens().one_hot::<2>(VOCAB_SIZE).float();
        let embedding = base.token_embedding.weight.val(); // [3, d_model]
        match (self.init, self.space) {
            (SoftPromptInit::Tokens, SoftPromptSpace::Embeddings) => embedding.select(0, tokens()),
            (SoftPromptInit::Tokens, SoftPromptSpace::TokenWeights) => one_hot(),
            (SoftPromptInit::Tokens, SoftPromptSpace::TokenSimplex) => one_hot().mul_scalar(4.0),
            (SoftPromptInit::Random, SoftPromptSpace::Embeddings) => {
                let rms = embedding.powi_scalar(2).mean().sqrt().into_scalar::<f32>() as f64;
                Tensor::random([k, base.d_model], Distribution::Normal(0.0, rms), device)
            }
            (SoftPromptInit::Random, _) => Tensor::random([k, VOCAB_SIZE], Distribution::Normal(0.0, 1.0), device),
        }
    }

    pub(crate) fn adapt(
        &self,
        base: &Network,
        data: &TaskData,
        finetune: &FinetuneConfig,
        seed: u64,
        device: &Device,
    ) -> Adapted {
        if self.length == 0 {
            return Adapted { model: base.clone(), trainable_params: 0, steps: 0, seconds: 0.0, prompt_tokens: 0 };
        }
        let prompted = self.attach(base, seed, device);
        Adapted {
            prompt_tokens: self.length,
            ..adapt_parameters(&prompted, Some(&PROMPT_PATHS), self.lr, data, finetune, seed, device)
        }
    }
}

impl From<SoftPromptSpace> for PromptSpace {
    fn from(space: SoftPromptSpace) -> Self {
        match space {
            SoftPromptSpace::Embeddings => PromptSpace::Embeddings,
            SoftPromptSpace::TokenWeights => PromptSpace::TokenWeights,
            SoftPromptSpace::TokenSimplex => PromptSpace::TokenSimplex,
        }
    }
}
