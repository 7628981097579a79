//! The prompt landscape (DESIGN.md §6): every prompt up to L_max with its reference loss, its KL to the task,
//! its rank and its empirical loss on D_N — the picture behind "optimal prompts are atypical, the landscape is
//! flat near the optimum, and exhaustive search on finite data is unreliable".

use crate::error::PromptError;
use crate::exhaustive::Exhaustive;
use crate::config::PredictorKind;
use crate::predictor::Predictor;
use crate::reference::Reference;

/// One prompt of the landscape.
#[derive(Debug, Clone, PartialEq)]
pub struct LandscapeEntry {
    pub prompt: Vec<u8>,
    /// Reference loss per task token (exact or on the reference sample).
    pub loss_bits: f64,
    /// Half-width of its 95% CI (0 when exact).
    pub loss_ci95: f64,
    /// `loss_bits − floor`: the mean KL from the task's Bayes predictive to the prompted predictor.
    pub kl_bits: f64,
    /// Competition rank by reference loss (equal losses share a rank; 1 = best).
    pub rank: usize,
    /// Loss per task token on D_N, what a search actually sees.
    pub empirical_loss_bits: f64,
}

/// A predictor's landscape, entries in canonical prompt order.
pub struct Landscape {
    pub predictor: PredictorKind,
    pub floor_bits: f64,
    pub entries: Vec<LandscapeEntry>,
}

impl Landscape {
    /// Measures every prompt of length ≤ `l_max` against `reference`, with empirical losses on `data`.
    pub fn measure(
        predictor: &dyn Predictor,
        reference: &Reference,
        l_max: usize,
        data: &[Vec<u8>],
    ) -> Result<Self, PromptError> {
        let exhaustive = Exhaustive::run(predictor, l_max, data)?;
        Self::from_exhaustive(predictor, reference, &exhaustive)
    }

    /// The landscape of an exhaustive search already run on D_N.
    pub fn from_exhaustive(
        predictor: &dyn Predictor,
        reference: &Reference,
        exhaustive: &Exhaustive,
    ) -> Result<Self, PromptError> {
        let references = reference.losses(predictor, &exhaustive.prompts)?;
        let ranks = competition_ranks(&references.iter().map(|r| r.bits).collect::<Vec<_>>());
        let floor_bits = reference.floor_bits();
        let entries = exhaustive
            .prompts
            .iter()
            .zip(references)
            .zip(ranks)
            .enumerate()
            .map(|(index, ((prompt, reference), rank))| LandscapeEntry {
                prompt: prompt.clone(),
                loss_bits: reference.bits,
                loss_ci95: reference.ci95,
                kl_bits: reference.bits - floor_bits,
                rank,
                empirical_loss_bits: exhaustive.empirical_bits(index),
            })
            .collect();
        Ok(Self { predictor: predictor.kind(), floor_bits, entries })
    }

    /// The reference-optimal prompt (rank 1; the shortest, then the first in canonical order, on ties).
    pub fn optimum(&self) -> &LandscapeEntry {
        self.entries.iter().find(|entry| entry.rank == 1).expect("a landscape has at least the empty prompt")
    }

    /// The prompt an exhaustive search on D_N returns: the least empirical loss (the earlier prompt on ties).
    pub fn empirical_best(&self) -> &LandscapeEntry {
        self.entries
            .iter()
            .reduce(|best, entry| if entry.empirical_loss_bits < best.empirical_loss_bits { entry } else { best })
            .expect("a landscape has at least the empty prompt")
    }

    /// The entry of `prompt`, if its length is within the landscape.
    pub fn entry(&self, prompt: &[u8]) -> Option<&LandscapeEntry> {
        self.entries.get(canonical_index(prompt))
    }
}

/// Position of `prompt` in the canonical order: `2^len − 1` shorter prompts, then its value as a binary
/// number (first bit most significant).
pub fn canonical_index(prompt: &[u8]) -> usize {
    let value = prompt.iter().fold(0usize, |acc, &bit| (acc << 1) | usize::from(bit != 0));
    crate::prompt::first_index_of_length(prompt.len()) + value
}

/// Standard competition ranks ("1224"): 1 + the number of values strictly smaller.
fn competition_ranks(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0; values.len()];
    for (position, &index) in order.iter().enumerate() {
        let tied_with_previous = position > 0 && values[order[position - 1]] == values[index];
        ranks[index] = if tied_with_previous { ranks[order[position - 1]] } else { position + 1 };
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::all_prompts;

    #[test]
    fn competition_ranks_share_ties_and_skip_after_them() {
        assert_eq!(competition_ranks(&[0.3, 0.1, 0.3, 0.2, 0.1]), vec![4, 1, 4, 3, 1]);
    }

    #[test]
    fn canonical_index_inverts_the_enumeration() {
        for (index, prompt) in all_prompts(6).iter().enumerate() {
            assert_eq!(canonical_index(prompt), index);
        }
    }
}
