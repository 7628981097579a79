//! Adaptation of a pretrained base to a task (DESIGN.md §5) and its evaluation (§7): the task data D_N, one
//! shared fine-tuning loop, the weight methods (`full`, `head`, `embed`, `lp_ft`, `lora`) and the prompt methods
//! (`hard_prompt`, `soft_prompt`), the representation edit `reft`, one file each,
//! WiSE-FT interpolation between base and adapted weights, and the ID/OOD evaluation suite.

mod error;
mod finetune;
mod finetune_config;
mod interpolate;
mod methods;
mod suite;
mod task_data;
mod trainable;
mod transplant;

pub use error::AdaptError;
pub use finetune::{finetune, FinetuneOutcome};
pub use finetune_config::FinetuneConfig;
pub use interpolate::{interpolate, InterpolationError};
pub use methods::{
    embed::EmbedConfig, full::FullConfig, hard_prompt::HardPromptConfig, head::HeadConfig, lora::merge as lora_merge,
    lora::LoraConfig, lora::LoraTarget, lp_ft::LpFtConfig, reft::ReftConfig, soft_prompt::SoftPromptConfig, soft_prompt::SoftPromptInit,
    soft_prompt::SoftPromptSpace, Adapted, MethodConfig, MethodsConfig,
};
pub use suite::{EvalConfig, OodSource, Role, Suite, SuiteEntry, SuiteResult};
pub use task_data::TaskData;
pub use trainable::{parameter_paths, parameter_values, trainable_params};
pub use transplant::transplant;
