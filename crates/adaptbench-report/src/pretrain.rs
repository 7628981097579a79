//! `pretrain.csv`: the pretraining curve, one [`PretrainRow`] per held-out evaluation.

use serde::{Deserialize, Serialize};

/// One held-out evaluation during pretraining; losses in bits per token.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PretrainRow {
    /// Finished optimisation steps.
    pub step: usize,
    /// Mean training loss over the steps since the previous point.
    pub train_loss_bits: f64,
    /// Loss on the fixed held-out sequences.
    pub eval_loss_bits: f64,
    /// Exact Bayes loss on the same held-out sequences (the floor).
    pub bayes_loss_bits: f64,
    /// `eval_loss_bits − bayes_loss_bits`.
    pub excess_bits: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tidy::read_csv;

    #[test]
    fn a_pretrain_csv_as_the_binary_writes_it_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pretrain.csv");
        std::fs::write(
            &path,
            "step,train_loss_bits,eval_loss_bits,bayes_loss_bits,excess_bits\n250,0.85,0.82,0.8,0.02\n",
        )
        .unwrap();
        let points = read_csv::<PretrainRow>(&path).unwrap();
        let expected = PretrainRow {
            step: 250,
            train_loss_bits: 0.85,
            eval_loss_bits: 0.82,
            bayes_loss_bits: 0.8,
            excess_bits: 0.02,
        };
        assert_eq!(points, vec![expected]);
    }
}
