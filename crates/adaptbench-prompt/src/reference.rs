//! The reference loss of a prompt — what it costs on the task in expectation, as opposed to on the N task
//! sequences of D_N a search sees. Exact where a closed form exists, else a large fresh sample.

use adaptbench_sources::{derive_seed, expected_loss_bits, log_loss_bits, rng, Source};

use crate::error::PromptError;
use adaptbench_report::{normal_ci95, sample_variance};

use crate::predictor::{mean_bits_per_token, Predictor};

/// A prompt's reference loss per task token with the half-width of its 95% CI (0 when exact).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceLoss {
    pub bits: f64,
    pub ci95: f64,
}

/// The task, its length, a fresh reference sample and the task's Bayes floor.
pub struct Reference<'a> {
    task: &'a dyn Source,
    task_len: usize,
    sample: Vec<Vec<u8>>,
    floor_bits: f64,
}

impl<'a> Reference<'a> {
    /// Draws `sample_size` fresh task sequences of `task_len` tokens from `derive_seed(seed, "reference")`,
    /// disjoint from every D_N. The floor is the task's own Bayes loss: exact for an exchangeable task,
    /// `expected_loss_bits(task, (0, 0), task, T)`, else the sample mean of its Bayes loss.
    pub fn new(task: &'a dyn Source, task_len: usize, sample_size: usize, seed: u64) -> Self {
        let mut draws = rng(derive_seed(seed, "reference"));
        let sample: Vec<Vec<u8>> = (0..sample_size).map(|_| task.sample(&mut draws, task_len).tokens).collect();
        let floor_bits = match task.as_exchangeable() {
            Some(exchangeable) => expected_loss_bits(exchangeable, (0, 0), exchangeable, task_len),
            None => {
                let total: f64 = sample
                    .iter()
                    .map(|sequence| {
                        let predictions = task.bayes_predictions(sequence);
                        sequence.iter().zip(&predictions).map(|(&x, &p1)| log_loss_bits(p1, x)).sum::<f64>()
                    })
                    .sum();
                total / (sample.len() * task_len) as f64
            }
        };
        Self { task, task_len, sample, floor_bits }
    }

    /// The task's Bayes-optimal loss per token, the floor every KL is measured from.
    pub fn floor_bits(&self) -> f64 {
        self.floor_bits
    }

    /// Task length T.
    pub fn task_len(&self) -> usize {
        self.task_len
    }

    /// The task source.
    pub fn task(&self) -> &dyn Source {
        self.task
    }

    /// Reference losses of `prompts` under `predictor`: its closed form where it has one, else the mean over
    /// the reference sample, `(1/(M·T)) Σ_s bits(p, x_s)`, with the CI `1.96 · sd_s(bits/T) / √M`.
    pub fn losses(&self, predictor: &dyn Predictor, prompts: &[Vec<u8>]) -> Result<Vec<ReferenceLoss>, PromptError> {
        let exact: Vec<Option<f64>> =
            prompts.iter().map(|prompt| predictor.exact_expected_loss(prompt, self.task, self.task_len)).collect();
        let sampled_prompts: Vec<Vec<u8>> =
            prompts.iter().zip(&exact).filter(|(_, exact)| exact.is_none()).map(|(p, _)| p.clone()).collect();
        if !sampled_prompts.is_empty() && self.sample.is_empty() {
            return Err(PromptError::invalid(
                "search.reference_sequences",
                0,
                format!("the {} predictor has no closed form here and needs a reference sample", predictor.name()),
            ));
        }
        let sampled =
            if sampled_prompts.is_empty() { Vec::new() } else { predictor.score(&sampled_prompts, &self.sample)? };
        let mut sampled = sampled.into_iter();
        Ok(exact
            .into_iter()
            .map(|exact| match exact {
                Some(bits) => ReferenceLoss { bits, ci95: 0.0 },
                None => self.sample_mean(&sampled.next().expect("one sampled row per prompt without a closed form")),
            })
            .collect())
    }

    fn sample_mean(&self, bits: &[f64]) -> ReferenceLoss {
        let mean = mean_bits_per_token(bits, 0..bits.len(), self.task_len);
        let per_token: Vec<f64> = bits.iter().map(|b| b / self.task_len as f64).collect();
        ReferenceLoss { bits: mean, ci95: normal_ci95(sample_variance(&per_token, mean), bits.len()) }
    }
}
