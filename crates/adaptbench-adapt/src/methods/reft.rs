//! `reft`: LoReFT (Wu et al. 2024), a rank-r edit of the residual stream after chosen blocks (of an LSTM: of
//! each chosen layer's output sequence, the next layer's or the head's input), Φ(h) = h + Rᵀ(W h + b − R h), trained on D_N with the base frozen. It sits between prompts, which only add
//! inputs, and LoRA, which changes weights: it changes the representations the frozen weights produce. Names
//! follow pyreft (`low_rank_dimension` → `r`, `layers`, positions as first/last k).
//!
//! One deliberate difference from pyreft: W starts equal to R and b at 0, so the adapted model starts as the base
//! (pyreft draws W from `nn.Linear`'s init), as every other weight method here does; the WiSE-FT path then runs
//! from the base (α = 0) to the trained edit (α = 1) by scaling the edit, h + α·Rᵀ(W h + b − R h).

use adaptbench_model::{with_device_seed, Intervention, InterventionPositions, Network, ModelConfig};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{adapt_parameters, Adapted};
use crate::error::AdaptError;
use crate::finetune_config::{validate_lr, FinetuneConfig};
use crate::task_data::TaskData;
use crate::trainable::parameter_paths;

/// The `[methods.reft]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReftConfig {
    /// Rank r of every edit (pyreft's `low_rank_dimension`), at most `model.d_model`. Default: 4.
    pub r: usize,
    /// The blocks or LSTM layers (0-based, ascending) after which to intervene, one LoReFT each; empty means
    /// every one.
    /// Default: [] (every block). A list, so that in a grid `layers = [1]` is one value and
    /// `layers = [[0], [1]]` two candidates, as for LoRA's `targets`.
    pub layers: Vec<usize>,
    /// The edited positions: `"all"`, `{ first = k }` (`first = 1`: the prompt slot, BOS) or `{ last = k }`.
    /// Default: "all" (every prediction is scored, so every position is a natural site).
    pub positions: InterventionPositions,
    /// Peak AdamW learning rate. Default: 5e-3 (like LoRA, the edit trains from zero).
    pub lr: f64,
}

impl Default for ReftConfig {
    fn default() -> Self {
        Self { r: 4, layers: Vec::new(), positions: InterventionPositions::All, lr: 5e-3 }
    }
}

impl ReftConfig {
    pub(crate) fn params(&self) -> String {
        let layers = match self.layers.as_slice() {
            [] => "all".to_string(),
            layers => layers.iter().map(usize::to_string).collect::<Vec<_>>().join("+"),
        };
        let positions = match self.positions {
            InterventionPositions::All => "all".to_string(),
            InterventionPositions::First(k) => format!("f{k}"),
            InterventionPositions::Last(k) => format!("l{k}"),
        };
        format!("r={};layers={layers};positions={positions};lr={}", self.r, self.lr)
    }

    /// Checks the table against the model it will edit (`model`: its width, depth and context).
    pub(crate) fn validate(&self, table: &str, model: &ModelConfig) -> Result<(), AdaptError> {
        if self.r == 0 || self.r > model.d_model {
            return Err(AdaptError::invalid(
                format!("{table}.r"),
                self.r,
                format!("allowed range 1..=model.d_model = {} (R has orthonormal rows)", model.d_model),
            ));
        }
        let ascending = self.layers.windows(2).all(|pair| pair[0] < pair[1]);
        let last = model.n_layers - 1;
        if !ascending || self.layers.iter().any(|&layer| layer > last) {
            return Err(AdaptError::invalid(
                format!("{table}.layers"),
                format!("{:?}", self.layers),
                format!("distinct blocks in ascending order, each in 0..={last} (model.n_layers = {}); [] for every block", model.n_layers),
            ));
        }
        if let InterventionPositions::First(k) | InterventionPositions::Last(k) = self.positions {
            if k == 0 || k > model.context {
                return Err(AdaptError::invalid(
                    format!("{table}.positions"),
                    k,
                    format!("k in 1..=model.context = {}", model.context),
                ));
            }
        }
        validate_lr(format!("{table}.lr"), self.lr)
    }

    /// `base` carrying identity edits ([`Intervention::identity`]) whose projections are drawn from `seed`.
    pub fn attach(&self, base: &Network, seed: u64, device: &Device) -> Network {
        let layers: Vec<usize> = if self.layers.is_empty() { (0..base.n_layers()).collect() } else { self.layers.clone() };
        let mut model = base.clone();
        // Tensor::random draws at once (unlike a module's lazy init), so the draws all happen under the lock.
        model.intervention =
            Some(with_device_seed(device, seed, || Intervention::identity(&layers, self.positions, base.d_model, self.r, device)));
        model
    }

    pub(crate) fn adapt(&self, base: &Network, data: &TaskData, finetune: &FinetuneConfig, seed: u64, device: &Device) -> Adapted {
        let model = self.attach(base, seed, device);
        let paths: Vec<String> =
            parameter_paths(&model).into_iter().map(|(path, _)| path).filter(|path| path.starts_with("intervention.")).collect();
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        adapt_parameters(&model, Some(&paths), self.lr, data, finetune, seed, device)
    }
}
