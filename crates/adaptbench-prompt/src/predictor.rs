//! One interface for every predictor a prompt can steer: the exact Bayes predictor of a source and a frozen
//! neural model alike. A prompt search only ever asks "how many bits does this predictor pay on these task
//! tokens after this prompt?".

use adaptbench_sources::Source;

use crate::config::PredictorKind;
use crate::error::PromptError;

/// Summed log-loss of each (prompt, sequence) pair: `bits[i][s] = −Σ_{t=1..T} log2 P(x_t | BOS, prompt_i, x_<t)`
/// for sequence `s`, scored on its T task tokens only (never on prompt tokens).
pub type ScoreMatrix = Vec<Vec<f64>>;

/// A next-bit predictor that can be conditioned on a binary prompt.
pub trait Predictor: Sync {
    /// Which predictor it is, as result files name it.
    fn kind(&self) -> PredictorKind;

    /// Its name in outputs: `bayes` or `neural`.
    fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Scores every prompt on every sequence (all sequences of one length T ≥ 1); see [`ScoreMatrix`].
    fn score(&self, prompts: &[Vec<u8>], sequences: &[Vec<u8>]) -> Result<ScoreMatrix, PromptError>;

    /// The prompt's exact expected loss per task token on `task_len` tokens of `task`, where a closed form
    /// exists (the Bayes predictor of an exchangeable source on an exchangeable task); `None` otherwise, and
    /// the caller estimates it on a large fresh sample.
    fn exact_expected_loss(&self, _prompt: &[u8], _task: &dyn Source, _task_len: usize) -> Option<f64> {
        None
    }

    /// The longest prompt it accepts before `task_len` task tokens (`None`: unbounded).
    fn max_prompt_len(&self, _task_len: usize) -> Option<usize> {
        None
    }
}

/// Mean loss per task token of row `bits` over the sequences in `range`: `Σ_s bits[s] / (|range| · T)`.
pub fn mean_bits_per_token(bits: &[f64], range: std::ops::Range<usize>, task_len: usize) -> f64 {
    let count = range.len();
    bits[range].iter().sum::<f64>() / (count * task_len) as f64
}
