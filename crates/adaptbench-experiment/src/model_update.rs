//! The `[model_update]` table: DESIGN.md §7's model-update check. A second base is pretrained from the same
//! `[model]` and `[pretrain]` tables with another seed (B), and every adaptation found on the run's base
//! (seed A) is also evaluated moved onto it unchanged (`adaptbench_adapt::transplant`).

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::config::ExperimentConfig;

/// `[model_update]`: the pretraining seed of the other base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelUpdateConfig {
    /// Seed B. Only base B's pretraining draws (initialisation, data, held-out set) derive from it; task data
    /// and evaluation sequences still derive from the top-level seed, so both bases are scored on the same
    /// sequences.
    pub seed: u64,
}

impl ModelUpdateConfig {
    /// Seed B must differ from seed A (`run_seed`), or the "other" base would be the same base.
    pub fn validate(&self, run_seed: u64) -> Result<(), ConfigError> {
        if self.seed == run_seed {
            return Err(ConfigError::new(
                "model_update.seed",
                self.seed,
                format!("a pretraining seed other than the top-level seed ({run_seed})"),
            ));
        }
        Ok(())
    }

    /// The config that pretrains base B: `config` with the seed swapped and no `[model_update]` of its own.
    /// Its cache key therefore differs from base A's only by the seed.
    pub fn other_base_config(&self, config: &ExperimentConfig) -> ExperimentConfig {
        ExperimentConfig { seed: self.seed, model_update: None, ..config.clone() }
    }

    /// Where base B's checkpoint and pretraining record go inside a run's output directory.
    pub fn base_dir_name(&self) -> String {
        format!("base-seed{}", self.seed)
    }
}
