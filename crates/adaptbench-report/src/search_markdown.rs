//! The markdown report of an `adaptbench search` run: what was searched, each predictor's best prompts and
//! whether the search on D_N finds them, the reliability and efficiency tables, and the figures (DESIGN.md §6,
//! after arXiv 2502.10760, "Why is prompting hard?").

use crate::efficiency::EfficiencyRow;
use crate::vocabulary::PromptKind;
use crate::landscape::{empirical_best, LandscapeRow};
use crate::markdown::{alignment, bits, cell, fixed, plus_minus, table_row};
use crate::reliability::ReliabilityRow;
use crate::search_figures::{kl_text, prompt_label};
use crate::tidy::{group_by_key, sorted_distinct};

/// Prompts listed per predictor in the landscape table.
const TOP_PROMPTS: usize = 10;

/// What the search report says about the run besides its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchReportContext {
    pub run_name: String,
    /// The TOML configuration of the run, as given on the command line.
    pub config_path: String,
    /// The predictors searched, e.g. `bayes`, `neural`.
    pub predictors: Vec<String>,
    /// The task source, e.g. `bern(θ=0.9)`.
    pub task: String,
    /// The pretraining meta-distribution of the predictors.
    pub pretrain_source: String,
    /// Whether the neural predictor is the freshly initialised network (`pretrain.steps = 0`).
    pub untrained: bool,
    /// T: tokens per task sequence (after the prompt).
    pub task_len: usize,
    /// L_max: every prompt of length 0..=L_max is searched, 2^(L_max+1) − 1 in all.
    pub max_prompt_len: usize,
    /// N = |D_N|: task sequences the search ranks prompts on.
    pub task_sequences: usize,
    /// A prompt is reference-optimal when its reference loss is within this many bits per token of the best.
    pub tolerance_bits: f64,
    /// How reference losses were computed, e.g. `exact (Bayes predictor, exchangeable task)` or
    /// `65536 fresh task sequences`.
    pub reference: String,
    /// The command that reproduces the run.
    pub command: String,
}

/// The markdown of a search run: the header from `context`; per predictor of `landscape` (in order of first
/// appearance) its top 10 prompts by reference rank (prompt, length, ones, loss, KL = loss − the task's Bayes
/// floor, empirical loss on D_N; `ε` is the empty prompt), how many prompts are reference-optimal (reference
/// loss ≤ best + `tolerance_bits`), and the empirical best prompt (argmin of `empirical_loss_bits`) with its
/// reference rank and KL; the reliability table per predictor (N × L_max: the proportion of draws correct with
/// its 95% Wilson interval in brackets); the efficiency table per predictor (length × kind: loss ± 95% CI);
/// and links to `figures/landscape.svg`, `figures/reliability.svg` and `figures/efficiency.svg`. Losses in
/// bits per token with 4 decimals, KL below 10⁻³ in scientific notation; a non-finite number prints as `—`.
pub fn search_report_markdown(
    context: &SearchReportContext,
    landscape: &[LandscapeRow],
    reliability: &[ReliabilityRow],
    efficiency: &[EfficiencyRow],
) -> String {
    let mut sections = vec![header(context)];
    if landscape.is_empty() {
        sections.push("## Landscape\n\nlandscape.csv has no rows.".to_string());
    }
    for (predictor, rows) in group_by_key(landscape, |row| row.predictor.as_str()) {
        sections.push(landscape_section(predictor, &rows, context.tolerance_bits));
    }
    sections.push(reliability_section(reliability));
    sections.push(efficiency_section(efficiency));
    sections.push(FIGURES.to_string());
    sections.join("\n\n") + "\n"
}

const FIGURES: &str = "\
## Figures

![Prompt landscape: KL to the task against rank](figures/landscape.svg)

![Reliability: proportion of draws of D_N whose best prompt is reference-optimal](figures/reliability.svg)

![Efficiency: loss against prompt length for optimal, typical and random prompts](figures/efficiency.svg)";

fn header(context: &SearchReportContext) -> String {
    // 2^(L+1) − 1 prompts of length 0..=L; saturating, so an absurd L_max prints a huge number, not a panic.
    let prompts = 1u128.checked_shl(context.max_prompt_len as u32 + 1).map_or(u128::MAX, |n| n - 1);
    [
        format!("# adaptbench search: {}", context.run_name),
        String::new(),
        format!("- Config: `{}`.", context.config_path),
        format!("- Predictors: {}.", context.predictors.join(", ")),
        format!(
            "- Task: {}; D_N: N = {} sequences of T = {} tokens.",
            context.task, context.task_sequences, context.task_len
        ),
        if context.untrained {
            format!(
                "- Pretraining source: {}; the neural predictor is **untrained**, the freshly initialised network \
                 (`pretrain.steps = 0`).",
                context.pretrain_source
            )
        } else {
            format!("- Pretraining source: {}.", context.pretrain_source)
        },
        format!(
            "- Prompts: every binary string of length 0 to L_max = {} ({prompts} prompts).",
            context.max_prompt_len
        ),
        format!("- Reference losses: {}.", context.reference),
        format!(
            "- Tolerance: a prompt is reference-optimal when its reference loss is within {} bits/token of the \
             best.",
            kl_text(context.tolerance_bits)
        ),
        format!("- Reproduce with:\n\n  ```sh\n  {}\n  ```", context.command),
    ]
    .join("\n")
}

/// One predictor's top prompts and what the search on D_N picks; `rows` is not empty.
fn landscape_section(predictor: &str, rows: &[&LandscapeRow], tolerance_bits: f64) -> String {
    let mut ranked = rows.to_vec();
    ranked.sort_by(|a, b| a.rank.cmp(&b.rank).then(a.loss_bits.total_cmp(&b.loss_bits)));
    let mut lines = vec![
        format!("## Landscape: {}", cell(predictor)),
        String::new(),
        format!("The {} best prompts by reference loss, bits/token.", ranked.len().min(TOP_PROMPTS)),
        String::new(),
        "| rank | prompt | length | ones | loss | KL | empirical loss on D_N |".to_string(),
        // Numbers right-aligned, the prompt (text) left-aligned.
        table_row(&["---:", "---", "---:", "---:", "---:", "---:", "---:"].map(str::to_string)),
    ];
    for row in ranked.iter().take(TOP_PROMPTS) {
        lines.push(table_row(&[
            row.rank.to_string(),
            prompt_cell(&row.prompt),
            row.length.to_string(),
            row.ones.to_string(),
            bits(row.loss_bits),
            kl_text(row.kl_bits),
            bits(row.empirical_loss_bits),
        ]));
    }
    lines.push(String::new());
    let best_loss =
        ranked.iter().map(|row| row.loss_bits).filter(|loss| loss.is_finite()).fold(f64::INFINITY, f64::min);
    let optimal = |row: &LandscapeRow| row.loss_bits <= best_loss + tolerance_bits;
    let count = ranked.iter().filter(|row| optimal(row)).count();
    let mut text = format!(
        "{count} of {} prompts are reference-optimal (within {} bits/token of the best).",
        ranked.len(),
        kl_text(tolerance_bits)
    );
    match empirical_best(rows.iter().copied()) {
        Some(best) => {
            let verdict = if optimal(best) {
                "it is reference-optimal".to_string()
            } else {
                format!(
                    "it is not reference-optimal: {} bits/token above the best",
                    kl_text(best.loss_bits - best_loss)
                )
            };
            text += &format!(
                " The empirical best on D_N is {} (empirical loss {}), at reference rank {} with KL {} bits/token: \
                 {verdict}.",
                prompt_cell(&best.prompt),
                bits(best.empirical_loss_bits),
                best.rank,
                kl_text(best.kl_bits)
            );
        }
        None => text += " No prompt has a finite empirical loss, so there is no empirical best.",
    }
    lines.push(text);
    lines.join("\n")
}

/// Per predictor a table with a row per N and a column per L_max.
fn reliability_section(rows: &[ReliabilityRow]) -> String {
    if rows.is_empty() {
        return "## Reliability\n\nreliability.csv has no rows.".to_string();
    }
    let draws = sorted_distinct(rows.iter().map(|row| row.draws));
    let draws = match draws.as_slice() {
        [only] => format!("R = {only} draws"),
        _ => format!("R = {} to {} draws (per cell)", draws[0], draws[draws.len() - 1]),
    };
    let mut lines = vec![
        "## Reliability".to_string(),
        String::new(),
        format!(
            "Share of {draws} of D_N whose empirical best prompt is reference-optimal; in brackets its 95% Wilson \
             interval."
        ),
    ];
    for (predictor, rows) in group_by_key(rows, |row| row.predictor.as_str()) {
        let l_maxes = sorted_distinct(rows.iter().map(|row| row.l_max));
        let ns = sorted_distinct(rows.iter().map(|row| row.n));
        let header: Vec<String> =
            std::iter::once("N".to_string()).chain(l_maxes.iter().map(|l_max| format!("L_max = {l_max}"))).collect();
        lines.extend([String::new(), format!("### {}", cell(predictor)), String::new()]);
        lines.push(table_row(&header));
        lines.push(table_row(&alignment(header.len())));
        for n in ns {
            let cells = l_maxes.iter().map(|&l_max| {
                rows.iter().find(|row| row.n == n && row.l_max == l_max).map_or("—".to_string(), |row| {
                    let (low, high) = row.interval();
                    format!("{} [{}, {}]", fixed(row.proportion_correct, 3), fixed(low, 3), fixed(high, 3))
                })
            });
            lines.push(table_row(&std::iter::once(n.to_string()).chain(cells).collect::<Vec<_>>()));
        }
    }
    lines.join("\n")
}

/// Per predictor a table with a row per prompt length and a column per kind of prompt.
fn efficiency_section(rows: &[EfficiencyRow]) -> String {
    if rows.is_empty() {
        return "## Efficiency\n\nefficiency.csv has no rows.".to_string();
    }
    let mut lines = vec![
        "## Efficiency".to_string(),
        String::new(),
        "Reference loss in bits/token by prompt length: the optimal prompt of that length, typical prompts (task \
         samples) and random prompts, ± the half-width of the 95% CI (none shown when the loss is exact)."
            .to_string(),
    ];
    for (predictor, rows) in group_by_key(rows, |row| row.predictor.as_str()) {
        let kinds: Vec<PromptKind> =
            PromptKind::ALL.iter().copied().filter(|kind| rows.iter().any(|row| row.kind == *kind)).collect();
        let lengths = sorted_distinct(rows.iter().map(|row| row.length));
        let header: Vec<String> =
            std::iter::once("length".to_string()).chain(kinds.iter().map(|kind| kind.to_string())).collect();
        lines.extend([String::new(), format!("### {}", cell(predictor)), String::new()]);
        lines.push(table_row(&header));
        lines.push(table_row(&alignment(header.len())));
        for length in lengths {
            let cells = kinds.iter().map(|&kind| {
                rows.iter().find(|row| row.length == length && row.kind == kind).map_or("—".to_string(), |row| {
                    if row.ci95.is_finite() && row.ci95 > 0.0 {
                        plus_minus(row.loss_bits, row.ci95)
                    } else {
                        bits(row.loss_bits)
                    }
                })
            });
            lines.push(table_row(&std::iter::once(length.to_string()).chain(cells).collect::<Vec<_>>()));
        }
    }
    lines.join("\n")
}

/// A prompt in a table: `` `0110` ``, or a bare `ε` for the empty prompt.
fn prompt_cell(prompt: &str) -> String {
    if prompt.is_empty() {
        prompt_label(prompt).to_string()
    } else {
        format!("`{}`", cell(prompt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{efficiency, landscape, reliability};

    fn context() -> SearchReportContext {
        SearchReportContext {
            run_name: "synthetic".to_string(),
            config_path: "configs/search.toml".to_string(),
            predictors: vec!["bayes".to_string(), "neural".to_string()],
            task: "bern(θ=0.9)".to_string(),
            pretrain_source: "bernmix(θ=[0.2, 0.7])".to_string(),
            untrained: false,
            task_len: 16,
            max_prompt_len: 2,
            task_sequences: 64,
            tolerance_bits: 1e-3,
            reference: "exact (Bayes predictor, exchangeable task)".to_string(),
            command: "adaptbench search configs/search.toml".to_string(),
        }
    }

    fn report() -> String {
        search_report_markdown(&context(), &landscape(), &reliability(), &efficiency())
    }

    #[test]
    fn the_header_names_the_run_and_counts_the_prompts() {
        let report = report();
        assert!(report.starts_with("# adaptbench search: synthetic\n"), "{report}");
        // L_max = 2: 1 + 2 + 4 = 2^3 − 1 = 7 prompts
        assert!(report.contains("every binary string of length 0 to L_max = 2 (7 prompts)"), "{report}");
        assert!(report.contains("N = 64 sequences of T = 16 tokens"), "{report}");
        assert!(report.contains("`configs/search.toml`") && report.contains("Predictors: bayes, neural."));
    }

    #[test]
    fn an_untrained_neural_predictor_is_said_plainly() {
        assert!(!report().contains("untrained"));
        let untrained = search_report_markdown(&SearchReportContext { untrained: true, ..context() }, &landscape(), &reliability(), &efficiency());
        assert!(untrained.contains("the neural predictor is **untrained**, the freshly initialised network"), "{untrained}");
    }

    #[test]
    fn each_predictor_lists_its_top_prompts_in_rank_order_with_epsilon_for_the_empty_prompt() {
        let report = report();
        // bayes `11`: loss 0.4, KL 0.4 − 0.4 = 0, empirical 0.4 + 0.01
        assert!(report.contains("| 1 | `11` | 2 | 2 | 0.4000 | 0.0000 | 0.4100 |"), "{report}");
        // bayes `1`: KL 0.4001 − 0.4 = 1e-4 in scientific notation, empirical 0.395 set by hand
        assert!(report.contains("| 2 | `1` | 1 | 1 | 0.4001 | 1.0e-4 | 0.3950 |"), "{report}");
        assert!(report.contains("| 1 | ε | 0 | 0 | 0.4500 | 0.0500 | 0.4600 |"), "neural's best is ε: {report}");
        let bayes = report.find("## Landscape: bayes").unwrap();
        let neural = report.find("## Landscape: neural").unwrap();
        assert!(bayes < neural);
        assert_eq!(report.matches("| rank | prompt |").count(), 2);
    }

    #[test]
    fn the_empirical_best_is_reported_with_its_reference_rank_and_whether_it_is_optimal() {
        let report = report();
        // bayes: `11` (0.4) and `1` (0.4001 ≤ 0.4 + 0.001) are optimal, `ε` (0.42) is not
        assert!(report.contains("2 of 7 prompts are reference-optimal"), "{report}");
        let bayes = "The empirical best on D_N is `1` (empirical loss 0.3950), at reference rank 2 with KL 1.0e-4 \
                     bits/token: it is reference-optimal.";
        assert!(report.contains(bayes), "{report}");
        let mut strict = context();
        strict.tolerance_bits = 0.0;
        let report = search_report_markdown(&strict, &landscape(), &[], &[]);
        assert!(report.contains("it is not reference-optimal: 1.0e-4 bits/token above the best"), "{report}");
    }

    #[test]
    fn the_reliability_table_has_a_row_per_n_and_a_column_per_l_max() {
        let report = report();
        assert!(report.contains("Share of R = 10 draws of D_N"), "{report}");
        assert!(report.contains("| N | L_max = 2 | L_max = 4 |"), "{report}");
        // bayes at N = 16, L_max = 2: 8/10 with Wilson [0.490, 0.943]; L_max = 4: 7/10
        let (low, high) = crate::statistics::wilson_interval(7, 10);
        let expected = format!("| 16 | 0.800 [0.490, 0.943] | 0.700 [{low:.3}, {high:.3}] |");
        assert!(report.contains(&expected), "{expected} in {report}");
    }

    #[test]
    fn the_efficiency_table_shows_intervals_only_where_there_are_some() {
        let report = report();
        assert!(report.contains("| length | optimal | typical | random |"), "{report}");
        // bayes, length 2: optimal 0.5 − 0.06 = 0.44 exact, typical 0.46 ± 0.01, random 0.6 ± 0.02
        assert!(report.contains("| 2 | 0.4400 | 0.4600 ± 0.0100 | 0.6000 ± 0.0200 |"), "{report}");
        for figure in ["figures/landscape.svg", "figures/reliability.svg", "figures/efficiency.svg"] {
            assert!(report.contains(&format!("]({figure})")), "{figure}");
        }
        assert!(!report.contains("NaN"));
    }

    #[test]
    fn no_rows_give_a_report_that_says_so() {
        let report = search_report_markdown(&context(), &[], &[], &[]);
        for file in ["landscape.csv", "reliability.csv", "efficiency.csv"] {
            assert!(report.contains(&format!("{file} has no rows.")), "{file}");
        }
    }
}
