//! Synthetic metrics rows for tests, with excess values chosen so that the expected tables, best α and
//! recommendation can be worked out by hand.

use crate::metrics::{MetricRow, ROLE_ID, ROLE_OOD};

/// A row with every column set; tests override the keys and numbers they care about.
pub(crate) fn row(method: &str, seed: u64, alpha: f64, eval_source: &str, excess_bits: f64) -> MetricRow {
    let role = if eval_source == "task" { ROLE_ID } else { ROLE_OOD };
    MetricRow {
        method: method.to_string(),
        params: String::new(),
        seed,
        alpha,
        eval_source: eval_source.to_string(),
        role: role.to_string(),
        loss_bits: 0.5 + excess_bits,
        loss_ci95: 0.01,
        excess_bits,
        accuracy: 0.9,
        ece: 0.02,
        trainable_params: 100,
        adapt_seconds: 1.5,
        excess_ci95: 0.001,
        bayes_bits: 0.5,
        eval_len: 64,
        eval_sequences: 256,
        steps: 200,
        prompt_tokens: 0,
    }
}

/// Rows of one (configuration, α) over seeds 1, 2, 3: ID excess `id ± spread` and OOD excess on `pretrain` and
/// `shifted` of `ood ± spread` (opposite signs, so the OOD mean of every seed is exactly `ood`). Across seeds:
/// s = spread, so ci95 = 4.303·spread/√3 ≈ 2.484·spread.
pub(crate) fn cell(method: &str, alpha: f64, id: f64, ood: f64, spread: f64) -> Vec<MetricRow> {
    [(1, -spread), (2, 0.0), (3, spread)]
        .into_iter()
        .flat_map(|(seed, noise)| {
            [
                row(method, seed, alpha, "task", id + noise),
                row(method, seed, alpha, "pretrain", ood + noise),
                row(method, seed, alpha, "shifted", ood - noise),
            ]
        })
        .collect()
}

/// The base (ID 0.3, OOD 0.03) and three adaptations, spread 0.001 (ci95 ≈ 0.0025) unless given:
/// - `full`: α = 0.5 → (0.03, 0.05), α = 1 → (0.01, 0.2); best α = 0.5 (criterion 0.04 against 0.105 at 1
///   and 0.165 at 0);
/// - `head`: α = 1 → (0.1, 0.02): the least forgetting, −0.01 below the base;
/// - `lora` (params `r=4`): α = 1 → (`lora_id`, 0.1) with spread `lora_spread`.
pub(crate) fn scenario(lora_id: f64, lora_spread: f64) -> Vec<MetricRow> {
    let base = |method| cell(method, 0.0, 0.3, 0.03, 0.001);
    let mut rows = [
        base("none"),
        base("full"),
        cell("full", 0.5, 0.03, 0.05, 0.001),
        cell("full", 1.0, 0.01, 0.2, 0.001),
        base("head"),
        cell("head", 1.0, 0.1, 0.02, 0.001),
        base("lora"),
        cell("lora", 1.0, lora_id, 0.1, lora_spread),
    ]
    .concat();
    rows.iter_mut().filter(|row| row.method == "lora").for_each(|row| row.params = "r=4".to_string());
    rows
}
