//! Synthetic rows for tests, with values chosen so that the expected tables, best α, recommendation and
//! prompt-search summaries can be worked out by hand.

use crate::efficiency::EfficiencyRow;
use crate::landscape::LandscapeRow;
use crate::metrics::MetricRow;
use crate::model_update::ModelUpdateRow;
use crate::reliability::ReliabilityRow;
use crate::statistics::proportion_ci95;
use crate::vocabulary::{EvalBase, PromptKind, Role};

/// The text of the SVG figure at `path`, checked to be an SVG document with no NaN or infinite coordinate.
pub(crate) fn read_svg(path: &std::path::Path) -> String {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(!svg.contains("NaN") && !svg.contains("inf"));
    svg
}

/// A row with every column set; tests override the keys and numbers they care about.
pub(crate) fn row(method: &str, seed: u64, alpha: f64, eval_source: &str, excess_bits: f64) -> MetricRow {
    let role = if eval_source == "task" { Role::Id } else { Role::Ood };
    MetricRow {
        method: method.parse().expect("a method name"),
        params: String::new(),
        seed,
        alpha,
        eval_source: eval_source.to_string(),
        role,
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
        point: 0,
        selected: true,
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
    rows.iter_mut().filter(|row| row.method == crate::Method::Lora).for_each(|row| row.params = "r=4".to_string());
    rows
}

/// The task's Bayes floor in the synthetic landscapes, bits per token.
pub(crate) const FLOOR_BITS: f64 = 0.4;

/// A landscape row: KL = `loss_bits` − [`FLOOR_BITS`], empirical loss 0.01 above the reference loss.
pub(crate) fn landscape_row(predictor: &str, prompt: &str, loss_bits: f64, rank: usize) -> LandscapeRow {
    LandscapeRow {
        predictor: predictor.parse().expect("a predictor name"),
        prompt: prompt.to_string(),
        length: prompt.len(),
        ones: prompt.chars().filter(|&bit| bit == '1').count(),
        loss_bits,
        kl_bits: loss_bits - FLOOR_BITS,
        rank,
        empirical_loss_bits: loss_bits + 0.01,
    }
}

/// Every prompt up to length 2 (7 prompts) for `bayes` and `neural`. Reference losses: `bayes` puts `11`
/// (0.4, KL 0) first, then `1` (0.4001), `ε`, `01`, `10`, `0`, `00`; `neural` puts `ε` first (0.45, KL
/// 0.05). The empirical best on D_N is `1` for `bayes` (empirical 0.395, reference rank 2, KL 1e-4) and
/// `ε` for `neural` (rank 1).
pub(crate) fn landscape() -> Vec<LandscapeRow> {
    let bayes = [("11", 0.4), ("1", 0.4001), ("", 0.42), ("01", 0.43), ("10", 0.43), ("0", 0.5), ("00", 0.6)];
    let neural = [("", 0.45), ("1", 0.46), ("11", 0.47), ("01", 0.5), ("10", 0.51), ("0", 0.6), ("00", 0.7)];
    let mut rows: Vec<LandscapeRow> = Vec::new();
    for (predictor, prompts) in [("bayes", bayes), ("neural", neural)] {
        for (index, (prompt, loss)) in prompts.into_iter().enumerate() {
            rows.push(landscape_row(predictor, prompt, loss, index + 1));
        }
    }
    rows[1].empirical_loss_bits = 0.395; // bayes `1`
    rows
}

/// A reliability row whose CI is the Wilson half-width of `round(proportion · draws)` successes.
pub(crate) fn reliability_row(
    predictor: &str,
    n: usize,
    l_max: usize,
    proportion_correct: f64,
    draws: usize,
) -> ReliabilityRow {
    let successes = (proportion_correct * draws as f64).round() as usize;
    ReliabilityRow {
        predictor: predictor.parse().expect("a predictor name"),
        n,
        l_max,
        draws,
        proportion_correct,
        ci95: proportion_ci95(successes, draws),
        halving_proportion_correct: proportion_correct,
        halving_ci95: proportion_ci95(successes, draws),
        halving_pair_share: 0.5,
    }
}

/// `bayes` and `neural` at N ∈ {4, 16, 64} and L_max ∈ {2, 4} over 10 draws; `bayes` at (16, 2) is 8/10.
pub(crate) fn reliability() -> Vec<ReliabilityRow> {
    let mut rows = Vec::new();
    for predictor in ["bayes", "neural"] {
        for l_max in [2, 4] {
            for (n, proportion) in [(4, 0.3), (16, 0.8), (64, 1.0)] {
                let shift: f64 = if predictor == "neural" { 0.1 } else { 0.0 } + if l_max == 4 { 0.1 } else { 0.0 };
                rows.push(reliability_row(predictor, n, l_max, (proportion - shift).max(0.0), 10));
            }
        }
    }
    rows
}

pub(crate) fn efficiency_row(
    predictor: &str,
    kind: PromptKind,
    length: usize,
    loss_bits: f64,
    ci95: f64,
) -> EfficiencyRow {
    EfficiencyRow { predictor: predictor.parse().expect("a predictor name"), kind, length, loss_bits, ci95 }
}

/// Lengths 0..=3 for `bayes` and `neural`: optimal 0.5 − 0.03·length (exact, ci95 0), typical 0.02 above it
/// ± 0.01, random 0.6 ± 0.02 (neural 0.05 higher throughout).
pub(crate) fn efficiency() -> Vec<EfficiencyRow> {
    let mut rows = Vec::new();
    for (predictor, offset) in [("bayes", 0.0), ("neural", 0.05)] {
        for length in 0..=3 {
            let optimal = 0.5 - 0.03 * length as f64 + offset;
            rows.push(efficiency_row(predictor, PromptKind::Optimal, length, optimal, 0.0));
            rows.push(efficiency_row(predictor, PromptKind::Typical, length, optimal + 0.02, 0.01));
            rows.push(efficiency_row(predictor, PromptKind::Random, length, 0.6 + offset, 0.02));
        }
    }
    rows
}

/// A model-update row with `loss_bits` = 0.5 + `excess_bits` and a paired CI of 0.001.
pub(crate) fn model_update_row(
    method: &str,
    seed: u64,
    eval_source: &str,
    base: EvalBase,
    excess_bits: f64,
) -> ModelUpdateRow {
    let role = if eval_source == "task" { Role::Id } else { Role::Ood };
    ModelUpdateRow {
        method: method.parse().expect("a method name"),
        params: String::new(),
        seed,
        eval_source: eval_source.to_string(),
        role,
        base,
        loss_bits: 0.5 + excess_bits,
        excess_bits,
        excess_ci95: 0.001,
    }
}
