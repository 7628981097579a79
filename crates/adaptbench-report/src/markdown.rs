//! `report.md`: what was run, the headline table across configurations, a per-source table, a recommendation
//! derived from the numbers, the definitions behind them, and the figures.

use crate::aggregate::{configurations, ood_sources, Aggregate, AlphaPoint, Configuration};
use crate::metrics::MetricRow;
use crate::recommend::{method_summaries, recommend};
use crate::recommend_markdown::{choices_markdown, recommend_markdown};
use crate::selection::{ChoiceRow, Constraints};

/// What the report says about the run besides the metrics rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportContext {
    pub run_name: String,
    /// The task source, e.g. `bern(θ=0.9)`.
    pub task: String,
    /// N: task sequences every method adapts on.
    pub task_sequences: usize,
    /// T: tokens per task sequence.
    pub task_len: usize,
    /// The pretraining meta-distribution.
    pub pretrain_source: String,
    /// Whether the base is the freshly initialised network (`pretrain.steps = 0`).
    pub untrained: bool,
    /// The base network, e.g. "a 2-layer LSTM of width 64".
    pub base_model: String,
    /// The base's held-out excess over the pretraining source's Bayes floor, bits per token.
    pub base_excess_bits: f64,
    /// Half-width of its 95% CI.
    pub base_excess_ci95: f64,
    pub seeds: Vec<u64>,
    /// Wall time of the whole run, if known.
    pub wall_seconds: Option<f64>,
    /// The command that reproduces the run.
    pub command: String,
}

/// The whole `report.md` for `rows` (the contents of `metrics.csv`). Excess losses are in bits per token
/// with 4 decimals, as mean ± the half-width of the 95% CI across seeds; a missing or non-finite number
/// prints as `—`.
///
/// `choices` (`choices.csv`) give the recommendation and the per-method held-out choices, made under
/// λ = `ood_weight`; the headline and findings after them are on the evaluation data, labelled as such.
pub fn report_markdown(context: &ReportContext, rows: &[MetricRow], choices: &[ChoiceRow], ood_weight: f64) -> String {
    let configurations = configurations(rows);
    let summaries = method_summaries(choices);
    let sections = [
        header(context),
        recommend_markdown(&recommend(&summaries), &[], ood_weight, &Constraints::default()),
        if summaries.is_empty() { String::new() } else { choices_markdown(&summaries) },
        headline_table(&configurations),
        source_table(&configurations),
        recommendation(&configurations),
        DEFINITIONS.to_string(),
        figures(context.untrained),
    ];
    sections.iter().filter(|section| !section.is_empty()).cloned().collect::<Vec<_>>().join("\n\n") + "\n"
}

const DEFINITIONS: &str = "\
## Definitions

Loss: log-loss in bits per task token (prompt tokens excluded). Excess: loss − the exact Bayes-optimal loss of \
the evaluation source on the same sequences (≥ 0 up to sampling noise). OOD excess: per seed, the mean excess over \
the OOD sources; then across seeds. ±: half-width of the Student-t 95% CI across seeds, t(0.975, n − 1)·s/√n (with a \
single seed, that seed's CI over evaluation sequences). α: θ(α) = (1 − α)·θ_base + α·θ_adapted, so α = 0 is the \
base and α = 1 the adapted model. Oracle α: the α of the grid minimising ½·(ID excess + OOD excess), both seed means, \
ties to the larger α, picked on the evaluation sequences themselves: an optimistic bound that flatters every method, not \
a fair number (the fair choice, made on held-out data, is in \"Recommendation\"). \"Wins\" / \"statistically tied\": whether the two 95% CIs are disjoint or overlap (a \
conservative comparison). Forgetting: OOD excess − the base's OOD excess. ECE: over 10 equal-width bins of \
P(x = 1), Σ_b (n_b/n)·|mean p − mean x|.";

/// The figures section; an untrained base has no pretraining curve.
fn figures(untrained: bool) -> String {
    let mut lines = vec!["## Figures", "", "![ID versus OOD excess across the interpolation weight α (WiSE-FT)](figures/interpolation.svg)"];
    if !untrained {
        lines.extend(["", "![Pretraining: held-out and training loss against the Bayes floor](figures/pretrain.svg)"]);
    }
    lines.join("\n")
}

fn header(context: &ReportContext) -> String {
    let seeds = context.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    let mut lines = vec![
        format!("# adaptbench report: {}", context.run_name),
        String::new(),
        format!(
            "- Task: {}, adapted on N = {} sequences of T = {} tokens.",
            context.task, context.task_sequences, context.task_len
        ),
        if context.untrained {
            format!(
                "- Base: **untrained**, the freshly initialised network (`pretrain.steps = 0`), {}, never trained on {}; \
                 its held-out excess over that source's Bayes floor: {} bits/token. Every number below adapts a random \
                 network, not a pretrained one.",
                context.base_model,
                context.pretrain_source,
                plus_minus(context.base_excess_bits, context.base_excess_ci95)
            )
        } else {
            format!(
                "- Base: {}. Pretraining source: {}; the base's held-out excess over its Bayes floor: {} bits/token.",
                context.base_model,
                context.pretrain_source,
                plus_minus(context.base_excess_bits, context.base_excess_ci95)
            )
        },
        format!("- Seeds ({}): {seeds}.", context.seeds.len()),
    ];
    if let Some(seconds) = context.wall_seconds {
        lines.push(format!("- Wall time: {} s.", fixed(seconds, 0)));
    }
    lines.push(format!("- Reproduce with:\n\n  ```sh\n  {}\n  ```", context.command));
    lines.join("\n")
}

fn headline_table(configurations: &[Configuration]) -> String {
    let mut lines = vec![
        "## Headline: excess loss in bits/token, α = 1 (adapted) and oracle α (picked on evaluation data)".to_string(),
        String::new(),
        "| configuration | trainable params | steps | adapt s | ID excess, α = 1 | OOD excess, α = 1 | oracle α \
         | ID excess, oracle α | OOD excess, oracle α |"
            .to_string(),
        table_row(&alignment(9)),
    ];
    for configuration in configurations {
        let adapted = configuration.adapted();
        // A configuration without a sweep (the base, a single α) has no oracle α to report.
        let [best_alpha, best_id, best_ood] = if configuration.points.len() > 1 {
            let best = configuration.best();
            [alpha(best.alpha), aggregate(&best.id.excess), ood(best)]
        } else {
            ["—".to_string(), "—".to_string(), "—".to_string()]
        };
        lines.push(table_row(&[
            cell(&configuration.label()),
            configuration.trainable_params.to_string(),
            fixed(configuration.steps, 0),
            fixed(configuration.adapt_seconds, 1),
            aggregate(&adapted.id.excess),
            ood(adapted),
            best_alpha,
            best_id,
            best_ood,
        ]));
    }
    lines.push(String::new());
    lines.push(
        "For the base (the unadapted model) and any configuration without an α sweep, the α = 1 columns show its \
         only point. Steps and adapt s are means over seeds."
            .to_string(),
    );
    lines.join("\n")
}

/// Every source at α = 1: the ID loss, accuracy and calibration, then the excess on each OOD source.
fn source_table(configurations: &[Configuration]) -> String {
    let sources = ood_sources(configurations);
    let header: Vec<String> = ["configuration", "ID loss (bits)", "ID accuracy", "ID ECE"]
        .into_iter()
        .map(str::to_string)
        .chain(sources.iter().map(|source| format!("excess on {}", cell(source))))
        .collect();
    let mut lines = vec![
        "## Per source at α = 1 (adapted)".to_string(),
        String::new(),
        table_row(&header),
        table_row(&alignment(header.len())),
    ];
    for configuration in configurations {
        let adapted = configuration.adapted();
        let mut row = vec![
            cell(&configuration.label()),
            aggregate(&adapted.id.loss),
            fixed(adapted.id.accuracy, 4),
            fixed(adapted.id.ece, 4),
        ];
        row.extend(sources.iter().map(|source| {
            adapted
                .ood
                .iter()
                .find(|summary| summary.eval_source == *source)
                .map_or("—".to_string(), |s| aggregate(&s.excess))
        }));
        lines.push(table_row(&row));
    }
    lines.join("\n")
}

/// Three short findings, each computed from the table: the ID winner and whether it is separated from the
/// runner-up, the configuration that forgets least, and what interpolation buys the ID winner.
fn recommendation(configurations: &[Configuration]) -> String {
    let mut by_id: Vec<&Configuration> = configurations.iter().collect();
    by_id.sort_by(|a, b| rank(a.adapted().id.excess.mean).total_cmp(&rank(b.adapted().id.excess.mean)));
    let Some(winner) = by_id.first().copied() else {
        return "## Findings on the evaluation data\n\nmetrics.csv has no rows with an ID evaluation: nothing to compare.".to_string();
    };
    let base = configurations.iter().find(|c| c.is_base()).and_then(|c| c.adapted().ood_excess);
    let findings = [
        Some(id_finding(winner, by_id.get(1).copied())),
        Some(ood_finding(configurations, winner, base)),
        interpolation_finding(winner, base),
    ];
    let findings: Vec<String> = findings.into_iter().flatten().collect();
    format!("## Findings on the evaluation data\n\n{}", findings.join(" "))
}

fn id_finding(winner: &Configuration, runner_up: Option<&Configuration>) -> String {
    let win = winner.adapted().id.excess;
    let lead = format!("Lowest ID excess at α = 1: **{}** ({} bits/token)", cell(&winner.label()), aggregate(&win));
    let Some(runner_up) = runner_up else {
        return format!("{lead}; it is the only configuration.");
    };
    let second = runner_up.adapted().id.excess;
    let (verdict, intervals) = if !(win.ci95.is_finite() && second.ci95.is_finite()) {
        ("cannot be compared with", "are unknown")
    } else if (win.mean - second.mean).abs() <= win.ci95 + second.ci95 {
        ("is statistically tied with", "overlap")
    } else {
        ("wins over", "are disjoint")
    };
    format!(
        "{lead}; it {verdict} the runner-up {} ({}): the 95% CIs {intervals}.",
        cell(&runner_up.label()),
        aggregate(&second)
    )
}

/// The adapted configuration with the lowest OOD excess at α = 1, its forgetting and the ID winner's.
fn ood_finding(configurations: &[Configuration], winner: &Configuration, base: Option<Aggregate>) -> String {
    let Some((best, ood)) = configurations
        .iter()
        .filter(|c| !c.is_base())
        .filter_map(|c| Some((c, c.adapted().ood_excess?)))
        .min_by(|(_, a), (_, b)| rank(a.mean).total_cmp(&rank(b.mean)))
    else {
        return "No adapted configuration was evaluated out of distribution, so forgetting is not measured.".into();
    };
    let lead =
        format!("Best kept out of distribution: **{}**, OOD excess {} at α = 1", cell(&best.label()), aggregate(&ood));
    let Some(base) = base else {
        return format!("{lead} (no base rows, so forgetting is not computed).");
    };
    let forgetting = |ood: Aggregate| signed(ood.mean - base.mean);
    let mut text =
        format!("{lead}, against the base's {} (forgetting {} bits/token).", aggregate(&base), forgetting(ood));
    // The trade-off, when the configuration that fits the task best is not the one that forgets least.
    if let Some(winner_ood) = winner.adapted().ood_excess.filter(|_| !winner.is_base() && !std::ptr::eq(winner, best)) {
        text += &format!(" The ID winner {} forgets {} bits/token.", cell(&winner.label()), forgetting(winner_ood));
    }
    text
}

/// What moving the ID winner from α = 1 to its oracle α costs in ID excess and recovers in OOD excess.
fn interpolation_finding(winner: &Configuration, base: Option<Aggregate>) -> Option<String> {
    if winner.points.len() < 2 {
        return None;
    }
    let (end, best) = (winner.adapted(), winner.best());
    let (end_ood, best_ood) = (end.ood_excess?, best.ood_excess?);
    if best.alpha == end.alpha {
        return Some(format!(
            "Interpolating {} with the base does not pay by the oracle-α criterion: its oracle α is {}.",
            cell(&winner.label()),
            alpha(best.alpha)
        ));
    }
    let recovered = end_ood.mean - best_ood.mean;
    let share = base
        .map(|base| end_ood.mean - base.mean)
        .filter(|forgetting| *forgetting > 0.0)
        .map_or(String::new(), |forgetting| {
            format!(", {}% of its forgetting", fixed(100.0 * recovered / forgetting, 0))
        });
    Some(format!(
        "Interpolating {} to its oracle α = {} gives up {} bits/token of ID excess (now {}) and recovers {} bits/token \
         of OOD excess (now {}{share}) relative to α = {}.",
        cell(&winner.label()),
        alpha(best.alpha),
        signed(best.id.excess.mean - end.id.excess.mean),
        aggregate(&best.id.excess),
        bits(recovered),
        aggregate(&best_ood),
        alpha(end.alpha)
    ))
}

/// Sort key that puts non-finite values last.
fn rank(value: f64) -> f64 {
    if value.is_finite() {
        value
    } else {
        f64::INFINITY
    }
}

/// `mean ± ci95` in bits with 4 decimals.
fn aggregate(value: &Aggregate) -> String {
    plus_minus(value.mean, value.ci95)
}

pub(crate) fn plus_minus(mean: f64, ci95: f64) -> String {
    format!("{} ± {}", bits(mean), bits(ci95))
}

/// The OOD excess of a point, `—` when no OOD source was evaluated.
fn ood(point: &AlphaPoint) -> String {
    point.ood_excess.as_ref().map_or("—".to_string(), aggregate)
}

/// 4 decimals; `—` for a non-finite number, so that no `NaN` reaches the report.
pub(crate) fn bits(value: f64) -> String {
    fixed(value, 4)
}

/// `decimals` decimals; `—` for a non-finite number.
pub(crate) fn fixed(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "—".to_string()
    }
}

/// An interpolation weight with at most 3 decimals and no trailing zeros, so that a grid built by repeated
/// addition (0.30000000000000004) prints as `0.3`.
fn alpha(value: f64) -> String {
    let text = fixed(value, 3);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// As [`bits`], with an explicit sign.
pub(crate) fn signed(value: f64) -> String {
    if value.is_finite() {
        format!("{value:+.4}")
    } else {
        "—".to_string()
    }
}

/// Text safe inside a markdown table cell.
pub(crate) fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The separator row of a table with `columns` columns: the first (the configuration) left-aligned, numbers
/// right-aligned.
pub(crate) fn alignment(columns: usize) -> Vec<String> {
    std::iter::once("---").chain(std::iter::repeat_n("---:", columns.saturating_sub(1))).map(str::to_string).collect()
}

pub(crate) fn table_row(cells: &[String]) -> String {
    format!("| {} |", cells.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{row, scenario};

    fn context() -> ReportContext {
        ReportContext {
            run_name: "synthetic".to_string(),
            task: "bern(θ=0.9)".to_string(),
            task_sequences: 64,
            task_len: 32,
            pretrain_source: "bernmix(θ=[0.2, 0.7])".to_string(),
            untrained: false,
            base_model: "a 2-layer Transformer of width 64".to_string(),
            base_excess_bits: 0.0012,
            base_excess_ci95: 0.0003,
            seeds: vec![1, 2, 3],
            wall_seconds: Some(12.3),
            command: "adaptbench run configs/synthetic.toml".to_string(),
        }
    }

    #[test]
    fn the_report_has_the_headline_table_with_one_row_per_configuration_and_no_nan() {
        let report = report_markdown(&context(), &scenario(0.05, 0.001), &[], 1.0);
        assert!(
            report.contains("| configuration | trainable params | steps | adapt s | ID excess, α = 1 |"),
            "{report}"
        );
        for label in ["base", "full", "head", "lora (r=4)"] {
            let rows = report.lines().filter(|line| line.starts_with(&format!("| {label} |"))).count();
            assert_eq!(rows, 2, "{label}: one headline row and one per-source row");
        }
        let headline = report.lines().position(|line| line.starts_with("| configuration")).unwrap();
        assert!(report.lines().nth(headline + 2).unwrap().starts_with("| base |"), "the base comes first");
        assert!(!report.contains("NaN"), "{report}");
        assert!(report.contains("adaptbench run configs/synthetic.toml"));
        assert!(
            report.contains("![")
                && report.contains("figures/interpolation.svg")
                && report.contains("figures/pretrain.svg")
        );
    }

    #[test]
    fn the_headline_shows_the_adapted_and_best_alpha_excess_with_intervals() {
        // full over seeds: ID at α = 1 is 0.01 ± 4.303·0.001/√3 = 0.0025; OOD mean 0.2 in every seed: ± 0;
        // oracle α 0.5 with ID 0.03 ± 0.0025 and OOD 0.05 ± 0
        let report = report_markdown(&context(), &scenario(0.05, 0.001), &[], 1.0);
        let full = report.lines().find(|line| line.starts_with("| full |")).unwrap();
        assert_eq!(
            full,
            "| full | 100 | 200 | 1.5 | 0.0100 ± 0.0025 | 0.2000 ± 0.0000 | 0.5 | 0.0300 ± 0.0025 | 0.0500 ± 0.0000 |"
        );
    }

    #[test]
    fn the_recommendation_names_the_clear_id_winner_and_the_least_forgetting() {
        let report = report_markdown(&context(), &scenario(0.05, 0.001), &[], 1.0);
        // full 0.01 ± 0.0025 against lora 0.05 ± 0.0025: disjoint intervals
        let lead = "Lowest ID excess at α = 1: **full** (0.0100 ± 0.0025 bits/token); it wins over the runner-up lora";
        assert!(report.contains(lead), "{report}");
        // head keeps OOD at 0.02 against the base's 0.03; full forgets 0.2 − 0.03 = 0.17
        assert!(report.contains("Best kept out of distribution: **head**"), "{report}");
        assert!(report.contains("(forgetting -0.0100 bits/token)"), "{report}");
        assert!(report.contains("The ID winner full forgets +0.1700 bits/token."), "{report}");
        // full at α = 0.5: ID 0.03 − 0.01 = +0.02 given up, OOD 0.2 − 0.05 = 0.15 recovered = 0.15/0.17 = 88%
        assert!(report.contains("to its oracle α = 0.5 gives up +0.0200 bits/token of ID excess"), "{report}");
        assert!(
            report.contains("recovers 0.1500 bits/token of OOD excess (now 0.0500 ± 0.0000, 88% of its forgetting)"),
            "{report}"
        );
    }

    #[test]
    fn overlapping_intervals_are_reported_as_a_statistical_tie() {
        // lora 0.012 ± 4.303·0.002/√3 = 0.0050 against full 0.01 ± 0.0025: |Δ| = 0.002 < 0.0075
        let report = report_markdown(&context(), &scenario(0.012, 0.002), &[], 1.0);
        let tie = "**full** (0.0100 ± 0.0025 bits/token); it is statistically tied with the runner-up lora (r=4) \
                   (0.0120 ± 0.0050): the 95% CIs overlap.";
        assert!(report.contains(tie), "{report}");
    }

    #[test]
    fn non_finite_inputs_print_as_dashes_not_nan() {
        let mut broken = row("full", 1, 1.0, "task", 0.01);
        broken.excess_ci95 = f64::NAN; // a single seed with an undefined within-seed interval
        broken.accuracy = f64::NAN;
        let report = report_markdown(&ReportContext { wall_seconds: None, ..context() }, &[broken], &[], 1.0);
        assert!(!report.contains("NaN") && !report.contains("inf"), "{report}");
        assert!(report.contains("0.0100 ± —"), "{report}");
        assert!(report.contains("it is the only configuration"), "{report}");
    }

    #[test]
    fn an_untrained_base_is_said_plainly_and_has_no_pretraining_figure() {
        let trained = report_markdown(&context(), &scenario(0.05, 0.001), &[], 1.0);
        assert!(trained.contains("figures/pretrain.svg") && !trained.contains("untrained"), "{trained}");
        let untrained = report_markdown(&ReportContext { untrained: true, ..context() }, &scenario(0.05, 0.001), &[], 1.0);
        assert!(untrained.contains("- Base: **untrained**, the freshly initialised network (`pretrain.steps = 0`)"), "{untrained}");
        assert!(!untrained.contains("figures/pretrain.svg"), "no pretraining curve to show: {untrained}");
    }

    #[test]
    fn alpha_prints_without_float_noise() {
        assert_eq!(alpha(0.1 + 0.2), "0.3"); // 0.30000000000000004
        assert_eq!(alpha(1.0), "1");
        assert_eq!(alpha(0.125), "0.125");
    }

    #[test]
    fn no_rows_give_a_report_that_says_so() {
        let report = report_markdown(&context(), &[], &[], 1.0);
        assert!(report.contains("nothing to compare"), "{report}");
    }
}
