//! `InferError`: why a frozen model or a prompt-search request was rejected, carrying the bad input so that the
//! message alone says what to fix.

use thiserror::Error;

/// A malformed frozen model or search request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InferError {
    /// A weight vector whose length does not match the model's dimensions.
    #[error("model field `{field}` has {found} values, expected {expected}")]
    Shape {
        /// Path of the field, e.g. `blocks[1].mlp_in.weight`.
        field: String,
        /// Length implied by the dimensions.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// Inconsistent dimensions (e.g. `n_heads` not dividing `d_model`).
    #[error("model dimensions: {what}")]
    Dimensions {
        /// What is inconsistent, with the values.
        what: String,
    },
    /// A task sequence of length 0 (nothing to score).
    #[error("task sequences must have at least one token")]
    EmptySequence,
    /// No task sequences at all.
    #[error("no task sequences to score")]
    NoSequences,
    /// Sequences of different lengths (the batch needs one T).
    #[error(
        "sequence {index} has {found} tokens, but sequence 0 has {expected}: all sequences must have the same length"
    )]
    RaggedSequences {
        /// Index of the first sequence whose length differs.
        index: usize,
        /// Length of sequence 0.
        expected: usize,
        /// Length of sequence `index`.
        found: usize,
    },
    /// BOS + prompt + task tokens do not fit in the model's context.
    #[error(
        "prompt {index} of length {prompt_len} with task length {task_len} needs {needed} positions \
         (BOS + prompt + T − 1), but the model context is {context}"
    )]
    PromptTooLong {
        /// Index of the prompt.
        index: usize,
        /// Its length `L`.
        prompt_len: usize,
        /// The task length `T`.
        task_len: usize,
        /// Positions needed, `L + T`.
        needed: usize,
        /// The model's context.
        context: usize,
    },
    /// A token that is not a bit.
    #[error("{what} {index}, position {position}: token {value} is not a bit (0 or 1)")]
    NotABit {
        /// "prompt" or "sequence".
        what: &'static str,
        /// Index of the prompt or sequence.
        index: usize,
        /// 0-based position of the bad token in it.
        position: usize,
        /// The bad token.
        value: u8,
    },
}
