//! `metrics.csv`: the tidy result table, one [`MetricRow`] per (configuration, seed, α, evaluation source).
//! Reports and figures read only these rows, so they can be redrawn without re-running anything. The first 13
//! columns are the mandated schema; the next 6 add the paired CI of the excess, the Bayes loss and the
//! evaluation and cost sizes; `point` and `selected` place the row in a grid and mark the configuration
//! chosen on held-out data. A grid's `metrics.csv` then carries one more column per swept key
//! ([`csv_bytes_with_columns`](crate::csv_bytes_with_columns)), which readers of the schema ignore.

use serde::{Deserialize, Serialize};

use crate::vocabulary::{Method, Role};

/// One evaluation of one adapted (and interpolated) model on one source: a row of `metrics.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetricRow {
    pub method: Method,
    /// Hyper-parameters as `key=value;key=value` (empty for none); with `method` it names a configuration.
    pub params: String,
    /// Adaptation seed (task data draw, initialisation, evaluation sequences).
    pub seed: u64,
    /// Interpolation weight: θ(α) = (1 − α)·θ_base + α·θ_adapted, so 0 is the base and 1 the adapted model.
    pub alpha: f64,
    /// `task` for the ID row, else the name of an OOD suite entry.
    pub eval_source: String,
    pub role: Role,
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
    /// The grid point (`points.csv`); 0 for a config without `[sweep]`.
    pub point: u64,
    /// Whether this configuration is the one chosen on held-out data for its (point, seed, method)
    /// (`choices.csv`); always true for the base and for a method with a single candidate.
    pub selected: bool,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::error::ReportError;
    use crate::testing::row;
    use crate::tidy::{csv_bytes, csv_bytes_with_columns, header, read_csv};

    #[test]
    fn the_first_thirteen_columns_are_the_mandated_schema() {
        let mandated = "method,params,seed,alpha,eval_source,role,loss_bits,loss_ci95,excess_bits,accuracy,ece,\
                        trainable_params,adapt_seconds";
        assert_eq!(header::<MetricRow>()[..13].join(","), mandated);
        assert_eq!(header::<MetricRow>().len(), 21);
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
        std::fs::write(&path, csv_bytes(&rows).unwrap()).unwrap();
        assert_eq!(read_csv::<MetricRow>(&path).unwrap(), rows);
    }

    #[test]
    fn random_floats_survive_a_write_and_a_read_bit_for_bit() {
        // 10,000 finite bit patterns from a fixed xorshift stream: subnormals, huge and tiny exponents included.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut rows = Vec::new();
        for _ in 0..10_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let value = f64::from_bits(state);
            let mut r = row("full", state, 1.0, "task", if value.is_finite() { value } else { 0.5 });
            let other = f64::from_bits(state.rotate_left(11));
            r.loss_bits = if other.is_finite() { other } else { 0.25 };
            rows.push(r);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(&path, csv_bytes(&rows).unwrap()).unwrap();
        let read = read_csv::<MetricRow>(&path).unwrap();
        for (written, read) in rows.iter().zip(&read) {
            assert_eq!(written.excess_bits.to_bits(), read.excess_bits.to_bits());
            assert_eq!(written.loss_bits.to_bits(), read.loss_bits.to_bits());
        }
    }

    #[test]
    fn swept_columns_are_appended_and_ignored_by_the_schema_reader() {
        let rows = vec![row("none", 0, 0.0, "task", 0.25), MetricRow { point: 1, ..row("full", 2, 1.0, "task", 0.5) }];
        let keys = vec!["task.sequences".to_string(), "task.source".to_string()];
        let bytes = csv_bytes_with_columns(&rows, &keys, |row| {
            vec![(4 * (row.point + 1)).to_string(), "{ kind = \"bern\", p = 0.7 }".to_string()]
        })
        .unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(&format!("{},task.sequences,task.source\n", header::<MetricRow>().join(","))));
        assert!(text.lines().nth(2).unwrap().ends_with(",1,true,8,\"{ kind = \"\"bern\"\", p = 0.7 }\""), "{text}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(read_csv::<MetricRow>(&path).unwrap(), rows);
    }

    #[test]
    fn the_written_header_is_the_schema() {
        let bytes = csv_bytes::<MetricRow>(&[]).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), format!("{}\n", header::<MetricRow>().join(",")));
    }

    #[test]
    fn a_bad_number_is_reported_with_its_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let good = String::from_utf8(csv_bytes(&[row("full", 1, 1.0, "task", 0.1)]).unwrap()).unwrap();
        std::fs::write(&path, format!("{good}full,,1,one,task,id,0,0,0,0,0,0,0,0,0,0,0,0,0,0,true\n")).unwrap();
        let message = read_csv::<MetricRow>(&path).unwrap_err().to_string();
        assert!(message.contains("metrics.csv, line 3: column `alpha`"), "{message}");
    }

    #[test]
    fn an_unknown_method_is_reported_with_its_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let good = String::from_utf8(csv_bytes(&[row("full", 1, 1.0, "task", 0.1)]).unwrap()).unwrap();
        std::fs::write(&path, format!("{good}lp-ft,,1,1,task,id,0,0,0,0,0,0,0,0,0,0,0,0,0,0,true\n")).unwrap();
        let message = read_csv::<MetricRow>(&path).unwrap_err().to_string();
        assert!(message.contains("line 3") && message.contains("lp-ft"), "{message}");
    }

    #[test]
    fn a_foreign_header_is_rejected_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(&path, "method,seed\nfull,1\n").unwrap();
        let error = read_csv::<MetricRow>(&path).unwrap_err();
        assert!(matches!(error, ReportError::Header { ref found, .. } if found == "method,seed"), "{error}");
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let error = read_csv::<MetricRow>(Path::new("/nonexistent/metrics.csv")).unwrap_err();
        assert!(matches!(error, ReportError::Io { .. }), "{error}");
        assert!(error.to_string().starts_with("/nonexistent/metrics.csv: "), "{error}");
    }
}
