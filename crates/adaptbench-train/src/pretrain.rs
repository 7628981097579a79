//! The pretraining loop: fresh batches from the meta-distribution, AdamW under a warm-up + cosine schedule,
//! global-norm clipping, and periodic evaluation on a fixed held-out set against the exact Bayes floor.

use std::time::Instant;

use adaptbench_model::{Transformer, TransformerConfig};
use adaptbench_sources::{derive_seed, rng, Source};
use burn::module::Module;
use burn::tensor::Device;

use crate::batch::{sample_sequences, Batch};
use crate::config::PretrainConfig;
use crate::evaluate::{Evaluation, HeldOut};
use crate::trainer::Trainer;

/// What the loop reports after every step (for progress bars and logs).
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    /// 1-based count of finished steps.
    pub step: usize,
    pub steps: usize,
    pub train_loss_bits: f64,
    pub lr: f64,
    /// The latest held-out evaluation, if any has run yet.
    pub last_eval: Option<Evaluation>,
}

/// One row of `pretrain.csv`, written at every evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PretrainRow {
    pub step: usize,
    /// Mean training loss over the steps since the previous row, bits per token.
    pub train_loss_bits: f64,
    pub eval_loss_bits: f64,
    pub bayes_loss_bits: f64,
    pub excess_bits: f64,
}

/// The trained model and its record.
pub struct PretrainOutcome {
    /// The trained weights, on the inference (non-autodiff) device.
    pub model: Transformer,
    pub rows: Vec<PretrainRow>,
    pub final_eval: Evaluation,
    /// Wall time of the optimisation steps alone (evaluations excluded).
    pub train_seconds: f64,
    /// Total wall time including evaluations.
    pub wall_seconds: f64,
}

/// Pretrains a fresh model of `model_config` on `source`.
///
/// Every random draw derives from `seed`: model init (`pretrain/init`), training batches (`pretrain/data`)
/// and the held-out set (`pretrain/eval`), so the same seed gives the same numbers on the CPU backend.
/// `device` is an inference device; training runs on its autodiff twin.
pub fn pretrain(
    model_config: &TransformerConfig,
    config: &PretrainConfig,
    source: &dyn Source,
    seed: u64,
    device: &Device,
    on_step: &mut dyn FnMut(&StepReport),
) -> PretrainOutcome {
    let started = Instant::now();
    let train_device = device.clone().autodiff();
    train_device.seed(derive_seed(seed, "pretrain/init"));
    let mut trainer = Trainer::new(model_config.init(&train_device), config);
    let mut data_rng = rng(derive_seed(seed, "pretrain/data"));
    let held_out = HeldOut::draw(source, &mut rng(derive_seed(seed, "pretrain/eval")), config.eval_sequences, config.seq_len);

    let schedule = config.schedule();
    let mut rows = Vec::new();
    let mut last_eval = None;
    let (mut loss_sum, mut loss_count) = (0.0, 0usize);
    let mut train_seconds = 0.0;

    for step in 0..config.steps {
        let step_started = Instant::now();
        let sequences = sample_sequences(source, &mut data_rng, config.batch_size, config.seq_len);
        let lr = schedule.at(step);
        let loss_bits = trainer.step(Batch::new(&sequences, &train_device), lr);
        train_seconds += step_started.elapsed().as_secs_f64();
        loss_sum += loss_bits;
        loss_count += 1;

        let finished = step + 1;
        if finished % config.eval_every == 0 || finished == config.steps {
            let evaluation = held_out.evaluate(&trainer.model().valid(), config.eval_batch_size, device);
            rows.push(PretrainRow {
                step: finished,
                train_loss_bits: loss_sum / loss_count as f64,
                eval_loss_bits: evaluation.loss_bits,
                bayes_loss_bits: evaluation.bayes_bits,
                excess_bits: evaluation.excess_bits,
            });
            (loss_sum, loss_count) = (0.0, 0);
            last_eval = Some(evaluation);
        }
        on_step(&StepReport { step: finished, steps: config.steps, train_loss_bits: loss_bits, lr, last_eval });
    }

    let model = trainer.into_model().valid();
    let final_eval = match last_eval {
        Some(evaluation) => evaluation,
        None => held_out.evaluate(&model, config.eval_batch_size, device),
    };
    PretrainOutcome { model, rows, final_eval, train_seconds, wall_seconds: started.elapsed().as_secs_f64() }
}
