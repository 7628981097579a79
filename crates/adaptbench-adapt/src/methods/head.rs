//! `head`: train the unembedding only (the 2-logit output layer) — the linear probe of the base's features.

use adaptbench_model::Transformer;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{adapt_parameters, Adapted};
use crate::error::AdaptError;
use crate::finetune_config::{validate_lr, FinetuneConfig};
use crate::task_data::TaskData;

/// Paths of the head's parameters: `d_model × 2` weights and 2 biases.
pub(crate) const HEAD_PATHS: [&str; 2] = ["head.weight", "head.bias"];

/// The `[methods.head]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeadConfig {
    /// Peak AdamW learning rate. Default: 1e-2 (a linear probe tolerates, and needs, larger steps).
    pub lr: f64,
}

impl Default for HeadConfig {
    fn default() -> Self {
        Self { lr: 1e-2 }
    }
}

impl HeadConfig {
    pub(crate) fn validate(&self, table: &str) -> Result<(), AdaptError> {
        validate_lr(format!("{table}.lr"), self.lr)
    }

    pub(crate) fn adapt(&self, base: &Transformer, data: &TaskData, finetune: &FinetuneConfig, seed: u64, device: &Device) -> Adapted {
        adapt_parameters(base, Some(&HEAD_PATHS), self.lr, data, finetune, seed, device)
    }
}
