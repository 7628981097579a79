//! `lora`: low-rank adapters on the attention and MLP projections (Hu et al. 2021), or on an LSTM's input and
//! recurrent gate projections, base frozen. Built on burn 0.22's LoRA reparameterisation: each targeted weight W
//! (burn stores `[d_in, d_out]`) becomes W + (alpha / r)·A·B with A `[d_in, r]` random and B `[r, d_out]` zero,
//! so the adapted model starts as the base. Names follow HF PEFT's `LoraConfig` (`r`, `lora_alpha` → `alpha`, `target_modules` → `targets`,
//! `lora_dropout` → `dropout`).

use adaptbench_model::{with_device_seed, Arch, ModelConfig, Network};
use burn::module::{Lora, Module, ParamGroup};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{trainable_copy, Adapted};
use crate::error::AdaptError;
use crate::finetune::finetune;
use crate::finetune_config::{validate_lr, FinetuneConfig};
use crate::task_data::TaskData;
use crate::trainable::{parameter_paths, trainable_params};

/// A linear layer LoRA can adapt, in every block or LSTM layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoraTarget {
    Q,
    K,
    V,
    O,
    MlpIn,
    MlpOut,
    /// An LSTM's input projection of all four gates, `W_ih` `[d, 4d]` (PyTorch's `weight_ih`).
    Ih,
    /// An LSTM's recurrent projection of all four gates, `W_hh` `[d, 4d]` (PyTorch's `weight_hh`).
    Hh,
}

impl LoraTarget {
    /// The weight's path inside block or LSTM layer `layer`.
    fn path(self, layer: usize) -> String {
        let (module, name) = match self {
            Self::Q => ("blocks", "attention.q"),
            Self::K => ("blocks", "attention.k"),
            Self::V => ("blocks", "attention.v"),
            Self::O => ("blocks", "attention.o"),
            Self::MlpIn => ("blocks", "mlp.mlp_in"),
            Self::MlpOut => ("blocks", "mlp.mlp_out"),
            Self::Ih => ("lstm", "ih"),
            Self::Hh => ("lstm", "hh"),
        };
        format!("{module}.{layer}.{name}.weight")
    }

    fn name(self) -> &'static str {
        match self {
            Self::Q => "q",
            Self::K => "k",
            Self::V => "v",
            Self::O => "o",
            Self::MlpIn => "mlp_in",
            Self::MlpOut => "mlp_out",
            Self::Ih => "ih",
            Self::Hh => "hh",
        }
    }

    /// The architecture whose layers hold this projection.
    fn arch(self) -> Arch {
        match self {
            Self::Ih | Self::Hh => Arch::Lstm,
            _ => Arch::Transformer,
        }
    }

    /// The targets of `arch`, as a config spells them.
    fn allowed(arch: Arch) -> &'static str {
        match arch {
            Arch::Transformer => "one or more of \"q\", \"k\", \"v\", \"o\", \"mlp_in\", \"mlp_out\"",
            Arch::Lstm => "one or more of \"ih\", \"hh\" (an LSTM's gate projections)",
        }
    }
}

/// The `[methods.lora]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoraConfig {
    /// Rank r of every adapter. Default: 4.
    pub r: usize,
    /// Scaling numerator: the update is (alpha / r)·A·B (PEFT's `lora_alpha`). Default: 8.
    pub alpha: f64,
    /// Adapted projections, among q, k, v, o, mlp_in, mlp_out, in every Transformer block, or ih, hh in every
    /// LSTM layer. Default: ["q", "v"] (the LoRA paper's choice); an LSTM names its own.
    pub targets: Vec<LoraTarget>,
    /// Dropout on the adapter path. Default: 0. Only 0 is accepted: burn's LoRA composes the weight
    /// W + (alpha/r)·A·B, so PEFT's dropout on the adapter's *input* has no place to act.
    pub dropout: f64,
    /// Peak AdamW learning rate. Default: 5e-3 (adapters train from B = 0 and need larger steps than `full`).
    pub lr: f64,
}

impl Default for LoraConfig {
    fn default() -> Self {
        Self { r: 4, alpha: 8.0, targets: vec![LoraTarget::Q, LoraTarget::V], dropout: 0.0, lr: 5e-3 }
    }
}

impl LoraConfig {
    pub(crate) fn params(&self) -> String {
        let targets: Vec<&str> = self.targets.iter().map(|t| t.name()).collect();
        format!("r={};alpha={};targets={};lr={}", self.r, self.alpha, targets.join("+"), self.lr)
    }

    /// Checks the table against the model it will adapt (`model.arch` decides which targets exist).
    pub(crate) fn validate(&self, table: &str, model: &ModelConfig) -> Result<(), AdaptError> {
        if self.r == 0 || self.r > 4096 {
            return Err(AdaptError::invalid(format!("{table}.r"), self.r, "allowed range 1..=4096"));
        }
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return Err(AdaptError::invalid(format!("{table}.alpha"), self.alpha, "allowed range (0, ∞)"));
        }
        if self.targets.is_empty() {
            return Err(AdaptError::invalid(format!("{table}.targets"), "[]", LoraTarget::allowed(model.arch)));
        }
        if let Some(target) = self.targets.iter().find(|target| target.arch() != model.arch) {
            return Err(AdaptError::invalid(
                format!("{table}.targets"),
                format!("\"{}\"", target.name()),
                format!("{} with model.arch = \"{}\"", LoraTarget::allowed(model.arch), model.arch.label().to_lowercase()),
            ));
        }
        if self.dropout != 0.0 {
            return Err(AdaptError::invalid(
                format!("{table}.dropout"),
                self.dropout,
                "allowed value 0: burn's LoRA adapts the weight (W + (alpha/r)·A·B), where PEFT's input dropout \
                 on the adapter path cannot be expressed",
            ));
        }
        validate_lr(format!("{table}.lr"), self.lr)
    }

    /// Attaches adapters to a trainable copy of `base` (every other parameter frozen). A is drawn from
    /// N(0, 1/(3·d_in)), the variance of PEFT's Kaiming-uniform(a = √5) init; B = 0. Errors if a target's
    /// path does not exist in the model.
    pub fn attach(&self, base: &Network, seed: u64, device: &Device) -> Result<Network, AdaptError> {
        let existing = parameter_paths(base);
        let layers = base.n_layers();
        let mut paths = Vec::new();
        for target in &self.targets {
            for layer in 0..layers {
                let path = target.path(layer);
                if !existing.iter().any(|(known, _)| *known == path) {
                    return Err(AdaptError::invalid("methods.lora.targets", target.name(), format!("no parameter `{path}`")));
                }
                paths.push(path);
            }
        }
        let d_in = base.d_model as f64; // every target's d_in (ih and hh included), except mlp_out's (d_model · mlp_ratio)
        let mut lora = Lora::new(self.r, self.alpha).set_param_group(ParamGroup::from_paths(paths));
        lora.init_std = Some((1.0 / (3.0 * d_in)).sqrt());
        let model = trainable_copy(base, None, device);
        let train_device = device.clone().autodiff();
        Ok(with_device_seed(&train_device, seed, || model.apply_lora(lora)))
    }

    pub(crate) fn adapt(&self, base: &Network, data: &TaskData, finetune_config: &FinetuneConfig, seed: u64, device: &Device) -> Result<Adapted, AdaptError> {
        let model = self.attach(base, seed, device)?;
        let trainable = trainable_params(&model);
        let outcome = finetune(model, data, finetune_config, self.lr, finetune_config.steps, seed, device);
        Ok(Adapted {
            model: merge(outcome.model.valid()),
            trainable_params: trainable,
            steps: outcome.steps,
            seconds: outcome.seconds,
            prompt_tokens: 0,
        })
    }
}

/// Folds every adapter into its base weight, W ← W + (alpha / r)·A·B, and drops the adapters: the result
/// has the base's structure and gives the same outputs.
pub fn merge(model: Network) -> Network {
    model.materialize()
}
