//! Choosing a configuration and α on held-out data, never on the evaluation sequences.
//!
//! `selection.csv` holds one [`SelectionRow`] per (point, seed, method, hyper-parameters, α): that model's
//! excess on the validation split of D_N (ID) and on a held-out draw of every OOD source, disjoint from the
//! evaluation draws. [`choose`] picks, for each (point, seed, method), the (hyper-parameters, α) that
//! minimises the held-out objective `ID + λ·OOD`, and scores that choice on the evaluation rows of
//! `metrics.csv`, beside the oracle choice made on the evaluation rows themselves (labelled as such) and the
//! regret between them. Only [`SelectionRow`]s enter the choice: perturbing the evaluation rows can change
//! the reported numbers, never the choice (tested below).

use serde::{Deserialize, Serialize};

use crate::metrics::MetricRow;
use crate::statistics::mean;
use crate::tidy::{group_by_key, nan_when_null};
use crate::vocabulary::{Method, Role};

/// One (hyper-parameters, α) of one method, seed and point, scored on held-out data: a row of `selection.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SelectionRow {
    /// The grid point (0 for a config without `[sweep]`).
    pub point: u64,
    pub method: Method,
    /// The candidate's hyper-parameters, as in `metrics.csv`.
    pub params: String,
    pub seed: u64,
    pub alpha: f64,
    /// Excess loss on the validation split of D_N, bits per token (NaN without a validation split).
    #[serde(deserialize_with = "nan_when_null")]
    pub id_excess_bits: f64,
    /// Mean over the OOD sources of the excess loss on their held-out draws, bits per token (NaN without OOD
    /// sources).
    #[serde(deserialize_with = "nan_when_null")]
    pub ood_excess_bits: f64,
    pub trainable_params: u64,
    pub prompt_tokens: u64,
    /// Sequences in the validation split of D_N.
    pub validation_sequences: u64,
    /// Held-out sequences per OOD source.
    pub heldout_sequences: u64,
}

/// The recommendation for one (point, seed, method): the configuration and α chosen on held-out data, its
/// numbers on the evaluation data, and the oracle choice made on the evaluation data. A row of `choices.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChoiceRow {
    pub point: u64,
    pub method: Method,
    pub seed: u64,
    /// Chosen on held-out data.
    pub params: String,
    /// Chosen on held-out data.
    pub alpha: f64,
    /// The held-out objective of the choice.
    pub heldout_objective: f64,
    /// The choice on the evaluation data: ID excess, mean OOD excess (NaN without OOD sources), objective.
    pub id_excess_bits: f64,
    pub ood_excess_bits: f64,
    pub objective: f64,
    /// Half-widths of the 95% CIs over evaluation sequences within this seed: ID (the row's paired
    /// `excess_ci95`), OOD (the sources' combined as independent, √(Σ ci²)/K; NaN without OOD sources).
    pub id_excess_ci95: f64,
    pub ood_excess_ci95: f64,
    /// Picked on the evaluation data (an upper bound on what selection can achieve, not a fair number).
    pub oracle_params: String,
    /// Picked on the evaluation data.
    pub oracle_alpha: f64,
    /// The evaluation objective of the oracle choice.
    pub oracle_objective: f64,
    /// `objective − oracle_objective` ≥ 0: what choosing on held-out data costs on the evaluation data.
    pub regret: f64,
    pub trainable_params: u64,
    pub prompt_tokens: u64,
    pub adapt_seconds: f64,
}

/// Limits on the candidates a recommendation may use (`adaptbench recommend --max-trainable P
/// --max-prompt-tokens K`). A limit excludes the candidates above it before anything is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Constraints {
    pub max_trainable: Option<u64>,
    pub max_prompt_tokens: Option<u64>,
}

impl Constraints {
    fn admit(&self, trainable_params: u64, prompt_tokens: u64) -> bool {
        self.max_trainable.is_none_or(|max| trainable_params <= max)
            && self.max_prompt_tokens.is_none_or(|max| prompt_tokens <= max)
    }
}

/// The selection objective J = ID + λ·OOD, bits per token: the ID excess plus `ood_weight` (λ) times the
/// mean OOD excess; ID alone when there is no OOD source (`ood` NaN) or λ = 0. NaN ID gives NaN.
pub fn objective(id_excess: f64, ood_excess: f64, ood_weight: f64) -> f64 {
    if ood_excess.is_nan() || ood_weight == 0.0 {
        id_excess
    } else {
        id_excess + ood_weight * ood_excess
    }
}

/// For every (point, seed, method) of `selection`: the admitted (params, α) with the lowest held-out
/// objective ([`objective`] with λ = `ood_weight`), ties to the earlier row (candidates in config order, α
/// ascending, so the smaller α); its numbers on the evaluation rows of `metrics`; the oracle (params, α) that
/// minimises the same objective on `metrics`; and the regret. A (point, seed, method) with no admitted
/// candidate, or whose held-out objective is NaN everywhere (no validation split), yields no row. Rows come
/// in order of first appearance in `selection`.
pub fn choose(
    selection: &[SelectionRow],
    metrics: &[MetricRow],
    ood_weight: f64,
    constraints: &Constraints,
) -> Vec<ChoiceRow> {
    let admitted = selection.iter().filter(|row| constraints.admit(row.trainable_params, row.prompt_tokens));
    group_by_key(admitted, |row| (row.point, row.seed, row.method))
        .into_iter()
        .filter_map(|((point, seed, method), candidates)| {
            let heldout = |row: &&SelectionRow| objective(row.id_excess_bits, row.ood_excess_bits, ood_weight);
            let chosen = lowest(&candidates, heldout)?;
            let evaluated: Vec<(&SelectionRow, Evaluated)> = candidates
                .iter()
                .filter_map(|row| Some((*row, Evaluated::of(metrics, row, ood_weight)?)))
                .collect();
            let (_, at_choice) = evaluated.iter().find(|(row, _)| std::ptr::eq(*row, *chosen))?;
            let (oracle, at_oracle) = lowest(&evaluated, |(_, scored)| scored.objective)?;
            Some(ChoiceRow {
                point,
                method,
                seed,
                params: chosen.params.clone(),
                alpha: chosen.alpha,
                heldout_objective: heldout(chosen),
                id_excess_bits: at_choice.id,
                ood_excess_bits: at_choice.ood,
                objective: at_choice.objective,
                id_excess_ci95: at_choice.id_ci95,
                ood_excess_ci95: at_choice.ood_ci95,
                oracle_params: oracle.params.clone(),
                oracle_alpha: oracle.alpha,
                oracle_objective: at_oracle.objective,
                regret: at_choice.objective - at_oracle.objective,
                trainable_params: chosen.trainable_params,
                prompt_tokens: chosen.prompt_tokens,
                adapt_seconds: at_choice.adapt_seconds,
            })
        })
        .collect()
}

/// `metrics` with `selected` set on the rows of each (point, seed, method)'s chosen configuration (every α
/// of it) and cleared elsewhere. A (point, seed, method) without a choice (no validation split) that has a
/// single configuration keeps it selected: there was nothing to choose between.
pub fn mark_selected(metrics: &mut [MetricRow], choices: &[ChoiceRow]) {
    let key = |row: &MetricRow| (row.point, row.seed, row.method);
    let mut only_configuration: Vec<((u64, u64, Method), String, bool)> = Vec::new();
    for row in metrics.iter() {
        match only_configuration.iter_mut().find(|(k, _, _)| *k == key(row)) {
            Some((_, params, single)) => *single &= *params == row.params,
            None => only_configuration.push((key(row), row.params.clone(), true)),
        }
    }
    for row in metrics {
        let choice = choices.iter().find(|choice| (choice.point, choice.seed, choice.method) == key(row));
        row.selected = match choice {
            Some(choice) => choice.params == row.params,
            None => only_configuration.iter().any(|(k, _, single)| *k == key(row) && *single),
        };
    }
}

/// A candidate's numbers on the evaluation rows.
struct Evaluated {
    id: f64,
    /// Mean excess over the OOD sources; NaN without any.
    ood: f64,
    objective: f64,
    id_ci95: f64,
    ood_ci95: f64,
    adapt_seconds: f64,
}

impl Evaluated {
    /// The evaluation rows of `candidate`'s (point, seed, method, params, α); `None` if it has no ID row.
    fn of(metrics: &[MetricRow], candidate: &SelectionRow, ood_weight: f64) -> Option<Self> {
        let rows: Vec<&MetricRow> = metrics
            .iter()
            .filter(|row| {
                (row.point, row.seed, row.method, row.alpha) == (candidate.point, candidate.seed, candidate.method, candidate.alpha)
                    && row.params == candidate.params
            })
            .collect();
        let id = rows.iter().find(|row| row.role == Role::Id)?;
        let ood_rows: Vec<&&MetricRow> = rows.iter().filter(|row| row.role == Role::Ood).collect();
        let (ood, ood_ci95) = if ood_rows.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            let k = ood_rows.len() as f64;
            let excess: Vec<f64> = ood_rows.iter().map(|row| row.excess_bits).collect();
            (mean(&excess), ood_rows.iter().map(|row| row.excess_ci95.powi(2)).sum::<f64>().sqrt() / k)
        };
        Some(Self {
            id: id.excess_bits,
            ood,
            objective: objective(id.excess_bits, ood, ood_weight),
            id_ci95: id.excess_ci95,
            ood_ci95,
            adapt_seconds: id.adapt_seconds,
        })
    }
}

/// The first item with the lowest finite `score`; `None` when no score is finite.
fn lowest<T>(items: &[T], score: impl Fn(&T) -> f64) -> Option<&T> {
    items.iter().filter(|item| score(item).is_finite()).fold(None, |best: Option<&T>, item| match best {
        Some(best) if score(best) <= score(item) => Some(best),
        _ => Some(item),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::row;

    fn candidate(params: &str, seed: u64, alpha: f64, id: f64, ood: f64, trainable: u64) -> SelectionRow {
        SelectionRow {
            point: 0,
            method: Method::Lora,
            params: params.to_string(),
            seed,
            alpha,
            id_excess_bits: id,
            ood_excess_bits: ood,
            trainable_params: trainable,
            prompt_tokens: 0,
            validation_sequences: 16,
            heldout_sequences: 64,
        }
    }

    /// Evaluation rows for a (params, α) of lora, seed 1: ID `id`, two OOD sources averaging `ood`.
    fn evaluated(params: &str, alpha: f64, id: f64, ood: f64) -> Vec<MetricRow> {
        ["task", "a", "b"]
            .iter()
            .zip([id, ood - 0.01, ood + 0.01])
            .map(|(source, excess)| MetricRow { params: params.to_string(), ..row("lora", 1, alpha, source, excess) })
            .collect()
    }

    fn example() -> (Vec<SelectionRow>, Vec<MetricRow>) {
        // Held out: r=2 at α = 0.5 is best under λ = 1 (0.10 + 0.05); on the evaluation data r=8 at α = 1 is.
        let selection = vec![
            candidate("r=2", 1, 0.5, 0.10, 0.05, 10),
            candidate("r=2", 1, 1.0, 0.08, 0.20, 10),
            candidate("r=8", 1, 0.5, 0.12, 0.06, 40),
            candidate("r=8", 1, 1.0, 0.09, 0.30, 40),
        ];
        let metrics = [
            evaluated("r=2", 0.5, 0.11, 0.06),
            evaluated("r=2", 1.0, 0.09, 0.21),
            evaluated("r=8", 0.5, 0.07, 0.04),
            evaluated("r=8", 1.0, 0.08, 0.31),
        ]
        .concat();
        (selection, metrics)
    }

    #[test]
    fn the_choice_minimises_the_heldout_objective_and_the_regret_is_measured_against_the_oracle() {
        let (selection, metrics) = example();
        let choices = choose(&selection, &metrics, 1.0, &Constraints::default());
        assert_eq!(choices.len(), 1);
        let choice = &choices[0];
        assert_eq!((choice.params.as_str(), choice.alpha), ("r=2", 0.5));
        assert!((choice.heldout_objective - 0.15).abs() < 1e-12);
        assert!((choice.objective - (0.11 + 0.06)).abs() < 1e-12);
        assert_eq!((choice.oracle_params.as_str(), choice.oracle_alpha), ("r=8", 0.5));
        assert!((choice.oracle_objective - 0.11).abs() < 1e-12);
        assert!((choice.regret - 0.06).abs() < 1e-12);
        assert_eq!(choice.trainable_params, 10);
    }

    #[test]
    fn lambda_zero_chooses_on_id_alone() {
        let (selection, metrics) = example();
        let choice = &choose(&selection, &metrics, 0.0, &Constraints::default())[0];
        // Held-out ID alone: r=2 at α = 1 (0.08).
        assert_eq!((choice.params.as_str(), choice.alpha), ("r=2", 1.0));
        assert_eq!(objective(0.3, f64::NAN, 5.0), 0.3);
        assert_eq!(objective(0.3, 0.1, 2.0), 0.5);
    }

    #[test]
    fn perturbing_the_evaluation_rows_changes_no_choice() {
        let (selection, metrics) = example();
        let reference = choose(&selection, &metrics, 1.0, &Constraints::default());
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200 {
            let perturbed: Vec<MetricRow> = metrics
                .iter()
                .map(|row| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    MetricRow { excess_bits: (state % 1000) as f64 / 1000.0 - 0.2, ..row.clone() }
                })
                .collect();
            let choices = choose(&selection, &perturbed, 1.0, &Constraints::default());
            assert_eq!((choices[0].params.as_str(), choices[0].alpha), (reference[0].params.as_str(), reference[0].alpha));
            assert!(choices[0].regret >= 0.0);
        }
    }

    #[test]
    fn a_constraint_removes_candidates_before_the_choice() {
        let (mut selection, metrics) = example();
        // Make r=8 the held-out winner, then forbid it by its parameter count.
        selection[2].id_excess_bits = 0.0;
        let free = choose(&selection, &metrics, 1.0, &Constraints::default());
        assert_eq!(free[0].params, "r=8");
        let limited = Constraints { max_trainable: Some(10), ..Default::default() };
        let choice = &choose(&selection, &metrics, 1.0, &limited)[0];
        assert_eq!(choice.params, "r=2");
        // The oracle is taken over the admitted candidates too.
        assert_eq!(choice.oracle_params, "r=2");
        assert!(choose(&selection, &metrics, 1.0, &Constraints { max_trainable: Some(5), ..Default::default() }).is_empty());
    }

    #[test]
    fn ties_go_to_the_first_candidate_and_nan_scores_never_win() {
        let selection = vec![
            candidate("a", 1, 0.0, f64::NAN, 0.1, 1),
            candidate("b", 1, 0.0, 0.2, 0.0, 1),
            candidate("c", 1, 0.0, 0.2, 0.0, 1),
        ];
        let metrics = [evaluated("a", 0.0, 0.1, 0.1), evaluated("b", 0.0, 0.1, 0.1), evaluated("c", 0.0, 0.1, 0.1)].concat();
        let choice = &choose(&selection, &metrics, 1.0, &Constraints::default())[0];
        assert_eq!(choice.params, "b");
        assert_eq!(choice.oracle_params, "a"); // the evaluation numbers of a are finite and tied: first wins
        assert_eq!(choice.regret, 0.0);
    }

    #[test]
    fn the_selected_column_marks_every_alpha_of_the_chosen_configuration() {
        let (selection, mut metrics) = example();
        let choices = choose(&selection, &metrics, 1.0, &Constraints::default());
        mark_selected(&mut metrics, &choices);
        assert!(metrics.iter().all(|row| row.selected == (row.params == "r=2")));
    }
}
