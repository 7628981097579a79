//! The adaptation methods, one file each, and the `[methods]` table that chooses among them. Each weight
//! method turns the frozen-or-not base into a trainable model, runs the shared fine-tuning loop, and hands
//! back merged inference weights of the base's structure, ready for interpolation and evaluation; each prompt
//! method hands back the frozen base carrying its prompt.

pub mod embed;
pub mod full;
pub mod hard_prompt;
pub mod head;
pub mod lora;
pub mod lp_ft;
pub mod reft;
pub mod soft_prompt;
mod subset;

use adaptbench_model::{Network, ModelConfig};
use adaptbench_report::Method;
use burn::module::{Module, ParamGroup};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::AdaptError;
use crate::finetune::finetune;
use crate::finetune_config::FinetuneConfig;
use crate::task_data::TaskData;
use crate::trainable::trainable_params;

/// The `[methods]` table: each sub-table present enables that method (an empty table takes its defaults).
/// Without a `[methods]` table, every method (weight and prompt) runs with its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<full::FullConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<head::HeadConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed: Option<embed::EmbedConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lp_ft: Option<lp_ft::LpFtConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora: Option<lora::LoraConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard_prompt: Option<hard_prompt::HardPromptConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_prompt: Option<soft_prompt::SoftPromptConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reft: Option<reft::ReftConfig>,
}

impl Default for MethodsConfig {
    fn default() -> Self {
        Self {
            full: Some(Default::default()),
            head: Some(Default::default()),
            embed: Some(Default::default()),
            lp_ft: Some(Default::default()),
            lora: Some(Default::default()),
            hard_prompt: Some(Default::default()),
            soft_prompt: Some(Default::default()),
            reft: Some(Default::default()),
        }
    }
}

impl MethodsConfig {
    /// The enabled methods, in a fixed order.
    pub fn configured(&self) -> Vec<MethodConfig> {
        let mut methods = Vec::new();
        methods.extend(self.full.clone().map(MethodConfig::Full));
        methods.extend(self.head.clone().map(MethodConfig::Head));
        methods.extend(self.embed.clone().map(MethodConfig::Embed));
        methods.extend(self.lp_ft.clone().map(MethodConfig::LpFt));
        methods.extend(self.lora.clone().map(MethodConfig::Lora));
        methods.extend(self.hard_prompt.clone().map(MethodConfig::HardPrompt));
        methods.extend(self.soft_prompt.clone().map(MethodConfig::SoftPrompt));
        methods.extend(self.reft.clone().map(MethodConfig::Reft));
        methods
    }

    /// Checks every enabled method's table (keys prefixed by `table`); prompts may have up to
    /// `max_prompt_len` tokens (`layout.prompt_max_len`), and `model` is the base the methods adapt.
    pub fn validate(&self, table: &str, max_prompt_len: usize, model: &ModelConfig) -> Result<(), AdaptError> {
        self.configured()
            .iter()
            .try_for_each(|method| method.validate(&format!("{table}.{}", method.name()), max_prompt_len, model))
    }
}

/// One configured method.
#[derive(Debug, Clone, PartialEq)]
pub enum MethodConfig {
    Full(full::FullConfig),
    Head(head::HeadConfig),
    Embed(embed::EmbedConfig),
    LpFt(lp_ft::LpFtConfig),
    Lora(lora::LoraConfig),
    HardPrompt(hard_prompt::HardPromptConfig),
    SoftPrompt(soft_prompt::SoftPromptConfig),
    Reft(reft::ReftConfig),
}

/// An adapted model — merged inference weights with the base's structure, or the base carrying a prompt —
/// and its cost.
pub struct Adapted {
    pub model: Network,
    /// Scalars updated by the adaptation (hand-checkable: README, tests).
    pub trainable_params: usize,
    /// Optimisation steps, or prompts scored for `hard_prompt`.
    pub steps: usize,
    pub seconds: f64,
    /// Prompt positions the adapted model reads before the task (0 for weight methods).
    pub prompt_tokens: usize,
}

impl MethodConfig {
    /// The method, as `metrics.csv` names it.
    pub fn method(&self) -> Method {
        match self {
            Self::Full(_) => Method::Full,
            Self::Head(_) => Method::Head,
            Self::Embed(_) => Method::Embed,
            Self::LpFt(_) => Method::LpFt,
            Self::Lora(_) => Method::Lora,
            Self::HardPrompt(_) => Method::HardPrompt,
            Self::SoftPrompt(_) => Method::SoftPrompt,
            Self::Reft(_) => Method::Reft,
        }
    }

    /// The method's name in configs and in `metrics.csv`.
    pub fn name(&self) -> &'static str {
        self.method().as_str()
    }

    /// Whether it adapts a prompt (the base's weights stay as they are, so there is no interpolation path).
    pub fn is_prompt(&self) -> bool {
        self.method().is_prompt()
    }

    /// The most prompt positions its adapted model reads before the task (0 for weight methods);
    /// `max_prompt_len` resolves `hard_prompt`'s default L_max.
    pub fn max_prompt_tokens(&self, max_prompt_len: usize) -> usize {
        match self {
            Self::HardPrompt(config) => {
                let local = config.local.as_ref().map_or(0, |local| local.max_len);
                config.l_max.unwrap_or(max_prompt_len).max(local)
            }
            Self::SoftPrompt(config) => config.length,
            _ => 0,
        }
    }

    /// Its hyper-parameters as `key=value;…`, the `params` column of `metrics.csv`; `max_prompt_len` resolves
    /// `hard_prompt`'s default L_max.
    pub fn params(&self, max_prompt_len: usize) -> String {
        match self {
            Self::Full(config) => format!("lr={}", config.lr),
            Self::Head(config) => format!("lr={}", config.lr),
            Self::Embed(config) => format!("lr={}", config.lr),
            Self::LpFt(config) => config.params(),
            Self::Lora(config) => config.params(),
            Self::HardPrompt(config) => config.params(max_prompt_len),
            Self::SoftPrompt(config) => config.params(),
            Self::Reft(config) => config.params(),
        }
    }

    fn validate(&self, table: &str, max_prompt_len: usize, model: &ModelConfig) -> Result<(), AdaptError> {
        match self {
            Self::Full(config) => config.validate(table),
            Self::Head(config) => config.validate(table),
            Self::Embed(config) => config.validate(table),
            Self::LpFt(config) => config.validate(table),
            Self::Lora(config) => config.validate(table, model),
            Self::HardPrompt(config) => config.validate(table, max_prompt_len),
            Self::SoftPrompt(config) => config.validate(table, max_prompt_len),
            Self::Reft(config) => config.validate(table, model),
        }
    }

    /// Adapts `base` (inference weights) to `data`. `seed` drives the batch order and any random init;
    /// `device` is the inference device (training runs on its autodiff twin); prompts have at most
    /// `max_prompt_len` tokens.
    pub fn adapt(
        &self,
        base: &Network,
        data: &TaskData,
        finetune: &FinetuneConfig,
        seed: u64,
        max_prompt_len: usize,
        device: &Device,
    ) -> Result<Adapted, AdaptError> {
        match self {
            Self::Full(config) => Ok(config.adapt(base, data, finetune, seed, device)),
            Self::Head(config) => Ok(config.adapt(base, data, finetune, seed, device)),
            Self::Embed(config) => Ok(config.adapt(base, data, finetune, seed, device)),
            Self::LpFt(config) => Ok(config.adapt(base, data, finetune, seed, device)),
            Self::Lora(config) => config.adapt(base, data, finetune, seed, device),
            Self::HardPrompt(config) => config.adapt(base, data, max_prompt_len, device),
            Self::SoftPrompt(config) => Ok(config.adapt(base, data, finetune, seed, device)),
            Self::Reft(config) => Ok(config.adapt(base, data, finetune, seed, device)),
        }
    }
}

/// A trainable copy of `base` on the autodiff twin of `device`: every parameter trainable with `None`,
/// else only the parameters at the paths of `trainable`.
pub(crate) fn trainable_copy(base: &Network, trainable: Option<&[&str]>, device: &Device) -> Network {
    let model = base.clone().fork(&device.clone().autodiff()).train();
    match trainable {
        None => model.set_require_grad(true),
        Some(paths) => {
            model.set_require_grad(false).set_require_grad_group(ParamGroup::from_paths(paths.to_vec()), true)
        }
    }
}

/// Fine-tunes only the parameters at `paths` (all of them with `None`) for `finetune.steps` at `lr`.
pub(crate) fn adapt_parameters(
    base: &Network,
    paths: Option<&[&str]>,
    lr: f64,
    data: &TaskData,
    finetune_config: &FinetuneConfig,
    seed: u64,
    device: &Device,
) -> Adapted {
    let model = trainable_copy(base, paths, device);
    let trainable = trainable_params(&model);
    let outcome = finetune(model, data, finetune_config, lr, finetune_config.steps, seed, device);
    Adapted {
        model: outcome.model.valid(),
        trainable_params: trainable,
        steps: outcome.steps,
        seconds: outcome.seconds,
        prompt_tokens: 0,
    }
}
