//! Errors of the adaptation crate.

use adaptbench_model::ModelError;

use crate::interpolate::InterpolationError;

/// What can go wrong while configuring or running an adaptation.
#[derive(Debug, thiserror::Error)]
pub enum AdaptError {
    /// A value outside its allowed range; `key` is its TOML path.
    #[error("{key} = {value} is invalid: {allowed}")]
    InvalidConfig { key: String, value: String, allowed: String },
    /// An invalid source table (the message names its key).
    #[error(transparent)]
    Source(#[from] adaptbench_sources::SourceError),
    #[error(transparent)]
    Interpolation(#[from] InterpolationError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Prompt(#[from] adaptbench_prompt::PromptError),
}

impl AdaptError {
    /// An [`AdaptError::InvalidConfig`] for `key`.
    pub fn invalid(key: impl Into<String>, value: impl ToString, allowed: impl Into<String>) -> Self {
        Self::InvalidConfig { key: key.into(), value: value.to_string(), allowed: allowed.into() }
    }
}
