//! `SourceError`: why a source description was rejected, naming the TOML key and the bad value.

use thiserror::Error;

/// A rejected source parameter. Every variant carries the full key (e.g. `pretrain.source.thetas[1]`) and
/// the offending value, so the message alone tells the user what to change.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SourceError {
    /// A real parameter outside its allowed interval (probabilities, Beta pseudo-counts, switching rate).
    #[error("{key} = {value} is outside the allowed range {range}")]
    OutOfRange {
        /// Full key of the parameter, e.g. `pretrain.source.thetas[1]`.
        key: String,
        /// The rejected value.
        value: f64,
        /// The allowed interval in mathematical notation, e.g. `(0, 1)`.
        range: &'static str,
    },
    /// A Markov order above [`MAX_MARKOV_ORDER`](crate::MAX_MARKOV_ORDER).
    #[error("{key} = {value} is outside the allowed range 0..={max}")]
    OrderOutOfRange {
        /// Full key of the order, e.g. `pretrain.source.order`.
        key: String,
        /// The rejected order.
        value: usize,
        /// The largest allowed order.
        max: usize,
    },
    /// A list that needs at least one entry is empty.
    #[error("{key} is empty; it needs at least one entry")]
    Empty {
        /// Full key of the list.
        key: String,
    },
    /// Mixture weights and mixture components differ in number.
    #[error(
        "{weights_key} has {weights_len} entries but {thetas_key} has {thetas_len}; \
         they must have the same length"
    )]
    LengthMismatch {
        /// Full key of the component biases.
        thetas_key: String,
        /// Number of component biases.
        thetas_len: usize,
        /// Full key of the weights.
        weights_key: String,
        /// Number of weights.
        weights_len: usize,
    },
    /// Mixture weights that do not sum to 1. They are rejected, not silently normalised, so that the
    /// resolved config always states the distribution that was actually used.
    #[error("{key} sums to {sum}, but the weights must sum to 1 (within 1e-9)")]
    WeightsDoNotSumToOne {
        /// Full key of the weights.
        key: String,
        /// Their sum.
        sum: f64,
    },
    /// A source kind that cannot serve as the inner source of `switching`: the change-point recursion needs
    /// an exchangeable source whose latent is a single coin bias.
    #[error(
        "{key} = \"{kind}\" cannot be the inner source of switching; allowed: bern, mix, beta"
    )]
    UnsupportedInner {
        /// Full key of the inner source's `kind`, e.g. `pretrain.source.inner.kind`.
        key: String,
        /// The rejected kind.
        kind: &'static str,
    },
}
