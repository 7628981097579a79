//! Errors of the training crate.

/// What can be wrong with a training configuration.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A value outside its allowed range; `key` is its TOML path.
    #[error("{key} = {value} is invalid: {allowed}")]
    InvalidConfig { key: String, value: String, allowed: String },
    /// An invalid source table (the message names its key).
    #[error(transparent)]
    Source(#[from] adaptbench_sources::SourceError),
}
