//! `reliability.csv`: how often the prompt that is best on the task data D_N is a reference-optimal prompt,
//! one [`ReliabilityRow`] per (predictor, N, L_max), with Wilson's interval for that proportion (DESIGN.md §6,
//! after arXiv 2502.10760).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::tidy::{read_tidy_csv, write_tidy_csv};

/// The header of `reliability.csv`, in [`ReliabilityRow`] field order.
pub const RELIABILITY_HEADER: [&str; 6] = ["predictor", "n", "l_max", "draws", "proportion_correct", "ci95"];

/// The normal quantile z_{0.975} of a two-sided 95% interval.
const Z_975: f64 = 1.96;

/// The search's reliability at one (predictor, N, L_max): a row of `reliability.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityRow {
    /// `bayes` or `neural`, as in `landscape.csv`.
    pub predictor: String,
    /// N = |D_N|: task sequences the search ranks prompts on.
    pub n: usize,
    /// L_max: the search covers every prompt of length 0..=L_max.
    pub l_max: usize,
    /// R: independent draws of D_N.
    pub draws: usize,
    /// Share of the R draws whose empirical best prompt is reference-optimal (its reference loss within the
    /// tolerance of the best), in [0, 1].
    pub proportion_correct: f64,
    /// Half-width of the 95% Wilson score interval of the proportion ([`proportion_ci95`]). Wilson's interval
    /// is centred on the shrunk p̃ of [`wilson_interval`], not on `proportion_correct`, so read it as
    /// [`wilson_interval`] does rather than as `proportion_correct ± ci95`.
    pub ci95: f64,
}

impl ReliabilityRow {
    /// The row as CSV fields in [`RELIABILITY_HEADER`] order, floats in shortest round-trip form.
    fn fields(&self) -> [String; 6] {
        [
            self.predictor.clone(),
            self.n.to_string(),
            self.l_max.to_string(),
            self.draws.to_string(),
            self.proportion_correct.to_string(),
            self.ci95.to_string(),
        ]
    }

    /// The 95% Wilson interval of the row's proportion, from `round(proportion_correct · draws)` successes.
    pub fn interval(&self) -> (f64, f64) {
        let successes = (self.proportion_correct.clamp(0.0, 1.0) * self.draws as f64).round() as usize;
        wilson_interval(successes, self.draws)
    }
}

/// The 95% Wilson score interval (Wilson 1927) of a proportion p̂ = k/R from k = `successes` of R = `draws`,
/// with z = 1.96:
///
/// centre p̃ = (p̂ + z²/2R) / (1 + z²/R), half-width h = z/(1 + z²/R) · √(p̂(1 − p̂)/R + z²/4R²),
///
/// returned as (p̃ − h, p̃ + h), always inside [0, 1]. Unlike the normal interval p̂ ± z√(p̂(1 − p̂)/R) it does
/// not collapse to a point at k = 0 or k = R, which reliability studies hit often. `successes` above `draws`
/// count as `draws`; no draws give (0, 1), the whole range.
pub fn wilson_interval(successes: usize, draws: usize) -> (f64, f64) {
    if draws == 0 {
        return (0.0, 1.0);
    }
    let r = draws as f64;
    let p = successes.min(draws) as f64 / r;
    let z2 = Z_975 * Z_975;
    let denominator = 1.0 + z2 / r;
    let centre = (p + z2 / (2.0 * r)) / denominator;
    let half = Z_975 / denominator * (p * (1.0 - p) / r + z2 / (4.0 * r * r)).sqrt();
    // The bounds are in [0, 1] in exact arithmetic; clamp the rounding at k = 0 and k = R.
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The half-width h of the 95% Wilson interval of [`wilson_interval`] (the `ci95` column of
/// `reliability.csv`): h = z/(1 + z²/R) · √(p̂(1 − p̂)/R + z²/4R²) with z = 1.96, p̂ = k/R; ½ for no draws.
pub fn proportion_ci95(successes: usize, draws: usize) -> f64 {
    let (low, high) = wilson_interval(successes, draws);
    0.5 * (high - low)
}

/// `rows` as the bytes of `reliability.csv`: [`RELIABILITY_HEADER`], then one record per row, floats in
/// shortest round-trip form.
pub fn reliability_csv(rows: &[ReliabilityRow]) -> Result<Vec<u8>, ReportError> {
    write_tidy_csv(&RELIABILITY_HEADER, rows.iter().map(ReliabilityRow::fields))
}

/// Reads `reliability.csv` at `path`; the header must be [`RELIABILITY_HEADER`]. Errors name the file, the line
/// and the column.
pub fn read_reliability_csv(path: &Path) -> Result<Vec<ReliabilityRow>, ReportError> {
    read_tidy_csv(path, &RELIABILITY_HEADER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::reliability_row;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn eight_of_ten_gives_the_textbook_wilson_interval() {
        // p̂ = 0.8, R = 10, z² = 3.8416: 1 + z²/R = 1.38416; centre = (0.8 + 0.19208)/1.38416 = 0.716738;
        // h = 1.96/1.38416 · √(0.016 + 0.009604) = 1.416021 · 0.160012 = 0.226581; so [0.4902, 0.9433]
        let (low, high) = wilson_interval(8, 10);
        assert!(close(low, 0.4902) && close(high, 0.9433), "{low} {high}");
        assert!(close(proportion_ci95(8, 10), 0.226581));
    }

    #[test]
    fn all_or_nothing_keeps_an_interval_of_positive_width() {
        // k = 0: centre = h = (z²/2R)/(1 + z²/R) = 0.19208/1.38416 = 0.138771, so [0, 0.277542]
        let (low, high) = wilson_interval(0, 10);
        assert_eq!(low, 0.0);
        assert!(close(high, 0.277542), "{high}");
        let (low, high) = wilson_interval(10, 10);
        assert!(close(low, 1.0 - 0.277542) && high == 1.0, "{low} {high}");
        assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
        assert_eq!(wilson_interval(12, 10), wilson_interval(10, 10));
    }

    #[test]
    fn a_row_recovers_its_interval_from_proportion_and_draws() {
        let row = reliability_row("bayes", 64, 4, 0.8, 10);
        assert_eq!(row.interval(), wilson_interval(8, 10));
        assert_eq!(row.ci95, proportion_ci95(8, 10));
    }

    #[test]
    fn the_written_header_is_the_schema() {
        let bytes = reliability_csv(&[]).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "predictor,n,l_max,draws,proportion_correct,ci95\n");
    }

    #[test]
    fn a_written_csv_reads_back_bit_for_bit() {
        let rows = vec![reliability_row("bayes", 1, 0, 1.0, 200), reliability_row("neural", 1024, 10, 0.37, 100)];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reliability.csv");
        std::fs::write(&path, reliability_csv(&rows).unwrap()).unwrap();
        assert_eq!(read_reliability_csv(&path).unwrap(), rows);
    }
}
