//! Successive halving over hard prompts: an approximation of exhaustive search, reported beside the exact one.
//! It spends few sequences on every prompt and more only on the prompts that look good so far (successive
//! halving, Jamieson & Talwalkar 2016, with the η-fold cut of Hyperband, Li et al. 2018), so a prompt that is
//! bad on the first sequences of D_N but best on all of them can be cut: its pick may differ from
//! [`Exhaustive::best`].

use std::convert::Infallible;
use std::ops::Range;

use crate::error::PromptError;
use crate::exhaustive::{check_l_max, Exhaustive};
use crate::predictor::Predictor;
use crate::prompt::all_prompts;

/// The `[search.halving]` knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct HalvingPlan {
    /// Each round keeps the best `⌈|C|/eta⌉` candidates and multiplies the sequences by `eta`; must be ≥ 2.
    pub eta: usize,
    /// Sequences n₀ every candidate is scored on in the first round (capped at N); must be ≥ 1.
    pub min_sequences: usize,
}

/// One round: `candidates` prompts, each scored on the first `sequences` sequences of D_N by its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HalvingRound {
    pub candidates: usize,
    pub sequences: usize,
}

/// The prompt successive halving picks and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct HalvingOutcome {
    /// Canonical index of the pick (see [`all_prompts`]).
    pub index: usize,
    pub prompt: Vec<u8>,
    /// The pick's loss on all N sequences of D_N, bits per task token: `S(p̂) / (N · T)`.
    pub empirical_loss_bits: f64,
    pub rounds: Vec<HalvingRound>,
    /// (prompt, sequence) pairs scored: `Σ_r |C_r| · (n_r − n_{r−1})`.
    pub evaluations: u64,
    /// Pairs exhaustive search scores on the same candidates: `K · N`, K = 2^(L_max+1) − 1 for all prompts.
    pub exhaustive_evaluations: u64,
}

/// Successive halving over every prompt of length ≤ `l_max` on `data` (N sequences of one length T), scoring
/// only the (surviving prompt, new sequence) pairs; see [`successive_halving_on`] for the algorithm.
///
/// # Panics
/// If `plan.eta < 2` or `plan.min_sequences < 1` (the config rejects both at load).
pub fn successive_halving(
    predictor: &dyn Predictor,
    l_max: usize,
    data: &[Vec<u8>],
    plan: &HalvingPlan,
) -> Result<HalvingOutcome, PromptError> {
    let task_len = data.first().map_or(0, Vec::len);
    check_l_max(predictor, l_max, task_len)?;
    let prompts = all_prompts(l_max);
    halve(&prompts, data.len(), task_len, plan, |candidates, block| {
        let chosen: Vec<Vec<u8>> = candidates.iter().map(|&index| prompts[index].clone()).collect();
        let bits = predictor.score(&chosen, &data[block])?;
        Ok(bits.iter().map(|row| row.iter().sum()).collect())
    })
}

/// The decisions successive halving takes on an already scored pool, at no scoring cost (e.g. over many draws
/// of D_N): its candidates are the first `count` prompts of `exhaustive` (those of length ≤ ℓ for
/// `count = 2^(ℓ+1) − 1`) and D_N is the sequences in `range`, as in [`Exhaustive::best_on`].
///
/// With K candidates, N = |D_N|, and S_r(p) = Σ_{s < n_r} bits(p, x_s) over the first n_r sequences of D_N:
/// - C₀ = all K candidates, n₀ = min(min_sequences, N).
/// - Round r scores each p ∈ C_r on sequences n_{r−1}..n_r only (n_{−1} = 0), so S_r accumulates.
/// - If n_r = N, stop: the pick p̂ = argmin_{p ∈ C_r} S_r(p), ties to the earlier canonical index as in
///   [`Exhaustive::best`].
/// - Otherwise C_{r+1} = the ⌈|C_r|/η⌉ candidates with the lowest S_r (ties to the earlier index) and
///   n_{r+1} = min(η · n_r, N) — or N at once when a lone candidate survives, so the pick's loss is always on
///   all of D_N and comparable with the exhaustive one.
///
/// Cost: `Σ_r |C_r| · (n_r − n_{r−1})` pairs instead of K · N, e.g. 24,572 instead of 131,008 for
/// K = 2047 (L_max = 10), N = 64, η = 2, n₀ = 4.
///
/// # Panics
/// If `count` is 0, `plan.eta < 2` or `plan.min_sequences < 1`.
pub fn successive_halving_on(
    exhaustive: &Exhaustive,
    count: usize,
    range: Range<usize>,
    plan: &HalvingPlan,
) -> HalvingOutcome {
    let offset = range.start;
    let totals = |candidates: &[usize], block: Range<usize>| -> Result<Vec<f64>, Infallible> {
        let block = offset + block.start..offset + block.end;
        Ok(candidates.iter().map(|&index| exhaustive.scores[index][block.clone()].iter().sum()).collect())
    };
    let Ok(outcome) = halve(&exhaustive.prompts[..count], range.len(), exhaustive.task_len, plan, totals);
    outcome
}

/// The one decision routine of both versions. `score(candidates, block)` returns, per candidate (canonical
/// indices, ascending), its summed bits over the sequences `block` of D_N.
fn halve<E>(
    prompts: &[Vec<u8>],
    n: usize,
    task_len: usize,
    plan: &HalvingPlan,
    mut score: impl FnMut(&[usize], Range<usize>) -> Result<Vec<f64>, E>,
) -> Result<HalvingOutcome, E> {
    assert!(plan.eta >= 2, "successive halving needs eta ≥ 2, got {}", plan.eta);
    assert!(plan.min_sequences >= 1, "successive halving needs min_sequences ≥ 1");
    assert!(!prompts.is_empty(), "successive halving needs at least one candidate");
    let mut survivors: Vec<usize> = (0..prompts.len()).collect();
    // S_r per canonical index; only survivors' entries keep growing.
    let mut totals = vec![0.0; prompts.len()];
    let mut rounds = Vec::new();
    let mut evaluations = 0u64;
    let mut scored = 0;
    let mut next = plan.min_sequences.min(n);
    loop {
        for (&index, block_bits) in survivors.iter().zip(score(&survivors, scored..next)?) {
            totals[index] += block_bits;
        }
        evaluations += (survivors.len() * (next - scored)) as u64;
        rounds.push(HalvingRound { candidates: survivors.len(), sequences: next });
        scored = next;
        if scored == n {
            break;
        }
        // A stable sort of index-ordered survivors sends ties to the earlier prompt.
        survivors.sort_by(|&a, &b| totals[a].total_cmp(&totals[b]));
        survivors.truncate(survivors.len().div_ceil(plan.eta));
        survivors.sort_unstable();
        next = if survivors.len() == 1 { n } else { plan.eta.saturating_mul(next).min(n) };
    }
    // `min_by` keeps the first of equal minima, and survivors are in canonical order.
    let index = survivors
        .iter()
        .copied()
        .min_by(|&a, &b| totals[a].total_cmp(&totals[b]))
        .expect("a round never cuts the last candidate");
    Ok(HalvingOutcome {
        index,
        prompt: prompts[index].clone(),
        empirical_loss_bits: totals[index] / (n * task_len) as f64,
        rounds,
        evaluations,
        exhaustive_evaluations: (prompts.len() * n) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bits of the 7 prompts of length ≤ 2 (one row each, canonical order) on 4 one-token sequences.
    fn hand_pool() -> Exhaustive {
        let scores = vec![
            vec![5.0, 5.0, 5.0, 5.0], // ""   total 20
            vec![1.0, 3.0, 4.0, 4.0], // "0"  total 12
            vec![2.0, 1.0, 4.0, 4.0], // "1"  total 11
            vec![3.0, 3.0, 3.0, 3.0], // "00" total 12
            vec![3.0, 4.0, 1.0, 1.0], // "01" total 9
            vec![3.0, 0.0, 0.0, 0.0], // "10" total 3: the best on D_4, tied at the first cut
            vec![7.0, 0.0, 0.0, 0.0], // "11" total 7
        ];
        Exhaustive { prompts: all_prompts(2), scores, task_len: 1 }
    }

    fn rounds(pairs: &[(usize, usize)]) -> Vec<HalvingRound> {
        pairs.iter().map(|&(candidates, sequences)| HalvingRound { candidates, sequences }).collect()
    }

    #[test]
    fn halving_cuts_the_exhaustive_best_when_it_ties_at_the_first_cut() {
        let pool = hand_pool();
        assert_eq!(pool.best(), 5);
        let outcome = successive_halving_on(&pool, 7, 0..4, &HalvingPlan { eta: 2, min_sequences: 1 });
        // n=1: S = 5,1,2,3,3,3,7 → keep ⌈7/2⌉ = 4: 1, 2 and the earlier two of the tied 3, 4, 5 (5 is cut).
        // n=2: S(1..=4) = 4, 3, 6, 7 → keep 2: prompts 2 and 1.
        // n=4: S(1) = 12, S(2) = 11 → pick 2 = "1", 11 bits / 4 tokens.
        assert_eq!(outcome.index, 2);
        assert_eq!(outcome.prompt, vec![1]);
        assert_eq!(outcome.empirical_loss_bits, 2.75);
        assert_eq!(outcome.rounds, rounds(&[(7, 1), (4, 2), (2, 4)]));
        // 7·1 + 4·(2−1) + 2·(4−2) = 15 of 7·4 = 28 pairs.
        assert_eq!((outcome.evaluations, outcome.exhaustive_evaluations), (15, 28));
    }

    #[test]
    fn a_lone_survivor_is_scored_on_the_rest_of_the_data() {
        // Prompts "" and "0": after n=1 (S = 5, 1) only prompt 1 survives, and one round scores it on
        // sequences 1..4 at once (not n = 2, then 4): 12 bits / 4 tokens, 2·1 + 1·3 pairs.
        let outcome = successive_halving_on(&hand_pool(), 2, 0..4, &HalvingPlan { eta: 2, min_sequences: 1 });
        assert_eq!(outcome.index, 1);
        assert_eq!(outcome.empirical_loss_bits, 3.0);
        assert_eq!(outcome.rounds, rounds(&[(2, 1), (1, 4)]));
        assert_eq!(outcome.evaluations, 2 + 3);
    }

    #[test]
    fn the_candidates_and_sequences_can_be_a_prefix_and_a_slice_of_the_pool() {
        // Prompts "", "0", "1" on sequences 1..3. n=1 (sequence 1): S = 5, 3, 1 → keep ⌈3/2⌉ = 2: prompts 1, 2.
        // n=2: S(1) = 3 + 4 = 7, S(2) = 1 + 4 = 5 → pick 2 with 5 bits / 2 tokens.
        let outcome = successive_halving_on(&hand_pool(), 3, 1..3, &HalvingPlan { eta: 2, min_sequences: 1 });
        assert_eq!(outcome.index, 2);
        assert_eq!(outcome.empirical_loss_bits, 2.5);
        assert_eq!(outcome.rounds, rounds(&[(3, 1), (2, 2)]));
        assert_eq!((outcome.evaluations, outcome.exhaustive_evaluations), (3 + 2, 3 * 2));
    }

    #[test]
    fn a_first_round_on_all_data_is_exhaustive_search() {
        let pool = hand_pool();
        for min_sequences in [4, 100] {
            let outcome = successive_halving_on(&pool, 7, 0..4, &HalvingPlan { eta: 2, min_sequences });
            assert_eq!(outcome.index, pool.best());
            assert_eq!(outcome.empirical_loss_bits, pool.empirical_bits(pool.best()));
            assert_eq!(outcome.rounds, rounds(&[(7, 4)]));
            assert_eq!(outcome.evaluations, outcome.exhaustive_evaluations);
        }
    }
}
