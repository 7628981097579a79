//! `task_length.csv`: the search repeated at other task lengths T (arXiv 2502.10760, §4): at each T, the
//! reference-optimal prompt among those up to L_max (its length is the paper's "optimal prompt length against
//! T") and the reliability of exhaustive search on N sequences of T tokens, one [`TaskLengthRow`] per
//! (predictor, T, L_max, N); and its section of search.md.

use serde::{Deserialize, Serialize};

use crate::markdown::{alignment, cell, fixed, table_row};
use crate::search_figures::{kl_text, prompt_label};
use crate::reliability::proportion_interval;
use crate::tidy::{group_by_key, sorted_distinct};
use crate::vocabulary::Predictor;

/// The search at one (predictor, T, L_max, N): a row of `task_length.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskLengthRow {
    pub predictor: Predictor,
    /// T: task tokens per sequence, for the reference losses and for D_N.
    pub task_len: usize,
    /// L_max: prompts of length 0..=L_max are searched.
    pub l_max: usize,
    /// The reference-optimal prompt of length ≤ L_max at this T (shortest, then first, on ties).
    pub optimal_prompt: String,
    /// Its length.
    pub optimal_length: usize,
    /// Its reference loss minus the task's Bayes floor at this T, bits per task token.
    pub optimal_kl_bits: f64,
    /// N = |D_N|.
    pub n: usize,
    /// R: independent draws of D_N.
    pub draws: usize,
    /// Share of the R draws whose empirical best prompt is reference-optimal at this T.
    pub proportion_correct: f64,
    /// Half-width of the 95% Wilson interval of the proportion (read as [`TaskLengthRow::interval`] does).
    pub ci95: f64,
}

impl TaskLengthRow {
    /// The 95% Wilson interval of the row's proportion, from `round(proportion_correct · draws)` successes.
    pub fn interval(&self) -> (f64, f64) {
        proportion_interval(self.proportion_correct, self.draws)
    }
}

/// The search.md section "Task length": per predictor a row per T with the reference-optimal prompt at the
/// longest L_max of `rows` (prompt, length, KL) and, per N, the share of draws correct with its 95% Wilson
/// interval; a link to `figures/task_length.svg`. Empty when there are no rows (the analysis is off).
pub fn task_length_markdown(rows: &[TaskLengthRow]) -> String {
    let Some(longest) = rows.iter().map(|row| row.l_max).max() else { return String::new() };
    let rows: Vec<&TaskLengthRow> = rows.iter().filter(|row| row.l_max == longest).collect();
    let mut lines = vec![
        "## Task length".to_string(),
        String::new(),
        format!(
            "The search repeated at each task length T, with reference losses at that T: the reference-optimal \
             prompt of length ≤ L_max = {longest} (ε is the empty prompt) and the share of {} draws of D_N (N \
             sequences of T tokens) whose empirical best prompt is optimal at that T, with its 95% Wilson interval. \
             Shorter L_max: `task_length.csv`.",
            rows[0].draws
        ),
    ];
    for (predictor, rows) in group_by_key(rows.iter().copied(), |row| row.predictor.as_str()) {
        let ns = sorted_distinct(rows.iter().map(|row| row.n));
        let lens = sorted_distinct(rows.iter().map(|row| row.task_len));
        let header: Vec<String> = ["T", "optimal prompt", "length", "KL (bits/token)"]
            .into_iter()
            .map(String::from)
            .chain(ns.iter().map(|n| format!("N = {n}")))
            .collect();
        lines.extend([String::new(), format!("### {}", cell(predictor)), String::new()]);
        lines.push(table_row(&header));
        lines.push(table_row(&alignment(header.len())));
        for t in lens {
            let at_t: Vec<&&TaskLengthRow> = rows.iter().filter(|row| row.task_len == t).collect();
            let first = at_t[0];
            let mut cells = vec![
                t.to_string(),
                format!("`{}`", prompt_label(&first.optimal_prompt)),
                first.optimal_length.to_string(),
                kl_text(first.optimal_kl_bits),
            ];
            cells.extend(ns.iter().map(|&n| {
                at_t.iter().find(|row| row.n == n).map_or("—".to_string(), |row| {
                    let (low, high) = row.interval();
                    format!("{} [{}, {}]", fixed(row.proportion_correct, 2), fixed(low, 2), fixed(high, 2))
                })
            }));
            lines.push(table_row(&cells));
        }
    }
    lines.extend([String::new(), "![Reliability against the task length T](figures/task_length.svg)".to_string()]);
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statistics::{proportion_ci95, wilson_interval};
    use crate::tidy::{csv_bytes, read_csv};

    fn row(predictor: &str, task_len: usize, l_max: usize, prompt: &str, n: usize, correct: usize) -> TaskLengthRow {
        TaskLengthRow {
            predictor: predictor.parse().unwrap(),
            task_len,
            l_max,
            optimal_prompt: prompt.to_string(),
            optimal_length: prompt.len(),
            optimal_kl_bits: 0.01 / task_len as f64,
            n,
            draws: 20,
            proportion_correct: correct as f64 / 20.0,
            ci95: proportion_ci95(correct, 20),
        }
    }

    #[test]
    fn a_written_csv_reads_back_bit_for_bit_under_its_schema() {
        let rows = vec![row("bayes", 5, 3, "111", 4, 7), row("neural", 50, 5, "", 64, 20)];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("task_length.csv");
        std::fs::write(&path, csv_bytes(&rows).unwrap()).unwrap();
        assert_eq!(read_csv::<TaskLengthRow>(&path).unwrap(), rows);
        let header = String::from_utf8(csv_bytes::<TaskLengthRow>(&[]).unwrap()).unwrap();
        assert_eq!(
            header,
            "predictor,task_len,l_max,optimal_prompt,optimal_length,optimal_kl_bits,n,draws,proportion_correct,ci95\n"
        );
    }

    #[test]
    fn the_section_tabulates_the_longest_l_max_by_t_and_n() {
        let rows = vec![
            row("bayes", 10, 5, "11111", 4, 5),
            row("bayes", 10, 5, "11111", 64, 18),
            row("bayes", 40, 5, "111", 4, 10),
            row("bayes", 40, 5, "111", 64, 20),
            row("bayes", 40, 1, "1", 4, 0), // a shorter L_max stays in the CSV
        ];
        let text = task_length_markdown(&rows);
        let (low, high) = wilson_interval(18, 20);
        assert!(text.contains("L_max = 5"), "{text}");
        assert!(text.contains(&format!("| 10 | `11111` | 5 | {} | 0.25 [", kl_text(0.001))), "{text}");
        assert!(text.contains(&format!("0.90 [{}, {}]", fixed(low, 2), fixed(high, 2))), "{text}");
        assert!(text.contains("| 40 | `111` | 3 |"), "{text}");
        assert!(!text.contains("`1`"), "{text}");
        assert_eq!(task_length_markdown(&[]), "");
    }
}
