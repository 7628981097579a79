//! Exhaustive hard-prompt search: every binary prompt of length 0..=L_max, scored on D_N.

use crate::error::PromptError;
use crate::predictor::{mean_bits_per_token, Predictor, ScoreMatrix};
use crate::prompt::all_prompts;

/// Every prompt of length ≤ L_max in canonical order (2^(L_max+1) − 1 of them) with its empirical loss.
pub struct Exhaustive {
    pub prompts: Vec<Vec<u8>>,
    /// Per prompt and sequence of D_N, the summed bits over its task tokens.
    pub scores: ScoreMatrix,
    pub task_len: usize,
}

impl Exhaustive {
    /// Scores all `2^(l_max+1) − 1` prompts on `data` (N sequences of one length T).
    pub fn run(predictor: &dyn Predictor, l_max: usize, data: &[Vec<u8>]) -> Result<Self, PromptError> {
        let task_len = data.first().map_or(0, Vec::len);
        check_l_max(predictor, l_max, task_len)?;
        let prompts = all_prompts(l_max);
        let scores = predictor.score(&prompts, data)?;
        Ok(Self { prompts, scores, task_len })
    }

    /// Empirical loss of prompt `index` on D_N, bits per task token: `Σ_s bits(p, x_s) / (N · T)`.
    pub fn empirical_bits(&self, index: usize) -> f64 {
        mean_bits_per_token(&self.scores[index], 0..self.scores[index].len(), self.task_len)
    }

    /// The empirical best among the first `count` prompts (the prompts of length ≤ ℓ are a prefix of the
    /// canonical order) using only the sequences in `range`; ties go to the earlier (shorter) prompt.
    pub fn best_on(&self, count: usize, range: std::ops::Range<usize>) -> usize {
        let mut best = (0, f64::INFINITY);
        for (index, row) in self.scores[..count].iter().enumerate() {
            let total: f64 = row[range.clone()].iter().sum();
            if total < best.1 {
                best = (index, total);
            }
        }
        best.0
    }

    /// Index of the empirical best prompt on all of D_N.
    pub fn best(&self) -> usize {
        self.best_on(self.prompts.len(), 0..self.scores.first().map_or(0, Vec::len))
    }
}

/// Rejects an `l_max` longer than `predictor` fits before `task_len` task tokens (`search.l_max` in the error).
pub(crate) fn check_l_max(predictor: &dyn Predictor, l_max: usize, task_len: usize) -> Result<(), PromptError> {
    match predictor.max_prompt_len(task_len) {
        Some(limit) if l_max > limit => Err(PromptError::invalid(
            "search.l_max",
            l_max,
            format!("the {} predictor fits prompts of at most {limit} tokens before T = {task_len}", predictor.name()),
        )),
        _ => Ok(()),
    }
}
