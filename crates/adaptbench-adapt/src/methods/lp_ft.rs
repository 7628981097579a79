//! `lp_ft`: linear probe, then fine-tune (Kumar et al. 2022, "Fine-Tuning can Distort Pretrained Features and
//! Underperform Out-of-Distribution"): train the head alone first, so that full fine-tuning starts from a
//! head that already fits the task and distorts the features less.

use adaptbench_model::Network;
use adaptbench_sources::derive_seed;
use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::head::HEAD_PATHS;
use super::{trainable_copy, Adapted};
use crate::error::AdaptError;
use crate::finetune::finetune;
use crate::finetune_config::{validate_lr, FinetuneConfig};
use crate::task_data::TaskData;
use crate::trainable::trainable_params;

/// The `[methods.lp_ft]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LpFtConfig {
    /// Steps of the linear-probe phase (head only); the fine-tuning phase runs `finetune.steps`. Default: 100.
    pub probe_steps: usize,
    /// Peak learning rate of the probe phase. Default: 1e-2 (as `head`).
    pub probe_lr: f64,
    /// Peak learning rate of the fine-tuning phase. Default: 1e-3 (as `full`).
    pub lr: f64,
}

impl Default for LpFtConfig {
    fn default() -> Self {
        Self { probe_steps: 100, probe_lr: 1e-2, lr: 1e-3 }
    }
}

impl LpFtConfig {
    pub(crate) fn params(&self) -> String {
        format!("probe_steps={};probe_lr={};lr={}", self.probe_steps, self.probe_lr, self.lr)
    }

    pub(crate) fn validate(&self, table: &str) -> Result<(), AdaptError> {
        if self.probe_steps == 0 || self.probe_steps > 1_000_000 {
            return Err(AdaptError::invalid(format!("{table}.probe_steps"), self.probe_steps, "allowed range 1..=1000000"));
        }
        validate_lr(format!("{table}.probe_lr"), self.probe_lr)?;
        validate_lr(format!("{table}.lr"), self.lr)
    }

    /// Probe phase and fine-tuning phase, each with a fresh AdamW and its own schedule; both draw their batch
    /// order from `seed` (distinct streams). Trainable parameters: all of them (the second phase's).
    pub(crate) fn adapt(&self, base: &Network, data: &TaskData, finetune_config: &FinetuneConfig, seed: u64, device: &Device) -> Adapted {
        let probe = trainable_copy(base, Some(&HEAD_PATHS), device);
        let probed = finetune(probe, data, finetune_config, self.probe_lr, self.probe_steps, seed, device);
        let model = trainable_copy(&probed.model.valid(), None, device);
        let trainable = trainable_params(&model);
        let tuned = finetune(model, data, finetune_config, self.lr, finetune_config.steps, derive_seed(seed, "lp_ft/fine-tune"), device);
        Adapted {
            model: tuned.model.valid(),
            trainable_params: trainable,
            steps: probed.steps + tuned.steps,
            seconds: probed.seconds + tuned.seconds,
            prompt_tokens: 0,
        }
    }
}
