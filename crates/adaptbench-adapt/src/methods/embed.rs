//! `embed`: train the token embedding only (3 × d_model: the vectors of 0, 1 and BOS); the input-side
//! counterpart of the head-only probe. Position embeddings stay frozen.

use adaptbench_model::Transformer;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{adapt_parameters, Adapted};
use crate::error::AdaptError;
use crate::finetune_config::{validate_lr, FinetuneConfig};
use crate::task_data::TaskData;

/// The `[methods.embed]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbedConfig {
    /// Peak AdamW learning rate. Default: 1e-2.
    pub lr: f64,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        Self { lr: 1e-2 }
    }
}

impl EmbedConfig {
    pub(crate) fn validate(&self, table: &str) -> Result<(), AdaptError> {
        validate_lr(format!("{table}.lr"), self.lr)
    }

    pub(crate) fn adapt(&self, base: &Transformer, data: &TaskData, finetune: &FinetuneConfig, seed: u64, device: &Device) -> Adapted {
        adapt_parameters(base, Some(&["token_embedding.weight"]), self.lr, data, finetune, seed, device)
    }
}
