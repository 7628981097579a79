//! The `[selection]` table and the held-out data choices are made on. For each (point, seed, method) the
//! hyper-parameter candidate and the α are chosen by the objective J = ID + λ·OOD on held-out data: ID on the
//! validation split of D_N (the sequences early stopping already holds out), OOD on a separate draw of each
//! OOD source from its own seed, disjoint from the evaluation draws. The evaluation sequences never enter a
//! choice (`adaptbench_report::choose`).

use adaptbench_adapt::{Suite, TaskData};
use adaptbench_model::Network;
use adaptbench_report::{mean, SelectionRow};
use adaptbench_sources::{derive_seed, Source};
use adaptbench_train::HeldOut;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::cost::Cost;
use crate::error::ConfigError;

/// The `[selection]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelectionConfig {
    /// λ of the objective ID + λ·OOD (mean excess over the OOD sources), bits per token. Default: 1, the
    /// same weight on keeping what pretraining taught as on fitting the task. `adaptbench recommend
    /// --ood-weight` re-chooses under another λ without re-running.
    pub ood_weight: f64,
    /// Held-out sequences drawn per OOD source for the choice (never the evaluation draws). Default: 256.
    pub sequences: usize,
}

impl Default for SelectionConfig {
    fn default() -> Self {
        Self { ood_weight: 1.0, sequences: 256 }
    }
}

impl SelectionConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.ood_weight >= 0.0 && self.ood_weight.is_finite()) {
            return Err(ConfigError::new("selection.ood_weight", self.ood_weight, "allowed range [0, ∞)"));
        }
        if !(2..=1 << 20).contains(&self.sequences) {
            return Err(ConfigError::new("selection.sequences", self.sequences, "allowed range 2..=1048576"));
        }
        Ok(())
    }
}

/// The held-out data of one (point, seed): the validation split of D_N with its Bayes losses, and a draw of
/// every OOD source from `derive_seed(seed_base, "selection")`.
pub struct SelectionData {
    /// `None` without a validation split (`finetune.validation_fraction = 0`): nothing can be chosen.
    validation: Option<HeldOut>,
    ood: Suite,
}

impl SelectionData {
    pub fn new(
        task: &dyn Source,
        data: &TaskData,
        ood: &[(String, Box<dyn Source>, usize)],
        config: &SelectionConfig,
        seed_base: u64,
    ) -> Self {
        let validation = (!data.validation.is_empty()).then(|| HeldOut::of(task, data.validation.clone()));
        Self { validation, ood: Suite::draw_ood(ood, config.sequences, derive_seed(seed_base, "selection")) }
    }

    /// The `selection.csv` row of `model` (inference weights) at `alpha`.
    pub(crate) fn row(&self, cost: &Cost, alpha: f64, model: &Network, batch_size: usize, device: &Device) -> SelectionRow {
        let id = self.validation.as_ref().map_or(f64::NAN, |held| held.evaluate(model, batch_size, device).excess_bits);
        let ood: Vec<f64> = self.ood.evaluate(model, batch_size, device).iter().map(|r| r.evaluation.excess_bits).collect();
        SelectionRow {
            point: 0,
            method: cost.method,
            params: cost.params.clone(),
            seed: cost.seed,
            alpha,
            id_excess_bits: id,
            ood_excess_bits: if ood.is_empty() { f64::NAN } else { mean(&ood) },
            trainable_params: cost.trainable_params,
            prompt_tokens: cost.prompt_tokens,
            validation_sequences: self.validation.as_ref().map_or(0, |held| held.sequences.len() as u64),
            heldout_sequences: self.ood.entries.first().map_or(0, |entry| entry.held_out.sequences.len() as u64),
        }
    }
}
