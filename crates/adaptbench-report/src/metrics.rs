//! `metrics.csv`: the tidy result table, one [`MetricRow`] per (configuration, seed, α, evaluation source).
//! Reports and figures read only these rows, so they can be redrawn without re-running anything.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::tidy::{read_tidy_csv, write_tidy_csv};

/// The header of `metrics.csv`, in [`MetricRow`] field order. The first 13 columns are the mandated schema;
/// the last 6 add the paired CI of the excess, the Bayes loss and the evaluation and cost sizes.
pub const METRICS_HEADER: [&str; 19] = [
    "method",
    "params",
    "seed",
    "alpha",
    "eval_source",
    "role",
    "loss_bits",
    "loss_ci95",
    "excess_bits",
    "accuracy",
    "ece",
    "trainable_params",
    "adapt_seconds",
    "excess_ci95",
    "bayes_bits",
    "eval_len",
    "eval_sequences",
    "steps",
    "prompt_tokens",
];

/// The `role` of the in-distribution row (evaluated on the task itself).
pub const ROLE_ID: &str = "id";

/// The `role` of an out-of-distribution row (evaluated on an entry of the OOD suite).
pub const ROLE_OOD: &str = "ood";

/// One evaluation of one adapted (and interpolated) model on one source: a row of `metrics.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    /// `none`, `full`, `head`, `embed`, `lp_ft`, `lora`, `hard_prompt` or `soft_prompt`.
    pub method: String,
    /// Hyper-parameters as `key=value;key=value` (empty for none); with `method` it names a configuration.
    pub params: String,
    /// Adaptation seed (task data draw, initialisation, evaluation sequences).
    pub seed: u64,
    /// Interpolation weight: θ(α) = (1 − α)·θ_base + α·θ_adapted, so 0 is the base and 1 the adapted model.
    pub alpha: f64,
    /// `task` for the ID row, else the name of an OOD suite entry.
    pub eval_source: String,
    /// [`ROLE_ID`] or [`ROLE_OOD`].
    pub role: String,
    /// Mean log-loss, bits per task token.
    pub loss_bits: f64,
    /// Half-width of the 95% CI of `loss_bits` over evaluation sequences.
    pub loss_ci95: f64,
    /// `loss_bits` − the exact Bayes loss of the source on the same sequences.
    pub excess_bits: f64,
    /// Next-bit accuracy of the thresholded prediction P(x = 1) > ½.
    pub accuracy: f64,
    /// Expected calibration error over 10 equal-width bins of P(x = 1).
    pub ece: f64,
    pub trainable_params: u64,
    /// Wall time of the adaptation (shared by every α and source of a seed).
    pub adapt_seconds: f64,
    /// Half-width of the paired 95% CI of `excess_bits` over evaluation sequences.
    pub excess_ci95: f64,
    /// Exact Bayes loss of the source on the evaluation sequences, bits per token.
    pub bayes_bits: f64,
    /// Tokens per evaluation sequence.
    pub eval_len: u64,
    pub eval_sequences: u64,
    /// Optimisation steps actually run (early stopping may stop before the budget).
    pub steps: u64,
    /// Prompt length in tokens (0 for weight methods).
    pub prompt_tokens: u64,
}

impl MetricRow {
    /// The row as CSV fields in [`METRICS_HEADER`] order. Floats use Rust's `Display`, the shortest string
    /// that parses back to the same `f64`, so a written file re-reads exactly.
    fn fields(&self) -> [String; 19] {
        [
            self.method.clone(),
            self.params.clone(),
            self.seed.to_string(),
            self.alpha.to_string(),
            self.eval_source.clone(),
            self.role.clone(),
            self.loss_bits.to_string(),
            self.loss_ci95.to_string(),
            self.excess_bits.to_string(),
            self.accuracy.to_string(),
            self.ece.to_string(),
            self.trainable_params.to_string(),
            self.adapt_seconds.to_string(),
            self.excess_ci95.to_string(),
            self.bayes_bits.to_string(),
            self.eval_len.to_string(),
            self.eval_sequences.to_string(),
            self.steps.to_string(),
            self.prompt_tokens.to_string(),
        ]
    }
}

/// `rows` as the bytes of `metrics.csv`: [`METRICS_HEADER`], then one record per row, floats in shortest
/// round-trip form.
pub fn metrics_csv(rows: &[MetricRow]) -> Result<Vec<u8>, ReportError> {
    write_tidy_csv(&METRICS_HEADER, rows.iter().map(MetricRow::fields))
}

/// Reads `metrics.csv` at `path`; the header must be [`METRICS_HEADER`]. Errors name the file, the line and
/// the column.
pub fn read_metrics_csv(path: &Path) -> Result<Vec<MetricRow>, ReportError> {
    read_tidy_csv(path, &METRICS_HEADER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::row;

    #[test]
    fn the_first_thirteen_columns_are_the_mandated_schema() {
        let mandated = "method,params,seed,alpha,eval_source,role,loss_bits,loss_ci95,excess_bits,accuracy,ece,\
                        trainable_params,adapt_seconds";
        assert_eq!(METRICS_HEADER[..13].join(","), mandated);
    }

    #[test]
    fn a_written_csv_reads_back_bit_for_bit() {
        let mut awkward = row("lora", u64::MAX, 0.1 + 0.2, "pretrain", -1e-300);
        awkward.params = "r=4;targets=q,v".to_string(); // a comma: the field must be quoted
        awkward.loss_bits = std::f64::consts::PI;
        awkward.adapt_seconds = f64::MIN_POSITIVE;
        awkward.ece = 1.0 / 3.0;
        let rows = vec![row("none", 0, 0.0, "task", 0.25), awkward];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(&path, metrics_csv(&rows).unwrap()).unwrap();
        assert_eq!(read_metrics_csv(&path).unwrap(), rows);
    }

    #[test]
    fn the_written_header_is_the_schema() {
        let bytes = metrics_csv(&[]).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), format!("{}\n", METRICS_HEADER.join(",")));
    }

    #[test]
    fn a_bad_number_is_reported_with_its_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let good = String::from_utf8(metrics_csv(&[row("full", 1, 1.0, "task", 0.1)]).unwrap()).unwrap();
        std::fs::write(&path, format!("{good}full,,1,one,task,id,0,0,0,0,0,0,0,0,0,0,0,0,0\n")).unwrap();
        let message = read_metrics_csv(&path).unwrap_err().to_string();
        assert!(message.contains("metrics.csv, line 3: column `alpha`"), "{message}");
    }

    #[test]
    fn a_foreign_header_is_rejected_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(&path, "method,seed\nfull,1\n").unwrap();
        let error = read_metrics_csv(&path).unwrap_err();
        assert!(matches!(error, ReportError::Header { ref found, .. } if found == "method,seed"), "{error}");
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let error = read_metrics_csv(Path::new("/nonexistent/metrics.csv")).unwrap_err();
        assert!(matches!(error, ReportError::Io { .. }), "{error}");
        assert!(error.to_string().starts_with("/nonexistent/metrics.csv: "), "{error}");
    }
}
