//! From choices to a recommendation: each method's held-out choice at each grid point aggregated across seeds
//! ([`MethodSummary`]), the methods ranked by their evaluation objective, and whether the best two are
//! statistically tied ([`Recommendation`]). Everything here reads `choices.csv` rows; nothing is recomputed.

use crate::aggregate::Aggregate;
use crate::selection::ChoiceRow;
use crate::statistics::{mean, sample_variance, student_t_975};
use crate::tidy::group_by_key;
use crate::vocabulary::Method;

/// One method at one grid point, at its held-out choice, across seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodSummary {
    pub point: u64,
    pub method: Method,
    /// The chosen hyper-parameters of each seed, in seed order (they may differ between seeds).
    pub params: Vec<String>,
    /// The chosen α across seeds (its CI says how stable the choice is).
    pub alpha: Aggregate,
    /// Evaluation ID excess at the choice, bits per token; single-seed CI from the evaluation sequences.
    pub id: Aggregate,
    /// Evaluation OOD excess at the choice; `None` without OOD sources.
    pub ood: Option<Aggregate>,
    /// Evaluation objective ID + λ·OOD at the choice.
    pub objective: Aggregate,
    /// The selection regret (choice − oracle on the evaluation data), mean across seeds.
    pub regret: Aggregate,
    /// The largest over seeds (the cost a user must be ready to pay).
    pub trainable_params: u64,
    /// The largest over seeds.
    pub prompt_tokens: u64,
    /// Mean over seeds.
    pub adapt_seconds: f64,
    /// (seed, evaluation objective) of each seed, for paired comparisons.
    pub per_seed: Vec<(u64, f64)>,
}

impl MethodSummary {
    /// The chosen hyper-parameters: one value when every seed chose the same, else each distinct one
    /// joined by ` | `.
    pub fn params_label(&self) -> String {
        let mut distinct: Vec<&str> = Vec::new();
        for params in &self.params {
            if !distinct.contains(&params.as_str()) {
                distinct.push(params);
            }
        }
        distinct.join(" | ")
    }
}

/// Whether the best method is distinguishable from the runner-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tie {
    /// The 95% CI of the runner-up's objective minus the winner's (paired by seed) contains 0.
    Tied,
    /// The CI lies above 0: the winner is better.
    Distinct,
    /// No runner-up.
    Alone,
}

/// The ranking at one grid point.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    pub point: u64,
    /// Every method (the base `none` among them) by increasing evaluation objective; never empty.
    pub ranked: Vec<MethodSummary>,
    /// Winner against runner-up.
    pub tie: Tie,
    /// Every method statistically tied with the winner (the winner included).
    pub tied: Vec<Method>,
}

impl Recommendation {
    pub fn winner(&self) -> &MethodSummary {
        &self.ranked[0]
    }

    pub fn runner_up(&self) -> Option<&MethodSummary> {
        self.ranked.get(1)
    }
}

/// Aggregates `choices` per (point, method) across seeds: for each quantity x̄ ± t_{0.975, n−1}·s/√n
/// ([`Aggregate::across_seeds`]), with the within-seed CI over evaluation sequences for a single seed (for
/// the objective √(ci_ID² + λ²·ci_OOD²) is not available here, so the ID CI stands in when OOD is absent
/// and √(ci_ID² + ci_OOD²) otherwise, an upper bound for λ ≤ 1). Groups in order of first appearance.
pub fn method_summaries(choices: &[ChoiceRow]) -> Vec<MethodSummary> {
    group_by_key(choices.iter(), |row| (row.point, row.method))
        .into_iter()
        .map(|((point, method), rows)| {
            let values = |value: fn(&ChoiceRow) -> f64| rows.iter().map(|row| value(row)).collect::<Vec<f64>>();
            let across = |value: fn(&ChoiceRow) -> f64, single: f64| {
                Aggregate::across_seeds(&values(value), single).expect("a group has at least one row")
            };
            let first = rows[0];
            let has_ood = rows.iter().all(|row| row.ood_excess_bits.is_finite());
            let objective_ci95 = if has_ood {
                first.id_excess_ci95.hypot(first.ood_excess_ci95)
            } else {
                first.id_excess_ci95
            };
            MethodSummary {
                point,
                method,
                params: rows.iter().map(|row| row.params.clone()).collect(),
                alpha: across(|row| row.alpha, 0.0),
                id: across(|row| row.id_excess_bits, first.id_excess_ci95),
                ood: has_ood.then(|| across(|row| row.ood_excess_bits, first.ood_excess_ci95)),
                objective: across(|row| row.objective, objective_ci95),
                regret: across(|row| row.regret, 0.0),
                trainable_params: rows.iter().map(|row| row.trainable_params).max().unwrap_or(0),
                prompt_tokens: rows.iter().map(|row| row.prompt_tokens).max().unwrap_or(0),
                adapt_seconds: mean(&values(|row| row.adapt_seconds)),
                per_seed: rows.iter().map(|row| (row.seed, row.objective)).collect(),
            }
        })
        .collect()
}

/// One [`Recommendation`] per point of `summaries` (points in order of first appearance): the methods by
/// increasing mean objective (ties by the order given), and the tie test of each against the winner.
///
/// Tie test. With the seeds both share (n ≥ 2), the paired differences d_s = J_other(s) − J_winner(s) give
/// d̄ ± t_{0.975, n−1}·s_d/√n; the two are tied when d̄ − t·s_d/√n ≤ 0. With one seed, tied when
/// d ≤ √(ci_winner² + ci_other²) (the within-seed CIs of the objectives).
pub fn recommend(summaries: &[MethodSummary]) -> Vec<Recommendation> {
    group_by_key(summaries.iter(), |summary| summary.point)
        .into_iter()
        .map(|(point, members)| {
            let mut ranked: Vec<MethodSummary> = members.into_iter().cloned().collect();
            ranked.sort_by(|a, b| a.objective.mean.total_cmp(&b.objective.mean));
            let tied: Vec<Method> =
                ranked.iter().filter(|other| ties(&ranked[0], other)).map(|summary| summary.method).collect();
            let tie = match ranked.get(1) {
                None => Tie::Alone,
                Some(runner_up) if ties(&ranked[0], runner_up) => Tie::Tied,
                Some(_) => Tie::Distinct,
            };
            Recommendation { point, ranked, tie, tied }
        })
        .collect()
}

/// Whether `other` is statistically tied with `winner` (see [`recommend`]); a method is tied with itself.
fn ties(winner: &MethodSummary, other: &MethodSummary) -> bool {
    if winner.method == other.method {
        return true;
    }
    let differences: Vec<f64> = other
        .per_seed
        .iter()
        .filter_map(|(seed, j)| winner.per_seed.iter().find(|(s, _)| s == seed).map(|(_, w)| j - w))
        .collect();
    match differences.len() {
        0 => false,
        1 => differences[0] <= winner.objective.ci95.hypot(other.objective.ci95),
        n => {
            let d = mean(&differences);
            d - student_t_975(n - 1) * (sample_variance(&differences, d) / n as f64).sqrt() <= 0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(method: Method, seed: u64, objective: f64) -> ChoiceRow {
        ChoiceRow {
            point: 0,
            method,
            seed,
            params: format!("lr={seed}"),
            alpha: 0.5,
            id_excess_bits: objective,
            ood_excess_bits: 0.0,
            objective,
            id_excess_ci95: 0.01,
            ood_excess_ci95: 0.02,
            regret: 0.001 * seed as f64,
            trainable_params: 10 * seed,
            ..Default::default()
        }
    }

    #[test]
    fn summaries_aggregate_across_seeds_with_student_t() {
        let rows: Vec<ChoiceRow> = [0.1, 0.2, 0.3].iter().zip(1..).map(|(j, s)| choice(Method::Full, s, *j)).collect();
        let summary = &method_summaries(&rows)[0];
        assert!((summary.objective.mean - 0.2).abs() < 1e-12);
        // s = 0.1, n = 3: ci = 4.303 · 0.1 / √3.
        assert!((summary.objective.ci95 - 4.303 * 0.1 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(summary.trainable_params, 30);
        assert_eq!(summary.params_label(), "lr=1 | lr=2 | lr=3");
        assert!((summary.regret.mean - 0.002).abs() < 1e-12);
    }

    #[test]
    fn a_consistent_paired_gap_is_distinct_and_a_noisy_one_is_a_tie() {
        // lora is better than full by 0.01 on every seed: paired, the difference has no spread, so distinct,
        // though the seed-to-seed spread of each method (0.1) is ten times the gap.
        let mut rows = Vec::new();
        for (seed, level) in [(1, 0.1), (2, 0.2), (3, 0.3)] {
            rows.push(choice(Method::Full, seed, level + 0.01));
            rows.push(choice(Method::Lora, seed, level));
            rows.push(choice(Method::Head, seed, level + [0.06, -0.04, 0.04][seed as usize - 1]));
        }
        let recommendation = &recommend(&method_summaries(&rows))[0];
        assert_eq!(recommendation.winner().method, Method::Lora);
        assert_eq!(recommendation.runner_up().unwrap().method, Method::Full);
        assert_eq!(recommendation.tie, Tie::Distinct);
        // head: differences 0.06, −0.04, 0.04 (mean 0.02, behind full): its CI contains 0, full's does not.
        assert_eq!(recommendation.tied, [Method::Lora, Method::Head]);
    }

    #[test]
    fn one_seed_compares_the_within_seed_intervals() {
        let rows = [choice(Method::Full, 1, 0.10), choice(Method::Lora, 1, 0.12), choice(Method::Head, 1, 0.2)];
        let recommendation = &recommend(&method_summaries(&rows))[0];
        // ci of each objective = √(0.01² + 0.02²) = 0.0224; tie threshold √2 · 0.0224 = 0.0316.
        assert_eq!(recommendation.tie, Tie::Tied);
        assert_eq!(recommendation.tied, [Method::Full, Method::Lora]);
        let alone = recommend(&method_summaries(&rows[..1]));
        assert_eq!(alone[0].tie, Tie::Alone);
    }
}
