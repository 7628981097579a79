//! `model_update.csv`: do prompts and adapters survive a model update? One [`ModelUpdateRow`] per (method,
//! seed, evaluation source, base): the adaptation found on the base pretrained with seed A, evaluated on that
//! base and transplanted unchanged onto the base pretrained with seed B.

use serde::{Deserialize, Serialize};

use crate::metrics::MetricRow;
use crate::vocabulary::{EvalBase, Method, Role};

/// One evaluation of one adaptation on one base and one source: a row of `model_update.csv`; losses in bits
/// per task token.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModelUpdateRow {
    pub method: Method,
    /// Hyper-parameters as `key=value;key=value` (empty for none); with `method` it names a configuration.
    pub params: String,
    /// Adaptation seed; rows of one seed on the two bases are paired.
    pub seed: u64,
    /// `task` for the ID row, else the name of an OOD suite entry.
    pub eval_source: String,
    pub role: Role,
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
            method: row.method,
            params: row.params.clone(),
            seed: row.seed,
            eval_source: row.eval_source.clone(),
            role: row.role,
            base,
            loss_bits: row.loss_bits,
            excess_bits: row.excess_bits,
            excess_ci95: row.excess_ci95,
        }
    }

}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_update_row;
    use crate::tidy::{csv_bytes, read_csv};

    #[test]
    fn the_written_header_is_the_schema_and_bases_are_snake_case() {
        let bytes = csv_bytes(&[model_update_row("lora", 1, "task", EvalBase::FoundOn, 0.25)]).unwrap();
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
        std::fs::write(&path, csv_bytes(&rows).unwrap()).unwrap();
        assert_eq!(read_csv::<ModelUpdateRow>(&path).unwrap(), rows);
    }

    #[test]
    fn an_unknown_base_is_reported_with_its_line_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model_update.csv");
        let record = "lora,,1,task,id,seed_b,0.5,0.1,0.01";
        std::fs::write(&path, format!("{}\n{record}\n", crate::tidy::header::<ModelUpdateRow>().join(","))).unwrap();
        let message = read_csv::<ModelUpdateRow>(&path).unwrap_err().to_string();
        assert!(message.contains("model_update.csv, line 2: unknown variant `seed_b`"), "{message}");
    }
}
