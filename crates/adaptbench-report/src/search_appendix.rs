//! The search.md sections on the local search beyond L_max and on successive halving, with the rows they
//! are drawn from (`local_search.csv`, `halving.csv`, and the halving columns of `reliability.csv`), so
//! that `adaptbench report DIR` redraws them from the files alone.

use serde::{Deserialize, Serialize};

use crate::reliability::ReliabilityRow;
use crate::search_figures::prompt_label;
use crate::statistics::wilson_interval;
use crate::vocabulary::Predictor;

/// The local search of one predictor, started from the exhaustive search's choice on D_N: a row of
/// `local_search.csv`. Prompts as `0`/`1` strings (empty: ε); losses in bits per task token.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LocalSearchRow {
    pub predictor: Predictor,
    /// The exhaustive search's choice on D_N, where the local search starts.
    pub start_prompt: String,
    /// Its loss on D_N.
    pub start_loss_bits: f64,
    /// Its reference loss minus the task's Bayes floor.
    pub start_kl_bits: f64,
    /// The local search's result.
    pub prompt: String,
    pub loss_bits: f64,
    pub kl_bits: f64,
    /// Prompts the local search scored.
    pub prompts_scored: usize,
}

/// Successive halving against the exhaustive search on D_N for one predictor: a row of `halving.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HalvingRow {
    pub predictor: Predictor,
    pub exhaustive_prompt: String,
    /// Rank by reference loss (1 = best).
    pub exhaustive_rank: usize,
    pub exhaustive_kl_bits: f64,
    /// (prompt, sequence) pairs scored.
    pub exhaustive_pairs: usize,
    pub exhaustive_seconds: f64,
    pub halving_prompt: String,
    pub halving_rank: usize,
    pub halving_kl_bits: f64,
    pub halving_pairs: u64,
    pub halving_seconds: f64,
}

/// The settings the two sections describe (from the run's `[search]` table).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchAppendixSettings {
    pub l_max: usize,
    pub beam: usize,
    pub max_len: usize,
    pub rounds: usize,
    pub eta: usize,
    pub min_sequences: usize,
}

/// The search.md sections "Local search beyond L_max" and "Successive halving (an approximation)": the
/// local search table, the halving-versus-exhaustive table on D_N, and reliability of both on the same draws
/// at the longest L_max of `reliability` (share of draws whose pick is reference-optimal, Wilson 95%
/// interval, and the pairs halving scores as a fraction of the exhaustive search's).
pub fn search_appendix_markdown(
    settings: &SearchAppendixSettings,
    local: &[LocalSearchRow],
    halving: &[HalvingRow],
    reliability: &[ReliabilityRow],
) -> String {
    let local_lines: Vec<String> = local
        .iter()
        .map(|row| {
            format!(
                "| {} | {} | {:.5} | {:.3e} | {} | {:.5} | {:.3e} | {} |",
                row.predictor,
                prompt_label(&row.start_prompt),
                row.start_loss_bits,
                row.start_kl_bits,
                prompt_label(&row.prompt),
                row.loss_bits,
                row.kl_bits,
                row.prompts_scored
            )
        })
        .collect();
    let halving_lines: Vec<String> = halving
        .iter()
        .map(|row| {
            format!(
                "| {} | {} (rank {}, KL {:.3e}) | {} | {:.3} | {} (rank {}, KL {:.3e}) | {} | {:.3} |",
                row.predictor,
                prompt_label(&row.exhaustive_prompt),
                row.exhaustive_rank,
                row.exhaustive_kl_bits,
                row.exhaustive_pairs,
                row.exhaustive_seconds,
                prompt_label(&row.halving_prompt),
                row.halving_rank,
                row.halving_kl_bits,
                row.halving_pairs,
                row.halving_seconds
            )
        })
        .collect();
    let longest = reliability.iter().map(|row| row.l_max).max().unwrap_or(0);
    let share = |proportion: f64, draws: usize| {
        let correct = (proportion.clamp(0.0, 1.0) * draws as f64).round() as usize;
        let (low, high) = wilson_interval(correct, draws);
        format!("{:.2} [{low:.2}, {high:.2}]", correct as f64 / draws as f64)
    };
    let reliability_lines: Vec<String> = reliability
        .iter()
        .filter(|row| row.l_max == longest)
        .map(|row| {
            format!(
                "| {} | {} | {} | {} | {} | {:.2} |",
                row.predictor,
                row.l_max,
                row.n,
                share(row.proportion_correct, row.draws),
                share(row.halving_proportion_correct, row.draws),
                row.halving_pair_share,
            )
        })
        .collect();
    format!(
        "\n## Local search beyond L_max\n\nBeam {} over bit flips, insertions and deletions, prompts up to {} tokens, \
         at most {} rounds, started from the exhaustive search's choice on D_N; KL is the reference loss minus the \
         task's Bayes floor.\n\n| predictor | exhaustive | its loss on D_N | its KL | local | its loss on D_N | its KL | prompts scored |\n\
         | --- | --- | ---: | ---: | --- | ---: | ---: | ---: |\n{}\n\
         \n## Successive halving (an approximation)\n\nBeside the exact search: every prompt of length ≤ {} is scored \
         on the first {} sequences of D_N, the best 1/{} are kept and scored on {}× as many, until all N are used \
         (`[search.halving]`). It scores far fewer (prompt, sequence) pairs but can cut a prompt that starts badly \
         and would have won. Rank and KL are by reference loss.\n\n\
         | predictor | exhaustive on D_N | pairs | seconds | halving on D_N | pairs | seconds |\n\
         | --- | --- | ---: | ---: | --- | ---: | ---: |\n{}\n\n\
         Reliability on the same draws of D_N as `reliability.csv` (share of draws whose pick is reference-optimal, \
         Wilson 95% interval), and the pairs halving scores as a fraction of the exhaustive search's:\n\n\
         | predictor | L_max | N | exhaustive | halving | pairs, halving / exhaustive |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |\n{}\n",
        settings.beam,
        settings.max_len,
        settings.rounds,
        local_lines.join("\n"),
        settings.l_max,
        settings.min_sequences,
        settings.eta,
        settings.eta,
        halving_lines.join("\n"),
        reliability_lines.join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::reliability_row;

    #[test]
    fn the_sections_show_each_row_with_the_empty_prompt_as_epsilon() {
        let settings = SearchAppendixSettings { l_max: 4, beam: 2, max_len: 6, rounds: 3, eta: 2, min_sequences: 4 };
        let local = [LocalSearchRow {
            predictor: Predictor::Bayes,
            start_prompt: String::new(),
            prompt: "0110".into(),
            prompts_scored: 17,
            ..Default::default()
        }];
        let halving = [HalvingRow { predictor: Predictor::Neural, halving_pairs: 92, exhaustive_pairs: 120, ..Default::default() }];
        let mut at_four = reliability_row("bayes", 16, 4, 0.8, 10);
        at_four.halving_proportion_correct = 0.3;
        let reliability = [reliability_row("bayes", 16, 2, 1.0, 10), at_four];
        let text = search_appendix_markdown(&settings, &local, &halving, &reliability);
        assert!(text.contains("| bayes | ε | 0.00000 | 0.000e0 | 0110 |") && text.contains("| 17 |"), "{text}");
        assert!(text.contains("| 120 |") && text.contains("| 92 |"), "{text}");
        // Only the longest L_max: 8/10 → Wilson [0.49, 0.94]; 3/10 → [0.11, 0.60].
        assert!(text.contains("| bayes | 4 | 16 | 0.80 [0.49, 0.94] | 0.30 [0.11, 0.60] | 0.50 |"), "{text}");
        assert!(!text.contains("| bayes | 2 | 16 |"), "{text}");
        assert!(text.contains("Beam 2") && text.contains("length ≤ 4") && text.contains("first 4 sequences"), "{text}");
    }
}
