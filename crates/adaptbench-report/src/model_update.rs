//! `model_update.csv`: do prompts and adapters survive a model update? One [`ModelUpdateRow`] per (method,
//! seed, evaluation source, base): the adaptation found on the base pretrained with seed A, evaluated on that
//! base and transplanted unchanged onto the base pretrained with seed B.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::metrics::MetricRow;
use crate::tidy::{read_tidy_csv, write_tidy_csv};

/// The header of `model_update.csv`, in [`ModelUpdateRow`] field order.
pub const MODEL_UPDATE_HEADER: [&str; 9] =
    ["method", "params", "seed", "eval_source", "role", "base", "loss_bits", "excess_bits", "excess_ci95"];

/// Which pretrained base a row evaluates the adaptation on; written in snake case (`found_on`, `other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalBase {
    /// The base the prompt or adapter was found on (pretrained with seed A).
    FoundOn,
    /// The base pretrained with another seed (seed B), the adaptation transplanted unchanged.
    Other,
}

impl EvalBase {
    /// The name in `model_update.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            EvalBase::FoundOn => "found_on",
            EvalBase::Other => "other",
        }
    }
}

impl fmt::Display for EvalBase {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One evaluation of one adaptation on one base and one source: a row of `model_update.csv`; losses in bits
/// per task token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelUpdateRow {
    /// The adaptation method, as in `metrics.csv` (`hard_prompt`, `soft_prompt`, `lora`, …).
    pub method: String,
    /// Hyper-parameters as `key=value;key=value` (empty for none); with `method` it names a configuration.
    pub params: String,
    /// Adaptation seed; rows of one seed on the two bases are paired.
    pub seed: u64,
    /// `task` for the ID row, else the name of an OOD suite entry.
    pub eval_source: String,
    /// [`ROLE_ID`](crate::ROLE_ID) or [`ROLE_OOD`](crate::ROLE_OOD), as in `metrics.csv`.
    pub role: String,
    pub base: EvalBase,
    /// Mean log-loss.
    pub loss_bits: f64,
    /// `loss_bits` − the exact Bayes loss of the source on the same sequences.
    pub excess_bits: f64,
    /// Half-width of the paired 95% CI of `excess_bits` over evaluation sequences.
    pub excess_ci95: f64,
}

impl ModelUpdateRow {
    /// The identifying and excess columns of `row` (a `metrics.csv` row of the adapted model at α = 1, or of
    /// the base for `none`), as evaluated on `base`.
    pub fn from_metric(row: &MetricRow, base: EvalBase) -> Self {
        Self {
            method: row.method.clone(),
            params: row.params.clone(),
            seed: row.seed,
            eval_source: row.eval_source.clone(),
            role: row.role.clone(),
            base,
            loss_bits: row.loss_bits,
            excess_bits: row.excess_bits,
            excess_ci95: row.excess_ci95,
        }
    }

    /// The row as CSV fields in [`MODEL_UPDATE_HEADER`] order, floats in shortest round-trip form.
    fn fields(&self) -> [String; 9] {
        [
            self.method.clone(),
            self.params.clone(),
            self.seed.to_string(),
            self.eval_source.clone(),
            self.role.clone(),
            self.base.as_str().to_string(),
            self.loss_bits.to_string(),
            self.excess_bits.to_string(),
            self.excess_ci95.to_string(),
        ]
    }
}

/// `rows` as the bytes of `model_update.csv`: [`MODEL_UPDATE_HEADER`], then one record per row, floats in
/// shortest round-trip form.
pub fn model_update_csv(rows: &[ModelUpdateRow]) -> Result<Vec<u8>, ReportError> {
    write_tidy_csv(&MODEL_UPDATE_HEADER, rows.iter().map(ModelUpdateRow::fields))
}

/// Reads `model_update.csv` at `path`; the header must be [`MODEL_UPDATE_HEADER`]. Errors name the file, the
/// line and the column.
pub fn read_model_update_csv(path: &Path) -> Result<Vec<ModelUpdateRow>, ReportError> {
    read_tidy_csv(path, &MODEL_UPDATE_HEADER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_update_row;

    #[test]
    fn the_written_header_is_the_schema_and_bases_are_snake_case() {
        let bytes = model_update_csv(&[model_update_row("lora", 1, "task", EvalBase::FoundOn, 0.25)]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), "method,params,seed,eval_source,role,base,loss_bits,excess_bits,excess_ci95");
        assert!(lines.next().unwrap().starts_with("lora,,1,task,id,found_on,"), "{text}");
    }

    #[test]
    fn a_written_csv_reads_back_bit_for_bit() {
        let mut awkward = model_update_row("soft_prompt", u64::MAX, "shifted", EvalBase::Other, 0.1 + 0.2);
        awkward.params = "len=8;lr=0.01,0.1".to_string(); // a comma: the field must be quoted
        awkward.excess_ci95 = 1.0 / 3.0;
        let rows = vec![model_update_row("hard_prompt", 0, "task", EvalBase::FoundOn, -1e-300), awkward];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model_update.csv");
        std::fs::write(&path, model_update_csv(&rows).unwrap()).unwrap();
        assert_eq!(read_model_update_csv(&path).unwrap(), rows);
    }

    #[test]
    fn an_unknown_base_is_reported_with_its_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model_update.csv");
        let record = "lora,,1,task,id,seed_b,0.5,0.1,0.01";
        std::fs::write(&path, format!("{}\n{record}\n", MODEL_UPDATE_HEADER.join(","))).unwrap();
        let message = read_model_update_csv(&path).unwrap_err().to_string();
        assert!(message.contains("model_update.csv, line 2: unknown variant `seed_b`"), "{message}");
    }
}
