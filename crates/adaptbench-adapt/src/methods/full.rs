//! `full`: fine-tune every weight of the base.

use adaptbench_model::Transformer;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{adapt_parameters, Adapted};
use crate::error::AdaptError;
use crate::finetune_config::{validate_lr, FinetuneConfig};
use crate::task_data::TaskData;

/// The `[methods.full]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FullConfig {
    /// Peak AdamW learning rate. Default: 1e-3 (the pretraining peak).
    pub lr: f64,
}

impl Default for FullConfig {
    fn default() -> Self {
        Self { lr: 1e-3 }
    }
}

impl FullConfig {
    pub(crate) fn validate(&self, table: &str) -> Result<(), AdaptError> {
        validate_lr(format!("{table}.lr"), self.lr)
    }

    /// Trains all `total_params()` weights.
    pub(crate) fn adapt(&self, base: &Transformer, data: &TaskData, finetune: &FinetuneConfig, seed: u64, device: &Device) -> Adapted {
        adapt_parameters(base, None, self.lr, data, finetune, seed, device)
    }
}
