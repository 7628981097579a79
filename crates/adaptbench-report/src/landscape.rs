//! `landscape.csv`: the prompt landscape of `adaptbench search`, one [`LandscapeRow`] per (predictor, prompt):
//! every binary prompt up to L_max with its reference loss, its KL to the task and its rank (DESIGN.md §6,
//! after arXiv 2502.10760, "Why is prompting hard?").

use serde::{Deserialize, Serialize};

use crate::vocabulary::Predictor;

/// One prompt of one predictor's landscape: a row of `landscape.csv`. Losses are in bits per task token
/// (prompt tokens excluded).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LandscapeRow {
    /// The predictor prompted.
    pub predictor: Predictor,
    /// The prompt as `0`/`1` characters, oldest first; the empty string for the empty prompt ε.
    pub prompt: String,
    /// Prompt length in tokens (`prompt.len()`).
    pub length: usize,
    /// Number of ones in the prompt.
    pub ones: usize,
    /// Reference expected loss on the task: exact for the Bayes predictor on exchangeable sources, else over a
    /// large fresh task sample.
    pub loss_bits: f64,
    /// `loss_bits` − the task's Bayes floor: the KL from the task's predictive to the prompted predictor's, per
    /// token (≥ 0 up to the noise of the reference sample).
    pub kl_bits: f64,
    /// Rank by `loss_bits` within the predictor, 1 = best.
    pub rank: usize,
    /// Mean loss on the task data D_N, the quantity a prompt search actually minimises.
    pub empirical_loss_bits: f64,
}

/// The empirical best prompt among `rows`: argmin of `empirical_loss_bits` (the prompt a search on D_N picks),
/// the first on ties; rows with a non-finite empirical loss are skipped. `None` when none is left.
pub(crate) fn empirical_best<'a>(rows: impl IntoIterator<Item = &'a LandscapeRow>) -> Option<&'a LandscapeRow> {
    rows.into_iter()
        .filter(|row| row.empirical_loss_bits.is_finite())
        .min_by(|a, b| a.empirical_loss_bits.total_cmp(&b.empirical_loss_bits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::landscape_row;
    use crate::tidy::{csv_bytes, header, read_csv};

    #[test]
    fn the_written_header_is_the_schema() {
        let bytes = csv_bytes::<LandscapeRow>(&[]).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "predictor,prompt,length,ones,loss_bits,kl_bits,rank,empirical_loss_bits\n"
        );
    }

    #[test]
    fn a_written_csv_reads_back_bit_for_bit_with_the_empty_prompt_and_leading_zeros() {
        let mut awkward = landscape_row("neural", "0010", 0.1 + 0.2, 7);
        awkward.kl_bits = -1e-300; // a reference sample can put a prompt a hair below the floor
        awkward.empirical_loss_bits = 1.0 / 3.0;
        let rows = vec![landscape_row("bayes", "", 0.5, 1), awkward];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("landscape.csv");
        std::fs::write(&path, csv_bytes(&rows).unwrap()).unwrap();
        let read = read_csv::<LandscapeRow>(&path).unwrap();
        assert_eq!(read, rows);
        assert_eq!(read[0].prompt, "", "ε stays the empty string");
        assert_eq!(read[1].prompt, "0010", "a prompt is text, not a number");
    }

    #[test]
    fn the_empirical_best_is_the_first_minimum_of_the_finite_empirical_losses() {
        let mut rows = vec![
            landscape_row("bayes", "0", 0.5, 2),
            landscape_row("bayes", "1", 0.4, 1),
            landscape_row("bayes", "11", 0.45, 3),
            landscape_row("bayes", "00", 0.6, 4),
        ];
        rows[0].empirical_loss_bits = f64::NAN;
        rows[2].empirical_loss_bits = 0.3; // ties with `00`, which comes later
        rows[3].empirical_loss_bits = 0.3;
        assert_eq!(empirical_best(&rows).map(|row| row.prompt.as_str()), Some("11"));
        assert!(empirical_best(&rows[..1]).is_none());
    }

    #[test]
    fn a_bad_rank_is_reported_with_its_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("landscape.csv");
        std::fs::write(&path, format!("{}\nbayes,01,2,1,0.5,0.1,first,0.6\n", header::<LandscapeRow>().join(","))).unwrap();
        let message = read_csv::<LandscapeRow>(&path).unwrap_err().to_string();
        assert!(message.contains("landscape.csv, line 2: column `rank`"), "{message}");
    }
}
