//! `reliability.csv`: how often the prompt that is best on the task data D_N is a reference-optimal prompt,
//! one [`ReliabilityRow`] per (predictor, N, L_max), with Wilson's interval for that proportion (DESIGN.md §6,
//! after arXiv 2502.10760).

use serde::{Deserialize, Serialize};

use crate::statistics::wilson_interval;
use crate::vocabulary::Predictor;

/// The search's reliability at one (predictor, N, L_max): a row of `reliability.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReliabilityRow {
    pub predictor: Predictor,
    /// N = |D_N|: task sequences the search ranks prompts on.
    pub n: usize,
    /// L_max: the search covers every prompt of length 0..=L_max.
    pub l_max: usize,
    /// R: independent draws of D_N.
    pub draws: usize,
    /// Share of the R draws whose empirical best prompt is reference-optimal (its reference loss within the
    /// tolerance of the best), in [0, 1].
    pub proportion_correct: f64,
    /// Half-width of the 95% Wilson score interval of the proportion ([`proportion_ci95`](crate::proportion_ci95)). Wilson's interval
    /// is centred on the shrunk p̃ of [`wilson_interval`](crate::wilson_interval), not on `proportion_correct`, so read it as
    /// [`wilson_interval`](crate::wilson_interval) does rather than as `proportion_correct ± ci95`.
    pub ci95: f64,
    /// The same share for successive halving on the same draws (`[search.halving]`).
    pub halving_proportion_correct: f64,
    /// Half-width of its 95% Wilson interval.
    pub halving_ci95: f64,
    /// (prompt, sequence) pairs halving scored, as a fraction of the exhaustive search's.
    pub halving_pair_share: f64,
}

impl ReliabilityRow {
    /// The 95% Wilson interval of the row's proportion, from `round(proportion_correct · draws)` successes.
    pub fn interval(&self) -> (f64, f64) {
        proportion_interval(self.proportion_correct, self.draws)
    }
}

/// The 95% Wilson interval of a proportion recorded as a share of `draws`, from `round(proportion · draws)`
/// successes.
pub(crate) fn proportion_interval(proportion: f64, draws: usize) -> (f64, f64) {
    let successes = (proportion.clamp(0.0, 1.0) * draws as f64).round() as usize;
    wilson_interval(successes, draws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statistics::proportion_ci95;
    use crate::testing::reliability_row;
    use crate::tidy::{csv_bytes, read_csv};

    #[test]
    fn a_row_recovers_its_interval_from_proportion_and_draws() {
        let row = reliability_row("bayes", 64, 4, 0.8, 10);
        assert_eq!(row.interval(), wilson_interval(8, 10));
        assert_eq!(row.ci95, proportion_ci95(8, 10));
    }

    #[test]
    fn the_written_header_is_the_schema() {
        let bytes = csv_bytes::<ReliabilityRow>(&[]).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "predictor,n,l_max,draws,proportion_correct,ci95,halving_proportion_correct,halving_ci95,halving_pair_share\n"
        );
    }

    #[test]
    fn a_written_csv_reads_back_bit_for_bit() {
        let rows = vec![reliability_row("bayes", 1, 0, 1.0, 200), reliability_row("neural", 1024, 10, 0.37, 100)];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reliability.csv");
        std::fs::write(&path, csv_bytes(&rows).unwrap()).unwrap();
        assert_eq!(read_csv::<ReliabilityRow>(&path).unwrap(), rows);
    }
}
