//! The fine-tuning loop every weight method shares: the pretraining step (AdamW, warm-up + cosine schedule,
//! global-norm clipping) over shuffled epochs of D_N, with early stopping on its validation split.

use std::time::Instant;

use adaptbench_model::Network;
use adaptbench_sources::rng;
use adaptbench_train::{mean_loss_bits, Batch, Trainer};
use burn::module::Module;
use burn::tensor::Device;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::finetune_config::FinetuneConfig;
use crate::task_data::TaskData;

/// A fine-tuned model and what it cost.
pub struct FinetuneOutcome {
    /// The weights to keep (the best validation checkpoint under early stopping), still on the training
    /// device and with any reparameterisation (LoRA) in place.
    pub model: Network,
    /// Steps actually run.
    pub steps: usize,
    /// Wall time of the loop, validation included.
    pub seconds: f64,
    /// Validation loss of the kept weights, bits per token (`None` without early stopping).
    pub validation_bits: Option<f64>,
}

/// Fine-tunes `model` (on an autodiff device, with its trainable parameters already chosen) on `data` for up
/// to `steps` steps at peak learning rate `lr`. Batches follow a shuffled-epoch order drawn from `seed`.
/// With a validation split, the loss on it is measured every `config.eval_every` steps (and at the end), and
/// training stops after `config.patience` measurements without improvement; the best weights are returned.
pub fn finetune(
    model: Network,
    data: &TaskData,
    config: &FinetuneConfig,
    lr: f64,
    steps: usize,
    seed: u64,
    device: &Device,
) -> FinetuneOutcome {
    let started = Instant::now();
    let train_device = model.devices().into_iter().next().expect("a model lives on a device");
    let mut trainer = Trainer::new(model, &config.optimizer());
    let schedule = config.schedule(lr, steps);
    let mut epochs = Epochs::new(data.train.len(), seed);
    let batch_size = config.batch_size.min(data.train.len());
    let early_stopping = !data.validation.is_empty();
    let mut best: Option<(f64, Network)> = None;
    let mut since_best = 0;
    let mut done = 0;
    for step in 0..steps {
        let sequences: Vec<Vec<u8>> = epochs.next(batch_size).iter().map(|&i| data.train[i].clone()).collect();
        trainer.step(Batch::new(&sequences, &train_device), schedule.at(step));
        done = step + 1;
        if early_stopping && (done % config.eval_every == 0 || done == steps) {
            let loss = mean_loss_bits(&trainer.model().valid(), &data.validation, data.validation.len(), device);
            if best.as_ref().is_none_or(|(best_loss, _)| loss < *best_loss) {
                best = Some((loss, trainer.model().clone()));
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= config.patience {
                    break;
                }
            }
        }
    }
    let (model, validation_bits) = match best {
        Some((loss, model)) => (model, Some(loss)),
        None => (trainer.into_model(), None),
    };
    FinetuneOutcome { model, steps: done, seconds: started.elapsed().as_secs_f64(), validation_bits }
}

/// Indices of the training sequences in shuffled epochs: each epoch visits every sequence once; a batch
/// that would straddle two epochs starts a fresh one (the remainder is dropped, as `drop_last` does).
struct Epochs {
    order: Vec<usize>,
    cursor: usize,
    rng: ChaCha8Rng,
}

impl Epochs {
    fn new(len: usize, seed: u64) -> Self {
        let mut epochs = Self { order: (0..len).collect(), cursor: 0, rng: rng(seed) };
        epochs.order.shuffle(&mut epochs.rng);
        epochs
    }

    fn next(&mut self, batch_size: usize) -> &[usize] {
        if self.cursor + batch_size > self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.cursor = 0;
        }
        self.cursor += batch_size;
        &self.order[self.cursor - batch_size..self.cursor]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_visits_every_sequence_once() {
        let mut epochs = Epochs::new(10, 1);
        let mut seen: Vec<usize> = (0..3).flat_map(|_| epochs.next(3).to_vec()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 9, "three batches of three within one epoch of ten are distinct");
        // The fourth batch would need a 10th, 11th and 12th index: a new epoch starts.
        assert_eq!(epochs.next(3).len(), 3);
        assert_eq!(epochs.cursor, 3);
    }
}
