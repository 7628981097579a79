//! `FinetuneConfig`: the `[finetune]` table — the budget every weight method shares (DESIGN.md §5: "the same
//! task data D_N and the same budget knobs"), the schedule, clipping and early stopping.

use adaptbench_train::{OptimizerSettings, PretrainConfig, WarmupCosine};
use serde::{Deserialize, Serialize};

use crate::error::AdaptError;

/// Shared fine-tuning settings. Learning rates are per method (their tables), since head-only and LoRA
/// updates need larger steps than full fine-tuning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FinetuneConfig {
    /// Optimisation steps per method (per phase for `lp_ft`). Default: 200.
    pub steps: usize,
    /// Task sequences per step, drawn from D_N in shuffled epochs. Default: 16.
    pub batch_size: usize,
    /// Final learning rate as a fraction of the method's peak (cosine floor). Default: 0.1.
    pub final_lr_ratio: f64,
    /// Linear warm-up steps. Default: 10.
    pub warmup_steps: usize,
    /// AdamW decoupled weight decay. Default: 0 — decay pulls weights towards zero, not towards the base,
    /// and would confound the forgetting this benchmark measures.
    pub weight_decay: f64,
    /// Clip the global gradient norm to this value; 0 disables clipping. Default: 1.0.
    pub grad_clip: f64,
    /// Share of D_N held out for early stopping; 0 disables early stopping. Default: 0.
    pub validation_fraction: f64,
    /// Evaluate the validation split every this many steps. Default: 25.
    pub eval_every: usize,
    /// Stop after this many evaluations without improvement, keeping the best weights. Default: 4.
    pub patience: usize,
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        Self {
            steps: 200,
            batch_size: 16,
            final_lr_ratio: 0.1,
            warmup_steps: 10,
            weight_decay: 0.0,
            grad_clip: 1.0,
            validation_fraction: 0.0,
            eval_every: 25,
            patience: 4,
        }
    }
}

impl FinetuneConfig {
    /// Checks every field; `table` prefixes keys in errors; `task_sequences` is N.
    pub fn validate(&self, table: &str, task_sequences: usize) -> Result<(), AdaptError> {
        let key = |field: &str| format!("{table}.{field}");
        for (field, value, max) in [
            ("steps", self.steps, 1_000_000),
            ("batch_size", self.batch_size, 1 << 20),
            ("eval_every", self.eval_every, 1_000_000),
            ("patience", self.patience, 1_000_000),
        ] {
            if value == 0 || value > max {
                return Err(AdaptError::invalid(key(field), value, format!("allowed range 1..={max}")));
            }
        }
        if self.warmup_steps > self.steps {
            return Err(AdaptError::invalid(key("warmup_steps"), self.warmup_steps, format!("allowed range 0..={}", self.steps)));
        }
        for (field, value) in [("final_lr_ratio", self.final_lr_ratio), ("weight_decay", self.weight_decay)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(AdaptError::invalid(key(field), value, "allowed range [0, 1]"));
            }
        }
        if !(self.grad_clip >= 0.0 && self.grad_clip.is_finite()) {
            return Err(AdaptError::invalid(key("grad_clip"), self.grad_clip, "allowed range [0, ∞), 0 disables"));
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return Err(AdaptError::invalid(key("validation_fraction"), self.validation_fraction, "allowed range [0, 1)"));
        }
        let validation = validation_count(task_sequences, self.validation_fraction);
        if validation >= task_sequences {
            return Err(AdaptError::invalid(
                key("validation_fraction"),
                self.validation_fraction,
                format!("leaves no training sequences out of task.sequences = {task_sequences}"),
            ));
        }
        Ok(())
    }

    /// AdamW with PyTorch's β₁, β₂, ε and this table's decay and clipping.
    pub fn optimizer(&self) -> OptimizerSettings {
        OptimizerSettings { weight_decay: self.weight_decay, grad_clip: self.grad_clip, ..PretrainConfig::default().optimizer() }
    }

    /// Warm-up + cosine from `lr` over `steps` steps (warm-up capped at `steps`).
    pub fn schedule(&self, lr: f64, steps: usize) -> WarmupCosine {
        WarmupCosine { peak: lr, floor: lr * self.final_lr_ratio, warmup: self.warmup_steps.min(steps), total: steps }
    }
}

/// Sequences of D_N held out for validation: `round(n · fraction)`, at least one when `fraction > 0`.
pub(crate) fn validation_count(n: usize, fraction: f64) -> usize {
    if fraction <= 0.0 {
        0
    } else {
        ((n as f64 * fraction).round() as usize).max(1)
    }
}

/// Checks a learning rate of a method table.
pub(crate) fn validate_lr(key: String, lr: f64) -> Result<(), AdaptError> {
    if lr > 0.0 && lr <= 1.0 {
        Ok(())
    } else {
        Err(AdaptError::invalid(key, lr, "allowed range (0, 1]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        FinetuneConfig::default().validate("finetune", 64).unwrap();
    }

    #[test]
    fn a_validation_split_that_leaves_nothing_to_train_on_is_rejected() {
        let config = FinetuneConfig { validation_fraction: 0.5, ..Default::default() };
        let message = config.validate("finetune", 1).unwrap_err().to_string();
        assert!(message.contains("finetune.validation_fraction = 0.5"), "{message}");
        config.validate("finetune", 4).unwrap();
    }
}
