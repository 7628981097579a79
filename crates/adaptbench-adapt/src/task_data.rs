//! The task data D_N: N sequences of T tokens drawn once per seed, shared by every method of that seed, and
//! split into training and validation parts when early stopping is enabled.

use adaptbench_sources::{rng, Source};
use adaptbench_train::sample_sequences;

use crate::finetune_config::validation_count;

/// D_N, split.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskData {
    pub train: Vec<Vec<u8>>,
    /// Held out for early stopping (empty when it is disabled).
    pub validation: Vec<Vec<u8>>,
}

impl TaskData {
    /// Draws `n` sequences of `len` tokens from `source` with `seed`; the last `round(n · validation_fraction)`
    /// of them form the validation split.
    pub fn draw(source: &dyn Source, seed: u64, n: usize, len: usize, validation_fraction: f64) -> Self {
        let mut train = sample_sequences(source, &mut rng(seed), n, len);
        let validation = train.split_off(n - validation_count(n, validation_fraction));
        Self { train, validation }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adaptbench_sources::SourceSpec;

    #[test]
    fn the_split_keeps_every_sequence_once_and_the_same_seed_gives_the_same_data() {
        let source = SourceSpec::Bern { p: 0.7 }.build().unwrap();
        let whole = TaskData::draw(source.as_ref(), 3, 10, 5, 0.0);
        let split = TaskData::draw(source.as_ref(), 3, 10, 5, 0.25);
        // round(10 · 0.25) = 3 (2.5 rounds away from zero): 7 + 3.
        assert_eq!((split.train.len(), split.validation.len()), (7, 3));
        assert_eq!([split.train, split.validation].concat(), whole.train);
        assert!(whole.validation.is_empty());
    }
}
