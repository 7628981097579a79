//! The recommendation as markdown: per grid point, the method to use with its held-out choice of
//! hyper-parameters and α, its evaluation ID and OOD excess with CIs, the runner-up and whether the two are
//! statistically tied; and per method, what the held-out choice costs against the oracle.
//!
//! `report.md` carries the section between two markers, so that `adaptbench recommend` can replace it with
//! the recommendation under another λ or constraints ([`replace_recommendation`]).

use crate::markdown::{alignment, cell, fixed, plus_minus, table_row};
use crate::recommend::{MethodSummary, Recommendation, Tie};
use crate::selection::Constraints;

const BEGIN: &str = "<!-- recommendation: adaptbench recommend rewrites this section -->";
const END: &str = "<!-- /recommendation -->";

/// The recommendation section: the objective and constraints, one row per point (`labels`: each point's
/// `key=value` text; empty for a config without `[sweep]`), and the definitions of its columns.
pub fn recommend_markdown(
    recommendations: &[Recommendation],
    labels: &[(u64, String)],
    ood_weight: f64,
    constraints: &Constraints,
) -> String {
    let limits = match (constraints.max_trainable, constraints.max_prompt_tokens) {
        (None, None) => "no constraints".to_string(),
        (trainable, prompt) => {
            let mut parts = Vec::new();
            parts.extend(trainable.map(|p| format!("at most {p} trainable parameters")));
            parts.extend(prompt.map(|k| format!("at most {k} prompt tokens")));
            parts.join(", ")
        }
    };
    let mut lines = vec![
        BEGIN.to_string(),
        "## Recommendation: chosen on held-out data".to_string(),
        String::new(),
        format!(
            "For each point, seed and method, the hyper-parameters and α minimising J = ID + λ·OOD excess with \
             λ = {} on held-out data (the validation split of D_N and a separate draw of each OOD source), never on \
             the evaluation sequences; {limits}. The numbers are the evaluation excess at that choice, mean ± 95% CI \
             across seeds (bits/token).",
            fixed(ood_weight, 3).trim_end_matches('0').trim_end_matches('.')
        ),
        String::new(),
    ];
    if recommendations.is_empty() {
        lines.push(
            "Nothing was chosen: without a validation split (`finetune.validation_fraction = 0`) there is no \
             held-out ID data to choose on, so only the evaluation-data tables below are available."
                .to_string(),
        );
        lines.push(END.to_string());
        return lines.join("\n");
    }
    let header = ["point", "use", "hyper-parameters", "α", "ID excess", "OOD excess", "J", "runner-up", "verdict"];
    lines.push(table_row(&header.map(str::to_string)));
    lines.push(table_row(&alignment(header.len())));
    for recommendation in recommendations {
        let winner = recommendation.winner();
        let label = labels.iter().find(|(p, _)| *p == recommendation.point).map_or(String::new(), |(_, l)| l.clone());
        let point = if label.is_empty() { recommendation.point.to_string() } else { format!("{}: {label}", recommendation.point) };
        let runner_up = recommendation.runner_up().map_or("—".to_string(), |r| {
            format!("{} ({})", r.method.as_str(), plus_minus(r.objective.mean, r.objective.ci95))
        });
        let verdict = match recommendation.tie {
            Tie::Alone => "only candidate".to_string(),
            Tie::Distinct => "better than the runner-up".to_string(),
            Tie::Tied => format!(
                "tied with {}",
                recommendation.tied.iter().skip(1).map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
            ),
        };
        lines.push(table_row(&[
            cell(&point),
            format!("**{}**", winner.method.as_str()),
            cell(&winner.params_label()),
            alpha_label(winner),
            plus_minus(winner.id.mean, winner.id.ci95),
            winner.ood.map_or("—".to_string(), |ood| plus_minus(ood.mean, ood.ci95)),
            plus_minus(winner.objective.mean, winner.objective.ci95),
            runner_up,
            verdict,
        ]));
    }
    lines.push(String::new());
    lines.push(
        "Tied: the 95% CI of the runner-up's J minus the winner's, paired by seed (Student t; with one seed, the \
         within-seed CIs combined), contains 0. The base (`none`) competes too: \"use none\" means no adaptation \
         beats the base model under this objective."
            .to_string(),
    );
    lines.push(END.to_string());
    lines.join("\n")
}

/// Per method at one point: the held-out choice, its evaluation numbers and cost, and the regret against
/// the oracle choice made on the evaluation data.
pub fn choices_markdown(summaries: &[MethodSummary]) -> String {
    let header = [
        "method",
        "chosen hyper-parameters",
        "chosen α",
        "ID excess",
        "OOD excess",
        "J",
        "regret vs oracle",
        "trainable params",
        "prompt tokens",
        "adapt s",
    ];
    let mut lines = vec![
        "## Held-out choices per method".to_string(),
        String::new(),
        table_row(&header.map(str::to_string)),
        table_row(&alignment(header.len())),
    ];
    for summary in summaries {
        lines.push(table_row(&[
            summary.method.as_str().to_string(),
            cell(&summary.params_label()),
            alpha_label(summary),
            plus_minus(summary.id.mean, summary.id.ci95),
            summary.ood.map_or("—".to_string(), |ood| plus_minus(ood.mean, ood.ci95)),
            plus_minus(summary.objective.mean, summary.objective.ci95),
            plus_minus(summary.regret.mean, summary.regret.ci95),
            summary.trainable_params.to_string(),
            summary.prompt_tokens.to_string(),
            fixed(summary.adapt_seconds, 1),
        ]));
    }
    lines.push(String::new());
    lines.push(
        "Regret: J of the held-out choice minus J of the oracle choice (the hyper-parameters and α picked on the \
         evaluation data themselves, an optimistic bound), on the evaluation data; ≥ 0, mean ± CI across seeds."
            .to_string(),
    );
    lines.join("\n")
}

/// `report` with its recommendation section replaced by `section` (appended when it has none).
pub fn replace_recommendation(report: &str, section: &str) -> String {
    match (report.find(BEGIN), report.find(END)) {
        (Some(begin), Some(end)) if end > begin => {
            format!("{}{section}{}", &report[..begin], &report[end + END.len()..])
        }
        _ => format!("{}\n\n{section}\n", report.trim_end()),
    }
}

/// The chosen α: one value when every seed chose it, else mean ± CI.
fn alpha_label(summary: &MethodSummary) -> String {
    let short = |value: f64| {
        let text = fixed(value, 3);
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
    };
    // Equal α across seeds can still leave a CI of 1e-17 from the float mean: what prints as 0 is 0.
    if !summary.alpha.ci95.is_finite() || short(summary.alpha.ci95) == "0" {
        short(summary.alpha.mean)
    } else {
        format!("{} ± {}", short(summary.alpha.mean), short(summary.alpha.ci95))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::{method_summaries, recommend};
    use crate::selection::ChoiceRow;
    use crate::vocabulary::Method;

    fn choice(point: u64, method: Method, seed: u64, objective: f64, alpha: f64) -> ChoiceRow {
        ChoiceRow {
            point,
            method,
            seed,
            params: "lr=0.001".into(),
            alpha,
            id_excess_bits: objective / 2.0,
            ood_excess_bits: objective / 2.0,
            objective,
            id_excess_ci95: 0.001,
            ood_excess_ci95: 0.001,
            ..Default::default()
        }
    }

    #[test]
    fn each_point_names_its_winner_runner_up_and_verdict() {
        let mut rows = Vec::new();
        for seed in 0..3 {
            rows.push(choice(0, Method::Lora, seed, 0.10 + 0.01 * seed as f64, 0.5));
            rows.push(choice(0, Method::Full, seed, 0.20 + 0.01 * seed as f64, 1.0));
            rows.push(choice(1, Method::None, seed, 0.05, 0.0));
            rows.push(choice(1, Method::Full, seed, 0.05 + [0.01, -0.01, 0.0][seed as usize], 1.0));
        }
        let recommendations = recommend(&method_summaries(&rows));
        let labels = [(0, "task.sequences=4".to_string()), (1, "task.sequences=64".to_string())];
        let text = recommend_markdown(&recommendations, &labels, 1.0, &Constraints { max_trainable: Some(100), max_prompt_tokens: None });
        assert!(text.contains("λ = 1 on held-out data") && text.contains("at most 100 trainable parameters"), "{text}");
        let row = |start: &str| text.lines().find(|line| line.starts_with(start)).unwrap_or_else(|| panic!("{text}")).to_string();
        let first = row("| 0: task.sequences=4 |");
        assert!(first.contains("| **lora** | lr=0.001 | 0.5 |") && first.contains("better than the runner-up"), "{first}");
        assert!(first.contains("| full (0.2100 ± "), "{first}");
        let second = row("| 1: task.sequences=64 |");
        assert!(second.contains("**none**") && second.contains("tied with full"), "{second}");
    }

    #[test]
    fn an_alpha_every_seed_chose_prints_alone_and_differing_ones_with_their_ci() {
        // 0.1 three times has a float mean of 0.10000000000000002 and a CI of ≈ 1e-17.
        let same: Vec<ChoiceRow> = (0..3).map(|seed| choice(0, Method::Full, seed, 0.1, 0.1)).collect();
        assert_eq!(alpha_label(&method_summaries(&same)[0]), "0.1");
        let differing: Vec<ChoiceRow> = (0..3).map(|seed| choice(0, Method::Full, seed, 0.1, [0.0, 0.0, 1.0][seed as usize])).collect();
        assert_eq!(alpha_label(&method_summaries(&differing)[0]), "0.333 ± 1.434");
    }

    #[test]
    fn the_section_is_replaced_between_its_markers() {
        let old = format!("# r\n\n{BEGIN}\nold\n{END}\n\n## Definitions\n");
        assert_eq!(replace_recommendation(&old, &format!("{BEGIN}\nnew\n{END}")), format!("# r\n\n{BEGIN}\nnew\n{END}\n\n## Definitions\n"));
        assert_eq!(replace_recommendation("# r\n", "S"), "# r\n\nS\n");
    }
}
