//! The exact Bayes predictor of a source (typically the pretraining meta-distribution) as a prompt-steerable
//! predictor: the ideal a pretrained Transformer approximates, so its prompt landscape is the one the paper
//! analyses in closed form.

use std::collections::HashMap;

use adaptbench_sources::{expected_loss_bits, log_loss_bits, Source};

use crate::error::PromptError;
use crate::config::PredictorKind;
use crate::predictor::{Predictor, ScoreMatrix};
use crate::prompt::ones;

/// P(x_t = 1 | prompt, x_<t) under `source`'s exact Bayes posterior.
#[derive(Debug)]
pub struct BayesPredictor {
    source: Box<dyn Source>,
}

impl BayesPredictor {
    /// The Bayes predictor of `source`.
    pub fn new(source: Box<dyn Source>) -> Self {
        Self { source }
    }
}

impl Predictor for BayesPredictor {
    fn kind(&self) -> PredictorKind {
        PredictorKind::Bayes
    }

    /// For an exchangeable source a prompt acts through its counts (n0, n1) only, so prompts are grouped by
    /// counts and each group is scored once:
    /// `bits(p, x) = Σ_t ℓ(q(n0(p) + z_t, n1(p) + k_t), x_t)` with k_t, z_t the ones and zeros of x_<t.
    /// Otherwise the posterior runs along `prompt ++ x` and only the task positions are charged.
    fn score(&self, prompts: &[Vec<u8>], sequences: &[Vec<u8>]) -> Result<ScoreMatrix, PromptError> {
        let Some(exchangeable) = self.source.as_exchangeable() else {
            return Ok(prompts.iter().map(|prompt| sequential_bits(self.source.as_ref(), prompt, sequences)).collect());
        };
        let mut by_counts: HashMap<(u64, u64), Vec<f64>> = HashMap::new();
        let rows = prompts
            .iter()
            .map(|prompt| {
                let counts = ((prompt.len() - ones(prompt)) as u64, ones(prompt) as u64);
                by_counts
                    .entry(counts)
                    .or_insert_with(|| {
                        sequences
                            .iter()
                            .map(|sequence| {
                                let (mut n0, mut n1) = counts;
                                let mut bits = 0.0;
                                for &x in sequence {
                                    bits += log_loss_bits(exchangeable.predict_counts(n0, n1), x);
                                    if x != 0 {
                                        n1 += 1;
                                    } else {
                                        n0 += 1;
                                    }
                                }
                                bits
                            })
                            .collect()
                    })
                    .clone()
            })
            .collect();
        Ok(rows)
    }

    /// `expected_loss_bits(bayes, (n0(p), n1(p)), task, T)`: exact by summing over the task's counts.
    fn exact_expected_loss(&self, prompt: &[u8], task: &dyn Source, task_len: usize) -> Option<f64> {
        let predictor = self.source.as_exchangeable()?;
        let task = task.as_exchangeable()?;
        let counts = ((prompt.len() - ones(prompt)) as u64, ones(prompt) as u64);
        Some(expected_loss_bits(predictor, counts, task, task_len))
    }
}

/// Bits charged on the task tokens of each `prompt ++ sequence` by the source's general Bayes recursion.
fn sequential_bits(source: &dyn Source, prompt: &[u8], sequences: &[Vec<u8>]) -> Vec<f64> {
    sequences
        .iter()
        .map(|sequence| {
            let joined: Vec<u8> = prompt.iter().chain(sequence).copied().collect();
            let predictions = source.bayes_predictions(&joined);
            sequence.iter().zip(&predictions[prompt.len()..]).map(|(&x, &p1)| log_loss_bits(p1, x)).sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use adaptbench_sources::{rng, SourceSpec};
    use rand::Rng;

    fn paper_mix() -> Box<dyn Source> {
        SourceSpec::Mix { thetas: vec![0.2, 0.7], weights: vec![0.5, 0.5] }.build().unwrap()
    }

    #[test]
    fn the_count_shortcut_equals_the_sequential_posterior() {
        let predictor = BayesPredictor::new(paper_mix());
        let mut draws = rng(3);
        let sequences: Vec<Vec<u8>> =
            (0..5).map(|_| (0..9).map(|_| u8::from(draws.random::<bool>())).collect()).collect();
        let prompts = vec![vec![], vec![1, 1, 0], vec![0, 1, 1], vec![0, 0, 0, 0]];
        let fast = predictor.score(&prompts, &sequences).unwrap();
        for (prompt, row) in prompts.iter().zip(&fast) {
            let slow = sequential_bits(predictor.source.as_ref(), prompt, &sequences);
            for (a, b) in row.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-9, "{prompt:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn permutations_of_a_prompt_have_equal_exact_loss() {
        let predictor = BayesPredictor::new(paper_mix());
        let task = SourceSpec::Bern { p: 0.7 }.build().unwrap();
        let losses: Vec<f64> = [[1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 1, 1]]
            .iter()
            .map(|prompt| predictor.exact_expected_loss(prompt, task.as_ref(), 20).unwrap())
            .collect();
        assert_eq!(losses[0], losses[1]);
        assert_eq!(losses[0], losses[2]);
    }
}
