//! The methods that fine-tune a fixed subset of the base's parameters with one learning rate — `full` (all
//! of them), `head`, `embed` — differ only in that subset and the default rate, so one macro writes their
//! config tables.

/// Defines the config table `$name` of a method that trains the parameters at `$paths` (`None`: every
/// parameter) at peak AdamW rate `lr` (default `$lr`, documented as `$lr_doc`).
macro_rules! parameter_subset_method {
    ($(#[$meta:meta])* $name:ident, paths = $paths:expr, lr = $lr:expr, $lr_doc:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            #[doc = $lr_doc]
            pub lr: f64,
        }

        impl Default for $name {
            fn default() -> Self {
                Self { lr: $lr }
            }
        }

        impl $name {
            pub(crate) fn validate(&self, table: &str) -> Result<(), crate::error::AdaptError> {
                crate::finetune_config::validate_lr(format!("{table}.lr"), self.lr)
            }

            pub(crate) fn adapt(
                &self,
                base: &adaptbench_model::Network,
                data: &crate::task_data::TaskData,
                finetune: &crate::finetune_config::FinetuneConfig,
                seed: u64,
                device: &burn::tensor::Device,
            ) -> super::Adapted {
                super::adapt_parameters(base, $paths, self.lr, data, finetune, seed, device)
            }
        }
    };
}

pub(crate) use parameter_subset_method;
