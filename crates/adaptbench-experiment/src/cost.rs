//! The identifying and cost columns every row of a cell shares, and the `metrics.csv` rows of one model.

use adaptbench_adapt::{Adapted, MethodConfig, SuiteResult};
use adaptbench_report::{Method, MetricRow, SelectionRow};

/// The identifying and cost columns of a cell's rows.
pub(crate) struct Cost {
    pub method: Method,
    pub params: String,
    pub seed: u64,
    pub trainable_params: u64,
    pub steps: u64,
    pub adapt_seconds: f64,
    pub prompt_tokens: u64,
}

impl Cost {
    pub fn base(seed: u64) -> Self {
        Self {
            method: Method::None,
            params: String::new(),
            seed,
            trainable_params: 0,
            steps: 0,
            adapt_seconds: 0.0,
            prompt_tokens: 0,
        }
    }

    pub fn of(method: &MethodConfig, params: String, seed: u64, adapted: &Adapted) -> Self {
        Self {
            method: method.method(),
            params,
            seed,
            trainable_params: adapted.trainable_params as u64,
            steps: adapted.steps as u64,
            adapt_seconds: adapted.seconds,
            prompt_tokens: adapted.prompt_tokens as u64,
        }
    }

    /// `row` (a base row) with this cell's identity and cost.
    pub fn relabel(&self, row: &MetricRow) -> MetricRow {
        MetricRow {
            method: self.method,
            params: self.params.clone(),
            trainable_params: self.trainable_params,
            steps: self.steps,
            adapt_seconds: self.adapt_seconds,
            prompt_tokens: self.prompt_tokens,
            ..row.clone()
        }
    }

    /// `row` (the base's held-out row) with this cell's identity and cost.
    pub fn relabel_selection(&self, row: &SelectionRow) -> SelectionRow {
        SelectionRow {
            method: self.method,
            params: self.params.clone(),
            trainable_params: self.trainable_params,
            prompt_tokens: self.prompt_tokens,
            ..row.clone()
        }
    }

    /// One row per suite entry for a model at interpolation weight `alpha`. `point` and `selected` are set
    /// when the grid's rows are assembled (a cell can serve several points).
    pub fn rows(&self, alpha: f64, results: &[SuiteResult<'_>]) -> Vec<MetricRow> {
        results
            .iter()
            .map(|result| {
                let e = &result.evaluation;
                MetricRow {
                    method: self.method,
                    params: self.params.clone(),
                    seed: self.seed,
                    alpha,
                    eval_source: result.entry.name.clone(),
                    role: result.entry.role,
                    loss_bits: e.loss_bits,
                    loss_ci95: e.loss_ci95,
                    excess_bits: e.excess_bits,
                    accuracy: e.accuracy,
                    ece: e.ece,
                    trainable_params: self.trainable_params,
                    adapt_seconds: self.adapt_seconds,
                    excess_ci95: e.excess_ci95,
                    bayes_bits: e.bayes_bits,
                    eval_len: result.entry.len as u64,
                    eval_sequences: e.sequences as u64,
                    steps: self.steps,
                    prompt_tokens: self.prompt_tokens,
                    point: 0,
                    selected: false,
                }
            })
            .collect()
    }
}
