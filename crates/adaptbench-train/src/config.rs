//! `PretrainConfig`: the `[pretrain]` table — optimisation budget, schedule and evaluation — validated at load.

use adaptbench_sources::SourceSpec;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::schedule::WarmupCosine;
use crate::trainer::OptimizerSettings;

/// Pretraining hyper-parameters. Batches are drawn fresh from the meta-distribution at every step, so there
/// are no epochs: `steps × batch_size × seq_len` tokens are seen once each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PretrainConfig {
    /// The meta-distribution. Default: `{ kind = "mix", thetas = [0.2, 0.7], weights = [0.5, 0.5] }`, the
    /// setting of arXiv 2502.10760.
    pub source: SourceSpec,
    /// Optimisation steps. Default: 2000. 0 keeps the freshly initialised network (an untrained base, as
    /// thunnini prompts); the schedule keys are then unused.
    pub steps: usize,
    /// Sequences per step. Default: 64.
    pub batch_size: usize,
    /// Tokens per pretraining sequence; at most `model.context`. Default: 64.
    pub seq_len: usize,
    /// Peak learning rate of AdamW. Default: 1e-3.
    pub lr: f64,
    /// Final learning rate as a fraction of the peak (cosine floor). Default: 0.1.
    pub final_lr_ratio: f64,
    /// Linear warm-up steps. Default: 100.
    pub warmup_steps: usize,
    /// AdamW decoupled weight decay. Default: 0.01 (PyTorch's).
    pub weight_decay: f64,
    /// AdamW β₁. Default: 0.9.
    pub beta1: f64,
    /// AdamW β₂. Default: 0.999.
    pub beta2: f64,
    /// AdamW ε. Default: 1e-8 (PyTorch's).
    pub epsilon: f64,
    /// Clip the global gradient norm to this value; 0 disables clipping. Default: 1.0.
    pub grad_clip: f64,
    /// Evaluate on the held-out set every this many steps (and at the last step). Default: 250.
    pub eval_every: usize,
    /// Held-out sequences (fixed for the run, disjoint seed from training). Default: 2048.
    pub eval_sequences: usize,
    /// Sequences per forward pass during evaluation where burn evaluates (wgpu; the CPU engine takes fixed
    /// chunks of 16). Default: 512.
    pub eval_batch_size: usize,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        Self {
            source: SourceSpec::Mix { thetas: vec![0.2, 0.7], weights: vec![0.5, 0.5] },
            steps: 2000,
            batch_size: 64,
            seq_len: 64,
            lr: 1e-3,
            final_lr_ratio: 0.1,
            warmup_steps: 100,
            weight_decay: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            grad_clip: 1.0,
            eval_every: 250,
            eval_sequences: 2048,
            eval_batch_size: 512,
        }
    }
}

impl PretrainConfig {
    /// Checks every field; `table` prefixes keys in errors, `context` is the model's context length.
    pub fn validate(&self, table: &str, context: usize) -> Result<(), TrainError> {
        self.source.validate(&format!("{table}.source"))?;
        let invalid = |field: &str, value: String, allowed: String| TrainError::InvalidConfig {
            key: format!("{table}.{field}"),
            value,
            allowed,
        };
        if self.steps > 10_000_000 {
            return Err(invalid("steps", self.steps.to_string(), "allowed range 0..=10000000 (0: untrained)".into()));
        }
        for (field, value, max) in [
            ("batch_size", self.batch_size, 1 << 20),
            ("eval_every", self.eval_every, 10_000_000),
            ("eval_sequences", self.eval_sequences, 1 << 24),
            ("eval_batch_size", self.eval_batch_size, 1 << 20),
        ] {
            if value == 0 || value > max {
                return Err(invalid(field, value.to_string(), format!("allowed range 1..={max}")));
            }
        }
        if self.seq_len < 2 || self.seq_len > context {
            return Err(invalid(
                "seq_len",
                self.seq_len.to_string(),
                format!("allowed range 2..={context} (model.context)"),
            ));
        }
        if self.steps > 0 && self.warmup_steps > self.steps {
            return Err(invalid(
                "warmup_steps",
                self.warmup_steps.to_string(),
                format!("allowed range 0..={}", self.steps),
            ));
        }
        let open_unit = |field: &str, value: f64| {
            if value > 0.0 && value < 1.0 {
                Ok(())
            } else {
                Err(invalid(field, value.to_string(), "allowed range (0, 1)".into()))
            }
        };
        open_unit("beta1", self.beta1)?;
        open_unit("beta2", self.beta2)?;
        open_unit("epsilon", self.epsilon)?;
        if !(self.lr > 0.0 && self.lr <= 1.0) {
            return Err(invalid("lr", self.lr.to_string(), "allowed range (0, 1]".into()));
        }
        for (field, value) in [("final_lr_ratio", self.final_lr_ratio), ("weight_decay", self.weight_decay)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(invalid(field, value.to_string(), "allowed range [0, 1]".into()));
            }
        }
        if !(self.grad_clip >= 0.0 && self.grad_clip.is_finite()) {
            return Err(invalid("grad_clip", self.grad_clip.to_string(), "allowed range [0, ∞), 0 disables".into()));
        }
        Ok(())
    }

    /// The AdamW and clipping settings of this table.
    pub fn optimizer(&self) -> OptimizerSettings {
        OptimizerSettings {
            beta1: self.beta1,
            beta2: self.beta2,
            epsilon: self.epsilon,
            weight_decay: self.weight_decay,
            grad_clip: self.grad_clip,
        }
    }

    /// The learning-rate schedule these settings describe.
    pub fn schedule(&self) -> WarmupCosine {
        WarmupCosine {
            peak: self.lr,
            floor: self.lr * self.final_lr_ratio,
            warmup: self.warmup_steps,
            total: self.steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_longer_than_the_context_are_rejected_with_the_key_and_range() {
        let config = PretrainConfig { seq_len: 80, ..Default::default() };
        let message = config.validate("pretrain", 64).unwrap_err().to_string();
        assert!(message.contains("pretrain.seq_len = 80") && message.contains("2..=64"), "{message}");
    }

    #[test]
    fn the_defaults_are_valid() {
        PretrainConfig::default().validate("pretrain", 64).unwrap();
    }
}
