//! The model-update section of `report.md`: each adaptation's excess loss on the base it was found on against
//! the same prompt or adapter transplanted onto the base pretrained with another seed, ID and OOD, with the
//! paired cost of the transplant.

use crate::aggregate::Aggregate;
use crate::markdown::{alignment, bits, cell, plus_minus, signed, table_row};
use crate::model_update::ModelUpdateRow;
use crate::vocabulary::EvalBase;
use crate::transplant::{transplants, Transplant};
use crate::vocabulary::Method;

/// The markdown section on model updates for `rows` (the contents of `model_update.csv`) of adaptations found
/// on the base pretrained with `found_on_seed` and moved to the one pretrained with `other_seed`; empty when
/// there are none. One table row per configuration (method + params, in order of first appearance), with in bits
/// per token, each as mean ± the Student-t 95% CI across seeds t(0.975, n − 1)·s/√n
/// ([`Aggregate::across_seeds`]):
/// - the ID excess on the base the adaptation was found on (seed A) and on the other base (seed B);
/// - the transplant cost Δ = excess(other) − excess(found on), per seed first (the two evaluations of a seed are
///   paired), then across seeds;
/// - the same for the OOD excess, per seed the mean over that seed's OOD sources.
///
/// With a single seed the CI is the within-seed one: the row's `excess_ci95` for ID, √(Σ_k ci_k²)/K over the
/// K OOD sources, and √(ci_found² + ci_other²) for Δ. The method `none` is the base itself, so its Δ is the
/// difference between the two bases. A closing line names the adaptation whose ID excess grows most on the
/// other base and says whether its CI excludes 0.
pub fn model_update_markdown(rows: &[ModelUpdateRow], found_on_seed: u64, other_seed: u64) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let transplants = transplants(rows);
    let mut lines = vec![
        "## Model update: prompts and adapters moved to another base".to_string(),
        String::new(),
        format!(
            "Excess loss in bits/token of each adaptation on the base it was found on (pretrained with seed \
             {found_on_seed}) and moved unchanged onto the base pretrained with seed {other_seed}: a prompt as it \
             is, a weight adaptation as its task vector θ_other + (θ_adapted − θ_found_on). Δ = other − found on, \
             paired per seed; `none` compares the two bases themselves. ±: Student-t 95% CI across seeds."
        ),
        String::new(),
        "| configuration | seeds | ID excess, found on | ID excess, other base | Δ ID | OOD excess, found on \
         | OOD excess, other base | Δ OOD |"
            .to_string(),
        table_row(&alignment(8)),
    ];
    for transplant in &transplants {
        lines.push(table_row(&[
            cell(&transplant.label()),
            transplant.seeds.to_string(),
            excess(transplant.id(EvalBase::FoundOn)),
            excess(transplant.id(EvalBase::Other)),
            cost(transplant.id_cost),
            excess(transplant.ood(EvalBase::FoundOn)),
            excess(transplant.ood(EvalBase::Other)),
            cost(transplant.ood_cost),
        ]));
    }
    lines.push(String::new());
    lines.push(reading(&transplants));
    lines.join("\n") + "\n"
}

fn excess(value: Option<Aggregate>) -> String {
    value.map_or("—".to_string(), |value| plus_minus(value.mean, value.ci95))
}

fn cost(value: Option<Aggregate>) -> String {
    value.map_or("—".to_string(), |value| format!("{} ± {}", signed(value.mean), bits(value.ci95)))
}

/// The configuration whose ID excess grows most on the other base, and whether that is more than noise.
fn reading(transplants: &[Transplant]) -> String {
    let worst = transplants
        .iter()
        .filter(|transplant| transplant.method != Method::None)
        .filter_map(|transplant| Some((transplant, transplant.id_cost.filter(|cost| cost.mean.is_finite())?)))
        .max_by(|(_, a), (_, b)| a.mean.total_cmp(&b.mean));
    let Some((transplant, cost)) = worst else {
        return "Reading: no adaptation was evaluated in distribution on both bases, so the transplant cost is \
                not measured."
            .to_string();
    };
    let significance = if !cost.ci95.is_finite() {
        "its CI is unknown"
    } else if cost.mean.abs() > cost.ci95 {
        "the 95% CI excludes 0"
    } else {
        "the 95% CI includes 0: within noise"
    };
    let adaptations = transplants.iter().filter(|transplant| transplant.method != Method::None).count();
    let whom = if adaptations > 1 { "of any adaptation" } else { "the only adaptation" };
    format!(
        "Reading: moving to the other base changes the ID excess of **{}** by {} ± {} bits/token, the most {whom}; \
         {significance}.",
        cell(&transplant.label()),
        signed(cost.mean),
        bits(cost.ci95)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_update_row;

    /// `hard_prompt` over seeds 1 and 2 with OOD sources a and b, and `lora` (`r=4`) with seed 1 only.
    fn rows() -> Vec<ModelUpdateRow> {
        let mut rows = Vec::new();
        // seed: (ID found on, ID other, [a, b] found on, [a, b] other)
        for (seed, id_found, id_other, ood_found, ood_other) in
            [(1, 0.01, 0.05, [0.1, 0.2], [0.2, 0.2]), (2, 0.03, 0.09, [0.1, 0.4], [0.3, 0.3])]
        {
            rows.push(model_update_row("hard_prompt", seed, "task", EvalBase::FoundOn, id_found));
            rows.push(model_update_row("hard_prompt", seed, "task", EvalBase::Other, id_other));
            for (source, found, other) in [("a", ood_found[0], ood_other[0]), ("b", ood_found[1], ood_other[1])] {
                rows.push(model_update_row("hard_prompt", seed, source, EvalBase::FoundOn, found));
                rows.push(model_update_row("hard_prompt", seed, source, EvalBase::Other, other));
            }
        }
        let mut lora = vec![
            model_update_row("lora", 1, "task", EvalBase::FoundOn, 0.02),
            model_update_row("lora", 1, "task", EvalBase::Other, 0.021),
        ];
        lora.iter_mut().for_each(|row| row.params = "r=4".to_string());
        rows.extend(lora);
        rows
    }

    #[test]
    fn the_bases_own_difference_is_shown_but_not_named_as_an_adaptations_cost() {
        let mut rows = rows();
        rows.push(model_update_row("none", 1, "task", EvalBase::FoundOn, 0.01));
        rows.push(model_update_row("none", 1, "task", EvalBase::Other, 0.5));
        let markdown = model_update_markdown(&rows, 3, 7);
        assert!(markdown.contains("| none | 1 | 0.0100 ± 0.0010 | 0.5000 ± 0.0010 | +0.4900 ± 0.0014 |"), "{markdown}");
        assert!(markdown.contains("pretrained with seed 3) and moved unchanged onto the base pretrained with seed 7"));
        assert!(markdown.contains("ID excess of **hard_prompt** by +0.0500"), "{markdown}");
    }

    #[test]
    fn the_table_shows_seed_means_with_t_intervals_on_both_bases() {
        let markdown = model_update_markdown(&rows(), 0, 1);
        // ID found on: 0.01, 0.03 → 0.02, s = 0.01·√2, ci = 12.706·0.01·√2/√2 = 0.1271;
        // ID other: 0.05, 0.09 → 0.07 ± 12.706·0.02 = 0.2541; Δ ID: 0.04, 0.06 → +0.05 ± 0.1271.
        // OOD found on: (0.1 + 0.2)/2 = 0.15, (0.1 + 0.4)/2 = 0.25 → 0.2 ± 12.706·0.05 = 0.6353;
        // OOD other: 0.2, 0.3 → 0.25 ± 0.6353; Δ OOD: 0.05, 0.05 → +0.05 ± 0.
        let expected = "| hard_prompt | 2 | 0.0200 ± 0.1271 | 0.0700 ± 0.2541 | +0.0500 ± 0.1271 | 0.2000 ± 0.6353 \
                        | 0.2500 ± 0.6353 | +0.0500 ± 0.0000 |";
        assert!(markdown.contains(expected), "{markdown}");
    }

    #[test]
    fn a_single_seed_uses_its_within_seed_intervals() {
        let markdown = model_update_markdown(&rows(), 0, 1);
        // ID: 0.02 ± 0.001 and 0.021 ± 0.001; Δ = +0.001 ± √(0.001² + 0.001²) = 0.0014; no OOD rows
        let expected = "| lora (r=4) | 1 | 0.0200 ± 0.0010 | 0.0210 ± 0.0010 | +0.0010 ± 0.0014 | — | — | — |";
        assert!(markdown.contains(expected), "{markdown}");
    }

    #[test]
    fn the_reading_names_the_largest_id_cost_and_its_significance() {
        let markdown = model_update_markdown(&rows(), 0, 1);
        let reading = "Reading: moving to the other base changes the ID excess of **hard_prompt** by +0.0500 ± 0.1271 \
                       bits/token, the most of any adaptation; the 95% CI includes 0: within noise.";
        assert!(markdown.contains(reading), "{markdown}");
        assert!(!markdown.contains("NaN"));
    }

    #[test]
    fn no_rows_give_no_section() {
        assert_eq!(model_update_markdown(&[], 0, 1), "");
    }
}
