//! Local search over prompts longer than exhaustive search can reach (DESIGN.md §5): a beam of prompts
//! improved by single edits — flip a bit, insert a bit, delete a bit — scored on D_N.

use std::collections::HashSet;

use crate::error::PromptError;
use crate::predictor::{mean_bits_per_token, Predictor};

/// The `[search.local]` knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSearchPlan {
    /// Prompts kept between rounds.
    pub beam: usize,
    /// Longest prompt an insertion may produce.
    pub max_len: usize,
    /// Rounds of expansion at most; the search also stops when a round does not improve the best prompt.
    pub rounds: usize,
}

/// The best prompt found and what it took.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSearchOutcome {
    pub prompt: Vec<u8>,
    /// Its loss on D_N per task token.
    pub empirical_loss_bits: f64,
    pub rounds: usize,
    /// Distinct prompts scored, the starting beam included.
    pub evaluated: usize,
}

/// Beam search from `start` (e.g. the exhaustive optimum): each round scores every unseen single-edit neighbour
/// of every beam member in one batch, and keeps the `beam` best of the old beam and the neighbours. The old
/// beam competes with its neighbours, so the result is never worse on D_N than the best starting prompt.
pub fn local_search(
    predictor: &dyn Predictor,
    start: &[Vec<u8>],
    data: &[Vec<u8>],
    plan: &LocalSearchPlan,
) -> Result<LocalSearchOutcome, PromptError> {
    let task_len = data.first().map_or(0, Vec::len);
    let loss = |bits: &[f64]| mean_bits_per_token(bits, 0..bits.len(), task_len);
    let mut seen: HashSet<Vec<u8>> = start.iter().cloned().collect();
    let starts: Vec<Vec<u8>> = seen.iter().cloned().collect();
    let mut beam: Vec<(Vec<u8>, f64)> =
        starts.iter().cloned().zip(predictor.score(&starts, data)?.iter().map(|bits| loss(bits))).collect();
    keep_best(&mut beam, plan.beam);
    let mut rounds = 0;
    while rounds < plan.rounds {
        let neighbours: Vec<Vec<u8>> = beam
            .iter()
            .flat_map(|(prompt, _)| single_edits(prompt, plan.max_len))
            .filter(|prompt| seen.insert(prompt.clone()))
            .collect();
        if neighbours.is_empty() {
            break;
        }
        rounds += 1;
        let incumbent = beam[0].1;
        let scores = predictor.score(&neighbours, data)?;
        beam.extend(neighbours.into_iter().zip(scores.iter().map(|bits| loss(bits))));
        keep_best(&mut beam, plan.beam);
        if beam[0].1 >= incumbent {
            break;
        }
    }
    let (prompt, empirical_loss_bits) = beam.swap_remove(0);
    Ok(LocalSearchOutcome { prompt, empirical_loss_bits, rounds, evaluated: seen.len() })
}

/// Every prompt one flip, insertion or deletion away from `prompt` (insertions only below `max_len`).
pub fn single_edits(prompt: &[u8], max_len: usize) -> Vec<Vec<u8>> {
    let mut edits = Vec::new();
    for i in 0..prompt.len() {
        let mut flipped = prompt.to_vec();
        flipped[i] ^= 1;
        edits.push(flipped);
        let mut deleted = prompt.to_vec();
        deleted.remove(i);
        edits.push(deleted);
    }
    if prompt.len() < max_len {
        for i in 0..=prompt.len() {
            for bit in [0, 1] {
                let mut inserted = prompt.to_vec();
                inserted.insert(i, bit);
                edits.push(inserted);
            }
        }
    }
    edits
}

/// Sorts by loss (shorter, then smaller prompt on ties, for a deterministic result) and keeps `width`.
fn keep_best(beam: &mut Vec<(Vec<u8>, f64)>, width: usize) {
    beam.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.len().cmp(&b.0.len())).then(a.0.cmp(&b.0)));
    beam.dedup_by(|a, b| a.0 == b.0);
    beam.truncate(width.max(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_edits_of_a_two_bit_prompt() {
        // 2 flips + 2 deletions + 3 positions × 2 bits of insertion.
        let edits = single_edits(&[1, 0], 3);
        assert_eq!(edits.len(), 2 + 2 + 6);
        assert!(edits.contains(&vec![0, 0]) && edits.contains(&vec![1]) && edits.contains(&vec![1, 1, 0]));
        // At the length cap no insertion is offered.
        assert_eq!(single_edits(&[1, 0], 2).len(), 4);
    }
}
