//! `report.md` of a grid (`[sweep]`): what was swept, the recommendation per point, each point's held-out
//! choices per method, the figures (learning curves, method map, Pareto fronts) and the definitions.

use crate::markdown::{cell, fixed, plus_minus};
use crate::point::{point_labels, PointRow};
use crate::recommend::{method_summaries, recommend};
use crate::recommend_markdown::{choices_markdown, recommend_markdown};
use crate::selection::{ChoiceRow, Constraints};

/// What the report says about the grid besides its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct GridReportContext {
    pub run_name: String,
    /// The pretraining source of each distinct base, with its held-out excess and CI (bits/token).
    pub bases: Vec<(String, f64, f64)>,
    pub seeds: Vec<u64>,
    pub wall_seconds: Option<f64>,
    /// The command that reproduces the run.
    pub command: String,
    /// λ of the objective the choices were made under.
    pub ood_weight: f64,
    /// The figures drawn beside the report (file names under `figures/`), with their captions.
    pub figures: Vec<(String, String)>,
}

/// The whole `report.md` of a grid from its `choices.csv` and `points.csv` rows.
pub fn grid_report_markdown(context: &GridReportContext, choices: &[ChoiceRow], points: &[PointRow]) -> String {
    let (keys, labels) = point_labels(points);
    let summaries = method_summaries(choices);
    let recommendations = recommend(&summaries);
    let seeds = context.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let mut lines = vec![format!("# adaptbench grid report: {}", context.run_name), String::new()];
    lines.push(format!("- Swept: {} ({} points).", keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" × "), labels.len()));
    for (source, excess, ci95) in &context.bases {
        lines.push(format!("- Base pretrained on {source}: held-out excess {} bits/token.", plus_minus(*excess, *ci95)));
    }
    lines.push(format!("- Seeds ({}): {seeds}.", context.seeds.len()));
    if let Some(seconds) = context.wall_seconds {
        lines.push(format!("- Wall time: {} s.", fixed(seconds, 0)));
    }
    lines.push(format!("- Reproduce with:\n\n  ```sh\n  {}\n  ```", context.command));
    lines.push(String::new());
    lines.push(recommend_markdown(&recommendations, &labels, context.ood_weight, &Constraints::default()));
    lines.push(String::new());
    if !context.figures.is_empty() {
        lines.push("## Figures".to_string());
        for (file, caption) in &context.figures {
            lines.push(String::new());
            lines.push(format!("![{caption}](figures/{file})"));
        }
        lines.push(String::new());
    }
    lines.push("## Per point".to_string());
    for (point, label) in &labels {
        let of_point: Vec<_> = summaries.iter().filter(|s| s.point == *point).cloned().collect();
        lines.push(String::new());
        lines.push(format!("### Point {point}: {}", cell(label)));
        lines.push(String::new());
        // The per-method table under a point heading, one level down.
        lines.push(choices_markdown(&of_point).replacen("## Held-out choices per method\n\n", "", 1));
    }
    lines.push(String::new());
    lines.push(DEFINITIONS.to_string());
    lines.join("\n") + "\n"
}

const DEFINITIONS: &str = "\
## Definitions

Excess: loss − the exact Bayes-optimal loss of the evaluation source on the same sequences, bits per task token. \
OOD excess: the mean excess over the OOD sources. J = ID + λ·OOD excess. Every choice (hyper-parameters among a \
method's candidates, and α of the WiSE-FT sweep θ(α) = (1 − α)·θ_base + α·θ_adapted) is made per seed on held-out \
data — ID on the validation split of D_N, OOD on a draw of each OOD source disjoint from the evaluation draws — and \
then scored on the evaluation sequences; `choices.csv` holds every choice, `selection.csv` the held-out scores it \
was made on, `metrics.csv` every candidate's evaluation rows (`selected` marks the chosen ones). ±: half-width of \
the Student-t 95% CI across seeds. Regret: J of the held-out choice minus J of the oracle choice made on the \
evaluation data (an optimistic bound, not a fair number).";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::Method;

    #[test]
    fn the_grid_report_has_a_row_per_point_and_a_section_per_point() {
        let mut choices = Vec::new();
        for point in 0..2u64 {
            for seed in 0..2u64 {
                for (method, j) in [(Method::None, 0.3), (Method::Lora, 0.1 + 0.1 * point as f64)] {
                    choices.push(ChoiceRow { point, method, seed, objective: j + 0.001 * seed as f64, ..Default::default() });
                }
            }
        }
        let points: Vec<PointRow> = (0..2u64)
            .map(|point| PointRow { point, key: "task.sequences".into(), value: (4 * (point + 1)).to_string() })
            .collect();
        let context = GridReportContext {
            run_name: "g".into(),
            bases: vec![("mix".into(), 0.001, 0.0002)],
            seeds: vec![0, 1],
            wall_seconds: Some(3.0),
            command: "adaptbench run g.toml".into(),
            ood_weight: 1.0,
            figures: vec![("method_map.svg".into(), "Method map".into())],
        };
        let report = grid_report_markdown(&context, &choices, &points);
        assert!(report.contains("- Swept: `task.sequences` (2 points)."), "{report}");
        assert!(report.contains("| 0: task.sequences=4 | **lora** |") && report.contains("| 1: task.sequences=8 | **lora** |"), "{report}");
        assert!(report.contains("### Point 1: task.sequences=8") && report.contains("![Method map](figures/method_map.svg)"));
        assert!(!report.contains("NaN"), "{report}");
    }
}
