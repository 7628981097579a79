//! Reliability of exhaustive search on finite data (DESIGN.md §6): over R independent draws of D_N, how often
//! is the empirical best prompt a reference-optimal one? And the same for successive halving's pick on the same
//! draws, so the approximation's price is measured beside the exact search.

use adaptbench_sources::{derive_seed, rng, Source};

use crate::error::PromptError;
use crate::exhaustive::Exhaustive;
use crate::halving::{successive_halving_on, HalvingPlan};
use crate::landscape::Landscape;
use crate::predictor::Predictor;
use crate::prompt::first_index_of_length;

/// Which sizes, prompt lengths and how many draws; and when a prompt counts as optimal.
#[derive(Debug, Clone, PartialEq)]
pub struct ReliabilityPlan {
    /// Sizes N of D_N.
    pub ns: Vec<usize>,
    /// Longest prompt searched, one curve each (each ≤ the landscape's L_max).
    pub l_maxes: Vec<usize>,
    /// Independent draws R per point.
    pub draws: usize,
    /// A prompt whose reference loss is within this many bits per token of the optimum counts as optimal.
    pub tolerance_bits: f64,
    /// Successive halving, simulated on the same scores of the same draws.
    pub halving: HalvingPlan,
}

/// The share of draws whose empirical best prompt is reference-optimal, at one (N, L_max).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityPoint {
    pub n: usize,
    pub l_max: usize,
    pub draws: usize,
    /// Draws whose exhaustive pick is reference-optimal.
    pub correct: usize,
    /// Draws whose successive-halving pick is reference-optimal.
    pub halving_correct: usize,
    /// (prompt, sequence) pairs successive halving scores on one draw (the same for every draw), against the
    /// exhaustive (2^(L_max+1) − 1) · N.
    pub halving_evaluations: u64,
}

impl ReliabilityPoint {
    /// `correct / draws`.
    pub fn proportion(&self) -> f64 {
        self.correct as f64 / self.draws as f64
    }
}

/// Measures reliability against the reference losses of `landscape` (which must cover every `l_max`), for
/// exhaustive search and for successive halving (`plan.halving`, simulated on the same scores).
///
/// One pool of `R · max(N)` task sequences is drawn from `derive_seed(seed, "reliability")` and scored once;
/// draw r of size N uses sequences `[r · max(N), r · max(N) + N)`, so the R draws at one N are disjoint, hence
/// independent, and curves at different N share their data (common random numbers), which makes differences
/// between them less noisy. Draw r is correct when the empirical best prompt p̂ (ties to the shorter, then
/// earlier prompt) has `loss(p̂) ≤ min_p loss(p) + tolerance`; the same criterion judges successive halving's
/// pick.
pub fn reliability(
    predictor: &dyn Predictor,
    landscape: &Landscape,
    task: &dyn Source,
    task_len: usize,
    plan: &ReliabilityPlan,
    seed: u64,
) -> Result<Vec<ReliabilityPoint>, PromptError> {
    let largest_l = plan.l_maxes.iter().copied().max().unwrap_or(0);
    let stride = plan.ns.iter().copied().max().unwrap_or(0);
    let mut draws = rng(derive_seed(seed, "reliability"));
    let pool: Vec<Vec<u8>> = (0..plan.draws * stride).map(|_| task.sample(&mut draws, task_len).tokens).collect();
    let scored = Exhaustive::run(predictor, largest_l, &pool)?;
    let mut points = Vec::new();
    for &l_max in &plan.l_maxes {
        let count = first_index_of_length(l_max + 1);
        let candidates = &landscape.entries[..count];
        let optimum = candidates.iter().map(|entry| entry.loss_bits).fold(f64::INFINITY, f64::min);
        for &n in &plan.ns {
            let is_optimal = |index: usize| candidates[index].loss_bits <= optimum + plan.tolerance_bits;
            let (mut correct, mut halving_correct, mut halving_evaluations) = (0, 0, 0);
            for r in 0..plan.draws {
                let draw = r * stride..r * stride + n;
                correct += usize::from(is_optimal(scored.best_on(count, draw.clone())));
                let halving = successive_halving_on(&scored, count, draw, &plan.halving);
                halving_correct += usize::from(is_optimal(halving.index));
                halving_evaluations = halving.evaluations;
            }
            points.push(ReliabilityPoint {
                n,
                l_max,
                draws: plan.draws,
                correct,
                halving_correct,
                halving_evaluations,
            });
        }
    }
    Ok(points)
}
