//! One optimisation step, shared by pretraining and fine-tuning: forward, next-bit loss and backward (on two
//! data-parallel shards), global-norm clipping, AdamW update. Parameters that do not require gradients
//! (frozen) get no gradient, so AdamW leaves them bit-identical.

use std::path::Path;

use adaptbench_model::{load_weights, save_weights, ModelError, Network};
use adaptbench_report::write_atomically_with;
use burn::optim::{AdamWConfig, ModuleOptimizer};

use crate::batch::Batch;
use crate::clip::clip_global_norm;
use crate::data_parallel::loss_and_gradients;

/// AdamW and clipping settings, shared by pretraining and fine-tuning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerSettings {
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
    /// Decoupled weight decay (Loshchilov & Hutter 2019).
    pub weight_decay: f64,
    /// Global gradient-norm bound; 0 disables clipping.
    pub grad_clip: f64,
}

/// A model (on an autodiff device) with its AdamW state.
pub struct Trainer {
    /// `None` only transiently inside `step`, where the optimizer takes the model by value.
    model: Option<Network>,
    optimizer: ModuleOptimizer,
    grad_clip: f64,
}

impl Trainer {
    /// AdamW with the given β₁, β₂, ε and decoupled weight decay; clipping at `settings.grad_clip`.
    pub fn new(model: Network, settings: &OptimizerSettings) -> Self {
        let optimizer = AdamWConfig::new()
            .with_beta_1(settings.beta1 as f32)
            .with_beta_2(settings.beta2 as f32)
            .with_epsilon(settings.epsilon as f32)
            .with_weight_decay(settings.weight_decay as f32)
            .init();
        Self { model: Some(model), optimizer, grad_clip: settings.grad_clip }
    }

    /// One step at learning rate `lr` on `batch` (built on the model's autodiff device).
    /// Returns the batch's mean loss before the update, in bits per token.
    pub fn step(&mut self, batch: Batch, lr: f64) -> f64 {
        let model = self.model.take().expect("the model is present between steps");
        let (loss_nats, mut grads) = loss_and_gradients(&model, batch);
        let loss_bits = loss_nats / std::f64::consts::LN_2;
        if self.grad_clip > 0.0 {
            clip_global_norm(&model, &mut grads, self.grad_clip);
        }
        self.model = Some(self.optimizer.step(lr, model, grads));
        loss_bits
    }

    /// The current weights (still on the autodiff device).
    pub fn model(&self) -> &Network {
        self.model.as_ref().expect("the model is present between steps")
    }

    /// The trained weights.
    pub fn into_model(self) -> Network {
        self.model.expect("the model is present between steps")
    }

    /// Saves the weights and the AdamW state (moments, step counts) to two burnpack files, atomically each.
    pub fn save(&self, weights: &Path, optimizer: &Path) -> Result<(), ModelError> {
        save_weights(self.model(), weights)?;
        Ok(write_atomically_with(optimizer, |temporary| self.optimizer.save(temporary))?)
    }

    /// Restores what [`Trainer::save`] wrote. Parameter ids travel with the weights, so the optimizer state
    /// re-attaches to the same parameters and training continues bit for bit.
    pub fn load(mut self, weights: &Path, optimizer: &Path) -> Result<Self, ModelError> {
        let model = self.model.take().expect("the model is present between steps");
        self.model = Some(load_weights(model, weights)?);
        self.optimizer = self
            .optimizer
            .load(optimizer)
            .map_err(|error| ModelError::Record { path: optimizer.to_path_buf(), message: error.to_string() })?;
        Ok(self)
    }
}
