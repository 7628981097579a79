//! `efficiency.csv`: what a prompt of each length buys, one [`EfficiencyRow`] per (predictor, kind of prompt,
//! length): the optimal prompt against typical prompts (task samples) and random ones (DESIGN.md §6, after
//! arXiv 2502.10760).

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::tidy::{read_tidy_csv, write_tidy_csv};

/// The header of `efficiency.csv`, in [`EfficiencyRow`] field order.
pub const EFFICIENCY_HEADER: [&str; 5] = ["predictor", "kind", "length", "loss_bits", "ci95"];

/// Which prompts of a given length a row summarises; written in snake case (`optimal`, `typical`, `random`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptKind {
    /// The prompt of that length with the lowest reference loss.
    Optimal,
    /// Prompts sampled from the task source itself: what "show it some examples" gives.
    Typical,
    /// Prompts of uniformly random bits: the no-information baseline.
    Random,
}

impl PromptKind {
    /// Every kind, in the order tables and legends list them.
    pub const ALL: [PromptKind; 3] = [PromptKind::Optimal, PromptKind::Typical, PromptKind::Random];

    /// The name in `efficiency.csv`, tables and legends.
    pub fn as_str(self) -> &'static str {
        match self {
            PromptKind::Optimal => "optimal",
            PromptKind::Typical => "typical",
            PromptKind::Random => "random",
        }
    }
}

impl fmt::Display for PromptKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The reference loss of one kind of prompt at one length: a row of `efficiency.csv`; bits per task token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EfficiencyRow {
    /// `bayes` or `neural`, as in `landscape.csv`.
    pub predictor: String,
    pub kind: PromptKind,
    /// Prompt length in tokens.
    pub length: usize,
    /// Reference loss: of the optimal prompt, or the mean over the sampled typical or random prompts.
    pub loss_bits: f64,
    /// Half-width of the 95% CI of `loss_bits`: over the sampled prompts for typical and random, over the
    /// reference sample for the optimal prompt (0 when the reference loss is exact).
    pub ci95: f64,
}

impl EfficiencyRow {
    /// The row as CSV fields in [`EFFICIENCY_HEADER`] order, floats in shortest round-trip form.
    fn fields(&self) -> [String; 5] {
        [
            self.predictor.clone(),
            self.kind.as_str().to_string(),
            self.length.to_string(),
            self.loss_bits.to_string(),
            self.ci95.to_string(),
        ]
    }
}

/// `rows` as the bytes of `efficiency.csv`: [`EFFICIENCY_HEADER`], then one record per row, floats in shortest
/// round-trip form.
pub fn efficiency_csv(rows: &[EfficiencyRow]) -> Result<Vec<u8>, ReportError> {
    write_tidy_csv(&EFFICIENCY_HEADER, rows.iter().map(EfficiencyRow::fields))
}

/// Reads `efficiency.csv` at `path`; the header must be [`EFFICIENCY_HEADER`]. Errors name the file, the line
/// and the column.
pub fn read_efficiency_csv(path: &Path) -> Result<Vec<EfficiencyRow>, ReportError> {
    read_tidy_csv(path, &EFFICIENCY_HEADER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::efficiency_row;

    #[test]
    fn the_written_header_is_the_schema_and_kinds_are_snake_case() {
        let bytes = efficiency_csv(&[efficiency_row("bayes", PromptKind::Typical, 3, 0.5, 0.25)]).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "predictor,kind,length,loss_bits,ci95\nbayes,typical,3,0.5,0.25\n"
        );
    }

    #[test]
    fn a_written_csv_reads_back_bit_for_bit() {
        let rows: Vec<EfficiencyRow> = PromptKind::ALL
            .into_iter()
            .enumerate()
            .map(|(length, kind)| efficiency_row("neural", kind, length, 0.1 + 0.2, f64::MIN_POSITIVE))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("efficiency.csv");
        std::fs::write(&path, efficiency_csv(&rows).unwrap()).unwrap();
        assert_eq!(read_efficiency_csv(&path).unwrap(), rows);
    }

    #[test]
    fn an_unknown_kind_is_reported_with_its_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("efficiency.csv");
        std::fs::write(&path, "predictor,kind,length,loss_bits,ci95\nbayes,Optimal,2,0.5,0\n").unwrap();
        let message = read_efficiency_csv(&path).unwrap_err().to_string();
        assert!(message.contains("efficiency.csv, line 2: unknown variant `Optimal`"), "{message}");
    }
}
