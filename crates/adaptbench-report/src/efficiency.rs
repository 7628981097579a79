//! `efficiency.csv`: what a prompt of each length buys, one [`EfficiencyRow`] per (predictor, kind of prompt,
//! length): the optimal prompt against typical prompts (task samples) and random ones (DESIGN.md §6, after
//! arXiv 2502.10760).

use serde::{Deserialize, Serialize};

use crate::vocabulary::{Predictor, PromptKind};

/// The reference loss of one kind of prompt at one length: a row of `efficiency.csv`; bits per task token.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EfficiencyRow {
    pub predictor: Predictor,
    pub kind: PromptKind,
    /// Prompt length in tokens.
    pub length: usize,
    /// Reference loss: of the optimal prompt, or the mean over the sampled typical or random prompts.
    pub loss_bits: f64,
    /// Half-width of the 95% CI of `loss_bits`: over the sampled prompts for typical and random, over the
    /// reference sample for the optimal prompt (0 when the reference loss is exact).
    pub ci95: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::efficiency_row;
    use crate::tidy::{csv_bytes, read_csv};

    #[test]
    fn the_written_header_is_the_schema_and_kinds_are_snake_case() {
        let bytes = csv_bytes(&[efficiency_row("bayes", PromptKind::Typical, 3, 0.5, 0.25)]).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "predictor,kind,length,loss_bits,ci95\nbayes,typical,3,0.5,0.25\n"
        );
    }

    #[test]
    fn a_written_csv_reads_back_bit_for_bit() {
        let rows: Vec<EfficiencyRow> = PromptKind::ALL
            .iter()
            .copied()
            .enumerate()
            .map(|(length, kind)| efficiency_row("neural", kind, length, 0.1 + 0.2, f64::MIN_POSITIVE))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("efficiency.csv");
        std::fs::write(&path, csv_bytes(&rows).unwrap()).unwrap();
        assert_eq!(read_csv::<EfficiencyRow>(&path).unwrap(), rows);
    }

    #[test]
    fn an_unknown_kind_is_reported_with_its_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("efficiency.csv");
        std::fs::write(&path, "predictor,kind,length,loss_bits,ci95\nbayes,Optimal,2,0.5,0\n").unwrap();
        let message = read_csv::<EfficiencyRow>(&path).unwrap_err().to_string();
        assert!(message.contains("efficiency.csv, line 2: unknown variant `Optimal`"), "{message}");
    }
}
