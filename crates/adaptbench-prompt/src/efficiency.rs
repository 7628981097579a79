//! Prompt efficiency (DESIGN.md §6): the loss a prompt of each length buys when it is chosen optimally,
//! against prompts that are typical task samples or uniformly random bits.

use adaptbench_sources::{derive_seed, rng, Source};
use rand::Rng;

pub use adaptbench_report::PromptKind;
use adaptbench_report::mean_ci95;

use crate::landscape::Landscape;

/// Reference loss per task token of prompts of one kind and length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EfficiencyPoint {
    pub kind: PromptKind,
    pub length: usize,
    pub loss_bits: f64,
    /// Optimal: the CI of its reference loss (0 when exact). Typical, random: `1.96 · sd / √K` over the K
    /// drawn prompts (the spread of prompts, not of the reference estimate).
    pub ci95: f64,
}

/// Loss versus prompt length for every length ≤ the landscape's L_max: the best prompt of each length, and
/// the mean over `samples` typical and `samples` random prompts drawn from `derive_seed(seed, "efficiency")`,
/// looked up in the landscape (which holds every prompt of those lengths).
pub fn efficiency(landscape: &Landscape, task: &dyn Source, samples: usize, seed: u64) -> Vec<EfficiencyPoint> {
    let l_max = landscape.entries.last().map_or(0, |entry| entry.prompt.len());
    let mut draws = rng(derive_seed(seed, "efficiency"));
    let mut points = Vec::new();
    for length in 0..=l_max {
        let optimal = landscape
            .entries
            .iter()
            .filter(|entry| entry.prompt.len() == length)
            .min_by(|a, b| a.loss_bits.total_cmp(&b.loss_bits))
            .expect("every length up to L_max is in the landscape");
        points.push(EfficiencyPoint {
            kind: PromptKind::Optimal,
            length,
            loss_bits: optimal.loss_bits,
            ci95: optimal.loss_ci95,
        });
        let typical: Vec<Vec<u8>> = (0..samples).map(|_| task.sample(&mut draws, length).tokens).collect();
        let random: Vec<Vec<u8>> =
            (0..samples).map(|_| (0..length).map(|_| u8::from(draws.random::<bool>())).collect()).collect();
        for (kind, prompts) in [(PromptKind::Typical, typical), (PromptKind::Random, random)] {
            let losses: Vec<f64> = prompts
                .iter()
                .map(|prompt| landscape.entry(prompt).expect("length within the landscape").loss_bits)
                .collect();
            let (loss_bits, ci95) = mean_ci95(&losses);
            points.push(EfficiencyPoint { kind, length, loss_bits, ci95 });
        }
    }
    points
}
